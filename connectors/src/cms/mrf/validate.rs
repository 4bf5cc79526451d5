//! The value checks of CMS's hpt-validator that CSV and JSON share: valid values (code types,
//! settings, methodologies, drug units, states), the numeric grammar, the count of allowed amounts,
//! nine-9s placeholders, and how a row's problems become one reject.
//!
//! Invariants: enumerations are compared case-insensitively for CSV (the CSV dictionary says valid
//! values are case-insensitive) and exactly for JSON (the JSON schema's `enum`); numbers follow
//! the validator's CSV grammar `^(\d+|\d+\.\d+|\d+\.|\.\d+)$` and must be > 0.
use super::header::Rules;
use rust_decimal::Decimal;
use std::str::FromStr;

/// Code types valid in every version; v3.0 adds CMG and MS-LTC-DRG.
const CODE_TYPES: [&str; 19] = [
    "CPT", "HCPCS", "ICD", "DRG", "MS-DRG", "R-DRG", "S-DRG", "APS-DRG", "AP-DRG", "APR-DRG", "APC", "NDC", "HIPPS",
    "LOCAL", "EAPG", "CDT", "RC", "CDM", "TRIS-DRG",
];
const CODE_TYPES_V3: [&str; 2] = ["CMG", "MS-LTC-DRG"];
pub(crate) const SETTINGS: [&str; 3] = ["inpatient", "outpatient", "both"];
pub(crate) const METHODOLOGIES: [&str; 5] =
    ["case rate", "fee schedule", "percent of total billed charges", "per diem", "other"];
pub(crate) const DRUG_UNITS: [&str; 7] = ["GR", "ME", "ML", "UN", "F2", "EA", "GM"];
/// The JSON schema's state enum (a superset of the CSV validator's: it adds FM, MH and PW).
const STATES: [&str; 59] = [
    "AL", "AK", "AS", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FM", "FL", "GA", "GU", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MH", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
    "ND", "MP", "OH", "OK", "OR", "PW", "PA", "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VI", "VA", "WA", "WV",
    "WI", "WY",
];

/// 999999999: CMS tells hospitals to stop encoding it as a stand-in for an unknown amount.
pub(crate) const NINE_NINES: Decimal = Decimal::from_parts(999_999_999, 0, 0, false, 0);

/// The canonical code type for `value` under `rules`, or `None` when it is not a valid value.
pub(crate) fn code_type(rules: Rules, value: &str, exact: bool) -> Option<&'static str> {
    let extra: &[&'static str] = if rules == Rules::V3 { &CODE_TYPES_V3 } else { &[] };
    CODE_TYPES.iter().chain(extra).copied().find(|t| if exact { *t == value } else { t.eq_ignore_ascii_case(value) })
}

/// The canonical (lower-case) value of an enumeration, or `None`.
pub(crate) fn one_of(allowed: &[&'static str], value: &str, exact: bool) -> Option<&'static str> {
    allowed.iter().copied().find(|a| if exact { *a == value } else { a.eq_ignore_ascii_case(value) })
}

pub(crate) fn is_state(value: &str) -> bool {
    STATES.contains(&value.to_ascii_uppercase().as_str())
}

/// The list of valid code types for messages.
pub(crate) fn code_types_list(rules: Rules) -> String {
    let extra: &[&str] = if rules == Rules::V3 { &CODE_TYPES_V3 } else { &[] };
    CODE_TYPES.iter().chain(extra).copied().collect::<Vec<_>>().join(", ")
}

/// A CSV "Numeric" value: digits with an optional decimal point (no sign, `$`, `,` or exponent),
/// greater than zero.
pub(crate) fn positive_number(s: &str) -> Result<Decimal, String> {
    let b = s.as_bytes();
    let dot = b.iter().position(|&c| c == b'.');
    let digits_ok = b.iter().enumerate().all(|(i, c)| c.is_ascii_digit() || Some(i) == dot);
    let has_digit = b.iter().any(u8::is_ascii_digit);
    if !digits_ok || !has_digit {
        return Err(format!("{s:?} is not a number (digits and an optional decimal point only)"));
    }
    let parsed = match dot {
        Some(0) => Decimal::from_str(&format!("0{s}")),
        Some(i) if i + 1 == b.len() => Decimal::from_str(&s[..i]),
        _ => Decimal::from_str(s),
    };
    match parsed {
        Ok(d) if d > Decimal::ZERO => Ok(d),
        Ok(_) => Err(format!("{s:?} is not a positive number")),
        Err(_) => Err(format!("{s:?} is too large or too precise to be an amount")),
    }
}

/// A JSON number as an exact decimal (money is never f64): parsed from serde_json's text of it.
pub(crate) fn json_number(n: &serde_json::Number) -> Result<Decimal, String> {
    let text = n.to_string();
    let d = Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| format!("{text} is too large or too precise to be an amount"))?;
    // Without serde_json's arbitrary_precision a float may come back one ULP off
    // (22243.340000000004): no price has more than 6 decimals, so round those away.
    Ok(if d.scale() > 6 { d.round_dp(6).normalize() } else { d })
}

/// The count of allowed amounts: "0", "1 through 10", or a whole number of 11 or more without
/// thousands separators.
pub(crate) fn count_ok(s: &str, exact: bool) -> bool {
    if s == "0" || (if exact { s == "1 through 10" } else { s.eq_ignore_ascii_case("1 through 10") }) {
        return true;
    }
    !s.is_empty()
        && !s.starts_with('0')
        && s.bytes().all(|c| c.is_ascii_digit())
        && (s.len() > 2 || s.parse::<u32>().is_ok_and(|n| n >= 11))
}

/// `true` when `s` reads as the number 999999999 (the validator compares `Number(value)`).
pub(crate) fn is_nine_nines(s: &str) -> bool {
    s.contains("999999999") && positive_number(s).is_ok_and(|d| d == NINE_NINES)
}

/// The problems found in one row or JSON object, turned into a single reject: the location of the
/// first, and every message.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<(String, String)>,
}

impl Problems {
    pub(crate) fn clear(&mut self) {
        self.list.clear();
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub(crate) fn push(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.list.push((at.into(), message.into()));
    }
    /// `(at, reason)`: where the first problem is, and all of them ("…; also at …: …").
    pub(crate) fn reject_reason(&self) -> (String, String) {
        let mut iter = self.list.iter();
        let Some((at, first)) = iter.next() else {
            return (String::new(), String::new());
        };
        let mut reason = first.clone();
        for (a, m) in iter {
            reason.push_str("; also ");
            reason.push_str(a);
            reason.push_str(": ");
            reason.push_str(m);
        }
        (at.clone(), reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_validator_grammar() {
        assert_eq!(positive_number("1200").unwrap(), Decimal::from(1200));
        assert_eq!(positive_number("98.98").unwrap().to_string(), "98.98");
        assert_eq!(positive_number(".5").unwrap().to_string(), "0.5");
        assert_eq!(positive_number("5.").unwrap(), Decimal::from(5));
        for bad in ["0", "0.00", "-5", "$5", "1,200", "1e3", "N/A", ".", ""] {
            assert!(positive_number(bad).is_err(), "{bad}");
        }
        assert!(is_nine_nines("999999999"));
        assert!(is_nine_nines("999999999.00"));
        assert!(!is_nine_nines("9999999990"));
    }

    #[test]
    fn counts() {
        for ok in ["0", "1 through 10", "11", "299", "1000"] {
            assert!(count_ok(ok, true), "{ok}");
        }
        for bad in ["5", "10", "2,025", "012", "no claims", "", "1 Through 10"] {
            assert!(!count_ok(bad, true), "{bad}");
        }
        assert!(count_ok("1 Through 10", false));
    }

    #[test]
    fn enumerations() {
        assert_eq!(code_type(Rules::V2, "hcpcs", false), Some("HCPCS"));
        assert_eq!(code_type(Rules::V2, "hcpcs", true), None);
        assert_eq!(code_type(Rules::V2, "CMG", true), None);
        assert_eq!(code_type(Rules::V3, "CMG", true), Some("CMG"));
        assert_eq!(one_of(&SETTINGS, "Inpatient", false), Some("inpatient"));
        assert!(is_state("ca") && !is_state("[state]"));
    }

    #[test]
    fn json_numbers_are_exact() {
        let n: serde_json::Number = serde_json::from_str("22243.34").unwrap();
        assert_eq!(json_number(&n).unwrap().to_string(), "22243.34");
        let n: serde_json::Number = serde_json::from_str("20000").unwrap();
        assert_eq!(json_number(&n).unwrap(), Decimal::from(20000));
        let n: serde_json::Number = serde_json::from_str("1e3").unwrap();
        assert_eq!(json_number(&n).unwrap(), Decimal::from(1000));
    }
}
