//! `billstream worker`: the dataflow as N threads in one process, or as one of several
//! processes (`--processes`, `--process`, `--hostfile`) — the same graph either way.
use anyhow::{anyhow, bail, Context, Result};
use dataflows::WorkerConfig;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use timely::{CommunicationConfig, WorkerConfig as TimelyWorkerConfig};

pub struct Topology {
    pub threads: usize,
    pub processes: usize,
    pub process: usize,
    pub hostfile: Option<std::path::PathBuf>,
}

fn timely_config(t: &Topology) -> Result<timely::Config> {
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
        if addresses.len() != t.processes {
            bail!("hostfile lists {} addresses for {} processes", addresses.len(), t.processes);
        }
        CommunicationConfig::Cluster { threads, process: t.process, addresses, report: false, zerocopy: false }
    };
    Ok(timely::Config { communication, worker: TimelyWorkerConfig::default() })
}

fn read_hostfile(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading hostfile {}", path.display()))?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect())
}

/// Runs the workers until `stop` is set or one fails; blocks.
pub fn run(cfg: WorkerConfig, topology: &Topology, stop: Arc<AtomicBool>) -> Result<()> {
    let config = timely_config(topology)?;
    let guards = timely::execute(config, move |worker| dataflows::runtime::run_worker(worker, &cfg, stop.clone()))
        .map_err(|e| anyhow!("starting timely workers: {e}"))?;
    for (i, r) in guards.join().into_iter().enumerate() {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => bail!("worker {i} failed (retryable: {}): {e}", e.is_retryable()),
            Err(e) => bail!("worker {i} panicked: {e}"),
        }
    }
    Ok(())
}
