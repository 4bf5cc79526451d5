//! Header text shared by every MRF layout: column-header normalization, the CMS attestation and
//! affirmation statements, the template version a file follows and the MRF date.
//!
//! Invariants: `normalize` is what every header comparison goes through (BOM, case, whitespace
//! around the text and around each `|` do not matter, as the data dictionaries say); a space
//! *inside* a name is kept, so `standard _charge|…` stays different from `standard_charge|…`,
//! exactly as CMS's hpt-validator compares headers (`sepColumnsEqual`: split on `|`, trim, upper).

/// The v3.0 attestation statement (header of the attestation column in CSV, `attestation.attestation` in JSON).
pub(crate) const ATTESTATION: &str = "To the best of its knowledge and belief, this hospital has included all applicable standard charge information in accordance with the requirements of 45 CFR 180.50, and the information encoded is true, accurate, and complete as of the date in the file. This hospital has included all payer-specific negotiated charges in dollars that can be expressed as a dollar amount. For payer-specific negotiated charges that cannot be expressed as a dollar amount in the machine-readable file or not knowable in advance, the hospital attests that the payer-specific negotiated charge is based on a contractual algorithm, percentage or formula that precludes the provision of a dollar amount and has provided all necessary information available to the hospital for the public to be able to derive the dollar amount, including, but not limited to, the specific fee schedule or components referenced in such percentage, algorithm or formula.";

/// The v2.x affirmation statement.
pub(crate) const AFFIRMATION: &str = "To the best of its knowledge and belief, the hospital has included all applicable standard charge information in accordance with the requirements of 45 CFR 180.50, and the information encoded is true, accurate, and complete as of the date indicated.";

/// Which data dictionary a file is checked against.
///
/// Every v2.x file (2.0.0 … 2.2.1) is checked against v2.2, the last v2 dictionary (in force from
/// 2025-01-01 until v3.0 on 2026-01-01): CMS's own validator test suite checks its 2.0.0-labelled
/// fixtures against the 2.1/2.2 conditional rules, and a file published today is judged by them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    V2,
    V3,
}

impl Rules {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Rules::V2 => "v2.2",
            Rules::V3 => "v3.0",
        }
    }
    /// The version strings CMS expects in the `version` element under these rules.
    fn expected(self) -> &'static [&'static str] {
        match self {
            Rules::V2 => &["2.0.0", "2.1.0", "2.2.0", "2.2.1"],
            Rules::V3 => &["3.0.0"],
        }
    }
}

/// Canonical form of a header: BOM and surrounding whitespace removed, lower case, each
/// `|`-separated part trimmed (`Code | 1 | Type ` → `code|1|type`).
pub(crate) fn normalize(raw: &str) -> String {
    let s = raw.trim_start_matches('\u{feff}').trim();
    let mut out = String::with_capacity(s.len());
    for (i, part) in s.split('|').enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(&part.trim().to_lowercase());
    }
    out
}

/// The header with all whitespace removed: used only to point out near misses such as the CMS
/// v2.0 example's `standard _charge|negotiated_algorithm` in an error message.
pub(crate) fn squeezed(norm: &str) -> String {
    norm.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `true` for the statements, compared as headers are (case and surrounding space ignored).
pub(crate) fn is_statement(norm: &str, statement: &str) -> bool {
    norm == statement.to_lowercase()
}

/// The numeric part of a version string the way semver's `coerce` reads it: "2.0" → (2, 0, 0),
/// "v3.0.0" → (3, 0, 0); `None` when it holds no number.
pub(crate) fn coerce_version(v: &str) -> Option<(u64, u64, u64)> {
    let start = v.find(|c: char| c.is_ascii_digit())?;
    let mut nums = [0u64; 3];
    for (n, part) in v[start..].split('.').take(3).enumerate() {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            break;
        }
        nums[n] = digits.parse().ok()?;
        if digits.len() != part.len() {
            break;
        }
    }
    Some((nums[0], nums[1], nums[2]))
}

/// Decides the rules from what the header looks like (`attestation`/`location_name`/`type_2_npi`
/// are v3 elements, `affirmation`/`hospital_location` v2) and the declared version. The shape
/// wins when it is unambiguous, as CMS's validator checks the file against the dictionary the user
/// picks and only alerts on the `version` value. Returns the rules and, when the declared version
/// is not one CMS expects for them, the validator's version-mismatch alert text.
pub(crate) fn choose_rules(
    declared: Option<&str>,
    v3_marks: bool,
    v2_marks: bool,
) -> Result<(Rules, Option<String>), String> {
    let by_version = declared.and_then(coerce_version).and_then(|(major, _, _)| match major {
        2 => Some(Rules::V2),
        3 => Some(Rules::V3),
        _ => None,
    });
    let rules = match (v3_marks, v2_marks) {
        (true, false) => Rules::V3,
        (false, true) => Rules::V2,
        _ => match by_version {
            Some(r) => r,
            None => {
                return Err(format!(
                    "cannot tell which CMS template this file follows: version {:?} is not 2.x or 3.x \
                     and its general data elements are neither the v2 (affirmation, hospital_location) \
                     nor the v3 ones (attestation, location_name, type_2_npi)",
                    declared.unwrap_or("")
                ))
            }
        },
    };
    let declared = declared.unwrap_or("");
    let alert = (!rules.expected().contains(&declared)).then(|| {
        let expected = rules.expected().iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ");
        format!(
            "The value in this MRF's version data element {declared:?} does not match an expected template \
             version ({expected}); the file was checked against the {} data dictionary its elements follow",
            rules.name()
        )
    });
    Ok((rules, alert))
}

/// The MRF date as `YYYY-MM-DD`. ISO 8601 is required; CSV files may also use M/D/YYYY or
/// MM/DD/YYYY (both data dictionaries say so), JSON may not (`format: date`).
pub(crate) fn mrf_date(s: &str, allow_us: bool) -> Option<String> {
    let s = s.trim();
    let b = s.as_bytes();
    let (y, m, d) = if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        (s.get(0..4)?, s.get(5..7)?, s.get(8..10)?)
    } else if allow_us {
        let mut it = s.split('/');
        let (m, d, y) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 || y.len() != 4 {
            return None;
        }
        (y, m, d)
    } else {
        return None;
    };
    if ![y, m, d].iter().all(|p| p.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    Some(date.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_ignores_bom_case_and_space_around_pipes() {
        assert_eq!(normalize("\u{feff}Code | 1 | Type "), "code|1|type");
        assert_eq!(normalize("standard_charge | gross"), "standard_charge|gross");
        // A space inside a name is a different header (CMS's validator rejects it too).
        assert_eq!(normalize("standard _charge|negotiated_algorithm"), "standard _charge|negotiated_algorithm");
        assert_eq!(squeezed("standard _charge|negotiated_algorithm"), "standard_charge|negotiated_algorithm");
    }

    #[test]
    fn versions_coerce_like_semver() {
        assert_eq!(coerce_version("2.0"), Some((2, 0, 0)));
        assert_eq!(coerce_version("V3.0.0"), Some((3, 0, 0)));
        assert_eq!(coerce_version("2.2.1-beta"), Some((2, 2, 1)));
        assert_eq!(coerce_version("none"), None);
    }

    #[test]
    fn rules_follow_the_shape_and_alert_on_a_mismatched_version() {
        assert_eq!(choose_rules(Some("3.0.0"), true, false), Ok((Rules::V3, None)));
        let (rules, alert) = choose_rules(Some("2.0.0"), true, false).unwrap();
        assert_eq!(rules, Rules::V3);
        assert!(alert.unwrap().contains("\"2.0.0\""));
        let (rules, alert) = choose_rules(Some("1.0.0"), false, true).unwrap();
        assert_eq!(rules, Rules::V2);
        assert!(alert.is_some());
        assert_eq!(choose_rules(Some("2.0"), false, false).unwrap().0, Rules::V2);
        assert!(choose_rules(Some("1.1"), false, false).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(mrf_date("2024-07-01", false).as_deref(), Some("2024-07-01"));
        assert_eq!(mrf_date("4/1/2026", true).as_deref(), Some("2026-04-01"));
        assert_eq!(mrf_date("11/14/2025", true).as_deref(), Some("2025-11-14"));
        assert_eq!(mrf_date("4/1/2026", false), None);
        assert_eq!(mrf_date("July 1 2024", true), None);
        assert_eq!(mrf_date("2024-02-30", true), None);
    }
}
