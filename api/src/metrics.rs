//! `/metrics`: the dataflow's own counters plus consumer lag read from the broker at scrape time.
use connectors::kafka::lag::{group_lag, PartitionLag};
use connectors::kafka::KafkaConfig;
use prometheus::{Encoder, IntGaugeVec, Opts, Registry, TextEncoder};
use std::time::Duration;

/// Lag of each watched (group, topic); a group that cannot be read is skipped and reported in
/// `billstream_lag_scrape_errors`.
pub fn lags(kafka: &KafkaConfig, watched: &[(String, String)]) -> (Vec<PartitionLag>, u64) {
    let mut out = vec![];
    let mut errors = 0;
    for (group, topic) in watched {
        match group_lag(kafka, group, topic, Duration::from_secs(5)) {
            Ok(l) => out.extend(l),
            Err(e) => {
                tracing::warn!(%group, %topic, error = %e, "lag scrape failed");
                errors += 1;
            }
        }
    }
    (out, errors)
}

pub fn render(kafka: Option<&KafkaConfig>, watched: &[(String, String)]) -> String {
    let mut buf = vec![];
    let enc = TextEncoder::new();
    let _ = enc.encode(&dataflows::metrics::metrics().registry.gather(), &mut buf);
    if let Some(k) = kafka {
        let (lags, errors) = lags(k, watched);
        let reg = Registry::new();
        let opts = Opts::new("kafka_consumergroup_lag", "High watermark minus committed offset");
        let offs = Opts::new("kafka_consumergroup_current_offset", "Committed offset (next to read)");
        let hw = Opts::new("kafka_topic_partition_current_offset", "High watermark");
        let err = Opts::new("billstream_lag_scrape_errors", "Watched groups whose lag could not be read");
        if let (Ok(g), Ok(c), Ok(h), Ok(e)) = (
            IntGaugeVec::new(opts, &["consumergroup", "topic", "partition"]),
            IntGaugeVec::new(offs, &["consumergroup", "topic", "partition"]),
            IntGaugeVec::new(hw, &["topic", "partition"]),
            IntGaugeVec::new(err, &[]),
        ) {
            for l in &lags {
                let p = l.partition.to_string();
                g.with_label_values(&[l.group.as_str(), l.topic.as_str(), p.as_str()]).set(l.lag);
                c.with_label_values(&[l.group.as_str(), l.topic.as_str(), p.as_str()]).set(l.committed.unwrap_or(-1));
                h.with_label_values(&[l.topic.as_str(), p.as_str()]).set(l.high_watermark);
            }
            e.with_label_values(&[] as &[&str]).set(errors as i64);
            let _ = reg.register(Box::new(g));
            let _ = reg.register(Box::new(c));
            let _ = reg.register(Box::new(h));
            let _ = reg.register(Box::new(e));
            let _ = enc.encode(&reg.gather(), &mut buf);
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}
