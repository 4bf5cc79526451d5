//! Layered configuration: built-in defaults → `billstream.toml` (or `--config FILE`) →
//! `BILLSTREAM__SECTION__KEY` environment variables → command-line flags.
use connectors::kafka::KafkaConfig;
use connectors::objstore::StoreConfig;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `brokers` empty: `billstream up` starts the embedded broker and uses it.
    pub kafka: KafkaConfig,
    pub store: StoreConfig,
    pub worker: WorkerSection,
    pub api: ApiSection,
    pub embedded: EmbeddedSection,
    pub findings: FindingsSection,
    /// The anomaly retrainer: when to train (`min_new_claims`), the sample, the forest.
    pub anomaly: dataflows::anomaly::RetrainConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingsSection {
    /// Reference files (NCCI, MUE, HCPCS, PFS, CLFS, OPPS) `audit` loads and `up` puts on the log.
    pub reference_dir: PathBuf,
    /// Medicare locality (MAC-locality) `audit` prices PFS codes for; "all" for every one.
    pub locality: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerSection {
    pub threads: usize,
    pub group: String,
    pub batch_max: usize,
    pub tick_ms: u64,
    pub roll_rows: usize,
    pub roll_interval_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiSection {
    pub listen: String,
    pub max_upload_bytes: usize,
    /// Largest feed file `POST /v1/feeds/...` accepts; spooled to disk as it arrives.
    pub max_feed_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddedSection {
    /// Where `up` keeps the broker's sqlite file.
    pub data_dir: String,
    pub broker_port: u16,
    /// Claim lines `up` generates into an empty `claims.lines` as demo data.
    pub demo_lines: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            kafka: KafkaConfig::new(""),
            store: StoreConfig::local(".billstream/store"),
            worker: WorkerSection {
                threads: 2,
                group: "billstream-benchmarks".into(),
                batch_max: 20_000,
                tick_ms: 50,
                roll_rows: 100_000,
                roll_interval_ms: 1_000,
            },
            api: ApiSection {
                listen: "127.0.0.1:8080".into(),
                max_upload_bytes: 25 * 1024 * 1024,
                max_feed_bytes: 4 << 30,
            },
            embedded: EmbeddedSection { data_dir: ".billstream".into(), broker_port: 9092, demo_lines: 20_000 },
            findings: FindingsSection { reference_dir: PathBuf::from(crate::shipped::DEFAULT_DIR), locality: None },
            anomaly: dataflows::anomaly::RetrainConfig::default(),
        }
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        let path: PathBuf = file.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("billstream.toml"));
        if file.is_some() || path.exists() {
            f = f.merge(Toml::file_exact(path));
        }
        f.merge(Env::prefixed("BILLSTREAM__").split("__")).extract().map_err(Box::new)
    }

    pub fn kafka(&self) -> KafkaConfig {
        self.kafka.clone()
    }

    /// The (consumer group, topic) pairs whose lag `/metrics` and `billstream lag` report.
    pub fn watched(&self) -> Vec<(String, String)> {
        use dataflows::intake::{EXTRACT_GROUP, OCR_GROUP};
        use schemas::topics::{CLAIMS_LINES, DOCUMENTS_OCR, DOCUMENTS_UPLOADED, REFERENCE_PRICES};
        let mut w = vec![
            (self.worker.group.clone(), CLAIMS_LINES.to_string()),
            (self.worker.group.clone(), REFERENCE_PRICES.to_string()),
            (OCR_GROUP.to_string(), DOCUMENTS_UPLOADED.to_string()),
            (EXTRACT_GROUP.to_string(), DOCUMENTS_OCR.to_string()),
        ];
        w.push((dataflows::anomaly::GROUP.to_string(), schemas::topics::CLAIMS_LINES.to_string()));
        let findings = dataflows::findings::runtime::GROUP;
        w.extend(dataflows::findings::runtime::TOPICS.iter().map(|(_, t)| (findings.to_string(), t.to_string())));
        w
    }

    pub fn worker(&self) -> dataflows::WorkerConfig {
        let mut w = dataflows::WorkerConfig::new(self.kafka(), self.store.clone());
        w.group = self.worker.group.clone();
        w.batch_max = self.worker.batch_max;
        w.tick_ms = self.worker.tick_ms;
        w.roll_rows = self.worker.roll_rows;
        w.roll_interval_ms = self.worker.roll_interval_ms;
        w
    }
}
