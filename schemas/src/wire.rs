//! Confluent wire framing of Avro values.
use crate::records::Record;
use apache_avro::{from_avro_datum, from_value, to_avro_datum, to_value};

/// Why a record could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("record is {0} bytes, shorter than the 5-byte Confluent header")]
    TooShort(usize),
    #[error("magic byte is {0}, expected 0 (Confluent wire format)")]
    BadMagic(u8),
    #[error("schema id {found} is not {expected} ({record})")]
    WrongSchema { found: u32, expected: u32, record: &'static str },
    #[error("not a valid {record} Avro datum: {source}")]
    Avro { record: &'static str, source: Box<apache_avro::Error> },
    #[error("{record} field {field}: {reason}")]
    Invalid { record: &'static str, field: &'static str, reason: String },
    #[error("{0}")]
    Definition(String),
}

impl SchemaError {
    /// Schema errors are properties of the bytes: retrying the same input cannot succeed.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

fn avro_err(record: &'static str) -> impl FnOnce(apache_avro::Error) -> SchemaError {
    move |e| SchemaError::Avro { record, source: Box::new(e) }
}

/// Frames `record` as magic 0, schema id, Avro datum.
pub fn encode<R: Record>(record: &R) -> Result<Vec<u8>, SchemaError> {
    let schema = R::schema();
    let value = to_value(record).map_err(avro_err(R::NAME))?;
    let value = value.resolve(schema).map_err(avro_err(R::NAME))?;
    let datum = to_avro_datum(schema, value).map_err(avro_err(R::NAME))?;
    let mut out = Vec::with_capacity(5 + datum.len());
    out.push(0);
    out.extend_from_slice(&R::SCHEMA_ID.to_be_bytes());
    out.extend_from_slice(&datum);
    Ok(out)
}

/// Decodes a framed record, then runs the record's own validation.
pub fn decode<R: Record>(bytes: &[u8]) -> Result<R, SchemaError> {
    if bytes.len() < 5 {
        return Err(SchemaError::TooShort(bytes.len()));
    }
    if bytes[0] != 0 {
        return Err(SchemaError::BadMagic(bytes[0]));
    }
    let id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    if id != R::SCHEMA_ID {
        return Err(SchemaError::WrongSchema { found: id, expected: R::SCHEMA_ID, record: R::NAME });
    }
    let mut rest = &bytes[5..];
    let value = from_avro_datum(R::schema(), &mut rest, None).map_err(avro_err(R::NAME))?;
    if !rest.is_empty() {
        return Err(SchemaError::Invalid {
            record: R::NAME,
            field: "(datum)",
            reason: format!("{} trailing bytes after the record", rest.len()),
        });
    }
    let record: R = from_value(&value).map_err(avro_err(R::NAME))?;
    record.validate()?;
    Ok(record)
}
