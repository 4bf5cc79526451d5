//! `units_exceed_mue`: more units of a code than Medicare's medically unlikely edit allows. The
//! dataflow joins a document's lines of one code with the code's MUE; this decides what the
//! units mean. Adjudication indicator 1 counts units per line; 2 and 3 per date of service. An
//! indicator-2 limit is policy (an absolute maximum: error); 1 and 3 are clinical limits that
//! documentation can justify (warning).
use super::{cents, dollars, evidence, finding};
use rust_decimal::Decimal;
use schemas::records::BillLine;
use schemas::{Finding, RefEdit};
use std::collections::BTreeMap;

/// Findings for `lines` (all billing `edit.code`) against the MUE `edit`.
pub fn check(doc_id: &str, lines: &[&BillLine], edit: &RefEdit) -> Vec<Finding> {
    // A limit of 0 marks a code not payable in the file's setting (supplies bundled into the
    // visit, say): a coverage question, not too many units.
    let Some(limit) = edit.mue_limit.filter(|l| *l > 0) else { return vec![] };
    let mai = edit.mue_adjudication.as_deref().and_then(|a| a.trim().chars().next()).unwrap_or('3');
    let mut groups: BTreeMap<(Option<&str>, i32), Vec<&BillLine>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.units > 0) {
        let in_force = l.service_date.as_deref().is_none_or(|d| super::unbundled::in_force(edit, d));
        if !in_force {
            continue;
        }
        // Per line for indicator 1, per date of service otherwise.
        let line_key = if mai == '1' { l.line_no } else { 0 };
        groups.entry((l.service_date.as_deref(), line_key)).or_default().push(l);
    }
    let mut out = vec![];
    for ((date, _), group) in groups {
        let units: i64 = group.iter().map(|l| i64::from(l.units)).sum();
        if units <= i64::from(limit) {
            continue;
        }
        let charge: Decimal = group.iter().map(|l| l.charge).sum();
        let excess = units - i64::from(limit);
        // The charge of the units beyond the limit, at the group's average price per unit.
        let at_issue = cents(charge * Decimal::from(excess) / Decimal::from(units));
        let nos: Vec<i32> = group.iter().map(|l| l.line_no).collect();
        let list = nos.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
        let on = date.map(|d| format!(" on {d}")).unwrap_or_default();
        let (severity, why) = if mai == '2' {
            ("error", "Medicare never pays more than that for one patient on one day.")
        } else {
            ("warning", "More is possible only with medical records that justify it; ask the provider for them.")
        };
        out.push(finding(
            doc_id,
            "units_exceed_mue",
            severity,
            nos,
            at_issue,
            format!(
                "{} {} unit(s) of {} are billed{on} (line {list}), but Medicare's limit is {limit}. {why} The {} \
                 extra unit(s) cost about {}.",
                if group.len() > 1 { "In total" } else { "" },
                units,
                edit.code,
                excess,
                dollars(at_issue)
            )
            .trim_start()
            .to_string(),
            vec![evidence(
                &format!("CMS medically unlikely edits ({})", edit.source_file),
                format!(
                    "{}: {} unit(s), adjudication indicator {}, in force from {}",
                    edit.code,
                    limit,
                    edit.mue_adjudication.as_deref().unwrap_or("?"),
                    edit.effective_from
                ),
            )],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    fn mue(code: &str, limit: i32, mai: &str) -> RefEdit {
        RefEdit {
            kind: "mue".into(),
            code: code.into(),
            code2: None,
            modifier_indicator: None,
            mue_limit: Some(limit),
            mue_adjudication: Some(mai.into()),
            description: None,
            effective_from: "2026-01-01".into(),
            effective_to: None,
            source_file: "MCR_MUE_PractitionerServices.csv".into(),
        }
    }

    #[test]
    fn per_date_limits_sum_lines_and_price_the_excess() {
        let a = line(1, "2026-03-14", "36415", 2, None, "40.00");
        let b = line(2, "2026-03-14", "36415", 2, None, "40.00");
        let other_day = line(3, "2026-03-15", "36415", 1, None, "20.00");
        let f = check("doc", &[&a, &b, &other_day], &mue("36415", 2, "2 Date of Service Edit: Policy"));
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].severity.as_str(), f[0].amount_at_issue), ("error", d("40.00")));
        assert_eq!(f[0].lines, vec![1, 2]);
        assert!(f[0].explanation.starts_with("In total 4 unit(s) of 36415"), "{}", f[0].explanation);
        let clinical = check("doc", &[&a, &b], &mue("36415", 3, "3 Date of Service Edit: Clinical"));
        assert_eq!((clinical[0].severity.as_str(), clinical[0].amount_at_issue), ("warning", d("20.00")));
    }

    #[test]
    fn per_line_limits_look_at_each_line() {
        let a = line(1, "2026-03-14", "J1885", 2, None, "20.00");
        let b = line(2, "2026-03-14", "J1885", 2, None, "20.00");
        assert!(check("doc", &[&a, &b], &mue("J1885", 2, "1 Line Edit")).is_empty());
        let c = line(3, "2026-03-14", "J1885", 5, None, "50.00");
        let f = check("doc", &[&a, &c], &mue("J1885", 2, "1 Line Edit"));
        assert_eq!((f[0].lines.clone(), f[0].amount_at_issue), (vec![3], d("30.00")));
    }
}
