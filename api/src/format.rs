//! Query results as a readable table, JSON (array of objects) or CSV.
use crate::Result;
use arrow::array::{Array, RecordBatch};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            o => Err(format!("format {o:?} is not table, json or csv")),
        }
    }
}

pub fn render(batches: &[RecordBatch], format: Format) -> Result<String> {
    match format {
        Format::Table => Ok(arrow::util::pretty::pretty_format_batches(batches)?.to_string()),
        Format::Csv => {
            let mut buf = vec![];
            {
                let mut w = arrow::csv::WriterBuilder::new().with_header(true).build(&mut buf);
                for b in batches {
                    w.write(b)?;
                }
            }
            Ok(String::from_utf8_lossy(&buf).into_owned())
        }
        Format::Json => Ok(serde_json::Value::Array(to_json_rows(batches)?).to_string()),
    }
}

/// Rows as JSON objects. Integers and floats stay numbers; decimals (money) become decimal
/// strings, never floats.
pub fn to_json_rows(batches: &[RecordBatch]) -> Result<Vec<serde_json::Value>> {
    let opts = FormatOptions::default();
    let mut rows = vec![];
    for b in batches {
        let schema = b.schema();
        let fmts: Vec<ArrayFormatter> =
            b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts)).collect::<Result<_, _>>()?;
        for i in 0..b.num_rows() {
            let mut obj = serde_json::Map::new();
            for (j, f) in fmts.iter().enumerate() {
                let col = b.column(j);
                let field = schema.field(j);
                let v = if col.is_null(i) {
                    serde_json::Value::Null
                } else {
                    let text = f.value(i).to_string();
                    match field.data_type() {
                        DataType::Int8
                        | DataType::Int16
                        | DataType::Int32
                        | DataType::Int64
                        | DataType::UInt8
                        | DataType::UInt16
                        | DataType::UInt32
                        | DataType::UInt64
                        | DataType::Float32
                        | DataType::Float64 => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
                        DataType::Boolean => serde_json::Value::Bool(text == "true"),
                        _ => serde_json::Value::String(text),
                    }
                };
                obj.insert(field.name().clone(), v);
            }
            rows.push(serde_json::Value::Object(obj));
        }
    }
    Ok(rows)
}
