//! `billstream worker`: the dataflow as N threads in one process, or as one of several
//! processes (`--processes`, `--process`, `--hostfile`) — the same graph either way.
use anyhow::{anyhow, bail, Context, Result};
use dataflows::anomaly::RetrainConfig;
use dataflows::WorkerConfig;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use timely::{CommunicationConfig, WorkerConfig as TimelyWorkerConfig};

#[derive(Clone)]
pub struct Topology {
    pub threads: usize,
    pub processes: usize,
    pub process: usize,
    pub hostfile: Option<std::path::PathBuf>,
}

fn timely_config(t: &Topology) -> Result<timely::Config> {
    timely_config_at(t, 0)
}

/// A second dataflow in the same cluster listens `port_offset` above the hostfile's ports.
fn timely_config_at(t: &Topology, port_offset: u16) -> Result<timely::Config> {
    let threads = t.threads.max(1);
    let communication = if t.processes <= 1 {
        if threads == 1 {
            CommunicationConfig::Thread
        } else {
            CommunicationConfig::Process(threads)
        }
    } else {
        if t.process >= t.processes {
            bail!("--process {} is not below --processes {}", t.process, t.processes);
        }
        let addresses = match &t.hostfile {
            Some(f) => read_hostfile(f)?,
            None => (0..t.processes).map(|i| format!("127.0.0.1:{}", 2101 + i)).collect(),
        };
        let addresses = addresses.into_iter().map(|a| shift_port(&a, port_offset)).collect::<Result<Vec<_>>>()?;
        if addresses.len() != t.processes {
            bail!("hostfile lists {} addresses for {} processes", addresses.len(), t.processes);
        }
        CommunicationConfig::Cluster { threads, process: t.process, addresses, report: false, zerocopy: false }
    };
    Ok(timely::Config { communication, worker: TimelyWorkerConfig::default() })
}

fn shift_port(addr: &str, offset: u16) -> Result<String> {
    if offset == 0 {
        return Ok(addr.to_string());
    }
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| anyhow!("address {addr} has no port"))?;
    let port: u16 = port.parse().with_context(|| format!("port of {addr}"))?;
    Ok(format!("{host}:{}", port.checked_add(offset).ok_or_else(|| anyhow!("port of {addr} too high"))?))
}

/// Port offsets of the intake and findings clusters when one process group runs every dataflow.
const INTAKE_PORT_OFFSET: u16 = 1000;
const FINDINGS_PORT_OFFSET: u16 = 2000;

fn read_hostfile(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading hostfile {}", path.display()))?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect())
}

/// Which graphs a worker process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dataflows {
    /// Claim lines → price benchmarks.
    Benchmarks,
    /// Uploaded documents → OCR → line items.
    Intake,
    /// Bill lines, corrections, edits and benchmarks → findings.
    Findings,
    /// The anomaly model's retrainer (one per deployment).
    Anomaly,
    /// All of them, each on its own worker threads (the retrainer in process 0 only).
    All,
}

/// Runs the chosen dataflows until `stop` is set or one fails; blocks.
pub fn run_dataflows(
    cfg: WorkerConfig,
    retrain: RetrainConfig,
    topology: &Topology,
    which: Dataflows,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    match which {
        Dataflows::Anomaly => run_retrainer(cfg, retrain, stop),
        Dataflows::Benchmarks => run(cfg, topology, stop),
        Dataflows::Intake => run_intake(cfg, topology, 0, stop),
        Dataflows::Findings => run_findings(cfg, topology, 0, stop),
        Dataflows::All => {
            let spawn = |f: fn(WorkerConfig, &Topology, u16, Arc<AtomicBool>) -> Result<()>, offset: u16| {
                let (c, s, t) = (cfg.clone(), stop.clone(), topology.clone());
                std::thread::spawn(move || f(c, &t, offset, s))
            };
            let intake = spawn(run_intake, INTAKE_PORT_OFFSET);
            let findings = spawn(run_findings, FINDINGS_PORT_OFFSET);
            let retrainer = (topology.process == 0).then(|| {
                let (c, s) = (cfg.clone(), stop.clone());
                std::thread::spawn(move || run_retrainer(c, retrain, s))
            });
            let r = run(cfg.clone(), topology, stop.clone());
            // One failing stops the others: the process exits and its supervisor restarts all.
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let i = intake.join().map_err(|_| anyhow!("intake thread panicked"))?;
            let f = findings.join().map_err(|_| anyhow!("findings thread panicked"))?;
            let a = match retrainer {
                Some(t) => t.join().map_err(|_| anyhow!("retrainer thread panicked"))?,
                None => Ok(()),
            };
            r.and(i).and(f).and(a)
        }
    }
}

/// The anomaly retrainer: trains and saves a new model when enough new claims arrived.
pub fn run_retrainer(cfg: WorkerConfig, retrain: RetrainConfig, stop: Arc<AtomicBool>) -> Result<()> {
    dataflows::anomaly::run_retrainer(&cfg, &retrain, stop).map_err(|e| anyhow!("anomaly retrainer: {e}"))
}

/// The findings dataflow, with its own consumer group and progress file.
pub fn run_findings(cfg: WorkerConfig, topology: &Topology, port_offset: u16, stop: Arc<AtomicBool>) -> Result<()> {
    let config = timely_config_at(topology, port_offset)?;
    let cfg = WorkerConfig { group: dataflows::findings::runtime::GROUP.into(), ..cfg };
    let guards =
        timely::execute(config, move |worker| dataflows::findings::runtime::run_worker(worker, &cfg, stop.clone()))
            .map_err(|e| anyhow!("starting timely workers: {e}"))?;
    join(guards)
}

/// The intake dataflow (documents → OCR → line items).
pub fn run_intake(cfg: WorkerConfig, topology: &Topology, port_offset: u16, stop: Arc<AtomicBool>) -> Result<()> {
    let config = timely_config_at(topology, port_offset)?;
    let limits = udfs::ocr::Limits::default();
    let guards = timely::execute(config, move |worker| {
        dataflows::intake::runtime::run_worker(worker, &cfg, limits.clone(), stop.clone())
    })
    .map_err(|e| anyhow!("starting timely workers: {e}"))?;
    join(guards)
}

fn join<T: Send + 'static>(
    guards: timely::communication::initialize::WorkerGuards<dataflows::Result<T>>,
) -> Result<()> {
    for (i, r) in guards.join().into_iter().enumerate() {
        match r {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => bail!("worker {i} failed (retryable: {}): {e}", e.is_retryable()),
            Err(e) => bail!("worker {i} panicked: {e}"),
        }
    }
    Ok(())
}

/// Runs the benchmarks workers until `stop` is set or one fails; blocks.
pub fn run(cfg: WorkerConfig, topology: &Topology, stop: Arc<AtomicBool>) -> Result<()> {
    let config = timely_config(topology)?;
    let guards = timely::execute(config, move |worker| dataflows::runtime::run_worker(worker, &cfg, stop.clone()))
        .map_err(|e| anyhow!("starting timely workers: {e}"))?;
    join(guards)
}
