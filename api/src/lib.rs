//! CONTEXT — billstream-api: the HTTP surface and the SQL engine.
//!
//! Files: `server.rs` (axum router: `/healthz`, `/readyz`, `/metrics`, `POST /v1/documents`,
//! `POST /v1/sql`, `POST /v1/feeds/{claims|prices|edits}`, the correction and findings routes),
//! `corrections.rs` (`PUT`/`DELETE /v1/documents/{doc}/lines/{n}`: a patient's correction onto
//! `bill.corrections`; `GET /v1/documents/{doc}/findings` from the `findings` table), `feeds.rs` (feed files spooled to disk
//! and loaded by `connectors::ingest`, the same code as `billstream ingest`), `metrics.rs` (Prometheus text: dataflow stage counters plus
//! `kafka_consumergroup_lag` computed at scrape time from committed offsets and high
//! watermarks), `sql.rs` (DataFusion over the Parquet tables in the object store, local directory
//! or S3; changelog tables exposed as their current state), `format.rs` (table/JSON/CSV output).
//!
//! Invariants: the API holds no state of its own; uploads are content-addressed in the object
//! store before their event is produced, so a retried upload is harmless. Money leaves as
//! decimal strings in JSON.

pub mod corrections;
pub mod feeds;
pub mod format;
pub mod metrics;
pub mod server;
pub mod sql;

/// Errors of the API layer with their HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Connector(#[from] connectors::ConnectorError),
    #[error("sql: {0}")]
    Sql(#[from] datafusion::error::DataFusionError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::TooLarge(_) => 413,
            Self::Sql(datafusion::error::DataFusionError::Plan(_) | datafusion::error::DataFusionError::SQL(..)) => 400,
            Self::Unavailable(_) => 503,
            Self::Connector(e) if e.is_retryable() => 503,
            _ => 500,
        }
    }
    pub fn is_retryable(&self) -> bool {
        self.status() == 503
    }
}

pub type Result<T, E = ApiError> = std::result::Result<T, E>;
