//! Topic and subject definitions from `deploy/redpanda/` (embedded at build time so the binary
//! can create topics on any broker without the source tree).
use serde::Deserialize;
use std::collections::BTreeMap;

pub const TOPICS_YAML: &str = include_str!("../../deploy/redpanda/topics.yaml");
pub const SUBJECTS_YAML: &str = include_str!("../../deploy/redpanda/subjects.yaml");

pub const CLAIMS_LINES: &str = "claims.lines";
pub const BENCHMARKS: &str = "benchmarks";
pub const DLQ: &str = "dlq";
pub const DOCUMENTS_UPLOADED: &str = "documents.uploaded";
pub const DOCUMENTS_OCR: &str = "documents.ocr";
pub const BILL_LINES: &str = "bill.lines";
pub const BILL_CORRECTIONS: &str = "bill.corrections";
pub const FINDINGS: &str = "findings";
pub const REFERENCE_PRICES: &str = "reference.prices";
pub const REFERENCE_EDITS: &str = "reference.edits";

#[derive(Debug, Clone, Deserialize)]
pub struct TopicDef {
    pub name: String,
    pub partitions: i32,
    pub retention_ms: i64,
    pub cleanup_policy: String,
    pub schema: String,
}

#[derive(Debug, Deserialize)]
struct TopicsFile {
    topics: Vec<TopicDef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubjectDef {
    pub schema: String,
    pub id: u32,
}

#[derive(Debug, Deserialize)]
struct SubjectsFile {
    subjects: BTreeMap<String, SubjectDef>,
}

/// Parses the topic definitions; the file ships with the binary, so an error is a build defect.
pub fn topic_defs() -> Result<Vec<TopicDef>, crate::SchemaError> {
    serde_yaml::from_str::<TopicsFile>(TOPICS_YAML)
        .map(|f| f.topics)
        .map_err(|e| crate::SchemaError::Definition(format!("deploy/redpanda/topics.yaml: {e}")))
}

pub fn subject_defs() -> Result<BTreeMap<String, SubjectDef>, crate::SchemaError> {
    serde_yaml::from_str::<SubjectsFile>(SUBJECTS_YAML)
        .map(|f| f.subjects)
        .map_err(|e| crate::SchemaError::Definition(format!("deploy/redpanda/subjects.yaml: {e}")))
}
