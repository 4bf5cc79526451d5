/// Errors from outside systems, with a hint whether retrying the same call may succeed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("record: {0}")]
    Schema(#[from] schemas::SchemaError),
    #[error("{what}: {reason}")]
    Config { what: &'static str, reason: String },
    #[error("{0} message(s) were not delivered: {1}")]
    Delivery(u64, String),
    #[error("progress file {path}: {reason}")]
    Progress { path: String, reason: String },
}

impl ConnectorError {
    /// Broker and store hiccups are worth retrying; bad configuration and bad bytes are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Kafka(e) => !matches!(e, rdkafka::error::KafkaError::ClientCreation(_)),
            Self::ObjectStore(e) => !matches!(e, object_store::Error::NotFound { .. }),
            Self::Delivery(..) => true,
            Self::Parquet(_) | Self::Arrow(_) | Self::Schema(_) | Self::Config { .. } | Self::Progress { .. } => false,
        }
    }
}

pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;
