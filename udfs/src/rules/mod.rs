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
    fn dollars_as_bills_print_them() {
        assert_eq!(dollars(d("1240.18")), "$1,240.18");
        assert_eq!(dollars(d("250")), "$250.00");
        assert_eq!(dollars(d("0.005")), "$0.01");
        assert_eq!(dollars(d("1234567.8")), "$1,234,567.80");
        assert_eq!(dollars(d("-12.5")), "-$12.50");
        assert_eq!(dollars(d("999")), "$999.00");
    }
}
