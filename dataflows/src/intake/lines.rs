//! Line items as records: `BillLine`s for the `bill.lines` topic and the `bill_lines` Parquet
//! table (one file per document, named by it, so reading a document again replaces its rows).
use crate::Result;
use arrow::array::{ArrayRef, BooleanArray, Float32Array, Int32Array, RecordBatch, StringArray};
use rust_decimal::Decimal;
use schemas::records::{BillLine, DocumentKind};
use std::sync::Arc;
use udfs::extract::Extraction;

pub fn bill_lines(doc_id: &str, kind: DocumentKind, ex: &Extraction) -> Vec<BillLine> {
    let t = &ex.totals;
    ex.lines
        .iter()
        .map(|l| BillLine {
            doc_id: doc_id.to_string(),
            kind,
            line_no: l.line_no as i32,
            page: l.page as i32,
            service_date: l.service_date.clone(),
            code: l.code.clone(),
            code_system: l.code_system.as_str().to_string(),
            revenue_code: l.revenue_code.clone(),
            cdm_code: l.cdm_code.clone(),
            modifiers: l.modifiers.clone(),
            description: l.description.clone(),
            units: l.units,
            unit_price: l.unit_price,
            charge: l.charge,
            allowed: l.allowed,
            plan_paid: l.plan_paid,
            patient_responsibility: l.patient_responsibility,
            confidence: l.confidence,
            flagged: l.flagged,
            total_charges: t.total_charges,
            payments: t.payments,
            adjustments: t.adjustments,
            balance_due: t.balance_due,
        })
        .collect()
}

/// Object path of a document's rows: partitioned by upload day, named by the document, so a
/// document read again (a replay) overwrites its own file.
pub fn part_path(doc_id: &str, uploaded_at_ms: i64) -> String {
    let safe: String = doc_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let day = chrono::DateTime::from_timestamp_millis(uploaded_at_ms)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "1970-01-01".into());
    format!("tables/bill_lines/dt={day}/doc-{safe}.parquet")
}

fn money(values: impl Iterator<Item = Option<Decimal>>) -> Result<ArrayRef> {
    Ok(schemas::arrow::money_array(values)?)
}

pub fn to_batch(rows: &[BillLine]) -> Result<RecordBatch> {
    let s = |f: fn(&BillLine) -> String| -> ArrayRef { Arc::new(StringArray::from_iter_values(rows.iter().map(f))) };
    let o = |f: fn(&BillLine) -> Option<String>| -> ArrayRef { Arc::new(rows.iter().map(f).collect::<StringArray>()) };
    let kind = |k: DocumentKind| match k {
        DocumentKind::Bill => "bill",
        DocumentKind::Eob => "eob",
        DocumentKind::Gfe => "gfe",
    };
    let cols: Vec<ArrayRef> = vec![
        s(|r| r.doc_id.clone()),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| kind(r.kind)))),
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.line_no))),
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.page))),
        o(|r| r.service_date.clone()),
        o(|r| r.code.clone()),
        s(|r| r.code_system.clone()),
        o(|r| r.revenue_code.clone()),
        o(|r| r.cdm_code.clone()),
        s(|r| r.modifiers.join(",")),
        s(|r| r.description.clone()),
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.units))),
        money(rows.iter().map(|r| r.unit_price))?,
        money(rows.iter().map(|r| Some(r.charge)))?,
        money(rows.iter().map(|r| r.allowed))?,
        money(rows.iter().map(|r| r.plan_paid))?,
        money(rows.iter().map(|r| r.patient_responsibility))?,
        Arc::new(Float32Array::from_iter_values(rows.iter().map(|r| r.confidence))),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| Some(r.flagged)))),
        money(rows.iter().map(|r| r.total_charges))?,
        money(rows.iter().map(|r| r.payments))?,
        money(rows.iter().map(|r| r.adjustments))?,
        money(rows.iter().map(|r| r.balance_due))?,
    ];
    Ok(RecordBatch::try_new(schemas::arrow::bill_lines(), cols)?)
}
