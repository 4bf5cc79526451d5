//! `billstream up`: the whole stack on one machine — embedded broker (unless `kafka.brokers` is
//! set), topics, demo data into an empty `claims.lines`, dataflow workers and the API.
use crate::config::Config;
use crate::embedded::EmbeddedBroker;
use anyhow::Result;
use schemas::topics::CLAIMS_LINES;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub async fn run(mut cfg: Config) -> Result<()> {
    let mut broker = None;
    if cfg.kafka.brokers.is_empty() {
        let b = EmbeddedBroker::start(Path::new(&cfg.embedded.data_dir), cfg.embedded.broker_port)?;
        cfg.kafka.brokers = b.brokers.clone();
        broker = Some(b);
    }
    let kafka = cfg.kafka();
    let created = connectors::kafka::admin::create_topics(&kafka).await?;
    if !created.is_empty() {
        eprintln!("created topics: {}", created.join(", "));
    }
    let k = kafka.clone();
    let empty = tokio::task::spawn_blocking(move || -> Result<bool> {
        let lags = connectors::kafka::lag::group_lag(&k, "billstream-up-probe", CLAIMS_LINES, Duration::from_secs(10))?;
        Ok(lags.iter().all(|l| l.high_watermark == 0))
    })
    .await??;
    if empty && cfg.embedded.demo_lines > 0 {
        eprintln!("loading {} demo claim lines into {CLAIMS_LINES} ...", cfg.embedded.demo_lines);
        let (k, n) = (kafka.clone(), cfg.embedded.demo_lines);
        tokio::task::spawn_blocking(move || crate::commands::generate::run(&k, n, 1, n / 100)).await??;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let topology =
        crate::commands::worker::Topology { threads: cfg.worker.threads, processes: 1, process: 0, hostfile: None };
    let (wcfg, wstop) = (cfg.worker(), stop.clone());
    let worker = std::thread::spawn(move || {
        crate::commands::worker::run_dataflows(wcfg, &topology, crate::commands::worker::Dataflows::All, wstop)
    });

    let listen = cfg.api.listen.clone();
    println!("Billstream is up.");
    println!("  API       http://{listen}/  (POST /v1/documents, POST /v1/sql)");
    println!("  upload    curl -F file=@bill.pdf -F kind=bill http://{listen}/v1/documents");
    println!("  health    http://{listen}/healthz   http://{listen}/readyz");
    println!("  metrics   http://{listen}/metrics");
    println!("  broker    {}  ({})", cfg.kafka.brokers, if broker.is_some() { "embedded tansu" } else { "external" });
    println!("  store     {}", cfg.store.url);
    println!(
        "  try       billstream sql \"SELECT code, count, median, p90 FROM benchmarks ORDER BY count DESC LIMIT 10\""
    );
    println!("Ctrl-C stops everything.");

    let s2 = stop.clone();
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("stopping ...");
        s2.store(true, Ordering::Relaxed);
    };
    let served = crate::commands::serve::serve(&cfg, &listen, shutdown).await;
    stop.store(true, Ordering::Relaxed);
    let worked = tokio::task::spawn_blocking(move || worker.join()).await?;
    if let Some(mut b) = broker {
        b.stop();
    }
    served?;
    worked.map_err(|_| anyhow::anyhow!("worker thread panicked"))??;
    Ok(())
}
