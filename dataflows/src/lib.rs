//! CONTEXT — billstream-dataflows: timely + differential graphs and the worker runtime.
//!
//! Files: `benchmarks.rs` (the graph: claim-line contributions → charge statistics per code,
//! modifier and place of service; `Versions`, the per-worker upsert state that turns a
//! replacement or void into a retraction; reference prices → statistics per code, scope and kind
//! over the current file of each source and scope), `runtime.rs` (the worker loop: partitions of
//! `claims.lines` and `reference.prices` assigned by worker index, backpressure, replay on restart), `sink.rs` (worker 0:
//! benchmarks topic, Parquet table, dead letters, progress file, offset commits), `inproc.rs`
//! (the same graph fed from memory: benchmarks and one-shot use), `metrics.rs`, `config.rs`;
//! `intake/` (documents → OCR words → line items: `graph.rs` the OCR graph with pages spread over
//! workers, `runtime.rs` its Kafka worker loops, `lines.rs` line records and the Parquet table,
//! `oneshot.rs` the same graph over files for the CLI, `paddle/` PP-OCRv4 through ONNX Runtime,
//! `second_engine.rs` which pages both engines read and their words combined); `findings/` (bill lines, corrections,
//! edits, benchmarks → findings: `graph.rs` the document and case reduces over joins, `line.rs`
//! the compact line the arrangements hold, `runtime.rs` the Kafka stage and its upsert state,
//! `sink.rs`, `oneshot.rs` the same graph in memory for `audit` and the benches, `reference.rs`
//! reference files from a directory, `eval.rs` scoring against the labeled evaluation set).
//! `runtime::Stage` / `runtime::drive` are the worker loop every Kafka stage shares.
//!
//! Clock and invariants: dataflow time is a u64 of milliseconds. Each worker reads its partitions
//! and stamps each batch with the current time; the sink's progress file binds a time T to the
//! offsets it covers. Offsets are committed to the consumer group only after the Parquet file,
//! the topic records and the progress file for T are durable. On restart every worker replays its
//! partitions from the start into state at time T (state is rebuilt, output ≤ T is not written
//! again), so results are identical and Parquet has no duplicate rows. All output is exchanged to
//! worker 0, whose sink is the only writer.

pub mod anomaly;
pub mod benchmarks;
pub mod config;
pub mod findings;
pub mod inproc;
pub mod intake;
pub mod metrics;
pub mod runtime;
pub mod sink;

pub use config::WorkerConfig;

/// Errors of the dataflow runtime, with a retry hint for the supervisor.
#[derive(Debug, thiserror::Error)]
pub enum DataflowError {
    #[error(transparent)]
    Connector(#[from] connectors::ConnectorError),
    #[error("record: {0}")]
    Schema(#[from] schemas::SchemaError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("timely: {0}")]
    Timely(String),
    #[error("{0}")]
    Config(String),
}

impl DataflowError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connector(e) => e.is_retryable(),
            Self::Arrow(_) | Self::Schema(_) | Self::Config(_) => false,
            Self::Timely(_) => true,
        }
    }
}

pub type Result<T, E = DataflowError> = std::result::Result<T, E>;
