//! `unbundled_pair`: two services billed on the same day where Medicare's NCCI
//! procedure-to-procedure edits say the column-two code is part of the column-one code. The
//! dataflow joins same-day line pairs with `reference.edits` on (column one, column two); this
//! decides what one matched pair means.
//!
//! Modifier indicator 0: never billed together, no modifier changes that. 1: allowed when the
//! column-two line (or the column-one line) carries a modifier saying the services were distinct
//! (59, XE, XS, XP, XU). 9: the edit does not apply. An edit is in force from its effective date
//! up to the day before its deletion date.
use super::{dollars, evidence, finding};
use schemas::records::BillLine;
use schemas::{Finding, RefEdit};

/// Modifiers that say two services were distinct (separate session, structure, practitioner or
/// unusual service).
pub const DISTINCT_MODIFIERS: [&str; 5] = ["59", "XE", "XS", "XP", "XU"];

/// Whether `edit` is in force on `date` (YYYY-MM-DD; string order is date order).
pub fn in_force(edit: &RefEdit, date: &str) -> bool {
    edit.effective_from.as_str() <= date && edit.effective_to.as_deref().is_none_or(|to| date < to)
}

/// The finding for one same-day pair matched to a PTP edit (`col1` bills the edit's column-one
/// code, `col2` its column-two code), or `None` when the edit allows the pair.
pub fn check_pair(doc_id: &str, col1: &BillLine, col2: &BillLine, edit: &RefEdit) -> Option<Finding> {
    let date = col2.service_date.as_deref()?;
    if col1.service_date.as_deref() != Some(date) || !in_force(edit, date) || col1.line_no == col2.line_no {
        return None;
    }
    let distinct = |l: &BillLine| l.modifiers.iter().any(|m| DISTINCT_MODIFIERS.contains(&m.as_str()));
    match edit.modifier_indicator.as_deref() {
        Some("0") => {}
        Some("1") if !(distinct(col1) || distinct(col2)) => {}
        _ => return None,
    }
    let code1 = col1.code.as_deref().unwrap_or("?");
    let code2 = col2.code.as_deref().unwrap_or("?");
    let how = if edit.modifier_indicator.as_deref() == Some("0") {
        "These two are never paid separately on the same day."
    } else {
        "They can be paid separately only when they were truly separate services (a different session, \
         site or provider), which the bill would show with a modifier such as 59 or XS; it shows none."
    };
    Some(finding(
        doc_id,
        "unbundled_pair",
        "error",
        vec![col1.line_no, col2.line_no],
        col2.charge,
        format!(
            "Line {} ({code2}, {}) is part of line {} ({code1}) under Medicare's coding rules (NCCI), so its \
             cost is included in line {}'s charge. {how} Ask the provider to remove line {} ({} at issue).",
            col2.line_no,
            dollars(col2.charge),
            col1.line_no,
            col1.line_no,
            col2.line_no,
            dollars(col2.charge)
        ),
        vec![evidence(
            &format!("CMS NCCI PTP edits ({})", edit.source_file),
            format!(
                "column 1 {code1}, column 2 {code2}, modifier indicator {}, in force from {}{}",
                edit.modifier_indicator.as_deref().unwrap_or("?"),
                edit.effective_from,
                edit.effective_to.as_deref().map(|t| format!(" until {t}")).unwrap_or_default()
            ),
        )],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    fn edit(c1: &str, c2: &str, mi: &str, to: Option<&str>) -> RefEdit {
        RefEdit {
            kind: "ptp".into(),
            code: c1.into(),
            code2: Some(c2.into()),
            modifier_indicator: Some(mi.into()),
            mue_limit: None,
            mue_adjudication: None,
            description: None,
            effective_from: "2020-01-01".into(),
            effective_to: to.map(String::from),
            source_file: "ccipra-v322r0-f1.txt".into(),
        }
    }

    #[test]
    fn indicator_zero_always_and_one_unless_a_distinct_modifier() {
        let panel = line(1, "2026-03-14", "80053", 1, None, "150.00");
        let glucose = line(2, "2026-03-14", "82947", 1, None, "35.00");
        let f = check_pair("doc", &panel, &glucose, &edit("80053", "82947", "0", None)).unwrap();
        assert_eq!((f.lines.clone(), f.amount_at_issue), (vec![1, 2], d("35.00")));
        assert!(f.explanation.contains("never paid separately"));
        assert!(f.evidence[0].source.contains("ccipra-v322r0-f1.txt"));

        let mi1 = edit("80053", "82947", "1", None);
        assert!(check_pair("doc", &panel, &glucose, &mi1).is_some());
        let mut separate = glucose.clone();
        separate.modifiers = vec!["XS".into()];
        assert!(check_pair("doc", &panel, &separate, &mi1).is_none());
        // Indicator 0 is not bypassed by a modifier.
        assert!(check_pair("doc", &panel, &separate, &edit("80053", "82947", "0", None)).is_some());
        assert!(check_pair("doc", &panel, &glucose, &edit("80053", "82947", "9", None)).is_none());
    }

    #[test]
    fn dates_must_match_and_the_edit_be_in_force() {
        let panel = line(1, "2026-03-14", "80053", 1, None, "150.00");
        let next_day = line(2, "2026-03-15", "82947", 1, None, "35.00");
        assert!(check_pair("doc", &panel, &next_day, &edit("80053", "82947", "0", None)).is_none());
        let glucose = line(2, "2026-03-14", "82947", 1, None, "35.00");
        assert!(check_pair("doc", &panel, &glucose, &edit("80053", "82947", "0", Some("2026-03-14"))).is_none());
        assert!(check_pair("doc", &panel, &glucose, &edit("80053", "82947", "0", Some("2026-03-15"))).is_some());
    }
}
