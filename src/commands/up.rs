//! `billstream up`: the whole stack on one machine — embedded broker (unless `kafka.brokers` is
//! set), topics, demo data into an empty `claims.lines`, dataflow workers and the API.
use crate::config::Config;
use crate::embedded::EmbeddedBroker;
use anyhow::Result;
use schemas::records::DocumentKind;
use schemas::topics::{CLAIMS_LINES, DOCUMENTS_UPLOADED, REFERENCE_EDITS};
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
    let no_edits = tokio::task::spawn_blocking(move || -> Result<bool> {
        let lags =
            connectors::kafka::lag::group_lag(&k, "billstream-up-probe", REFERENCE_EDITS, Duration::from_secs(10))?;
        Ok(lags.iter().all(|l| l.high_watermark == 0))
    })
    .await??;
    if no_edits && cfg.embedded.demo_lines > 0 {
        let c = cfg.clone();
        tokio::task::spawn_blocking(move || load_demo_reference(&c)).await??;
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
    let (wcfg, retrain, wstop) = (cfg.worker(), cfg.anomaly.clone(), stop.clone());
    let worker = std::thread::spawn(move || {
        crate::commands::worker::run_dataflows(wcfg, retrain, &topology, crate::commands::worker::Dataflows::All, wstop)
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
    println!("            billstream sql \"SELECT doc_id, kind, severity, lines, amount_at_issue FROM findings\"");
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

/// The reference files of `findings.reference_dir` (the project ships CMS NCCI, MUE, HCPCS,
/// PFS, CLFS and OPPS files in deploy/demo/reference) onto `reference.edits` and
/// `reference.prices`, through the same path as `billstream ingest`; PFS for the configured
/// locality only (the demo's; every locality is ~4M prices).
fn load_demo_reference(cfg: &Config) -> Result<()> {
    let dir = &crate::shipped::reference_dir(&cfg.findings.reference_dir)?;
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!(
            "no reference files at {} (findings.reference_dir): findings will use the lab panels only",
            dir.display()
        );
        return Ok(());
    };
    let mut by_feed: std::collections::BTreeMap<&'static str, Vec<std::path::PathBuf>> = Default::default();
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()) {
        let head = std::fs::read(&path).map(|b| b[..b.len().min(16 << 10)].to_vec()).unwrap_or_default();
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if let Some(f) = connectors::ingest::detect(&name, &head) {
            by_feed.entry(f.feed().name()).or_default().push(path);
        }
    }
    let locality =
        cfg.findings.locality.clone().unwrap_or_else(|| dataflows::findings::reference::DEFAULT_LOCALITY.into());
    for (feed, files) in by_feed {
        eprintln!("loading demo reference {feed} from {} ...", dir.display());
        let args = crate::commands::ingest::Args {
            feed: feed.parse().map_err(anyhow::Error::msg)?,
            files,
            dry_run: false,
            json: false,
            format: None,
            scope: None,
            localities: vec![locality.clone()],
        };
        crate::commands::ingest::run(cfg, args)?;
    }
    Ok(())
}

/// A hospital bill (text PDF), a phone photo of a physician statement and an EOB from the
/// fixture generator, uploaded as case `demo` so the intake pipeline has something to read.
async fn upload_demo_documents(cfg: &Config) -> Result<()> {
    use testkit::fixtures::{fixture, Class, Layout};
    let store = connectors::objstore::Store::open(&cfg.store)?;
    let producer = connectors::kafka::sink::Sink::new(&cfg.kafka())?;
    let docs = tokio::task::spawn_blocking(|| -> Result<Vec<(testkit::fixtures::Fixture, DocumentKind)>> {
        Ok(vec![
            (fixture(1, Layout::Hospital, Class::TextPdf).map_err(|e| anyhow::anyhow!("{e}"))?, DocumentKind::Bill),
            (fixture(2, Layout::Physician, Class::Photo).map_err(|e| anyhow::anyhow!("{e}"))?, DocumentKind::Bill),
            (fixture(3, Layout::Eob, Class::TextPdf).map_err(|e| anyhow::anyhow!("{e}"))?, DocumentKind::Eob),
        ])
    })
    .await??;
    for (f, kind) in docs {
        let name = format!("{}.{}", f.name, f.class.extension());
        api::server::store_document(&store, &producer, f.bytes.into(), kind, Some("demo".into()), Some(name), None)
            .await
            .map_err(|e| anyhow::anyhow!("demo upload: {e}"))?;
    }
    eprintln!("uploaded 3 demo documents (case `demo`) to {DOCUMENTS_UPLOADED}");
    Ok(())
}
