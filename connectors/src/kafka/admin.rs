//! Creates the project's topics from `deploy/redpanda/topics.yaml` on any broker.
use super::KafkaConfig;
use crate::error::{ConnectorError, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use std::time::Duration;

/// Creates every defined topic that does not exist yet; returns the names it created.
pub async fn create_topics(cfg: &KafkaConfig) -> Result<Vec<String>> {
    let defs = schemas::topics::topic_defs()?;
    let admin: AdminClient<DefaultClientContext> = cfg.client().create()?;
    let retention: Vec<String> = defs.iter().map(|d| d.retention_ms.to_string()).collect();
    let new: Vec<NewTopic> = defs
        .iter()
        .zip(&retention)
        .map(|(d, r)| {
            NewTopic::new(&d.name, d.partitions, TopicReplication::Fixed(cfg.replication_factor))
                .set("cleanup.policy", &d.cleanup_policy)
                .set("retention.ms", r)
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let mut created = vec![];
    for result in admin.create_topics(&new, &opts).await? {
        match result {
            Ok(name) => created.push(name),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(ConnectorError::Config { what: "create topic", reason: format!("{name}: {code}") })
            }
        }
    }
    Ok(created)
}

/// Number of partitions of `topic` as the broker reports it.
pub fn partition_count(cfg: &KafkaConfig, topic: &str, timeout: Duration) -> Result<i32> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = cfg.client().create()?;
    let md = consumer.fetch_metadata(Some(topic), timeout)?;
    let t = md.topics().iter().find(|t| t.name() == topic);
    match t {
        Some(t) if !t.partitions().is_empty() => Ok(t.partitions().len() as i32),
        _ => Err(ConnectorError::Config {
            what: "topic",
            reason: format!("{topic} does not exist on {} (run `billstream topics create`)", cfg.brokers),
        }),
    }
}
