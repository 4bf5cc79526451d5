//! Medicare Physician Fee Schedule: the GPCI table (Addendum E, `GPCI<year>.csv`) and the national
//! RVU file (`PPRRVU<yy>_<MON>.csv`) → `reference.prices` per code, modifier and locality.
//!
//! Amount = round2((work RVU × work GPCI + PE RVU × PE GPCI + MP RVU × MP GPCI) × CF), in decimal,
//! rounded half away from zero to cents; the non-facility amount uses the non-facility PE RVU,
//! the facility amount the facility PE RVU. CF is read from each row's CONV FACTOR column.
//!
//! Invariants: both files are found by their header rows (text and notes before them are
//! skipped; the RVU file's header spans several rows, joined per column). The work GPCI is the
//! column "with 1.0 floor" when the file has one: that is the value CMS pays with (the statute
//! extends the floor, and the GPCI file's note says the 2026 work GPCIs reflect it); the
//! unfloored column, when present, is only a reference. Only status A (active), R (restricted)
//! and T (paid when no other PFS service that day) rows are priced; a kind whose PE RVU is marked
//! NA is not produced. Scope is `locality:<MAC>-<locality>` (e.g. `locality:01112-05`).
use super::cells::{cell, code_type, csv_error, csv_reader, is_code, month_number};
use crate::feed::{Ctx, Item, LoadError, Out, Tally};
use rust_decimal::{Decimal, RoundingStrategy};
use schemas::RefPrice;
use std::io::BufRead;
use std::str::FromStr;

/// How many rows may come before a header row.
const MAX_PREAMBLE_ROWS: u64 = 40;

/// One Medicare payment locality of the GPCI table.
#[derive(Debug, Clone, PartialEq)]
pub struct Locality {
    /// Medicare Administrative Contractor number, 5 digits.
    pub mac: String,
    /// Locality number within the MAC, 2 digits.
    pub locality: String,
    pub state: String,
    pub name: String,
    pub work: Decimal,
    pub pe: Decimal,
    pub mp: Decimal,
}

impl Locality {
    /// `01112-05`: the MAC and the locality number, as `scope` carries it.
    pub fn id(&self) -> String {
        format!("{}-{}", self.mac, self.locality)
    }
}

/// The GPCIs of every locality, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct GpciTable {
    pub localities: Vec<Locality>,
    /// The header of the work GPCI column used (e.g. "2026 PW GPCI (with 1.0 Floor)***").
    pub work_column: String,
    /// The year in the GPCI headers, when they name one.
    pub year: Option<i32>,
}

impl GpciTable {
    /// Reads a GPCI table (CMS Addendum E as CSV): title and notes, a header row naming the MAC,
    /// locality number and the three GPCI columns, then one row per locality.
    pub fn read(input: &mut dyn BufRead) -> Result<GpciTable, LoadError> {
        let mut rdr = csv_reader(input, b',');
        let mut rec = csv::ByteRecord::new();
        let mut cols = None;
        let mut localities = Vec::new();
        let mut row = 0u64;
        while rdr.read_byte_record(&mut rec).map_err(|e| csv_error(e, "GPCI row"))? {
            row += 1;
            let Some(c) = &cols else {
                cols = GpciColumns::find(&rec);
                if cols.is_none() && row >= MAX_PREAMBLE_ROWS {
                    break;
                }
                continue;
            };
            let mac = cell(&rec, c.mac);
            let locality = cell(&rec, c.locality);
            // Footnotes and blank rows follow the table; a locality row has numbers in both.
            let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if !numeric(&mac) || !numeric(&locality) || mac.len() > 5 || locality.len() > 2 {
                continue;
            }
            let gpci = |i: usize, what: &str| {
                let text = cell(&rec, i);
                Decimal::from_str(&text).ok().filter(|d| !d.is_sign_negative()).ok_or_else(|| {
                    LoadError::rejected(
                        format!("row {row}, MAC {mac} locality {locality}"),
                        format!("{what} GPCI {text:?} is not a number"),
                    )
                })
            };
            localities.push(Locality {
                // Spreadsheets drop leading zeros; CMS writes 5 and 2 digits.
                mac: format!("{mac:0>5}"),
                locality: format!("{locality:0>2}"),
                state: cell(&rec, c.state),
                name: cell(&rec, c.name).trim_end_matches('*').to_string(),
                work: gpci(c.work, "work")?,
                pe: gpci(c.pe, "PE")?,
                mp: gpci(c.mp, "MP")?,
            });
        }
        let Some(c) = cols else {
            return Err(LoadError::rejected(
                format!("rows 1-{row}"),
                "not a GPCI table: no header row naming the Medicare Administrative Contractor, the locality number \
                 and the PW (work), PE and MP GPCI columns",
            ));
        };
        if localities.is_empty() {
            return Err(LoadError::rejected("after the header row", "no locality rows in the GPCI table"));
        }
        Ok(GpciTable { localities, year: c.year, work_column: c.work_name })
    }
}

struct GpciColumns {
    mac: usize,
    state: usize,
    locality: usize,
    name: usize,
    work: usize,
    work_name: String,
    pe: usize,
    mp: usize,
    year: Option<i32>,
}

impl GpciColumns {
    fn find(rec: &csv::ByteRecord) -> Option<GpciColumns> {
        let names: Vec<String> = (0..rec.len()).map(|i| cell(rec, i).to_ascii_uppercase()).collect();
        let find = |f: &dyn Fn(&str) -> bool| names.iter().position(|n| f(n));
        let mac = find(&|n| n.contains("CONTRACTOR") || n == "MAC" || n.starts_with("MAC "))?;
        let locality =
            find(&|n| n.contains("LOCALITY") && (n.contains("NUMBER") || n.contains("NO")) && !n.contains("NAME"))?;
        let name = find(&|n| n.contains("LOCALITY") && n.contains("NAME"))?;
        let state = find(&|n| n == "STATE").unwrap_or(name);
        let gpci = |n: &str| n.contains("GPCI");
        let is_work = |n: &str| gpci(n) && (n.contains("PW") || n.contains("WORK"));
        // The floored work GPCI is what Medicare pays with; see the module doc.
        let work = find(&|n| is_work(n) && n.contains("WITH 1.0") && !n.contains("WITHOUT"))
            .or_else(|| find(&|n| is_work(n) && !n.contains("WITHOUT")))?;
        let pe = find(&|n| gpci(n) && n.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == "PE"))?;
        let mp = find(&|n| gpci(n) && n.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == "MP"))?;
        let year = names[work]
            .split(|c: char| !c.is_ascii_digit())
            .find(|t| t.len() == 4 && t.starts_with("20"))
            .and_then(|t| t.parse().ok());
        Some(GpciColumns { mac, state, locality, name, work, work_name: cell(rec, work), pe, mp, year })
    }
}

/// Whether `name`/`head` look like the PFS RVU file (`PPRRVU23_JAN.csv`).
pub fn sniff(name: &str, head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_uppercase();
    name.to_ascii_uppercase().contains("PPRRVU")
        || (text.contains("RELATIVE VALUE") && text.contains("CONV") && text.contains("HCPCS,MOD"))
}

/// Whether `name`/`head` look like a GPCI table (Addendum E).
pub fn sniff_gpci(name: &str, head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_uppercase();
    name.to_ascii_uppercase().starts_with("GPCI") || (text.contains("GPCI") && text.contains("LOCALITY"))
}

/// Columns of the RVU file, found by their joined header text.
struct RvuColumns {
    hcpcs: usize,
    modifier: usize,
    status: usize,
    work: usize,
    pe_nonfacility: usize,
    na_nonfacility: usize,
    pe_facility: usize,
    na_facility: usize,
    mp: usize,
    cf: usize,
}

impl RvuColumns {
    /// `header` holds each column's header rows joined with spaces ("NON-FAC PE RVU").
    fn find(header: &[String]) -> Result<RvuColumns, String> {
        let words = |n: &str| n.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let has = |n: &str, w: &str| words(n).iter().any(|x| x == w);
        let nonfac = |n: &str| n.contains("NON-FAC") || n.contains("NONFAC") || n.contains("NON FAC");
        let opps = |n: &str| n.contains("OPPS");
        let find =
            |what: &str, f: &dyn Fn(&str) -> bool| header.iter().position(|n| f(n)).ok_or_else(|| what.to_string());
        let last_word = |n: &str, w: &str| words(n).last().is_some_and(|x| x == w);
        Ok(RvuColumns {
            hcpcs: find("HCPCS", &|n| last_word(n, "HCPCS"))?,
            modifier: find("MOD", &|n| last_word(n, "MOD") || last_word(n, "MODIFIER"))?,
            status: find("STATUS CODE", &|n| has(n, "STATUS"))?,
            work: find("WORK RVU", &|n| has(n, "WORK") && n.contains("RVU") && !opps(n))?,
            pe_nonfacility: find("NON-FAC PE RVU", &|n| {
                nonfac(n) && n.contains("PE RVU") && !has(n, "INDICATOR") && !opps(n)
            })?,
            na_nonfacility: find("NON-FAC NA INDICATOR", &|n| nonfac(n) && has(n, "NA") && has(n, "INDICATOR"))?,
            pe_facility: find("FACILITY PE RVU", &|n| {
                !nonfac(n) && n.contains("FACILITY") && n.contains("PE RVU") && !has(n, "INDICATOR") && !opps(n)
            })?,
            na_facility: find("FACILITY NA INDICATOR", &|n| {
                !nonfac(n) && n.contains("FACILITY") && has(n, "NA") && has(n, "INDICATOR")
            })?,
            mp: find("MP RVU", &|n| has(n, "MP") && n.contains("RVU") && !opps(n))?,
            cf: find("CONV FACTOR", &|n| has(n, "CONV") && has(n, "FACTOR"))?,
        })
    }
}

/// Reads the PFS RVU file and produces, for each payable code (and modifier) row and each
/// locality (all, or `ctx.localities`), the non-facility and facility allowed amounts.
pub fn load_rvu(
    ctx: &Ctx,
    gpci: &GpciTable,
    input: &mut dyn BufRead,
    out: Out<'_>,
    tally: &mut Tally,
) -> Result<(), LoadError> {
    let localities = chosen_localities(ctx, gpci)?;
    let mut rdr = csv_reader(input, b',');
    let mut rec = csv::ByteRecord::new();
    // Rows before the header: the title (with the year and release) and the upper header rows.
    let mut preamble: Vec<Vec<String>> = Vec::new();
    let mut cols = None;
    let mut effective_from = String::new();
    let mut row = 0u64;
    while rdr.read_byte_record(&mut rec).map_err(|e| csv_error(e, "RVU row"))? {
        row += 1;
        let Some(c) = &cols else {
            let cells: Vec<String> = (0..rec.len()).map(|i| cell(&rec, i).to_ascii_uppercase()).collect();
            if cells.first().map(String::as_str) == Some("HCPCS") {
                let header = join_header(&preamble, &cells);
                let found = RvuColumns::find(&header).map_err(|missing| {
                    LoadError::rejected(format!("row {row}"), format!("the RVU header has no {missing} column"))
                })?;
                effective_from = release_date(&preamble, &ctx.source_file).ok_or_else(|| {
                    LoadError::rejected(
                        format!("rows 1-{row}"),
                        "cannot tell the RVU release: no \"<year> ... <month> Release\" title and no PPRRVU<yy>_<MON> \
                         file name",
                    )
                })?;
                if let (Some(g), Some(r)) = (gpci.year, effective_from.get(..4).and_then(|y| y.parse::<i32>().ok())) {
                    if g != r {
                        tally.warn("GPCI table", format!("the GPCIs are for {g} and the RVUs for {r}"));
                    }
                }
                tally.count("localities", localities.len() as u64);
                cols = Some(found);
            } else if row >= MAX_PREAMBLE_ROWS {
                return Err(LoadError::rejected(
                    format!("rows 1-{row}"),
                    "not a PFS RVU file: no header row starting with HCPCS",
                ));
            } else {
                preamble.push(cells);
            }
            continue;
        };
        let code = cell(&rec, c.hcpcs);
        if code.is_empty() {
            continue; // blank rows, the DOS end-of-file byte
        }
        tally.count("codes", 1);
        let modifier = Some(cell(&rec, c.modifier)).filter(|m| !m.is_empty());
        let at = |what: &str| match &modifier {
            Some(m) => format!("row {row}, {code}-{m}{what}"),
            None => format!("row {row}, {code}{what}"),
        };
        if !is_code(&code) {
            tally.reject(at(""), format!("{code:?} is not a 5-character HCPCS code"));
            continue;
        }
        if modifier.as_ref().is_some_and(|m| m.len() != 2) {
            tally.reject(at(""), "the modifier is not 2 characters");
            continue;
        }
        let status = cell(&rec, c.status);
        if !matches!(status.as_str(), "A" | "R" | "T") {
            tally.count("codes_not_payable", 1);
            continue;
        }
        let num = |i: usize, what: &str| {
            let text = cell(&rec, i);
            Decimal::from_str(&text)
                .ok()
                .filter(|d| !d.is_sign_negative())
                .ok_or_else(|| format!("{what} {text:?} is not a number"))
        };
        let values = (|| -> Result<_, String> {
            Ok((
                num(c.work, "work RVU")?,
                num(c.pe_nonfacility, "non-facility PE RVU")?,
                num(c.pe_facility, "facility PE RVU")?,
                num(c.mp, "MP RVU")?,
                num(c.cf, "conversion factor")?,
            ))
        })();
        let (work, pe_nf, pe_f, mp, cf) = match values {
            Ok(v) => v,
            Err(reason) => {
                tally.reject(at(""), reason);
                continue;
            }
        };
        if cf.is_zero() {
            tally.reject(at(""), "the conversion factor is 0");
            continue;
        }
        let na = |i: usize| cell(&rec, i).eq_ignore_ascii_case("NA");
        let kinds =
            [("allowed_nonfacility", pe_nf, na(c.na_nonfacility)), ("allowed_facility", pe_f, na(c.na_facility))];
        let mut priced = false;
        for (kind, pe, not_applicable) in kinds {
            if not_applicable || (work + pe + mp).is_zero() {
                continue;
            }
            priced = true;
            for l in &localities {
                let amount = ((work * l.work + pe * l.pe + mp * l.mp) * cf)
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                let price = RefPrice {
                    source: "PFS".into(),
                    code: code.clone(),
                    code_type: code_type(&code).into(),
                    modifier: modifier.clone(),
                    scope: format!("locality:{}", l.id()),
                    payer: None,
                    setting: None,
                    amount_kind: kind.into(),
                    amount,
                    effective_from: effective_from.clone(),
                    effective_to: None,
                    source_file: ctx.source_file.clone(),
                };
                if tally.emit(out, || at(&format!(", locality {}, {kind}", l.id())), Item::Price(price)) {
                    tally.count("prices", 1);
                }
            }
        }
        if priced {
            tally.count("codes_priced", 1);
        } else {
            tally.count("codes_without_rvus", 1);
        }
    }
    if cols.is_none() {
        return Err(LoadError::rejected(
            format!("rows 1-{row}"),
            "not a PFS RVU file: no header row starting with HCPCS",
        ));
    }
    Ok(())
}

/// The localities to price: all, or those `ctx.localities` names ("0111205", "01112-05" or
/// "locality:01112-05"); a name not in the table fails the load rather than pricing nothing.
fn chosen_localities<'g>(ctx: &Ctx, gpci: &'g GpciTable) -> Result<Vec<&'g Locality>, LoadError> {
    if ctx.localities.is_empty() {
        return Ok(gpci.localities.iter().collect());
    }
    let mut chosen = Vec::new();
    for wanted in &ctx.localities {
        let key: String = wanted.trim_start_matches("locality:").chars().filter(char::is_ascii_digit).collect();
        match gpci.localities.iter().find(|l| format!("{}{}", l.mac, l.locality) == key) {
            Some(l) => chosen.push(l),
            None => {
                return Err(LoadError::rejected(
                    "localities",
                    format!("locality {wanted:?} is not in the GPCI table (MAC + locality number, e.g. 0111205)"),
                ))
            }
        }
    }
    Ok(chosen)
}

/// Each column's header text: the cells of the header rows above it and its own, joined.
fn join_header(preamble: &[Vec<String>], last: &[String]) -> Vec<String> {
    // The header block is the run of rows just above the HCPCS row that have cells past the
    // description column; title rows above it only fill the description column.
    let start =
        preamble.iter().rposition(|r| !r.iter().enumerate().any(|(i, c)| i > 3 && !c.is_empty())).map_or(0, |i| i + 1);
    (0..last.len())
        .map(|i| {
            let parts = preamble[start..].iter().filter_map(|r| r.get(i)).chain([&last[i]]);
            parts.filter(|c| !c.is_empty()).cloned().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// The first day of the RVU release: the title ("2023 National Physician Fee Schedule Relative
/// Value File January Release"), else the file name (`PPRRVU23_JAN`, or `RVU23A`..`D`).
fn release_date(preamble: &[Vec<String>], file: &str) -> Option<String> {
    let from_name = name_release(file);
    let title = preamble.iter().flatten().find(|c| c.contains("RELATIVE VALUE"));
    let (year, month) = match title {
        Some(t) => {
            let year = t.split_whitespace().find(|w| w.len() == 4 && w.starts_with("20")).and_then(|w| w.parse().ok());
            let month = t.split_whitespace().find_map(month_number);
            match (year, month, from_name) {
                (Some(y), Some(m), _) => (y, m),
                (Some(y), None, Some((_, m))) => (y, m),
                (Some(y), None, None) => (y, 1),
                (None, _, Some(n)) => n,
                (None, _, None) => return None,
            }
        }
        None => from_name?,
    };
    Some(format!("{year:04}-{month:02}-01"))
}

/// `PPRRVU23_JAN.csv` → (2023, 1); `RVU23C` → (2023, 7).
fn name_release(file: &str) -> Option<(i32, u32)> {
    let upper = file.to_ascii_uppercase();
    let at = upper.find("RVU")? + 3;
    let rest = &upper[at..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let year: i32 = match digits.len() {
        2 => 2000 + digits.parse::<i32>().ok()?,
        4 => digits.parse().ok()?,
        _ => return None,
    };
    let tail = rest[digits.len()..].trim_start_matches(['_', '-', ' ']);
    let word: String = tail.chars().take_while(char::is_ascii_alphabetic).collect();
    let month = month_number(&word).or(match word.as_str() {
        "A" => Some(1),
        "B" => Some(4),
        "C" => Some(7),
        "D" => Some(10),
        _ => None,
    })?;
    Some((year, month))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GPCI: &str = "ADDENDUM E. GPCIs,,,,,,\r\n,,,,,,\r\n\
        Medicare Administrative Contractor (MAC),State,Locality Number,Locality Name,2026 PW GPCI (without 1.0 Floor),2026 PW GPCI (with 1.0 Floor),2026 PE GPCI,2026 MP GPCI\r\n\
        13202,NY,01,MANHATTAN,1.064,1.064,1.162,1.586\r\n\
        10112,AL,0,ALABAMA*,0.950,1.000,0.875,0.566\r\n\
        *Work GPCI note,,,,,,\r\n";

    const RVU: &str = ",,2023 National Physician Fee Schedule Relative Value File January Release,,,,,,,,,,,\r\n\
        ,,,,,,NON-FAC,,FACILITY,,,,\r\n\
        ,,,STATUS,WORK,NON-FAC,NA,FACILITY,NA,MP,,CONV,\r\n\
        HCPCS,MOD,DESCRIPTION,CODE,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,X,FACTOR,\r\n\
        99213,,R,A,1.30,1.28,,0.55,,0.10,,33.8872\r\n\
        71046,TC,R,A,0.00,0.69,,0.69,NA,0.01,,33.8872\r\n\
        99999,,R,I,0.00,0.00,,0.00,,0.00,,33.8872\r\n\
        \u{1a}\r\n";

    #[test]
    fn gpci_uses_floored_work_column_and_pads_numbers() {
        let t = GpciTable::read(&mut GPCI.as_bytes()).unwrap();
        assert_eq!(t.localities.len(), 2);
        assert_eq!(t.work_column, "2026 PW GPCI (with 1.0 Floor)");
        assert_eq!(t.year, Some(2026));
        let al = &t.localities[1];
        assert_eq!((al.id().as_str(), al.name.as_str(), al.work), ("10112-00", "ALABAMA", Decimal::ONE));
    }

    #[test]
    fn prices_rows_per_locality() {
        let t = GpciTable::read(&mut GPCI.as_bytes()).unwrap();
        let ctx = Ctx { source_file: "PPRRVU23_JAN.csv".into(), localities: vec!["1320201".into()], ..Ctx::default() };
        let mut got = vec![];
        let mut tally = Tally::default();
        load_rvu(&ctx, &t, &mut RVU.as_bytes(), &mut |i| got.push(i), &mut tally).unwrap();
        let prices: Vec<(String, Option<String>, String, String)> = got
            .iter()
            .map(|i| match i {
                Item::Price(p) => (p.code.clone(), p.modifier.clone(), p.amount_kind.clone(), p.amount.to_string()),
                other => panic!("{other:?}"),
            })
            .collect();
        // 99213 Manhattan: (1.30×1.064 + 1.28×1.162 + 0.10×1.586) × 33.8872 = 3.02916 × 33.8872 = 102.6502…
        assert_eq!(prices[0], ("99213".into(), None, "allowed_nonfacility".into(), "102.65".into()));
        assert_eq!(prices[1].3, "73.90");
        // 71046-TC: facility PE is NA, so only the non-facility amount.
        assert_eq!(prices[2], ("71046".into(), Some("TC".into()), "allowed_nonfacility".into(), "27.71".into()));
        assert_eq!(prices.len(), 3);
        assert_eq!(tally.counts["codes"], 3);
        assert_eq!(tally.counts["codes_not_payable"], 1);
        assert_eq!(tally.counts["localities"], 1);
        let Item::Price(p) = &got[0] else { unreachable!() };
        assert_eq!((p.scope.as_str(), p.effective_from.as_str()), ("locality:13202-01", "2023-01-01"));
        assert_eq!(tally.warnings.len(), 1, "2026 GPCIs with 2023 RVUs");
    }

    #[test]
    fn unknown_locality_and_bad_header_fail() {
        let t = GpciTable::read(&mut GPCI.as_bytes()).unwrap();
        let ctx = Ctx { localities: vec!["9999999".into()], ..Ctx::default() };
        let err = load_rvu(&ctx, &t, &mut RVU.as_bytes(), &mut |_| {}, &mut Tally::default()).unwrap_err();
        assert!(err.to_string().contains("not in the GPCI table"), "{err}");
        let err = GpciTable::read(&mut &b"a,b\n1,2\n"[..]).unwrap_err();
        assert!(err.to_string().contains("not a GPCI table"), "{err}");
        let no_cf = RVU.replace("CONV", "").replace("FACTOR", "");
        let err = load_rvu(&Ctx::default(), &t, &mut no_cf.as_bytes(), &mut |_| {}, &mut Tally::default()).unwrap_err();
        assert!(err.to_string().contains("no CONV FACTOR column"), "{err}");
    }

    #[test]
    fn release_from_name() {
        assert_eq!(name_release("PPRRVU23_JAN.csv"), Some((2023, 1)));
        assert_eq!(name_release("PPRRVU2024_Oct.csv"), Some((2024, 10)));
        assert_eq!(name_release("RVU23C.csv"), Some((2023, 7)));
        assert_eq!(name_release("fees.csv"), None);
    }
}
