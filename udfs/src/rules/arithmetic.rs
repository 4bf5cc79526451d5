//! `arithmetic_error`: a line whose units × unit price is not its charge. An overcharge is at
//! issue (severity error); an undercharge costs the patient nothing (info). A line the reader
//! marked uncertain (`flagged`: OCR confidence or a repaired value) is a warning, since the
//! mismatch may be a misread digit rather than the provider's arithmetic.
use super::{cents, dollars, evidence, finding};
use rust_decimal::Decimal;
use schemas::records::BillLine;
use schemas::Finding;

pub fn check(doc_id: &str, lines: &[&BillLine]) -> Vec<Finding> {
    let mut out = vec![];
    for l in lines {
        let Some(price) = l.unit_price else { continue };
        if l.units <= 0 {
            continue;
        }
        let expected = cents(price * Decimal::from(l.units));
        let charge = cents(l.charge);
        if charge == expected {
            continue;
        }
        let over = charge - expected;
        let severity = match (l.flagged, over > Decimal::ZERO) {
            (true, _) => "warning",
            (false, true) => "error",
            (false, false) => "info",
        };
        let what = if over > Decimal::ZERO {
            format!("you were charged {} more than the line's own numbers add up to", dollars(over))
        } else {
            format!("the charge is {} less than the line's own numbers", dollars(-over))
        };
        let caveat = if l.flagged { " This line was hard to read, so check it against your paper bill." } else { "" };
        out.push(finding(
            doc_id,
            "arithmetic_error",
            severity,
            vec![l.line_no],
            over,
            format!(
                "Line {} lists {} unit(s) at {} each, which is {}, but charges {}: {what}.{caveat}",
                l.line_no,
                l.units,
                dollars(price),
                dollars(expected),
                dollars(charge)
            ),
            vec![evidence(
                "the bill",
                format!("line {}: {} × {} = {} ≠ {}", l.line_no, l.units, price, expected, charge),
            )],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    #[test]
    fn overcharge_undercharge_and_uncertain_lines() {
        let ok = line(1, "2026-03-14", "J1885", 3, Some("12.50"), "37.50");
        let over = line(2, "2026-03-14", "J1885", 3, Some("12.50"), "375.00");
        let under = line(3, "2026-03-14", "96374", 2, Some("100.00"), "150.00");
        let mut misread = line(4, "2026-03-14", "99283", 1, Some("850.00"), "350.00");
        misread.flagged = true;
        let no_price = line(5, "2026-03-14", "99283", 1, None, "850.00");
        let f = check("doc", &[&ok, &over, &under, &misread, &no_price]);
        assert_eq!(f.iter().map(|f| f.lines[0]).collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!((f[0].severity.as_str(), f[0].amount_at_issue), ("error", d("337.50")));
        assert!(f[0].explanation.contains("3 unit(s) at $12.50 each, which is $37.50, but charges $375.00"));
        assert_eq!((f[1].severity.as_str(), f[1].amount_at_issue), ("info", d("0")));
        assert_eq!(f[2].severity, "warning");
        assert!(f[2].explanation.contains("hard to read"));
    }

    #[test]
    fn sub_cent_differences_are_rounding() {
        let l = line(1, "2026-03-14", "J1885", 3, Some("3.3333"), "10.00");
        assert!(check("doc", &[&l]).is_empty());
    }
}
