//! CONTEXT — billstream-schemas: the records on the log.
//!
//! Files: `avro/*.avsc` (the source of truth for every topic's value), `records.rs` (Rust types
//! for the records the dataflows use, checked against the `.avsc` in tests), `wire.rs` (Confluent
//! framing: magic byte 0 + big-endian u32 schema id + Avro datum), `topics.rs` (topic and subject
//! definitions read from `deploy/redpanda/`), `arrow.rs` (Arrow schemas of the Parquet tables).
//! `BillCorrection` embeds a `BillLine`: its `.avsc` refers to it by name, and its Rust schema
//! writes that reference out so the record encodes on its own.
//!
//! Invariants: money is `rust_decimal::Decimal`, carried as a decimal string in Avro and JSON and
//! as Decimal128 in Parquet, never as a float. A record decodes only under the schema id it was
//! framed with; anything else is an error the caller sends to the dead-letter topic.

pub mod arrow;
pub mod records;
pub mod topics;
pub mod wire;

pub use records::{
    Benchmark, BillCorrection, ClaimLine, DeadLetter, DocumentKind, DocumentUploaded, Evidence, Finding, Record,
    RefEdit, RefPrice,
};
pub use wire::{decode, encode, SchemaError};
