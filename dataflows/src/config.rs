use connectors::kafka::KafkaConfig;
use connectors::objstore::StoreConfig;
use serde::{Deserialize, Serialize};

/// What a dataflow worker needs; built by the binary from layered configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerConfig {
    pub kafka: KafkaConfig,
    pub store: StoreConfig,
    /// Consumer group the sink commits offsets to (what lag exporters watch).
    pub group: String,
    /// Most records a worker puts into one dataflow time; a full time pauses the fetch until
    /// the dataflow catches up (backpressure).
    pub batch_max: usize,
    /// Shortest dataflow time (ms): the latency traded for recomputing statistics less often.
    pub tick_ms: u64,
    /// Roll a Parquet file when this many rows are pending ...
    pub roll_rows: usize,
    /// ... or when the oldest pending change is this old.
    pub roll_interval_ms: u64,
}

impl WorkerConfig {
    pub fn new(kafka: KafkaConfig, store: StoreConfig) -> Self {
        Self {
            kafka,
            store,
            group: "billstream-benchmarks".into(),
            batch_max: 20_000,
            tick_ms: 50,
            roll_rows: 100_000,
            roll_interval_ms: 1_000,
        }
    }
}
