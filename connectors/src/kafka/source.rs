//! Reads partitions assigned directly to one worker (no consumer-group rebalancing): the
//! dataflow decides who reads what, and where each partition starts, from its own progress.
use super::KafkaConfig;
use crate::error::Result;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::Duration;

/// One record as read from the log, with its position (the source's clock).
#[derive(Debug, Clone)]
pub struct SourceRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
}

pub struct PartitionReader {
    consumer: BaseConsumer,
    topic: String,
    partitions: Vec<i32>,
    paused: bool,
}

impl PartitionReader {
    /// Assigns `starts` (partition → first offset to read) of `topic`. `group` is only used to
    /// commit offsets (`commit`), so lag exporters see the dataflow's durable progress.
    pub fn assign(cfg: &KafkaConfig, group: &str, topic: &str, starts: &BTreeMap<i32, i64>) -> Result<Self> {
        // Short fetch waits: the worker polls in a loop and a broker that holds each fetch for
        // the full wait (as tansu does) would otherwise bound throughput. Operators can override
        // any of these through `kafka.properties`.
        let mut c = rdkafka::ClientConfig::new();
        c.set("fetch.wait.max.ms", "5").set("queued.min.messages", "200000").set("fetch.max.bytes", "104857600");
        for (k, v) in cfg.client().config_map() {
            c.set(k, v);
        }
        let consumer: BaseConsumer = c
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "earliest")
            .create()?;
        let mut tpl = TopicPartitionList::new();
        for (p, o) in starts {
            tpl.add_partition_offset(topic, *p, Offset::Offset(*o))?;
        }
        consumer.assign(&tpl)?;
        Ok(Self { consumer, topic: topic.to_string(), partitions: starts.keys().copied().collect(), paused: false })
    }

    /// Up to `max` records that are available now, waiting at most `wait` for the first one.
    pub fn poll_batch(&self, max: usize, wait: Duration, out: &mut Vec<SourceRecord>) -> Result<()> {
        let mut timeout = wait;
        while out.len() < max {
            match self.consumer.poll(timeout) {
                None => break,
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(m)) => out.push(SourceRecord {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                }),
            }
            timeout = Duration::ZERO;
        }
        Ok(())
    }

    /// Stops fetching (backpressure) until `resume`; a no-op when already paused.
    pub fn pause(&mut self) -> Result<()> {
        if !self.paused && !self.partitions.is_empty() {
            self.consumer.pause(&self.tpl()?)?;
            self.paused = true;
        }
        Ok(())
    }

    pub fn resume(&mut self) -> Result<()> {
        if self.paused {
            self.consumer.resume(&self.tpl()?)?;
            self.paused = false;
        }
        Ok(())
    }

    /// Pauses or resumes one partition (a partition whose replay is done waits for the others).
    pub fn set_partition_paused(&self, partition: i32, paused: bool) -> Result<()> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.topic, partition);
        if paused {
            self.consumer.pause(&tpl)?;
        } else {
            self.consumer.resume(&tpl)?;
        }
        Ok(())
    }

    /// Next offset the consumer will hand out per assigned partition (`None`: not known yet).
    pub fn positions(&self) -> Result<BTreeMap<i32, Option<i64>>> {
        let tpl = self.consumer.position()?;
        Ok(self
            .partitions
            .iter()
            .map(|p| {
                let o = tpl.find_partition(&self.topic, *p).and_then(|e| match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                });
                (*p, o)
            })
            .collect())
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    fn tpl(&self) -> Result<TopicPartitionList> {
        let mut tpl = TopicPartitionList::new();
        for p in &self.partitions {
            tpl.add_partition(&self.topic, *p);
        }
        Ok(tpl)
    }
}

/// A consumer handle kept open for repeated commits by the sink.
pub struct OffsetCommitter {
    consumer: BaseConsumer,
    group: String,
}

impl OffsetCommitter {
    pub fn new(cfg: &KafkaConfig, group: &str) -> Result<Self> {
        let consumer = cfg.client().set("group.id", group).set("enable.auto.commit", "false").create()?;
        Ok(Self { consumer, group: group.to_string() })
    }
    pub fn group(&self) -> &str {
        &self.group
    }
    /// Commits `offsets` (partition → next offset to read) of `topic`, synchronously.
    pub fn commit(&self, topic: &str, offsets: &BTreeMap<i32, i64>) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for (p, o) in offsets {
            tpl.add_partition_offset(topic, *p, Offset::Offset(*o))?;
        }
        self.consumer.commit(&tpl, CommitMode::Sync)?;
        Ok(())
    }
}
