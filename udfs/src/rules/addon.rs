//! `addon_without_primary`: an add-on code (a service only ever performed in addition to a
//! primary procedure) billed without any of its primary codes on the same date. The table holds
//! common add-on codes and their primaries from CMS's add-on code edits (codes only).
use super::{dollars, evidence, finding};
use schemas::records::BillLine;
use schemas::Finding;

/// (add-on code, the primary codes it may accompany).
pub const ADDONS: &[(&str, &[&str])] = &[
    // Critical care, each additional 30 minutes.
    ("99292", &["99291"]),
    // Prolonged office visit, each 15 minutes.
    ("99417", &["99205", "99215"]),
    // Office visit complexity add-on.
    ("G2211", &["99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"]),
    // IV infusion, each additional hour.
    ("96366", &["96365", "96367"]),
    // IV push, each additional sequential new drug.
    ("96375", &["96365", "96374", "96409", "96413"]),
    // Hydration, each additional hour.
    ("96361", &["96360", "96365", "96366", "96367", "96368", "96374", "96375", "96409", "96413"]),
    // Debridement, each additional 20 sq cm.
    ("11045", &["11042"]),
    ("11046", &["11043"]),
    // Transforaminal epidural injection, each additional level.
    ("64484", &["64483"]),
];

pub fn check(doc_id: &str, lines: &[&BillLine]) -> Vec<Finding> {
    let mut out = vec![];
    for l in lines {
        let Some(code) = l.code.as_deref() else { continue };
        let Some((_, primaries)) = ADDONS.iter().find(|(a, _)| *a == code) else { continue };
        let has_primary = lines
            .iter()
            .any(|p| p.service_date == l.service_date && p.code.as_deref().is_some_and(|c| primaries.contains(&c)));
        if has_primary {
            continue;
        }
        let on = l.service_date.as_deref().map(|d| format!(" on {d}")).unwrap_or_default();
        out.push(finding(
            doc_id,
            "addon_without_primary",
            "error",
            vec![l.line_no],
            l.charge,
            format!(
                "Line {} ({code}, {}) is an add-on service: it is only billed together with a main service ({}), \
                 and none is billed{on}. Ask the provider whether the main service is missing or line {} should \
                 be removed.",
                l.line_no,
                dollars(l.charge),
                primaries.join(", "),
                l.line_no
            ),
            vec![evidence("CMS add-on code edits", format!("{code} requires one of {}", primaries.join(", ")))],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    #[test]
    fn add_on_needs_its_primary_on_the_same_date() {
        let cc = line(1, "2026-03-14", "99291", 1, None, "600.00");
        let more = line(2, "2026-03-14", "99292", 1, None, "300.00");
        assert!(check("doc", &[&cc, &more]).is_empty());
        let f = check("doc", &[&more]);
        assert_eq!((f[0].lines.clone(), f[0].amount_at_issue), (vec![2], d("300.00")));
        assert!(f[0].explanation.contains("(99291)"));
        let next_day = line(3, "2026-03-15", "99292", 1, None, "300.00");
        assert_eq!(check("doc", &[&cc, &next_day]).len(), 1);
        let plain = line(4, "2026-03-14", "99213", 1, None, "100.00");
        assert!(check("doc", &[&plain]).is_empty());
    }
}
