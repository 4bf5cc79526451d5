//! `billstream up`: the whole stack on one machine — embedded broker (unless `kafka.brokers` is
//! set), topics, demo data into an empty `claims.lines`, dataflow workers and the API.
use crate::config::Config;
use crate::embedded::EmbeddedBroker;
use anyhow::Result;
use schemas::records::DocumentKind;
use schemas::topics::{CLAIMS_LINES, DOCUMENTS_UPLOADED};
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

    let k = kafka.clone();
    let no_documents = tokio::task::spawn_blocking(move || -> Result<bool> {
        let lags =
            connectors::kafka::lag::group_lag(&k, "billstream-up-probe", DOCUMENTS_UPLOADED, Duration::from_secs(10))?;
        Ok(lags.iter().all(|l| l.high_watermark == 0))
    })
    .await??;
    if no_documents && cfg.embedded.demo_lines > 0 {
        upload_demo_documents(&cfg).await?;
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
    println!(
        "            billstream sql \"SELECT doc_id, kind, line_no, code, units, charge, flagged FROM bill_lines\""
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

/// A hospital bill (text PDF), a phone photo of a physician statement and an EOB from the
/// fixture generator, uploaded as case `demo` so the intake pipeline has something to read.
async fn upload_demo_documents(cfg: &Config) -> Result<()> {
    use udfs::fixtures::{fixture, Class, Layout};
    let store = connectors::objstore::Store::open(&cfg.store)?;
    let producer = connectors::kafka::sink::Sink::new(&cfg.kafka())?;
    let docs = tokio::task::spawn_blocking(|| -> Result<Vec<(udfs::fixtures::Fixture, DocumentKind)>> {
        Ok(vec![
            (fixture(1, Layout::Hospital, Class::TextPdf).map_err(|e| anyhow::anyhow!("{e}"))?, DocumentKind::Bill),
            (fixture(2, Layout::Physician, Class::Photo).map_err(|e| anyhow::anyhow!("{e}"))?, DocumentKind::Bill),
            (fixture(3, Layout::Eob, Class::TextPdf).map_err(|e| anyhow::anyhow!("{e}"))?, DocumentKind::Eob),
        ])
    })
    .await??;
    for (f, kind) in docs {
        let name = format!("{}.{}", f.name, f.class.extension());
        api::server::store_document(&store, &producer, f.bytes.into(), kind, Some("demo".into()), Some(name))
            .await
            .map_err(|e| anyhow::anyhow!("demo upload: {e}"))?;
    }
    eprintln!("uploaded 3 demo documents (case `demo`) to {DOCUMENTS_UPLOADED}");
    Ok(())
}
