//! `billstream bench`: throughput of the benchmarks dataflow, alone and through the broker.
use anyhow::{anyhow, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Claim lines from the in-process generator straight into the graph (no broker, no decode).
pub fn dataflow(lines: usize, changes: usize, workers: usize, batch: usize, json: bool) -> Result<()> {
    let base = testkit::generate::claim_lines(42, lines);
    let later = testkit::generate::replacements_and_voids(42, &base, changes);
    let run = dataflows::inproc::run(vec![base, later], workers, batch).map_err(|e| anyhow!(e))?;
    let secs = run.elapsed.as_secs_f64();
    let rate = run.lines as f64 / secs;
    let out = serde_json::json!({
        "bench": "dataflow", "lines": run.lines, "workers": workers, "batch": batch,
        "seconds": secs, "lines_per_s": rate.round(), "lines_per_s_per_worker": (rate / workers as f64).round(),
        "benchmark_keys": run.benchmarks.len(),
        "changes": changes,
        "changes_seconds": if changes > 0 { Some(run.last_round.as_secs_f64()) } else { None },
    });
    print_result(&out, json);
    Ok(())
}

/// Produces `lines` onto `claims.lines`, then times the workers from start until the consumer
/// group's lag is 0 (everything decoded, aggregated, written to Parquet and committed).
pub fn broker(cfg: &crate::config::Config, lines: usize, threads: usize, json: bool) -> Result<()> {
    let kafka = cfg.kafka();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(connectors::kafka::admin::create_topics(&kafka))?;
    let base = testkit::generate::claim_lines(42, lines);
    let t = Instant::now();
    crate::commands::generate::produce(&kafka, &base, !json)?;
    let produce_s = t.elapsed().as_secs_f64();
    drop(base);

    let stop = Arc::new(AtomicBool::new(false));
    let topology = crate::commands::worker::Topology { threads, processes: 1, process: 0, hostfile: None };
    let (wcfg, wstop) = (cfg.worker(), stop.clone());
    let start = Instant::now();
    let worker = std::thread::spawn(move || crate::commands::worker::run(wcfg, &topology, wstop));
    let group = cfg.worker.group.clone();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let lags =
            connectors::kafka::lag::group_lag(&kafka, &group, schemas::topics::CLAIMS_LINES, Duration::from_secs(5))?;
        let high: i64 = lags.iter().map(|l| l.high_watermark).sum();
        let lag: i64 = lags.iter().map(|l| l.lag).sum();
        if high >= lines as i64 && lag == 0 {
            break;
        }
        if worker.is_finished() {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    worker.join().map_err(|_| anyhow!("worker panicked"))??;
    let rate = lines as f64 / secs;
    let out = serde_json::json!({
        "bench": "broker", "lines": lines, "threads": threads, "seconds": secs,
        "lines_per_s": rate.round(), "produce_seconds": produce_s,
    });
    print_result(&out, json);
    Ok(())
}

fn print_result(v: &serde_json::Value, json: bool) {
    if json {
        println!("{v}");
    } else if let Some(o) = v.as_object() {
        for (k, v) in o {
            println!("{k:>24}: {v}");
        }
    }
}
