//! `billstream lag`: consumer lag per group, topic and partition.
use anyhow::Result;
use comfy_table::Table;

pub fn run(cfg: &crate::config::Config, json: bool) -> Result<()> {
    let watched = cfg.watched();
    let (lags, errors) = api::metrics::lags(&cfg.kafka(), &watched);
    if errors > 0 && lags.is_empty() {
        anyhow::bail!("could not read lag from {} (is the broker up?)", cfg.kafka.brokers);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&lags)?);
        return Ok(());
    }
    let mut t = Table::new();
    t.set_header(["group", "topic", "partition", "committed", "high watermark", "lag"]);
    for l in &lags {
        t.add_row([
            l.group.clone(),
            l.topic.clone(),
            l.partition.to_string(),
            l.committed.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            l.high_watermark.to_string(),
            l.lag.to_string(),
        ]);
    }
    println!("{t}");
    println!("total lag: {}", lags.iter().map(|l| l.lag).sum::<i64>());
    Ok(())
}
