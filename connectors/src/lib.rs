//! CONTEXT — billstream-connectors: every outside system, transport apart from format.
//!
//! Files: `kafka/` (`admin.rs` creates topics from `deploy/redpanda/topics.yaml`; `source.rs`
//! reads partitions assigned directly to a worker, no group rebalancing; `sink.rs` an idempotent
//! producer whose `flush` says whether everything sent is durable; `lag.rs` committed offsets
//! against high watermarks), `objstore/` (`store.rs` a local directory or an S3 endpoint behind
//! one `ObjectStore`; `blobs.rs` content-addressed documents; `parquet.rs` Parquet files of Arrow
//! batches; `progress.rs` the sink's durable progress: dataflow time + source offsets per topic;
//! `models.rs` versioned anomaly models, never overwritten, with a `current.json` pointer).
//! Formats, one folder or file per outside format: `x12/` (837P/837I/835), `fhir/` (Claim/EOB),
//! `csv_claims/` (Tuva and Billstream CSV), `cms/` (hospital MRFs in `mrf/`, TiC, PFS+GPCI, CLFS,
//! ASP drug payment limits, OPPS, NCCI PTP/MUE, HCPCS); `feed.rs` the loader contract (`Item`, `Tally`, `LoadError`) and
//! `ingest.rs` format detection plus producing a loader's records, rejects and dead letters.
//!
//! Invariants: loaders stream (bounded memory whatever the file size), never produce a record that
//! fails `Record::validate`, and say where and why for every record they reject; money is parsed
//! from text into `Decimal`, never through f64. Offsets are committed to a consumer group only after the sinks are durable past
//! them (the caller's job, helped by `SinkProgress`); nothing here retries silently — errors carry
//! `is_retryable` so the runtime decides.

pub mod cms;
pub mod csv_claims;
pub mod error;
pub mod feed;
pub mod fhir;
pub mod ingest;
pub mod kafka;
pub mod objstore;
pub mod x12;

pub use error::ConnectorError;
