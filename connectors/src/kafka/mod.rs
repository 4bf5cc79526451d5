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

#[cfg(test)]
mod tests {
    //! Source, sink and lag side by side against librdkafka's in-process mock cluster.
    use super::lag::group_lag;
    use super::sink::Sink;
    use super::source::{OffsetCommitter, PartitionReader};
    use super::KafkaConfig;
    use rdkafka::mocking::MockCluster;
    use std::collections::BTreeMap;
    use std::time::Duration;

    #[test]
    fn produce_read_assigned_partitions_commit_and_lag() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("t", 2, 1).unwrap();
        let cfg = KafkaConfig::new(cluster.bootstrap_servers());
        let mut sink = Sink::new(&cfg).unwrap();
        for i in 0..10u8 {
            // Keys pick partitions; two keys, so both partitions get records.
            sink.send("t", &[i % 2], Some(&[i])).unwrap();
        }
        sink.flush(Duration::from_secs(10)).unwrap();

        let lag = group_lag(&cfg, "g", "t", Duration::from_secs(5)).unwrap();
        assert_eq!(lag.iter().map(|l| l.lag).sum::<i64>(), 10, "nothing committed yet");
        let high: BTreeMap<i32, i64> = lag.iter().map(|l| (l.partition, l.high_watermark)).collect();
        let (&p, &hp) = high.iter().max_by_key(|(_, h)| **h).unwrap();

        // Only the fuller partition, from offset 1: reads exactly what it was assigned.
        let reader = PartitionReader::assign(&cfg, "g", "t", &[(p, 1)].into()).unwrap();
        let mut got = vec![];
        for _ in 0..50 {
            reader.poll_batch(100, Duration::from_millis(100), &mut got).unwrap();
            if got.len() as i64 >= hp - 1 {
                break;
            }
        }
        assert!(got.iter().all(|r| r.partition == p));
        assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), (1..hp).collect::<Vec<_>>());

        let committed: BTreeMap<i32, i64> = high.iter().map(|(q, h)| (*q, if *q == p { 1 } else { *h })).collect();
        OffsetCommitter::new(&cfg, "g").unwrap().commit("t", &committed).unwrap();
        let lag = group_lag(&cfg, "g", "t", Duration::from_secs(5)).unwrap();
        let by_p: BTreeMap<i32, (Option<i64>, i64)> = lag.iter().map(|l| (l.partition, (l.committed, l.lag))).collect();
        let expect: BTreeMap<i32, (Option<i64>, i64)> =
            committed.iter().map(|(q, c)| (*q, (Some(*c), if *q == p { hp - 1 } else { 0 }))).collect();
        assert_eq!(by_p, expect);
    }
}
