//! Rows 1 and 2 of a CMS CSV MRF: the general data elements (hospital_name, last_updated_on,
//! version, location, address, license_number|<state>, the attestation or affirmation statement …)
//! and their values. Decides the data dictionary the file is checked against.
//!
//! Invariants: any problem here rejects the file (a price without its hospital or date cannot be
//! trusted); the statement being "false" and a mismatched version value are only alerts, as in
//! CMS's hpt-validator. Blank row-1 cells (the padding commas every template has) are ignored.
use super::header::{choose_rules, is_statement, mrf_date, normalize, Rules, AFFIRMATION, ATTESTATION};
use super::validate::is_state;
use crate::feed::{LoadError, Tally};

/// What rows 1–2 tell the loader.
#[derive(Debug)]
pub(crate) struct General {
    pub(crate) hospital_name: String,
    /// The MRF date as YYYY-MM-DD.
    pub(crate) effective_from: String,
    pub(crate) rules: Rules,
}

/// A general data element of row 1.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Element {
    HospitalName,
    LastUpdatedOn,
    Version,
    HospitalAddress,
    License,
    HospitalLocation,
    Affirmation,
    LocationName,
    Type2Npi,
    Attestation,
    AttesterName,
}

impl Element {
    fn label(self) -> &'static str {
        match self {
            Element::HospitalName => "hospital_name",
            Element::LastUpdatedOn => "last_updated_on",
            Element::Version => "version",
            Element::HospitalAddress => "hospital_address",
            Element::License => "license_number|<state>",
            Element::HospitalLocation => "hospital_location",
            Element::Affirmation => "the affirmation statement",
            Element::LocationName => "location_name",
            Element::Type2Npi => "type_2_npi",
            Element::Attestation => "the attestation statement",
            Element::AttesterName => "attester_name",
        }
    }
    fn required(rules: Rules) -> &'static [Element] {
        use Element::*;
        match rules {
            Rules::V2 => {
                &[HospitalName, LastUpdatedOn, Version, HospitalAddress, License, HospitalLocation, Affirmation]
            }
            Rules::V3 => &[
                HospitalName,
                LastUpdatedOn,
                Version,
                HospitalAddress,
                License,
                LocationName,
                Type2Npi,
                Attestation,
                AttesterName,
            ],
        }
    }
    fn of(norm: &str) -> Option<Element> {
        Some(match norm {
            "hospital_name" => Element::HospitalName,
            "last_updated_on" => Element::LastUpdatedOn,
            "version" => Element::Version,
            "hospital_address" => Element::HospitalAddress,
            "hospital_location" => Element::HospitalLocation,
            "location_name" => Element::LocationName,
            "type_2_npi" => Element::Type2Npi,
            "attester_name" => Element::AttesterName,
            n if n.starts_with("license_number|") && n.matches('|').count() == 1 => Element::License,
            n if is_statement(n, ATTESTATION) => Element::Attestation,
            n if is_statement(n, AFFIRMATION) => Element::Affirmation,
            _ => return None,
        })
    }
}

/// Reads rows 1 (`names`) and 2 (`values`, starting on line `line2`).
pub(crate) fn read(names: &[&str], values: &[&str], line2: u64, tally: &mut Tally) -> Result<General, LoadError> {
    let found: Vec<Option<Element>> = names.iter().map(|n| Element::of(&normalize(n))).collect();
    let has = |e: Element| found.contains(&Some(e));
    let value = |i: usize| values.get(i).map(|v| v.trim()).unwrap_or("");
    let at = |i: usize| format!("row {line2}, column {:?}", short(names[i]));
    let version_col = found.iter().position(|e| *e == Some(Element::Version));
    let declared = version_col.map(value);
    let v3_marks = has(Element::Attestation) || has(Element::LocationName) || has(Element::Type2Npi);
    let v2_marks = has(Element::Affirmation) || has(Element::HospitalLocation);
    let version_at = version_col.map(at).unwrap_or_else(|| "row 1".to_string());
    let (rules, alert) = choose_rules(declared, v3_marks, v2_marks).map_err(|m| LoadError::rejected(&version_at, m))?;
    if let Some(alert) = alert {
        tally.warn(&version_at, alert);
    }

    let mut problems: Vec<(String, String)> = Vec::new();
    let mut name = None;
    let mut date = None;
    let mut seen: Vec<Element> = Vec::new();
    for (i, element) in found.iter().enumerate() {
        let Some(element) = *element else { continue };
        if !Element::required(rules).contains(&element) {
            // A v2 element in a v3 file (or the reverse) is just an extra column.
            continue;
        }
        if seen.contains(&element) {
            problems.push((format!("row 1, column {}", i + 1), format!("{} appears twice in row 1", element.label())));
            continue;
        }
        seen.push(element);
        let v = value(i);
        match element {
            Element::License => {
                // The state is in the header; the number may be blank (a hospital without one).
                let state = normalize(names[i]).split('|').nth(1).unwrap_or("").trim().to_string();
                if state.starts_with('[') {
                    problems.push((
                        format!("row 1, column {}", i + 1),
                        format!(
                            "{:?} still has the template placeholder {state}: write the two-letter state code",
                            short(names[i])
                        ),
                    ));
                } else if !is_state(&state) {
                    problems.push((
                        format!("row 1, column {}", i + 1),
                        format!("{:?}: {state:?} is not a two-letter state or territory code", short(names[i])),
                    ));
                }
            }
            _ if v.is_empty() => {
                problems.push((at(i), format!("a value for {} is required in row 2", element.label())))
            }
            Element::HospitalName => name = Some(v.to_string()),
            Element::LastUpdatedOn => match mrf_date(v, true) {
                Some(d) => date = Some(d),
                None => problems.push((at(i), format!("{v:?} is not a date (YYYY-MM-DD, or M/D/YYYY)"))),
            },
            Element::Attestation | Element::Affirmation => {
                if v.eq_ignore_ascii_case("false") {
                    tally.warn(
                        at(i),
                        format!(
                            "{} is \"false\": a value of true is required to meet 45 CFR 180.50(a)(3)",
                            element.label()
                        ),
                    );
                } else if !v.eq_ignore_ascii_case("true") {
                    problems
                        .push((at(i), format!("{v:?} is not a valid value for {} (true or false)", element.label())));
                }
            }
            _ => {}
        }
    }
    for element in Element::required(rules) {
        if !seen.contains(element) {
            problems.push((
                "row 1".to_string(),
                format!("required header {} is missing ({} rules)", element.label(), rules.name()),
            ));
        }
    }
    match (name, date, problems.is_empty()) {
        (Some(hospital_name), Some(effective_from), true) => Ok(General { hospital_name, effective_from, rules }),
        _ => {
            let (at, first) =
                problems.first().cloned().unwrap_or_else(|| ("row 2".into(), "general data elements missing".into()));
            let rest: Vec<String> = problems.iter().skip(1).map(|(a, m)| format!("{a}: {m}")).collect();
            let reason = if rest.is_empty() { first } else { format!("{first}; also {}", rest.join("; ")) };
            Err(LoadError::rejected(at, format!("general data elements (rows 1–2): {reason}")))
        }
    }
}

/// A header for a message: the attestation statement is 900 characters long.
fn short(header: &str) -> String {
    let h = header.trim().trim_start_matches('\u{feff}');
    if h.chars().count() > 60 {
        format!("{}…", h.chars().take(57).collect::<String>())
    } else {
        h.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3_names() -> Vec<&'static str> {
        vec![
            "hospital_name",
            "last_updated_on",
            "version",
            "location_name",
            "hospital_address",
            "license_number | CA",
            "type_2_npi",
            ATTESTATION,
            "attester_name",
            "",
            "",
        ]
    }

    #[test]
    fn reads_v3_general_elements() {
        let mut tally = Tally::default();
        let values =
            ["West Mercy", "4/1/2026", "3.0.0", "West Mercy", "12 Main", "", "0000000001", "TRUE", "Leigh", "", ""];
        let g = read(&v3_names(), &values, 2, &mut tally).unwrap();
        assert_eq!(
            (g.hospital_name.as_str(), g.effective_from.as_str(), g.rules),
            ("West Mercy", "2026-04-01", Rules::V3)
        );
        assert!(tally.warnings.is_empty(), "{:?}", tally.warnings);
    }

    #[test]
    fn a_bad_date_or_a_blank_value_rejects_the_file() {
        let mut tally = Tally::default();
        let values = ["West Mercy", "July 1 2024", "3.0.0", "", "12 Main", "", "1", "true", "Leigh"];
        let err = read(&v3_names(), &values, 2, &mut tally).unwrap_err().to_string();
        assert!(err.contains("row 2, column \"last_updated_on\""), "{err}");
        assert!(err.contains("\"July 1 2024\" is not a date"), "{err}");
        assert!(err.contains("location_name is required"), "{err}");
    }

    #[test]
    fn false_attestation_is_an_alert() {
        let mut tally = Tally::default();
        let values = ["West Mercy", "2026-04-01", "3.0.0", "W", "12 Main", "", "1", "false", "Leigh"];
        read(&v3_names(), &values, 2, &mut tally).unwrap();
        assert_eq!(tally.warnings.len(), 1);
        assert!(tally.warnings[0].reason.contains("\"false\""));
    }

    #[test]
    fn the_template_placeholder_state_is_rejected() {
        let mut names = v3_names();
        names[5] = "license_number|[state]";
        let values = ["", "", "3.0.0"];
        let err = read(&names, &values, 2, &mut Tally::default()).unwrap_err().to_string();
        assert!(err.contains("placeholder [state]"), "{err}");
        assert!(err.contains("hospital_name is required"), "{err}");
    }
}
