//! `duplicate_charge`: the same service billed more than once — same date, code, modifiers,
//! units and charge. Repeats a coder marks as intended (modifiers 76/77 repeat procedure, 91
//! repeat lab test) are not duplicates.
use super::{dollars, evidence, finding};
use rust_decimal::Decimal;
use schemas::records::BillLine;
use schemas::Finding;
use std::collections::BTreeMap;

const REPEAT_MODIFIERS: [&str; 3] = ["76", "77", "91"];

/// What makes two lines the same service: date, what was done, sorted modifiers, units, charge.
type Service<'a> = (Option<&'a str>, String, Vec<&'a str>, i32, Decimal);

pub fn check(doc_id: &str, lines: &[&BillLine]) -> Vec<Finding> {
    let mut groups: BTreeMap<Service<'_>, Vec<&BillLine>> = BTreeMap::new();
    for l in lines {
        if l.modifiers.iter().any(|m| REPEAT_MODIFIERS.contains(&m.as_str())) || l.charge <= Decimal::ZERO {
            continue;
        }
        // Without a code, the revenue code and the description identify the service.
        let what = match (&l.code, &l.revenue_code) {
            (Some(c), _) => c.clone(),
            // The hospital's own item number identifies it as well as a code would.
            (None, _) if l.cdm_code.is_some() => format!("CDM {}", l.cdm_code.as_deref().unwrap_or_default()),
            (None, Some(r)) => format!("{r} {}", l.description.trim().to_lowercase()),
            (None, None) => format!("- {}", l.description.trim().to_lowercase()),
        };
        let mut mods: Vec<&str> = l.modifiers.iter().map(String::as_str).collect();
        mods.sort_unstable();
        groups.entry((l.service_date.as_deref(), what, mods, l.units, l.charge.normalize())).or_default().push(l);
    }
    let mut out = vec![];
    for ((date, what, _, _, charge), mut group) in groups {
        if group.len() < 2 {
            continue;
        }
        group.sort_by_key(|l| l.line_no);
        let nos: Vec<i32> = group.iter().map(|l| l.line_no).collect();
        let extra = Decimal::from(group.len() as i64 - 1);
        let on = date.map(|d| format!(" on {d}")).unwrap_or_default();
        let list = nos.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
        let service = group[0].code.clone().unwrap_or_else(|| group[0].description.trim().to_string());
        out.push(finding(
            doc_id,
            "duplicate_charge",
            "warning",
            nos.clone(),
            charge * extra,
            format!(
                "Lines {list} charge {} each for the same service ({service}){on}. If you received it only once, \
                 you were billed {} too much; ask the provider to remove the repeated charge.",
                dollars(charge),
                dollars(charge * extra),
            ),
            vec![evidence("the bill", format!("lines {list}: {what}, same date, units and charge"))],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    #[test]
    fn repeated_lines_are_one_finding_with_the_extra_copies_at_issue() {
        let a = line(1, "2026-03-14", "80053", 1, Some("150.00"), "150.00");
        let b = line(2, "2026-03-14", "85025", 1, Some("45.00"), "45.00");
        let c = line(3, "2026-03-14", "80053", 1, Some("150.00"), "150.00");
        let e = line(4, "2026-03-14", "80053", 1, Some("150.00"), "150.00");
        let f = check("doc", &[&a, &b, &c, &e]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].lines, vec![1, 3, 4]);
        assert_eq!(f[0].amount_at_issue, d("300.00"));
        assert!(f[0].explanation.contains("$150.00 each"), "{}", f[0].explanation);
        assert!(f[0].explanation.contains("$300.00 too much"), "{}", f[0].explanation);
    }

    #[test]
    fn different_dates_units_or_repeat_modifiers_are_not_duplicates() {
        let a = line(1, "2026-03-14", "80053", 1, None, "150.00");
        let b = line(2, "2026-03-15", "80053", 1, None, "150.00");
        let mut c = line(3, "2026-03-14", "80053", 1, None, "150.00");
        c.modifiers = vec!["91".into()];
        let e = line(4, "2026-03-14", "80053", 2, None, "300.00");
        assert!(check("doc", &[&a, &b, &c, &e]).is_empty());
    }

    #[test]
    fn lines_without_codes_compare_by_revenue_code_and_description() {
        let mut a = line(1, "2026-03-14", "x", 1, None, "900.00");
        a.code = None;
        a.revenue_code = Some("0450".into());
        a.description = "Emergency room".into();
        let mut b = a.clone();
        b.line_no = 2;
        b.description = "EMERGENCY ROOM ".into();
        let f = check("doc", &[&a, &b]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].amount_at_issue, d("900.00"));
    }
}
