//! Billing-error rules as pure functions (the findings dataflow calls them inside its reduces
//! and joins; the one-shot `audit` command calls the same functions). One module per finding
//! kind of DESIGN.md. Document-local rules (`duplicate`, `arithmetic`, `totals`, `addon`) take a
//! document's lines; rules that rest on reference data take what a join matched
//! (`unbundled::check_pair`: a same-day pair and its NCCI PTP edit; `mue::check`: a code's lines
//! and its MUE; `outlier::check`: a line and one benchmark of its code; `invalid_code::check`: a
//! line and the code-set entries of its code); `estimates` compares a bill with the patient's
//! EOB and Good Faith Estimate, `balance` emergency care billed above the EOB's cost sharing
//! (No Surprises Act); `panels` ships the lab panel compositions as PTP edits. Each returns asserted findings (`diff`
//! +1) — retractions are the dataflow's business.
//!
//! Invariants: money is `Decimal`; `amount_at_issue` is never negative (0 when the problem costs
//! the patient nothing); explanations are plain language a patient understands and name the
//! lines by the numbers printed in the `lines` field (1-based table rows).
pub mod addon;
pub mod arithmetic;
pub mod balance;
pub mod duplicate;
pub mod estimates;
pub mod invalid_code;
pub mod mue;
pub mod outlier;
pub mod panels;
pub mod totals;
pub mod unbundled;

use rust_decimal::{Decimal, RoundingStrategy};
use schemas::{Evidence, Finding};

/// `$1,240.18`: how a bill prints money, for explanations.
pub fn dollars(d: Decimal) -> String {
    let d = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let neg = d.is_sign_negative();
    let text = format!("{:.2}", d.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}.{frac}", if neg { "-" } else { "" })
}

/// Kinds whose amount is about the whole bill rather than some of its lines.
pub const DOCUMENT_KINDS: [&str; 4] = ["total_mismatch", "eob_mismatch", "balance_billing", "gfe_exceeded"];

/// The money at issue over a bill's findings without counting any dollar twice: each line counts
/// once, at the largest amount any finding puts on it (a finding naming several lines is spread
/// over them in order), and whole-bill findings overlap the lines, so the total is the larger of
/// the lines' sum and the largest whole-bill amount.
pub fn total_at_issue(findings: &[Finding]) -> Decimal {
    let mut per_line: std::collections::BTreeMap<i32, Decimal> = std::collections::BTreeMap::new();
    let mut whole = Decimal::ZERO;
    let mut unplaced = Decimal::ZERO;
    for f in findings {
        if DOCUMENT_KINDS.contains(&f.kind.as_str()) {
            whole = whole.max(f.amount_at_issue);
        } else if let Some(last) = f.lines.iter().max() {
            // A pair or group names the line it is charging for last (the column-two line, the
            // repeated line): put the amount there.
            let e = per_line.entry(*last).or_default();
            *e = (*e).max(f.amount_at_issue);
        } else {
            unplaced += f.amount_at_issue;
        }
    }
    let lines: Decimal = per_line.values().copied().sum::<Decimal>() + unplaced;
    cents(lines.max(whole))
}

/// Money compared at cents: bills print cents, and a sub-cent difference is rounding.
pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

pub(crate) fn finding(
    doc_id: &str,
    kind: &str,
    severity: &str,
    lines: Vec<i32>,
    amount: Decimal,
    explanation: String,
    evidence: Vec<Evidence>,
) -> Finding {
    Finding {
        doc_id: doc_id.to_string(),
        kind: kind.to_string(),
        severity: severity.to_string(),
        lines,
        amount_at_issue: cents(amount.max(Decimal::ZERO)),
        explanation,
        evidence,
        diff: 1,
    }
}

pub(crate) fn evidence(source: &str, detail: String) -> Evidence {
    Evidence { source: source.to_string(), detail }
}

#[cfg(test)]
pub(crate) mod testing {
    use rust_decimal::Decimal;
    use schemas::records::BillLine;
    use schemas::DocumentKind;
    use std::str::FromStr;

    pub fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    pub fn line(no: i32, date: &str, code: &str, units: i32, price: Option<&str>, charge: &str) -> BillLine {
        BillLine {
            doc_id: "doc".into(),
            kind: DocumentKind::Bill,
            line_no: no,
            page: 1,
            service_date: Some(date.into()),
            code: Some(code.into()),
            code_system: "CPT".into(),
            revenue_code: None,
            cdm_code: None,
            modifiers: vec![],
            description: format!("service {code}"),
            units,
            unit_price: price.map(d),
            charge: d(charge),
            allowed: None,
            plan_paid: None,
            patient_responsibility: None,
            confidence: 0.99,
            flagged: false,
            total_charges: None,
            payments: None,
            adjustments: None,
            balance_due: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testing::d;

    #[test]
    fn money_at_issue_counts_each_line_once() {
        let f = |kind: &str, lines: Vec<i32>, amount: &str| {
            finding("doc", kind, "error", lines, d(amount), String::new(), vec![])
        };
        // Two findings on line 3 count once, at the larger amount.
        let fs = vec![
            f("duplicate_charge", vec![2, 3], "20"),
            f("price_outlier", vec![3], "50"),
            f("arithmetic_error", vec![5], "7"),
        ];
        assert_eq!(total_at_issue(&fs), d("57.00"));
        // A whole-bill finding larger than the lines' sum is the total; a smaller one is inside it.
        let mut with_eob = fs.clone();
        with_eob.push(f("eob_mismatch", vec![1, 2, 3, 5], "100"));
        assert_eq!(total_at_issue(&with_eob), d("100.00"));
        with_eob.push(f("units_exceed_mue", vec![7], "60"));
        assert_eq!(total_at_issue(&with_eob), d("117.00"));
        assert_eq!(total_at_issue(&[]), d("0"));
    }

    #[test]
    fn dollars_as_bills_print_them() {
        assert_eq!(dollars(d("1240.18")), "$1,240.18");
        assert_eq!(dollars(d("250")), "$250.00");
        assert_eq!(dollars(d("0.005")), "$0.01");
        assert_eq!(dollars(d("1234567.8")), "$1,234,567.80");
        assert_eq!(dollars(d("-12.5")), "-$12.50");
        assert_eq!(dollars(d("999")), "$999.00");
    }
}
