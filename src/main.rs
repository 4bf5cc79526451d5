//! The `billstream` command line. Parsing and dispatch only; the work lives in the crates and in
//! `commands/`.
mod commands;
mod config;
mod embedded;
mod shipped;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "billstream", version, about = "Understand, verify and challenge medical bills — a streaming system")]
struct Cli {
    /// Configuration file (default: ./billstream.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Kafka-compatible brokers (overrides kafka.brokers).
    #[arg(long, global = true)]
    brokers: Option<String>,
    /// Object store: a directory or s3://bucket/prefix (overrides store.url).
    #[arg(long, global = true)]
    store: Option<String>,
    /// On an error, print its whole chain and where it happened (also with RUST_BACKTRACE=1).
    #[arg(long, short = 'v', global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole stack on one machine with demo data; prints the URLs.
    Up {
        /// Address of the API.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Run the dataflow workers.
    Worker {
        /// Worker threads per process.
        #[arg(long, short = 'w')]
        threads: Option<usize>,
        /// Number of timely processes in the cluster.
        #[arg(long, default_value_t = 1)]
        processes: usize,
        /// This process's index in the cluster.
        #[arg(long, default_value_t = 0)]
        process: usize,
        /// One host:port per line, one line per process.
        #[arg(long)]
        hostfile: Option<PathBuf>,
        /// Also serve the API (health, metrics, uploads, SQL) on this address.
        #[arg(long)]
        http: Option<String>,
        /// Which dataflows to run.
        #[arg(long, value_enum, default_value = "all")]
        dataflow: commands::worker::Dataflows,
    },
    /// Serve the API only.
    Serve {
        #[arg(long)]
        listen: Option<String>,
    },
    /// Topic administration.
    Topics {
        #[command(subcommand)]
        action: TopicsAction,
    },
    /// Query the Parquet tables with SQL.
    Sql {
        query: String,
        #[arg(long, default_value = "table")]
        format: api::format::Format,
    },
    /// Consumer lag per group, topic and partition.
    Lag {
        #[arg(long)]
        json: bool,
    },
    /// OCR and line items of bills, EOBs or Good Faith Estimates (PDF, PNG, JPEG, TIFF); no
    /// services needed.
    Extract {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// What the files are; read from the table's columns when not given.
        #[arg(long)]
        kind: Option<schemas::records::DocumentKind>,
        /// Worker threads (pages of one document are read in parallel).
        #[arg(long, short = 'w', default_value_t = 1)]
        threads: usize,
        #[arg(long)]
        json: bool,
    },
    /// Line items and findings of one bill (PDF, image, or the JSON `extract --json` prints),
    /// compared with its EOB and Good Faith Estimate when given; no services needed.
    Audit {
        file: PathBuf,
        /// The insurer's Explanation of Benefits for this bill.
        #[arg(long)]
        eob: Option<PathBuf>,
        /// The Good Faith Estimate the provider gave before the care.
        #[arg(long)]
        gfe: Option<PathBuf>,
        /// Reference files (NCCI, MUE, HCPCS, PFS, CLFS, OPPS); default `findings.reference_dir`.
        #[arg(long)]
        reference: Option<PathBuf>,
        /// Medicare locality (MAC-locality, e.g. 01112-05) for PFS amounts; "all" for every one.
        #[arg(long)]
        locality: Option<String>,
        /// The hospital that sent the bill, as its price file names it (with its MRF among the
        /// reference files, the bill is compared with the hospital's own gross charges).
        #[arg(long)]
        hospital: Option<String>,
        #[arg(long, short = 'w', default_value_t = 1)]
        threads: usize,
        #[arg(long)]
        json: bool,
    },
    /// Push feeds onto the log: claims (X12 837/835, FHIR, CSV) to claims.lines, prices (hospital
    /// MRFs, Transparency-in-Coverage, PFS RVU + GPCI, CLFS, OPPS) to reference.prices, edits
    /// (NCCI PTP, MUE, HCPCS) to reference.edits. Formats are recognised from the files.
    Ingest {
        #[arg(value_parser = ["claims", "prices", "edits"])]
        feed: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Parse and validate only; produce nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the summary as JSON (counts per record type, rejects with reasons).
        #[arg(long)]
        json: bool,
        /// Read the files as this format instead of recognising it (x12, fhir, csv_claims,
        /// hospital_mrf, tic, pfs_rvu, gpci, clfs, opps, ncci_ptp, mue_csv, mue_json, hcpcs_level2).
        #[arg(long)]
        format: Option<String>,
        /// Scope of prices whose file does not name it (e.g. "hospital:Stony Brook University Hospital").
        #[arg(long)]
        scope: Option<String>,
        /// PFS: price only these Medicare localities (MAC-locality, e.g. 01112-05); repeatable.
        #[arg(long = "locality")]
        localities: Vec<String>,
    },
    /// Produce synthetic data onto the log.
    Generate {
        #[command(subcommand)]
        what: GenerateWhat,
    },
    /// Throughput benchmarks (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum TopicsAction {
    /// Create the topics in deploy/redpanda/topics.yaml that do not exist yet.
    Create,
}

#[derive(Subcommand)]
enum GenerateWhat {
    /// Synthetic bills, EOBs and estimates with their ground truth (the extraction corpus):
    /// text PDFs, scans, image-only PDFs and phone photos, written to a directory.
    Bills {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 2)]
        per_layout: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The labeled findings evaluation set (tests/eval/findings): clean bills, one injected error
    /// of each kind, hard negatives and contradictory inputs, over the reference data.
    EvalSet {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = "deploy/demo/reference")]
        reference: PathBuf,
    },
    /// Synthetic claim lines onto claims.lines.
    Claims {
        #[arg(long, default_value_t = 10_000)]
        lines: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Replacements and voids of the generated lines, produced after them.
        #[arg(long, default_value_t = 0)]
        changes: usize,
        /// Write the lines (in log order) to this CSV file instead of producing them.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Correction-to-new-findings latency with millions of bill lines in the findings graph,
    /// against recomputing every finding from scratch.
    Corrections {
        #[arg(long, default_value_t = 1_000_000)]
        docs: usize,
        #[arg(long, default_value_t = 10)]
        lines_per_doc: usize,
        #[arg(long, default_value_t = 1_000)]
        corrections: usize,
        #[arg(long, default_value_t = 1)]
        workers: usize,
        #[arg(long)]
        json: bool,
    },
    /// Per-kind precision and recall of the findings engine on the labeled evaluation set.
    Findings {
        #[arg(long, default_value = "tests/eval/findings")]
        set: PathBuf,
        #[arg(long, default_value = "deploy/demo/reference")]
        reference: PathBuf,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        #[arg(long)]
        json: bool,
    },
    /// The dataflow alone, fed by the in-process generator.
    Dataflow {
        #[arg(long, default_value_t = 1_000_000)]
        lines: usize,
        #[arg(long, default_value_t = 0)]
        changes: usize,
        #[arg(long, default_value_t = 1)]
        workers: usize,
        #[arg(long, default_value_t = 50_000)]
        batch: usize,
        #[arg(long)]
        json: bool,
    },
    /// Line-item precision, recall and F1 on the generated corpus, per document class.
    Extract {
        #[arg(long, default_value_t = 5)]
        per_layout: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, short = 'w', default_value_t = 2)]
        threads: usize,
        /// Also write the corpus (documents and truth) here.
        #[arg(long)]
        keep: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Line-item F1 on published hospital statements against golden files transcribed by eye.
    RealBills {
        /// The statements (../shared/data/real-bills).
        #[arg(long, default_value = "../shared/data/real-bills")]
        docs: PathBuf,
        /// The golden files, one `<name>.expected.json` per statement.
        #[arg(long, default_value = "tests/golden/real")]
        golden: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Tesseract against PaddleOCR (PP-OCRv4, ONNX Runtime) on the scanned published statements:
    /// pages/s and the share of line-item tokens (charges, codes, units) each reads.
    OcrEngines {
        /// The statements (../shared/data/real-bills).
        #[arg(long, default_value = "../shared/data/real-bills")]
        docs: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// OCR pages/s against the tesseract CLI on the same scanned pages.
    Ocr {
        #[arg(long, default_value_t = 10)]
        pages: usize,
        /// Measure with 1..=N workers.
        #[arg(long, default_value_t = 2)]
        workers: usize,
        #[arg(long)]
        json: bool,
    },
    /// Feed loaders over files without producing (MB/s, records/s, X12 segments/s).
    Ingest {
        #[arg(value_parser = ["claims", "prices", "edits"])]
        feed: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        #[arg(long)]
        json: bool,
    },
    /// Through the broker on loopback: produce, then time the workers to lag 0.
    Broker {
        #[arg(long, default_value_t = 1_000_000)]
        lines: usize,
        #[arg(long, default_value_t = 1)]
        threads: usize,
        #[arg(long)]
        json: bool,
    },
    /// Anomaly model: AUC on synthetic labeled anomalies and scoring lines/s (one thread); writes
    /// the feature matrix for scikit-learn's IsolationForest beside it (bench/anomaly.sh).
    Anomaly {
        #[arg(long, default_value_t = 200_000)]
        train: usize,
        #[arg(long, default_value_t = 100_000)]
        test: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write the feature matrix with labels here (CSV).
        #[arg(long)]
        features_out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// Tesseract's OpenMP runtime reads OMP_THREAD_LIMIT only when it loads, before `main`; without
/// it OCR is several times slower on a loaded machine (see udfs/src/ocr/tesseract.rs). Set it
/// and start again, once.
#[cfg(unix)]
fn ensure_single_threaded_ocr() -> Result<()> {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("OMP_THREAD_LIMIT", "1").exec();
    Err(anyhow::anyhow!("re-executing with OMP_THREAD_LIMIT=1: {err}"))
}

#[cfg(not(unix))]
fn ensure_single_threaded_ocr() -> Result<()> {
    Ok(())
}

/// Errors reach a person as one line (what, which file, what to do); `-v` or RUST_BACKTRACE
/// shows the chain and the backtrace.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let verbose = cli.verbose || std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if verbose => {
            eprintln!("billstream: {e:?}");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("billstream: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    ensure_single_threaded_ocr()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BILLSTREAM_LOG")
                .unwrap_or_else(|_| "warn,billstream=info,librdkafka=off,rdkafka=off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut cfg = config::Config::load(cli.config.as_deref())?;
    if let Some(b) = cli.brokers {
        cfg.kafka.brokers = b;
    }
    if let Some(s) = cli.store {
        cfg.store.url = s;
    }
    let need_brokers = |cfg: &config::Config| -> Result<()> {
        if cfg.kafka.brokers.is_empty() {
            anyhow::bail!("no broker configured: pass --brokers HOST:PORT or set BILLSTREAM__KAFKA__BROKERS (or use `billstream up`)");
        }
        Ok(())
    };
    let rt = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Up { listen } => {
            if let Some(l) = listen {
                cfg.api.listen = l;
            }
            rt.block_on(commands::up::run(cfg))
        }
        Command::Worker { threads, processes, process, hostfile, http, dataflow } => {
            need_brokers(&cfg)?;
            let topology = commands::worker::Topology {
                threads: threads.unwrap_or(cfg.worker.threads),
                processes,
                process,
                hostfile,
            };
            let stop = Arc::new(AtomicBool::new(false));
            let s = stop.clone();
            rt.spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                s.store(true, Ordering::Relaxed);
            });
            if let Some(addr) = http {
                let (c, s) = (cfg.clone(), stop.clone());
                rt.spawn(async move {
                    let shutdown = async move {
                        while !s.load(Ordering::Relaxed) {
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                    };
                    if let Err(e) = commands::serve::serve(&c, &addr, shutdown).await {
                        tracing::error!(error = %e, "api server failed");
                    }
                });
            }
            commands::worker::run_dataflows(cfg.worker(), cfg.anomaly.clone(), &topology, dataflow, stop)
        }
        Command::Serve { listen } => {
            need_brokers(&cfg)?;
            let listen = listen.unwrap_or_else(|| cfg.api.listen.clone());
            rt.block_on(commands::serve::serve(&cfg, &listen, async {
                let _ = tokio::signal::ctrl_c().await;
            }))
        }
        Command::Topics { action: TopicsAction::Create } => {
            need_brokers(&cfg)?;
            let created = rt.block_on(connectors::kafka::admin::create_topics(&cfg.kafka()))?;
            println!(
                "created {} topic(s){}",
                created.len(),
                if created.is_empty() { String::new() } else { format!(": {}", created.join(", ")) }
            );
            Ok(())
        }
        Command::Sql { query, format } => rt.block_on(commands::sql::run(&cfg, &query, format)),
        Command::Lag { json } => {
            need_brokers(&cfg)?;
            commands::lag::run(&cfg, json)
        }
        Command::Ingest { feed, files, dry_run, json, format, scope, localities } => {
            let feed = feed.parse().map_err(anyhow::Error::msg)?;
            let args = commands::ingest::Args { feed, files, dry_run, json, format, scope, localities };
            if !commands::ingest::run(&cfg, args)? {
                // Some file was rejected or failed as a whole: the summary says which and why.
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Extract { files, kind, threads, json } => commands::extract::run(&files, kind, threads, json),
        Command::Audit { file, eob, gfe, reference, locality, hospital, threads, json } => {
            let args = commands::audit::Args { bill: file, eob, gfe, reference, locality, hospital, threads, json };
            commands::audit::run(&cfg, args)
        }
        Command::Generate { what: GenerateWhat::Bills { out, per_layout, seed } } => {
            let docs = testkit::fixtures::corpus(seed, per_layout).map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::create_dir_all(&out)?;
            testkit::fixtures::write_corpus(&out, &docs)?;
            eprintln!("wrote {} documents and their truth to {}", docs.len(), out.display());
            Ok(())
        }
        Command::Generate { what: GenerateWhat::EvalSet { out, seed, reference } } => {
            commands::generate::eval_set(&out, &reference, seed)
        }
        Command::Generate { what: GenerateWhat::Claims { lines, seed, changes, csv: Some(path) } } => {
            commands::generate::to_csv(&path, lines, seed, changes)
        }
        Command::Generate { what: GenerateWhat::Claims { lines, seed, changes, csv: None } } => {
            need_brokers(&cfg)?;
            commands::generate::run(&cfg.kafka(), lines, seed, changes)
        }
        Command::Bench { what } => match what {
            BenchWhat::Corrections { docs, lines_per_doc, corrections, workers, json } => {
                commands::bench_corrections::run(docs, lines_per_doc, corrections, workers, json)
            }
            BenchWhat::Findings { set, reference, workers, json } => {
                commands::bench_findings::run(&set, &reference, workers, json)
            }
            BenchWhat::Dataflow { lines, changes, workers, batch, json } => {
                commands::bench::dataflow(lines, changes, workers, batch, json)
            }
            BenchWhat::Extract { per_layout, seed, threads, keep, json } => {
                commands::bench_intake::extract(seed, per_layout, threads, keep, json)
            }
            BenchWhat::RealBills { docs, golden, json } => commands::bench_real::run(&docs, &golden, json).map(|_| ()),
            BenchWhat::OcrEngines { docs, json } => commands::bench_ocr_engines::run(&docs, json).map(|_| ()),
            BenchWhat::Ingest { feed, files, repeat, json } => {
                commands::bench_ingest::run(feed.parse().map_err(anyhow::Error::msg)?, files, repeat, json)
            }
            BenchWhat::Ocr { pages, workers, json } => commands::bench_intake::ocr(pages, workers, json),
            BenchWhat::Broker { lines, threads, json } => {
                need_brokers(&cfg)?;
                commands::bench::broker(&cfg, lines, threads, json)
            }
            BenchWhat::Anomaly { train, test, seed, features_out, json } => {
                commands::bench_anomaly::run(train, test, seed, features_out, json)
            }
        },
    }
}
