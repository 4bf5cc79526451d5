//! Kafka protocol transport (rdkafka): works against Redpanda, Apache Kafka and tansu alike.
pub mod admin;
pub mod lag;
pub mod sink;
pub mod source;

use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

/// How to reach the broker. Extra librdkafka properties pass through unchanged (SASL, TLS).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KafkaConfig {
    pub brokers: String,
    #[serde(default = "default_replication")]
    pub replication_factor: i32,
    #[serde(default)]
    pub properties: std::collections::BTreeMap<String, String>,
}

fn default_replication() -> i32 {
    1
}

impl KafkaConfig {
    pub fn new(brokers: impl Into<String>) -> Self {
        Self { brokers: brokers.into(), replication_factor: 1, properties: Default::default() }
    }

    pub(crate) fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}
