//! Arrow schemas of the Parquet tables. Money columns are Decimal128 so SQL sums stay exact.
use arrow::datatypes::{DataType, Field, Schema};
use std::sync::Arc;

/// Precision and scale of money columns in Parquet (cents plus two guard digits for means).
pub const MONEY_PRECISION: u8 = 20;
pub const MONEY_SCALE: i8 = 4;

pub fn money() -> DataType {
    DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE)
}

/// `tables/benchmarks`: a changelog of benchmark versions. `diff` is +1 when a version is
/// asserted and -1 when it is retracted; the current table is the rows whose diffs sum above 0.
pub fn benchmarks_changes() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("modifier", DataType::Utf8, false),
        Field::new("place_of_service", DataType::Utf8, false),
        Field::new("scope", DataType::Utf8, false),
        Field::new("count", DataType::Int64, false),
        Field::new("min", money(), false),
        Field::new("median", money(), false),
        Field::new("p90", money(), false),
        Field::new("max", money(), false),
        Field::new("mean", money(), false),
        Field::new("time", DataType::Int64, false),
        Field::new("diff", DataType::Int64, false),
    ]))
}
