//! Arrow schemas of the Parquet tables. Money columns are Decimal128 so SQL sums stay exact.
use arrow::array::{ArrayRef, Decimal128Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;
use std::sync::Arc;

/// Precision and scale of money columns in Parquet (cents plus two guard digits for means).
pub const MONEY_PRECISION: u8 = 20;
pub const MONEY_SCALE: i8 = 4;

pub fn money() -> DataType {
    DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE)
}

/// A money column: each amount rescaled to `MONEY_SCALE` (exact for amounts of at most four
/// decimal places, which records are validated to have); `None` is null.
pub fn money_array(values: impl Iterator<Item = Option<rust_decimal::Decimal>>) -> Result<ArrayRef, ArrowError> {
    let v: Vec<Option<i128>> = values
        .map(|d| {
            d.map(|mut d| {
                d.rescale(MONEY_SCALE as u32);
                d.mantissa()
            })
        })
        .collect();
    Ok(Arc::new(Decimal128Array::from(v).with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)?))
}

/// `tables/benchmarks`: a changelog of benchmark versions. `diff` is +1 when a version is
/// asserted and -1 when it is retracted; the current table is the rows whose diffs sum above 0.
pub fn benchmarks_changes() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("modifier", DataType::Utf8, false),
        Field::new("place_of_service", DataType::Utf8, false),
        Field::new("scope", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("count", DataType::Int64, false),
        Field::new("min", money(), false),
        Field::new("median", money(), false),
        Field::new("p90", money(), false),
        Field::new("max", money(), false),
        Field::new("mean", money(), false),
        Field::new("effective_from", DataType::Utf8, true),
        Field::new("source_file", DataType::Utf8, true),
        Field::new("time", DataType::Int64, false),
        Field::new("diff", DataType::Int64, false),
    ]))
}

/// `tables/findings`: a changelog of findings (`diff` +1 asserted, -1 retracted; the current
/// findings are the rows whose diffs sum above 0). `lines` are comma-separated line numbers,
/// `evidence` a JSON array of {source, detail}.
pub fn findings_changes() -> Arc<Schema> {
    let s = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        s("doc_id"),
        s("kind"),
        s("severity"),
        s("lines"),
        Field::new("amount_at_issue", money(), false),
        s("explanation"),
        s("evidence"),
        Field::new("time", DataType::Int64, false),
        Field::new("diff", DataType::Int64, false),
    ]))
}

/// `tables/bill_lines`: one row per line item read from an uploaded document, one file per
/// document (`dt=<upload day>/doc-<doc_id>.parquet`, rewritten whole if the document is read again). Modifiers
/// are comma-separated; document totals repeat on each of its lines.
pub fn bill_lines() -> Arc<Schema> {
    let s = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        s("doc_id", false),
        s("kind", false),
        Field::new("line_no", DataType::Int32, false),
        Field::new("page", DataType::Int32, false),
        s("service_date", true),
        s("code", true),
        s("code_system", false),
        s("revenue_code", true),
        s("cdm_code", true),
        s("modifiers", false),
        s("description", false),
        Field::new("units", DataType::Int32, false),
        Field::new("unit_price", money(), true),
        Field::new("charge", money(), false),
        Field::new("allowed", money(), true),
        Field::new("plan_paid", money(), true),
        Field::new("patient_responsibility", money(), true),
        Field::new("confidence", DataType::Float32, false),
        Field::new("flagged", DataType::Boolean, false),
        Field::new("total_charges", money(), true),
        Field::new("payments", money(), true),
        Field::new("adjustments", money(), true),
        Field::new("balance_due", money(), true),
    ]))
}
