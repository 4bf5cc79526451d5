//! `balance_billing`: the No Surprises Act limits what a patient owes for emergency care (at any
//! facility, in network or not) and for air ambulance transport to their in-network cost
//! sharing — the patient responsibility on the insurer's EOB. A bill for such services asking
//! more than that is a surprise bill. When this fires, the findings assembly reports it in place
//! of `eob_mismatch` for the same amount. Ancillary services by out-of-network providers at
//! in-network facilities are protected too, but a bill does not say who was out of network, so
//! they are left to `eob_mismatch`.
use super::estimates::amount_asked;
use super::{cents, dollars, evidence, finding};
use rust_decimal::Decimal;
use schemas::records::BillLine;
use schemas::Finding;

/// Whether a line is an emergency service or an air ambulance transport.
pub fn protected(l: &BillLine) -> bool {
    let code = l.code.as_deref().unwrap_or("");
    let emergency_visit = matches!(
        code,
        "99281" | "99282" | "99283" | "99284" | "99285" | "99291" | "G0380" | "G0381" | "G0382" | "G0383" | "G0384"
    );
    let air_ambulance = matches!(code, "A0430" | "A0431" | "A0435" | "A0436");
    // Revenue codes 045x: emergency room.
    let er_revenue = l.revenue_code.as_deref().is_some_and(|r| r.len() == 4 && r.starts_with("045"));
    emergency_visit || air_ambulance || er_revenue
}

pub fn check(doc_id: &str, bill: &[&BillLine], eob: &[&BillLine]) -> Option<Finding> {
    let protected_lines: Vec<i32> = bill.iter().filter(|l| protected(l)).map(|l| l.line_no).collect();
    if protected_lines.is_empty() {
        return None;
    }
    let owed: Option<Decimal> = eob.iter().map(|l| l.patient_responsibility).sum();
    let owed = cents(owed?);
    let asked = cents(amount_asked(bill));
    if asked <= owed {
        return None;
    }
    let list = protected_lines.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
    Some(finding(
        doc_id,
        "balance_billing",
        "error",
        protected_lines,
        asked - owed,
        format!(
            "This bill includes emergency care (line {list}). Under the No Surprises Act you owe no more than your \
             in-network cost sharing for it — {} according to your insurer's Explanation of Benefits — but the \
             bill asks for {}. The difference of {} is a balance bill you can refuse; you can also report it at \
             1-800-985-3059.",
            dollars(owed),
            dollars(asked),
            dollars(asked - owed)
        ),
        vec![
            evidence(
                "No Surprises Act, 45 CFR 149.410 (emergency services) and 149.420",
                "cost sharing for protected services is limited to the in-network amount".to_string(),
            ),
            evidence(
                "the Explanation of Benefits",
                format!("patient responsibility {owed}; amount the bill asks {asked}"),
            ),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    #[test]
    fn emergency_care_billed_above_the_eob() {
        let mut er = line(1, "2026-03-14", "99284", 1, None, "1800.00");
        er.balance_due = Some(d("1650.00"));
        let mut eob = line(1, "2026-03-14", "99284", 1, None, "1800.00");
        eob.patient_responsibility = Some(d("150.00"));
        let f = check("doc", &[&er], &[&eob]).unwrap();
        assert_eq!((f.kind.as_str(), f.amount_at_issue), ("balance_billing", d("1500.00")));
        assert!(f.explanation.contains("No Surprises Act"));
        er.balance_due = Some(d("150.00"));
        assert!(check("doc", &[&er], &[&eob]).is_none());
    }

    #[test]
    fn only_protected_services() {
        let mut office = line(1, "2026-03-14", "99213", 1, None, "200.00");
        office.balance_due = Some(d("200.00"));
        let mut eob = line(1, "2026-03-14", "99213", 1, None, "200.00");
        eob.patient_responsibility = Some(d("30.00"));
        assert!(check("doc", &[&office], &[&eob]).is_none());
        let mut room = line(2, "2026-03-14", "x", 1, None, "900.00");
        room.code = None;
        room.revenue_code = Some("0450".into());
        assert!(protected(&room));
    }
}
