//! One row of Tuva's normalized `medical_claim` table → a claim line (the mapping table is in
//! `mod.rs`). Reads the columns by header name, so their order and the unused columns do not
//! matter.
//!
//! Invariants: an institutional row without `hcpcs_code` (a revenue-code-only line) is counted
//! and skipped, any other row without one is rejected; institutional lines carry no place of
//! service; every unusable value is reported with its column.
use super::fields::{amount, date, optional, required_amount, whole};
use super::header::Header;
use super::RowOutcome;
use csv::StringRecord;
use schemas::ClaimLine;

/// Columns a Tuva header must have.
const REQUIRED: &[&str] = &["claim_id", "claim_line_number", "claim_type", "hcpcs_code", "charge_amount"];
const MODIFIERS: &[&str] =
    &["hcpcs_modifier_1", "hcpcs_modifier_2", "hcpcs_modifier_3", "hcpcs_modifier_4", "hcpcs_modifier_5"];
const PATIENT_SHARE: &[&str] = &["coinsurance_amount", "copayment_amount", "deductible_amount"];
const NPIS: &[&str] = &["billing_npi", "facility_npi", "rendering_npi"];

/// Positions of the columns read.
pub(crate) struct TuvaColumns {
    claim_id: usize,
    claim_line_number: usize,
    claim_type: usize,
    hcpcs_code: usize,
    charge_amount: usize,
    modifiers: Vec<(usize, &'static str)>,
    npis: Vec<usize>,
    payer: Option<usize>,
    place_of_service_code: Option<usize>,
    bill_type_code: Option<usize>,
    claim_line_start_date: Option<usize>,
    claim_start_date: Option<usize>,
    service_unit_quantity: Option<usize>,
    allowed_amount: Option<usize>,
    paid_amount: Option<usize>,
    patient_share: Vec<(usize, &'static str)>,
}

pub(crate) fn columns(h: &Header) -> Result<TuvaColumns, String> {
    let missing = h.missing(REQUIRED);
    let has_date = h.has("claim_line_start_date") || h.has("claim_start_date");
    if !missing.is_empty() || !has_date {
        let mut missing = missing;
        if !has_date {
            missing.push("claim_line_start_date or claim_start_date".into());
        }
        return Err(format!("a Tuva medical_claim header without {}", missing.join(", ")));
    }
    let at = |n: &str| h.get(n).unwrap_or_default();
    let named = |list: &[&'static str]| list.iter().filter_map(|n| Some((h.get(n)?, *n))).collect::<Vec<_>>();
    Ok(TuvaColumns {
        claim_id: at("claim_id"),
        claim_line_number: at("claim_line_number"),
        claim_type: at("claim_type"),
        hcpcs_code: at("hcpcs_code"),
        charge_amount: at("charge_amount"),
        modifiers: named(MODIFIERS),
        npis: NPIS.iter().filter_map(|n| h.get(n)).collect(),
        payer: h.get("payer"),
        place_of_service_code: h.get("place_of_service_code"),
        bill_type_code: h.get("bill_type_code"),
        claim_line_start_date: h.get("claim_line_start_date"),
        claim_start_date: h.get("claim_start_date"),
        service_unit_quantity: h.get("service_unit_quantity"),
        allowed_amount: h.get("allowed_amount"),
        paid_amount: h.get("paid_amount"),
        patient_share: named(PATIENT_SHARE),
    })
}

/// A ClaimLine field's source column, for validation messages.
pub(crate) fn column_of(field: &str) -> &'static str {
    match field {
        "claim_id" => "claim_id",
        "line_no" => "claim_line_number",
        "frequency_code" => "bill_type_code",
        "place_of_service" => "place_of_service_code",
        "code" => "hcpcs_code",
        "modifier" => "hcpcs_modifier_1",
        "service_date" => "claim_line_start_date",
        "units" => "service_unit_quantity",
        "charge" => "charge_amount",
        _ => "?",
    }
}

pub(crate) fn row(c: &TuvaColumns, r: &StringRecord) -> RowOutcome {
    match line(c, r) {
        Ok(outcome) => outcome,
        Err((column, reason)) => RowOutcome::Reject { column: column.to_string(), reason },
    }
}

type Bad = (&'static str, String);

fn line(c: &TuvaColumns, r: &StringRecord) -> Result<RowOutcome, Bad> {
    let get = |i: usize| r.get(i).unwrap_or("").trim();
    let opt = |i: Option<usize>| i.map_or("", get);
    let claim_id = optional(get(c.claim_id)).ok_or(("claim_id", "empty".to_string()))?;
    let line_no = whole(get(c.claim_line_number))
        .map_err(|e| ("claim_line_number", e))?
        .ok_or(("claim_line_number", "empty".to_string()))?;
    let claim_type = get(c.claim_type).to_ascii_lowercase();
    let institutional = claim_type == "institutional";
    let Some(code) = optional(get(c.hcpcs_code)) else {
        if institutional {
            return Ok(RowOutcome::Skip("lines_without_hcpcs"));
        }
        let kind = if claim_type.is_empty() { "a" } else { claim_type.as_str() };
        return Err(("hcpcs_code", format!("empty: {kind} line needs a CPT/HCPCS code")));
    };
    let mut modifiers = c.modifiers.iter().filter_map(|(i, _)| optional(get(*i)));
    let modifier = modifiers.next().map(|m| m.to_ascii_uppercase());
    let extra_modifiers = modifiers.count();
    let charge = required_amount(get(c.charge_amount)).map_err(|e| ("charge_amount", e))?;
    let allowed = amount(opt(c.allowed_amount)).map_err(|e| ("allowed_amount", e))?;
    let paid = amount(opt(c.paid_amount)).map_err(|e| ("paid_amount", e))?;
    let mut patient_responsibility = None;
    for (i, name) in &c.patient_share {
        if let Some(a) = amount(get(*i)).map_err(|e| (*name, e))? {
            patient_responsibility = Some(patient_responsibility.unwrap_or_default() + a);
        }
    }
    let service_date = match (optional(opt(c.claim_line_start_date)), optional(opt(c.claim_start_date))) {
        (Some(d), _) => date(&d).map_err(|e| ("claim_line_start_date", e))?,
        (None, Some(d)) => date(&d).map_err(|e| ("claim_start_date", e))?,
        (None, None) => return Err(("claim_line_start_date", "empty, and so is claim_start_date".into())),
    };
    let units = whole(opt(c.service_unit_quantity)).map_err(|e| ("service_unit_quantity", e))?.unwrap_or(1);
    let place_of_service = match optional(opt(c.place_of_service_code)) {
        _ if institutional => String::new(),
        // Spreadsheets drop the leading zero of POS 01-09.
        Some(p) if p.len() == 1 => format!("0{p}"),
        Some(p) => p,
        None => String::new(),
    };
    let frequency_code = match optional(opt(c.bill_type_code)).and_then(|t| t.chars().last()) {
        Some('7') => "7",
        Some('8') => "8",
        _ => "1",
    };
    let line = ClaimLine {
        claim_id,
        line_no,
        frequency_code: frequency_code.into(),
        provider_npi: c.npis.iter().find_map(|i| optional(get(*i))).unwrap_or_default(),
        payer: optional(opt(c.payer)),
        place_of_service,
        code: code.to_ascii_uppercase(),
        modifier,
        service_date,
        units,
        charge,
        allowed,
        paid,
        patient_responsibility,
        carc: Vec::new(),
        rarc: Vec::new(),
    };
    let kind = if claim_type.is_empty() { "unknown".to_string() } else { claim_type };
    Ok(RowOutcome::Line { line: Box::new(line), kind: Some(kind), extra_modifiers })
}
