//! Rules that compare a bill with the patient's other documents:
//! - `eob_mismatch`: the bill asks for more than the insurer's EOB says the patient owes;
//! - `gfe_exceeded`: the bill is $400 or more above the Good Faith Estimate (No Surprises Act:
//!   uninsured and self-pay patients may dispute within 120 days of the bill).
//!
//! Both compare document totals: bills rarely say what the patient owes per line.
use super::{cents, dollars, evidence, finding};
use rust_decimal::Decimal;
use schemas::records::BillLine;
use schemas::Finding;

/// The GFE threshold of the No Surprises Act patient-provider dispute process.
pub const GFE_THRESHOLD: Decimal = Decimal::from_parts(400, 0, 0, false, 0);
/// Days after the bill's date within which a patient may start that dispute.
pub const GFE_DISPUTE_DAYS: i64 = 120;

/// What the bill asks the patient to pay: its balance due, else its total charges less payments
/// and adjustments it shows, else the sum of its lines.
pub fn amount_asked(bill: &[&BillLine]) -> Decimal {
    if let Some(b) = bill.iter().find_map(|l| l.balance_due) {
        return b;
    }
    let total = bill.iter().find_map(|l| l.total_charges).unwrap_or_else(|| bill.iter().map(|l| l.charge).sum());
    let paid = bill.iter().find_map(|l| l.payments).unwrap_or_default().abs();
    let adjusted = bill.iter().find_map(|l| l.adjustments).unwrap_or_default().abs();
    total - paid - adjusted
}

pub fn eob_mismatch(doc_id: &str, bill: &[&BillLine], eob: &[&BillLine]) -> Option<Finding> {
    let owed: Option<Decimal> = eob.iter().map(|l| l.patient_responsibility).sum();
    let owed = cents(owed?);
    let asked = cents(amount_asked(bill));
    if asked <= owed {
        return None;
    }
    let mut nos: Vec<i32> = bill.iter().map(|l| l.line_no).collect();
    nos.sort_unstable();
    Some(finding(
        doc_id,
        "eob_mismatch",
        "error",
        nos,
        asked - owed,
        format!(
            "The bill asks you to pay {}, but your insurer's Explanation of Benefits says you owe {} for these \
             services. Ask the provider to bill you no more than the EOB amount ({} at issue).",
            dollars(asked),
            dollars(owed),
            dollars(asked - owed)
        ),
        vec![evidence(
            "the Explanation of Benefits",
            format!("patient responsibility over {} EOB line(s): {owed}; amount the bill asks: {asked}", eob.len()),
        )],
    ))
}

/// `bill_date` (YYYY-MM-DD) starts the dispute window the explanation states.
pub fn gfe_exceeded(doc_id: &str, bill: &[&BillLine], gfe: &[&BillLine], bill_date: Option<&str>) -> Option<Finding> {
    let estimate =
        cents(gfe.iter().find_map(|l| l.total_charges).unwrap_or_else(|| gfe.iter().map(|l| l.charge).sum()));
    let billed =
        cents(bill.iter().find_map(|l| l.total_charges).unwrap_or_else(|| bill.iter().map(|l| l.charge).sum()));
    let over = billed - estimate;
    if gfe.is_empty() || over < GFE_THRESHOLD {
        return None;
    }
    let deadline = bill_date
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| (d + chrono::Duration::days(GFE_DISPUTE_DAYS)).format("%Y-%m-%d").to_string());
    let window = match deadline {
        Some(d) => format!(" You can start a dispute until {d} (120 days from the bill)."),
        None => " You have 120 days from the date of the bill to start a dispute.".to_string(),
    };
    let mut nos: Vec<i32> = bill.iter().map(|l| l.line_no).collect();
    nos.sort_unstable();
    Some(finding(
        doc_id,
        "gfe_exceeded",
        "error",
        nos,
        over,
        format!(
            "The bill's charges of {} are {} above your Good Faith Estimate of {}. Under the No Surprises Act, \
             a bill $400 or more above the estimate can be disputed through the federal patient-provider \
             dispute process.{window}",
            dollars(billed),
            dollars(over),
            dollars(estimate)
        ),
        vec![evidence(
            "No Surprises Act, 45 CFR 149.620 (patient-provider dispute resolution)",
            format!("billed {billed} vs Good Faith Estimate {estimate}: {over} over; threshold {GFE_THRESHOLD}"),
        )],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    #[test]
    fn bill_asking_more_than_the_eob() {
        let mut a = line(1, "2026-03-14", "99283", 1, None, "850.00");
        a.balance_due = Some(d("850.00"));
        let mut e1 = line(1, "2026-03-14", "99283", 1, None, "850.00");
        e1.patient_responsibility = Some(d("120.00"));
        let f = eob_mismatch("doc", &[&a], &[&e1]).unwrap();
        assert_eq!(f.amount_at_issue, d("730.00"));
        assert!(f.explanation.contains("you owe $120.00"));
        a.balance_due = Some(d("120.00"));
        assert!(eob_mismatch("doc", &[&a], &[&e1]).is_none());
        let no_amount = line(1, "2026-03-14", "99283", 1, None, "850.00");
        assert!(eob_mismatch("doc", &[&a], &[&no_amount]).is_none(), "an EOB without patient amounts says nothing");
    }

    #[test]
    fn amount_asked_from_balance_or_totals() {
        let mut a = line(1, "2026-03-14", "99283", 1, None, "850.00");
        assert_eq!(amount_asked(&[&a]), d("850.00"));
        a.total_charges = Some(d("900.00"));
        a.payments = Some(d("-500.00"));
        assert_eq!(amount_asked(&[&a]), d("400.00"));
        a.balance_due = Some(d("350.00"));
        assert_eq!(amount_asked(&[&a]), d("350.00"));
    }

    #[test]
    fn four_hundred_dollars_over_the_estimate_with_the_window() {
        let bill = line(1, "2026-03-14", "70551", 1, None, "1600.00");
        let gfe = line(1, "2026-03-01", "70551", 1, None, "1200.00");
        let f = gfe_exceeded("doc", &[&bill], &[&gfe], Some("2026-03-20")).unwrap();
        assert_eq!(f.amount_at_issue, d("400.00"));
        assert!(f.explanation.contains("until 2026-07-18"), "{}", f.explanation);
        let under = line(1, "2026-03-14", "70551", 1, None, "1599.99");
        assert!(gfe_exceeded("doc", &[&under], &[&gfe], None).is_none());
    }
}
