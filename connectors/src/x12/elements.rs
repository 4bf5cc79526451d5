//! Element checks that hold wherever a segment appears in an 837 or 835: required elements and
//! components, data types (amounts, quantities, dates, times) and the code lists the claim
//! loaders depend on. Claim-type specific checks (CLM05, place of service) live in the mappers.
//!
//! Each problem names the segment number, id and element position, e.g.
//! `segment 41 (SV1), element SV102: "12X.00" is not an amount`. Also the parsers the mappers use
//! for the same types, so a value is read exactly as it was checked.
use super::segments::Segment;
use super::walker::Problem;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

/// What an element must be.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Text,
    /// One of the codes; the string says what they are, for messages.
    Code(&'static [&'static str], &'static str),
    /// X12 type R used for money.
    Amount,
    /// X12 type R used for counts.
    Quantity,
    /// X12 type N0.
    Number,
    /// CCYYMMDD.
    Date,
    /// HHMM, HHMMSS or HHMMSSd..d.
    Time,
    /// At most this many characters.
    MaxLen(usize),
    /// DTP03, in the format DTP02 names.
    DtpValue,
}

/// A check of element `el` (or of its component `comp`; 0 = the whole element).
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    el: u8,
    comp: u8,
    req: bool,
    ty: Ty,
}

const fn r(el: u8, req: bool, ty: Ty) -> Rule {
    Rule { el, comp: 0, req, ty }
}

/// A component rule applies when its element is present: `req` means required within it.
const fn c(el: u8, comp: u8, req: bool, ty: Ty) -> Rule {
    Rule { el, comp, req, ty }
}

const T: Ty = Ty::Text;

/// Place of service codes (CMS list, 2024).
pub const POS_CODES: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
    "20", "21", "22", "23", "24", "25", "26", "27", "31", "32", "33", "34", "41", "42", "49", "50", "51", "52", "53",
    "54", "55", "56", "57", "58", "60", "61", "62", "65", "66", "71", "72", "81", "99",
];
pub const POS: Ty = Ty::Code(POS_CODES, "a place of service code");
const PER_QUALS: Ty = Ty::Code(
    &["BN", "CP", "ED", "EM", "EX", "FX", "TE", "UR"],
    "a communication number qualifier (TE, EM, FX, EX, UR...)",
);
const DATE_FORMATS: Ty = Ty::Code(&["D8", "RD8", "DT", "TM"], "a date format qualifier (D8, RD8, DT, TM)");
const SV1_QUALS: Ty = Ty::Code(&["ER", "HC", "IV", "WK", "ZZ"], "a procedure code qualifier (HC, ER, IV, WK)");
const SV2_QUALS: Ty =
    Ty::Code(&["ER", "HC", "HP", "IV", "N4", "WK", "ZZ"], "a procedure code qualifier (HC, HP, ER, IV, WK)");
const SVC_QUALS: Ty = Ty::Code(
    &["AD", "ER", "HC", "HP", "ID", "IV", "N1", "N2", "N3", "N4", "N5", "N6", "NU", "RB", "UI", "WK", "ZU", "ZZ"],
    "a product/service id qualifier (HC, AD, ER, HP, IV, N4, NU, WK...)",
);
const CAS_GROUPS: Ty = Ty::Code(&["CO", "CR", "OA", "PI", "PR"], "a claim adjustment group code (CO, CR, OA, PI, PR)");
const CLP_STATUS: Ty = Ty::Code(
    &["1", "2", "3", "4", "5", "10", "13", "15", "16", "17", "19", "20", "21", "22", "23", "25", "27"],
    "a claim status code (1, 2, 3, 4, 19, 20, 21, 22, 23, 25...)",
);

const BHT: &[Rule] = &[
    r(1, true, Ty::Code(&["0019"], "the 837 hierarchical structure code 0019")),
    r(2, true, Ty::Code(&["00", "18"], "a transaction set purpose code (00 original, 18 reissue)")),
    r(3, true, T),
    r(4, true, Ty::Date),
    r(5, true, Ty::Time),
];
const NM1: &[Rule] = &[
    r(1, true, T),
    r(2, true, Ty::Code(&["1", "2"], "an entity type qualifier (1 person, 2 non-person entity)")),
    r(8, false, Ty::MaxLen(2)),
];
const N1: &[Rule] = &[r(1, true, T), r(3, false, Ty::MaxLen(2))];
const N3: &[Rule] = &[r(1, true, T)];
const PER: &[Rule] = &[r(1, true, T), r(3, false, PER_QUALS), r(5, false, PER_QUALS), r(7, false, PER_QUALS)];
const REF: &[Rule] = &[r(1, true, T), r(2, true, T)];
const DMG: &[Rule] = &[
    r(1, false, Ty::Code(&["D8"], "the date format D8")),
    r(2, false, Ty::Date),
    r(3, false, Ty::Code(&["F", "M", "U"], "a gender code (F, M, U)")),
];
const DTP: &[Rule] = &[r(1, true, T), r(2, true, DATE_FORMATS), r(3, true, Ty::DtpValue)];
const DTM: &[Rule] = &[r(1, true, T), r(2, true, Ty::Date)];
const CLM: &[Rule] = &[
    r(1, true, Ty::MaxLen(38)),
    r(2, true, Ty::Amount),
    r(5, true, T),
    c(5, 1, true, T),
    c(5, 2, false, Ty::Code(&["A", "B"], "a facility code qualifier (A bill type, B place of service)")),
    c(5, 3, true, T),
];
const SV1: &[Rule] = &[
    r(1, true, T),
    c(1, 1, true, SV1_QUALS),
    c(1, 2, true, T),
    r(2, true, Ty::Amount),
    r(3, true, Ty::Code(&["UN", "MJ", "F2"], "a unit basis code (UN units, MJ minutes)")),
    r(4, true, Ty::Quantity),
    r(5, false, POS),
];
const SV2: &[Rule] = &[
    r(1, true, T),
    c(2, 1, true, SV2_QUALS),
    c(2, 2, true, T),
    r(3, true, Ty::Amount),
    r(4, true, Ty::Code(&["UN", "DA", "F2"], "a unit basis code (UN units, DA days)")),
    r(5, true, Ty::Quantity),
    r(7, false, Ty::Amount),
];
const SVC: &[Rule] = &[
    r(1, true, T),
    c(1, 1, true, SVC_QUALS),
    c(1, 2, true, T),
    r(2, true, Ty::Amount),
    r(3, true, Ty::Amount),
    r(5, false, Ty::Quantity),
];
const SVD: &[Rule] =
    &[r(1, true, T), r(2, true, Ty::Amount), c(3, 1, true, T), c(3, 2, true, T), r(5, true, Ty::Quantity)];
const CLP: &[Rule] = &[
    r(1, true, Ty::MaxLen(38)),
    r(2, true, CLP_STATUS),
    r(3, true, Ty::Amount),
    r(4, true, Ty::Amount),
    r(5, false, Ty::Amount),
];
const CAS: &[Rule] = &[
    r(1, true, CAS_GROUPS),
    r(2, true, T),
    r(3, true, Ty::Amount),
    r(4, false, Ty::Quantity),
    r(6, false, Ty::Amount),
    r(7, false, Ty::Quantity),
    r(9, false, Ty::Amount),
    r(10, false, Ty::Quantity),
    r(12, false, Ty::Amount),
    r(13, false, Ty::Quantity),
    r(15, false, Ty::Amount),
    r(16, false, Ty::Quantity),
    r(18, false, Ty::Amount),
    r(19, false, Ty::Quantity),
];
const AMT: &[Rule] = &[r(1, true, T), r(2, true, Ty::Amount)];
const QTY: &[Rule] = &[r(1, true, T), r(2, false, Ty::Quantity)];
const LX: &[Rule] = &[r(1, true, Ty::Number)];
const HL: &[Rule] =
    &[r(1, true, T), r(3, true, T), r(4, false, Ty::Code(&["0", "1"], "a hierarchical child code (0, 1)"))];
const SBR: &[Rule] = &[r(1, true, T)];
const PRV: &[Rule] = &[r(1, true, T), r(2, true, T), r(3, true, T)];
const BPR: &[Rule] = &[
    r(1, true, Ty::Code(&["C", "D", "H", "I", "P", "U", "X"], "a transaction handling code (C, D, H, I, P, U, X)")),
    r(2, true, Ty::Amount),
    r(3, true, Ty::Code(&["C", "D"], "a credit/debit flag (C, D)")),
    r(4, true, Ty::Code(&["ACH", "BOP", "CHK", "FWT", "NON"], "a payment method code (ACH, BOP, CHK, FWT, NON)")),
    r(16, true, Ty::Date),
];
const TRN: &[Rule] = &[r(1, true, T), r(2, true, T)];
const LQ: &[Rule] = &[r(1, true, T), r(2, true, T)];
const TS3: &[Rule] = &[r(1, true, T), r(2, true, T), r(3, true, Ty::Date), r(4, true, T), r(5, true, Ty::Amount)];
const PLB: &[Rule] = &[r(1, true, T), r(2, true, Ty::Date), r(3, true, T), r(4, true, Ty::Amount)];
const PWK: &[Rule] = &[r(1, true, T), r(2, true, T)];
const LIN: &[Rule] = &[r(2, true, T), r(3, true, T)];
/// HI01 only: diagnosis composites are not used by the loader, and widely used writers (imsweb)
/// emit `HI*BK*8901` with the qualifier and code in separate elements.
const HI: &[Rule] = &[r(1, true, T)];

fn rules(id: &str) -> &'static [Rule] {
    match id {
        "BHT" => BHT,
        "NM1" => NM1,
        "N1" => N1,
        "N3" => N3,
        "PER" => PER,
        "REF" => REF,
        "DMG" => DMG,
        "DTP" => DTP,
        "DTM" => DTM,
        "CLM" => CLM,
        "SV1" => SV1,
        "SV2" => SV2,
        "SVC" => SVC,
        "SVD" => SVD,
        "CLP" => CLP,
        "CAS" => CAS,
        "AMT" => AMT,
        "QTY" => QTY,
        "LX" => LX,
        "HL" => HL,
        "SBR" => SBR,
        "PRV" => PRV,
        "BPR" => BPR,
        "TRN" => TRN,
        "LQ" => LQ,
        "TS3" => TS3,
        "PLB" => PLB,
        "PWK" => PWK,
        "LIN" => LIN,
        "HI" => HI,
        _ => &[],
    }
}

/// Elements that must come in pairs (X12 "P" syntax notes): if one is present both are.
fn pairs(id: &str) -> &'static [(u8, u8)] {
    match id {
        "NM1" => &[(8, 9)],
        "PER" => &[(3, 4), (5, 6), (7, 8)],
        "DMG" => &[(1, 2)],
        "CAS" => &[(5, 6), (8, 9), (11, 12), (14, 15), (17, 18)],
        _ => &[],
    }
}

/// Checks `seg`'s elements; problems get `in_claim` as their scope.
pub fn check(seg: &Segment<'_>, in_claim: bool, problems: &mut Vec<Problem>) {
    let id = seg.id();
    for rule in rules(id) {
        let el = rule.el as usize;
        let value = if rule.comp == 0 {
            seg.element(el)
        } else {
            if seg.element(el).is_empty() {
                continue;
            }
            seg.component(el, rule.comp as usize)
        };
        let fault = if value.is_empty() {
            rule.req.then(|| {
                if rule.comp == 0 {
                    "required element is missing".to_string()
                } else {
                    "required component is missing".to_string()
                }
            })
        } else {
            check_value(rule.ty, value, seg)
        };
        if let Some(reason) = fault {
            problems.push(Problem { at: seg.at_element(el, rule.comp as usize), reason, in_claim });
        }
    }
    for &(a, b) in pairs(id) {
        let (va, vb) = (seg.element(a as usize), seg.element(b as usize));
        if va.is_empty() != vb.is_empty() {
            let (have, missing) = if va.is_empty() { (b, a) } else { (a, b) };
            problems.push(Problem {
                at: seg.at_element(missing as usize, 0),
                reason: format!("required element is missing: {id}{have:02} is present and needs {id}{missing:02}"),
                in_claim,
            });
        }
    }
}

/// Why `value` is not of type `ty`, if it is not.
pub fn check_value(ty: Ty, value: &str, seg: &Segment<'_>) -> Option<String> {
    let fails = |bad: bool, reason: &dyn Fn() -> String| bad.then(reason);
    match ty {
        Ty::Text => None,
        Ty::Code(codes, what) => fails(!codes.contains(&value), &|| format!("{value:?} is not {what}")),
        Ty::Amount => fails(amount(value).is_none(), &|| format!("{value:?} is not an amount")),
        Ty::Quantity => fails(amount(value).is_none(), &|| format!("{value:?} is not a quantity")),
        Ty::Number => fails(!value.bytes().all(|b| b.is_ascii_digit()), &|| format!("{value:?} is not a whole number")),
        Ty::Date => fails(date(value).is_none(), &|| format!("{value:?} is not a date (CCYYMMDD)")),
        Ty::Time => fails(!is_time(value), &|| format!("{value:?} is not a time (HHMM)")),
        Ty::MaxLen(n) => {
            let len = value.chars().count();
            fails(len > n, &|| format!("{value:?} is {len} characters; at most {n} are allowed"))
        }
        Ty::DtpValue => {
            // An unknown DTP02 is reported on DTP02 itself.
            let format = seg.element(2);
            let bad = DATE_FORMAT_CODES.contains(&format) && dtp_start(format, value).is_none();
            fails(bad, &|| format!("{value:?} is not a date in the {format} format ({})", format_pattern(format)))
        }
    }
}

const DATE_FORMAT_CODES: &[&str] = &["D8", "RD8", "DT", "TM"];

fn format_pattern(format: &str) -> &'static str {
    match format {
        "D8" => "CCYYMMDD",
        "RD8" => "CCYYMMDD-CCYYMMDD",
        "DT" => "CCYYMMDDHHMM",
        _ => "HHMM",
    }
}

/// An X12 decimal (type R): optional minus, digits, at most one decimal point.
pub fn amount(value: &str) -> Option<Decimal> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let mut dots = 0;
    let mut any = false;
    for b in digits.bytes() {
        match b {
            b'0'..=b'9' => any = true,
            b'.' => dots += 1,
            _ => return None,
        }
    }
    if !any || dots > 1 {
        return None;
    }
    Decimal::from_str(value).ok()
}

/// A CCYYMMDD date as `YYYY-MM-DD`, when it is a real calendar date.
pub fn date(value: &str) -> Option<String> {
    let b = value.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &str| s.parse::<u32>().ok();
    let (y, m, d) = (num(&value[..4])?, num(&value[4..6])?, num(&value[6..])?);
    NaiveDate::from_ymd_opt(y as i32, m, d)?;
    Some(format!("{}-{}-{}", &value[..4], &value[4..6], &value[6..]))
}

fn is_time(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() < 4 || b.len() == 5 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    two(0) < 24 && two(2) < 60 && (b.len() < 6 || two(4) < 60)
}

/// The (first) date a DTP03 value gives in format `format`, as `YYYY-MM-DD`.
pub fn dtp_start(format: &str, value: &str) -> Option<String> {
    match format {
        "D8" => date(value),
        "RD8" => {
            let (from, to) = value.split_once('-')?;
            let start = date(from)?;
            date(to)?;
            Some(start)
        }
        "DT" if value.len() == 12 && value.is_ascii() && is_time(&value[8..]) => date(&value[..8]),
        "TM" => is_time(value).then(String::new),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::segments::SegmentReader;
    use super::*;

    fn problems(seg_text: &str) -> Vec<(String, String)> {
        let text = format!(
            "ISA*00*          *00*          *ZZ*A              *ZZ*B              *030101*1253*^*00501*000000905*1*T*:~{seg_text}~"
        );
        let mut input = text.as_bytes();
        let mut r = SegmentReader::new(&mut input);
        r.next_segment().unwrap();
        let seg = r.next_segment().unwrap().unwrap();
        let mut p = vec![];
        check(&seg, true, &mut p);
        p.into_iter().map(|p| (p.at, p.reason)).collect()
    }

    #[test]
    fn messages_name_segment_and_element() {
        assert_eq!(
            problems("SV1*HC:99213*12X.00*UN*1"),
            [("segment 2 (SV1), element SV102".to_string(), "\"12X.00\" is not an amount".to_string())]
        );
        assert_eq!(problems("SV1*HC:99213*12.00*UN*1"), []);
        let p = problems("NM1*40**HEALTH RECEIVER*****46*111222333");
        assert_eq!(p, [("segment 2 (NM1), element NM102".into(), "required element is missing".into())]);
        let p = problems("CLM*A37YH667*500****Y*A*Y*I*P");
        assert_eq!(p, [("segment 2 (CLM), element CLM05".into(), "required element is missing".into())]);
        // A composite whose code is blank and whose second component is missing (pyx12 blank1).
        let p = problems("SV2*0100*  :*0*UN*5");
        assert_eq!(p[0].0, "segment 2 (SV2), element SV202-1");
        assert!(p[0].1.starts_with("\"  \" is not a procedure code qualifier"), "{}", p[0].1);
        assert_eq!(p[1], ("segment 2 (SV2), element SV202-2".into(), "required component is missing".into()));
    }

    #[test]
    fn dates_times_and_codes() {
        let p = problems("DMG*D8*19461301*R");
        assert_eq!(p[0], ("segment 2 (DMG), element DMG02".into(), "\"19461301\" is not a date (CCYYMMDD)".into()));
        assert_eq!(p[1].1, "\"R\" is not a gender code (F, M, U)");
        let p = problems("DTP*472*RD9*20050322-20050325");
        assert_eq!(
            p,
            [(
                "segment 2 (DTP), element DTP02".into(),
                "\"RD9\" is not a date format qualifier (D8, RD8, DT, TM)".into()
            )]
        );
        let p = problems("DTP*434*D8*19960911-19960912");
        assert_eq!(p[0].1, "\"19960911-19960912\" is not a date in the D8 format (CCYYMMDD)");
        assert_eq!(problems("DTP*435*DT*199609111402"), []);
        assert_eq!(problems("DTP*096*TM*1134"), []);
        assert_eq!(
            problems("PER*IC*NAME*TA*111-555-1111")[0].1,
            "\"TA\" is not a communication number qualifier (TE, EM, FX, EX, UR...)"
        );
        assert_eq!(
            problems("NM1*IL*1*G*N*MMMM***MIM*101911111")[0].1,
            "\"MIM\" is 3 characters; at most 2 are allowed"
        );
        assert_eq!(problems("BHT*0019*00*1*20040608*3339*CH")[0].1, "\"3339\" is not a time (HHMM)");
        assert!(problems("PER*IC*NAME*TE")[0].1.contains("PER03 is present and needs PER04"));
    }

    #[test]
    fn parsers() {
        assert_eq!(amount("-42.58"), Some(Decimal::new(-4258, 2)));
        assert_eq!(amount(".5"), Some(Decimal::new(5, 1)));
        for bad in ["", "-", "1.2.3", "1e5", "12X.00", " 1"] {
            assert_eq!(amount(bad), None, "{bad}");
        }
        assert_eq!(date("20040229").as_deref(), Some("2004-02-29"));
        assert_eq!(date("20030229"), None);
        assert_eq!(dtp_start("RD8", "20050314-20050325").as_deref(), Some("2005-03-14"));
        assert_eq!(dtp_start("RD8", "20050314"), None);
        assert_eq!(dtp_start("DT", "2020010\u{e9}120"), None);
    }
}
