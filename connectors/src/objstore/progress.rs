//! The sink's durable progress: the dataflow time through which its output is durable and the
//! source offsets that time covers. Written after the data it describes, read on restart:
//! records before `offsets` are replayed into state at `time` and their output is not written
//! again, which is what keeps Parquet free of duplicate rows.
use super::Store;
use crate::error::{ConnectorError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkProgress {
    /// Output at dataflow times ≤ `time` is durable.
    pub time: u64,
    pub topic: String,
    /// Partition → next offset to read: every record before it is reflected in output ≤ `time`.
    pub offsets: BTreeMap<i32, i64>,
    /// Parquet files written so far (a count, for operators).
    pub files: u64,
    /// Offsets of the sink's other source topics, by topic.
    #[serde(default)]
    pub other_topics: BTreeMap<String, BTreeMap<i32, i64>>,
}

impl SinkProgress {
    /// Partition → next offset of `topic`, whether it is the main topic or another.
    pub fn offsets_of(&self, topic: &str) -> BTreeMap<i32, i64> {
        if topic == self.topic {
            return self.offsets.clone();
        }
        self.other_topics.get(topic).cloned().unwrap_or_default()
    }
    pub fn offsets_mut(&mut self, topic: &str) -> &mut BTreeMap<i32, i64> {
        if topic == self.topic {
            return &mut self.offsets;
        }
        self.other_topics.entry(topic.to_string()).or_default()
    }
}

fn path(sink: &str, group: &str) -> String {
    format!("_state/{sink}/{group}.json")
}

pub async fn read(store: &Store, sink: &str, group: &str) -> Result<Option<SinkProgress>> {
    let p = path(sink, group);
    match store.get(&p).await? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| ConnectorError::Progress { path: p, reason: e.to_string() }),
    }
}

pub async fn write(store: &Store, sink: &str, group: &str, progress: &SinkProgress) -> Result<()> {
    let p = path(sink, group);
    let bytes = serde_json::to_vec_pretty(progress)
        .map_err(|e| ConnectorError::Progress { path: p.clone(), reason: e.to_string() })?;
    store.put(&p, bytes.into()).await
}
