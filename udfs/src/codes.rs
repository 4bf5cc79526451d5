//! Billing code systems by shape: CPT (5 digits; Category II 4 digits + F; Category III
//! 4 digits + T), HCPCS Level II (letter + 4 digits), revenue codes (4 digits, leading 0),
//! NDC (10 digits as 4-4-2, 5-3-2 or 5-4-1, or the 11-digit 5-4-2 billing form), modifiers.
//! Shapes only: whether a code exists for a date is checked against code sets elsewhere.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CodeSystem {
    Cpt,
    Hcpcs,
    Rev,
    Ndc,
    /// Only the hospital's charge-master item number: no CPT/HCPCS code was printed.
    Cdm,
    Unknown,
}

impl CodeSystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpt => "CPT",
            Self::Hcpcs => "HCPCS",
            Self::Rev => "REV",
            Self::Ndc => "NDC",
            Self::Cdm => "CDM",
            Self::Unknown => "UNKNOWN",
        }
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The code system a printed code belongs to, by its shape.
pub fn classify(code: &str) -> CodeSystem {
    let c = code.trim();
    // Every code system is ASCII; byte positions below are character positions only then.
    if !c.is_ascii() {
        return CodeSystem::Unknown;
    }
    let b = c.as_bytes();
    match b.len() {
        5 if digits(c) => CodeSystem::Cpt,
        // Category II (F), III (T), proprietary laboratory analyses (U) and multianalyte assays (M).
        5 if digits(&c[..4]) && matches!(b[4], b'F' | b'T' | b'U' | b'M') => CodeSystem::Cpt,
        5 if b[0].is_ascii_uppercase() && digits(&c[1..]) => CodeSystem::Hcpcs,
        4 if digits(c) && b[0] == b'0' => CodeSystem::Rev,
        _ if is_ndc(c) => CodeSystem::Ndc,
        _ => CodeSystem::Unknown,
    }
}

/// NDC in a labeled form (4-4-2, 5-3-2, 5-4-1, 5-4-2) or 11 bare digits.
pub fn is_ndc(code: &str) -> bool {
    let parts: Vec<&str> = code.split('-').collect();
    match parts.as_slice() {
        [all] => all.len() == 11 && digits(all),
        [a, b, c] if digits(a) && digits(b) && digits(c) => {
            matches!((a.len(), b.len(), c.len()), (4, 4, 2) | (5, 3, 2) | (5, 4, 1) | (5, 4, 2))
        }
        _ => false,
    }
}

/// The 11-digit (5-4-2) billing form of an NDC, padding the short segment with a zero.
pub fn ndc11(code: &str) -> Option<String> {
    if !is_ndc(code) {
        return None;
    }
    let parts: Vec<&str> = code.split('-').collect();
    Some(match parts.as_slice() {
        [all] => (*all).to_string(),
        [a, b, c] => format!("{a:0>5}{b:0>4}{c:0>2}"),
        _ => return None,
    })
}

/// A charge-master (CDM) item number as statements print it in a code column: seven to twelve
/// digits, which no CPT, HCPCS or revenue code has (an 11-digit number is read as an NDC only
/// when printed with its dashes or in an NDC column).
pub fn is_cdm_number(code: &str) -> bool {
    let c = code.trim();
    (7..=12).contains(&c.len()) && digits(c)
}

/// A two-character modifier (letters or digits): 25, 59, XU, LT, TC, 26 ...
pub fn is_modifier(m: &str) -> bool {
    m.len() == 2 && m.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_shape() {
        assert_eq!(classify("99213"), CodeSystem::Cpt);
        assert_eq!(classify("3074F"), CodeSystem::Cpt, "Category II");
        assert_eq!(classify("0042T"), CodeSystem::Cpt, "Category III");
        assert_eq!(classify("0001U"), CodeSystem::Cpt, "proprietary laboratory analysis");
        assert_eq!(classify("0002M"), CodeSystem::Cpt, "multianalyte assay");
        assert_eq!(classify("J1885"), CodeSystem::Hcpcs);
        assert_eq!(classify("G0439"), CodeSystem::Hcpcs);
        assert_eq!(classify("0450"), CodeSystem::Rev);
        assert_eq!(classify("1450"), CodeSystem::Unknown, "revenue codes start with 0");
        assert_eq!(classify("0002-1433-80"), CodeSystem::Ndc);
        assert_eq!(classify("00002143380"), CodeSystem::Ndc);
        assert_eq!(classify("9921"), CodeSystem::Unknown);
        assert_eq!(classify("J188"), CodeSystem::Unknown);
        assert_eq!(classify("99213-25"), CodeSystem::Unknown);
        assert_eq!(classify("9é21"), CodeSystem::Unknown, "found by the fuzz target: a 5-byte non-ASCII word");
        assert_eq!(classify("é1234"), CodeSystem::Unknown);
    }

    #[test]
    fn charge_master_numbers() {
        assert!(is_cdm_number("2500000004"));
        assert!(is_cdm_number("74000040"));
        assert!(!is_cdm_number("80053"), "a CPT code");
        assert!(!is_cdm_number("070486"), "a CPT code printed with a leading zero");
        assert!(!is_cdm_number("0250"));
    }

    #[test]
    fn ndc_billing_form() {
        assert_eq!(ndc11("0002-1433-80").as_deref(), Some("00002143380"));
        assert_eq!(ndc11("50242-040-62").as_deref(), Some("50242004062"));
        assert_eq!(ndc11("60575-4112-1").as_deref(), Some("60575411201"));
        assert_eq!(ndc11("123-45-6"), None);
    }

    #[test]
    fn modifiers() {
        assert!(is_modifier("25") && is_modifier("XU") && is_modifier("TC"));
        assert!(!is_modifier("2") && !is_modifier("abc") && !is_modifier("x1"));
    }
}
