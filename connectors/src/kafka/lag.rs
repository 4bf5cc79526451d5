//! Consumer lag per (group, topic, partition): high watermark minus committed offset — what
//! `kafka_consumergroup_lag` exporters report, computed from the broker itself.
use super::KafkaConfig;
use crate::error::Result;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionLag {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    /// Next offset the group will read; `None` when it never committed.
    pub committed: Option<i64>,
    pub high_watermark: i64,
    pub lag: i64,
}

/// Lag of `group` on every partition of `topic`.
pub fn group_lag(cfg: &KafkaConfig, group: &str, topic: &str, timeout: Duration) -> Result<Vec<PartitionLag>> {
    let consumer: BaseConsumer = cfg.client().set("group.id", group).set("enable.auto.commit", "false").create()?;
    let partitions = super::admin::partition_count(cfg, topic, timeout)?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(tpl, timeout)?;
    let mut out = vec![];
    for p in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, timeout)?;
        let c = committed.find_partition(topic, p).and_then(|e| match e.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        });
        // Never committed: everything still retained is lag.
        let lag = (high - c.unwrap_or(low)).max(0);
        out.push(PartitionLag {
            group: group.into(),
            topic: topic.into(),
            partition: p,
            committed: c,
            high_watermark: high,
            lag,
        });
    }
    Ok(out)
}
