//! `total_mismatch`: the line items do not add up to the total the document states. A stated
//! total above the lines asks for money no line explains (error, the difference at issue); a
//! total below them suggests lines missing from the itemization (warning, nothing at issue).
use super::{cents, dollars, evidence, finding};
use rust_decimal::Decimal;
use schemas::records::BillLine;
use schemas::Finding;

pub fn check(doc_id: &str, lines: &[&BillLine]) -> Vec<Finding> {
    // Extraction repeats the document's totals on each of its lines.
    let Some(total) = lines.iter().find_map(|l| l.total_charges) else { return vec![] };
    let sum = cents(lines.iter().map(|l| l.charge).sum::<Decimal>());
    let total = cents(total);
    if sum == total {
        return vec![];
    }
    let mut nos: Vec<i32> = lines.iter().map(|l| l.line_no).collect();
    nos.sort_unstable();
    let gap = total - sum;
    let (severity, explanation) = if gap > Decimal::ZERO {
        (
            "error",
            format!(
                "The bill's total charges are {} but its {} line items add up to {}: {} is charged without a line \
                 that explains it. Ask for an itemized bill that accounts for it.",
                dollars(total),
                lines.len(),
                dollars(sum),
                dollars(gap)
            ),
        )
    } else {
        (
            "warning",
            format!(
                "The {} line items add up to {}, more than the bill's stated total of {}: the itemization may \
                 include lines that are not billed, or the total may be wrong.",
                lines.len(),
                dollars(sum),
                dollars(total)
            ),
        )
    };
    vec![finding(
        doc_id,
        "total_mismatch",
        severity,
        nos,
        gap,
        explanation,
        vec![evidence("the bill", format!("sum of line charges {sum} vs stated total charges {total}"))],
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    fn with_total(mut l: BillLine, total: &str) -> BillLine {
        l.total_charges = Some(d(total));
        l
    }

    #[test]
    fn totals_above_below_and_equal() {
        let a = with_total(line(1, "2026-03-14", "99283", 1, None, "850.00"), "1000.00");
        let b = with_total(line(2, "2026-03-14", "85025", 1, None, "45.00"), "1000.00");
        let f = check("doc", &[&a, &b]);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].severity.as_str(), f[0].amount_at_issue), ("error", d("105.00")));
        assert_eq!(f[0].lines, vec![1, 2]);
        assert!(f[0].explanation.contains("$1,000.00") && f[0].explanation.contains("$895.00"));

        let a = with_total(line(1, "2026-03-14", "99283", 1, None, "850.00"), "800.00");
        let f = check("doc", &[&a]);
        assert_eq!((f[0].severity.as_str(), f[0].amount_at_issue), ("warning", d("0")));

        let a = with_total(line(1, "2026-03-14", "99283", 1, None, "850.00"), "850.004");
        assert!(check("doc", &[&a]).is_empty());
        let plain = line(1, "2026-03-14", "99283", 1, None, "850.00");
        assert!(check("doc", &[&plain]).is_empty(), "no stated total, nothing to compare");
    }
}
