//! Billstream's own claim line CSV: one column per `ClaimLine` field, named as the field, so any
//! feed can be mapped to it with a spreadsheet or a script. Reads it (`columns`, `row`) and writes
//! it (`write_billstream`), so that written lines read back equal.
//!
//! Invariants: the header may hold only the field names below (any order); `claim_id`, `line_no`,
//! `code`, `service_date` and `charge` are required, the others default (frequency 1, units 1,
//! empty place of service, no payer/modifier/amounts/codes); `carc` and `rarc` are lists joined
//! with `;`; amounts are written as their exact decimal text.
use super::fields::{amount, date, optional, required_amount, whole};
use super::header::Header;
use super::RowOutcome;
use csv::StringRecord;
use schemas::ClaimLine;
use std::io::Write;

/// The Billstream claim line CSV header, in the order `write_billstream` writes it.
pub const COLUMNS: [&str; 16] = [
    "claim_id",
    "line_no",
    "frequency_code",
    "provider_npi",
    "payer",
    "place_of_service",
    "code",
    "modifier",
    "service_date",
    "units",
    "charge",
    "allowed",
    "paid",
    "patient_responsibility",
    "carc",
    "rarc",
];
const REQUIRED: &[&str] = &["claim_id", "line_no", "code", "service_date", "charge"];

/// Position of each of `COLUMNS` in the file, if present.
pub(crate) struct BillstreamColumns {
    at: [Option<usize>; 16],
}

pub(crate) fn columns(h: &Header) -> Result<BillstreamColumns, String> {
    let unknown: Vec<&str> =
        h.names.iter().filter(|n| !n.is_empty() && !COLUMNS.contains(&n.as_str())).map(String::as_str).collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unknown column(s) {} in a Billstream claim line header; the columns are {}",
            unknown.join(", "),
            COLUMNS.join(",")
        ));
    }
    let missing = h.missing(REQUIRED);
    if !missing.is_empty() {
        return Err(format!("a Billstream claim line header without {}", missing.join(", ")));
    }
    Ok(BillstreamColumns { at: COLUMNS.map(|n| h.get(n)) })
}

pub(crate) fn row(c: &BillstreamColumns, r: &StringRecord) -> RowOutcome {
    match line(c, r) {
        Ok(line) => RowOutcome::Line { line: Box::new(line), kind: None, extra_modifiers: 0 },
        Err((column, reason)) => RowOutcome::Reject { column: column.to_string(), reason },
    }
}

type Bad = (&'static str, String);

fn line(c: &BillstreamColumns, r: &StringRecord) -> Result<ClaimLine, Bad> {
    // `get("name")`: the trimmed field of that column, "" when the column is absent.
    let get = |name: &'static str| {
        let i = COLUMNS.iter().position(|n| *n == name).and_then(|k| c.at[k]);
        i.and_then(|i| r.get(i)).unwrap_or("").trim()
    };
    let money = |name: &'static str| amount(get(name)).map_err(|e| (name, e));
    let codes = |name: &'static str| -> Vec<String> { get(name).split(';').filter_map(optional).collect() };
    Ok(ClaimLine {
        claim_id: optional(get("claim_id")).ok_or(("claim_id", "empty".to_string()))?,
        line_no: whole(get("line_no")).map_err(|e| ("line_no", e))?.ok_or(("line_no", "empty".to_string()))?,
        frequency_code: optional(get("frequency_code")).unwrap_or_else(|| "1".into()),
        provider_npi: get("provider_npi").to_string(),
        payer: optional(get("payer")),
        place_of_service: get("place_of_service").to_string(),
        code: optional(get("code")).ok_or(("code", "empty".to_string()))?.to_ascii_uppercase(),
        modifier: optional(get("modifier")).map(|m| m.to_ascii_uppercase()),
        service_date: date(get("service_date")).map_err(|e| ("service_date", e))?,
        units: whole(get("units")).map_err(|e| ("units", e))?.unwrap_or(1),
        charge: required_amount(get("charge")).map_err(|e| ("charge", e))?,
        allowed: money("allowed")?,
        paid: money("paid")?,
        patient_responsibility: money("patient_responsibility")?,
        carc: codes("carc"),
        rarc: codes("rarc"),
    })
}

/// Writes `lines` as a Billstream claim line CSV, header first.
pub fn write_billstream<'a, W: Write>(w: W, lines: impl IntoIterator<Item = &'a ClaimLine>) -> Result<(), csv::Error> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(COLUMNS)?;
    let text = |d: &Option<rust_decimal::Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    for l in lines {
        out.write_record([
            l.claim_id.clone(),
            l.line_no.to_string(),
            l.frequency_code.clone(),
            l.provider_npi.clone(),
            l.payer.clone().unwrap_or_default(),
            l.place_of_service.clone(),
            l.code.clone(),
            l.modifier.clone().unwrap_or_default(),
            l.service_date.clone(),
            l.units.to_string(),
            l.charge.to_string(),
            text(&l.allowed),
            text(&l.paid),
            text(&l.patient_responsibility),
            l.carc.join(";"),
            l.rarc.join(";"),
        ])?;
    }
    out.flush()?;
    Ok(())
}
