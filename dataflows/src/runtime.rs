//! The worker loop of a dataflow stage over Kafka (`Stage`, `drive`), and the benchmarks stage.
//!
//! Partition p of every input topic belongs to worker p mod peers (no group rebalancing). Each loop
//! reads a batch, stamps it with the current time (ms, strictly increasing per worker), records
//! (partition, next offset) at that time, and steps the dataflow; worker 0 runs the sink.
//!
//! Restart: the progress file names a time T and offsets. Every worker replays its partitions
//! from the start, holding its input at T until it has passed those offsets, so state is rebuilt
//! and the sink, which drops output ≤ T, writes only what was not durable before.
use crate::benchmarks::{self, Graph, Time, Versions, SRC_CLAIMS, SRC_PRICES};
use crate::metrics::metrics;
use crate::sink::{BenchmarksSink, SINK};
use crate::{DataflowError, Result, WorkerConfig};
use connectors::kafka::admin::partition_count;
use connectors::kafka::source::{PartitionReader, SourceRecord};
use connectors::objstore::{progress, Store};
use schemas::records::{ClaimLine, RefPrice};
use schemas::topics::{CLAIMS_LINES, REFERENCE_PRICES};
use schemas::DeadLetter;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const DECODE_STAGE: &str = "claims.decode";
pub const PRICES_STAGE: &str = "prices.decode";
/// How far (ms) the output frontier may trail the open time before the partitions are paused.
pub const PAUSE_AFTER_MS: u64 = 5_000;

pub fn now_ms() -> Time {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as Time).unwrap_or(0)
}

/// The single-threaded tokio runtime a worker thread drives its object-store calls with.
pub(crate) fn io_runtime() -> Result<Arc<tokio::runtime::Runtime>> {
    Ok(Arc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DataflowError::Config(format!("tokio runtime: {e}")))?,
    ))
}

/// A graph with its inputs, state and (on worker 0) sink, as the worker loop drives it. The
/// benchmarks and the findings stages implement it; the loop (`drive`) is the same for both.
pub trait Stage {
    /// For metric labels and logs.
    fn name(&self) -> &'static str;
    /// (source id, topic) pairs the stage reads; partition p of each belongs to worker p mod peers.
    fn topics(&self) -> Vec<(u8, &'static str)>;
    fn advance_to(&mut self, t: Time);
    fn flush(&mut self);
    /// The earliest time whose output may still change.
    fn frontier(&self) -> Option<Time>;
    /// Records that the batch at the open time reached `next` in `partition` of `src`.
    fn progress(&mut self, src: u8, partition: i32, next: i64);
    /// Decodes one record into the graph, or into the dead letters with the reason.
    fn ingest(&mut self, src: u8, rec: SourceRecord);
    /// Worker 0: takes completed output, makes it durable when due (`force`: now).
    fn sink_step(&mut self, force: bool) -> Result<()>;
}

/// Runs one timely worker until `stop` is set (then makes its output durable and returns).
pub fn run_worker(worker: &mut timely::worker::Worker, cfg: &WorkerConfig, stop: Arc<AtomicBool>) -> Result<()> {
    let index = worker.index();
    let rt = io_runtime()?;
    let store = Store::open(&cfg.store)?;
    let prior = rt.block_on(progress::read(&store, SINK, &cfg.group))?;
    let graph = benchmarks::build(worker);
    let sink = if index == 0 { Some(BenchmarksSink::open(cfg, store, rt.clone(), prior.clone())?) } else { None };
    let mut stage = BenchmarksStage { graph, versions: Versions::default(), sink };
    drive(worker, cfg, stop, &mut stage, prior.as_ref())
}

struct BenchmarksStage {
    graph: Graph,
    versions: Versions,
    sink: Option<BenchmarksSink>,
}

impl Stage for BenchmarksStage {
    fn name(&self) -> &'static str {
        "benchmarks"
    }
    fn topics(&self) -> Vec<(u8, &'static str)> {
        vec![(SRC_CLAIMS, CLAIMS_LINES), (SRC_PRICES, REFERENCE_PRICES)]
    }
    fn advance_to(&mut self, t: Time) {
        self.graph.advance_to(t)
    }
    fn flush(&mut self) {
        self.graph.flush()
    }
    fn frontier(&self) -> Option<Time> {
        self.graph.frontier()
    }
    fn progress(&mut self, src: u8, partition: i32, next: i64) {
        self.graph.progress.update((src, partition, next), 1)
    }
    fn ingest(&mut self, src: u8, rec: SourceRecord) {
        if src == SRC_PRICES {
            return ingest_price(&mut self.graph, rec);
        }
        ingest_claim(&mut self.graph, &mut self.versions, rec)
    }
    fn sink_step(&mut self, force: bool) -> Result<()> {
        match self.sink.as_mut() {
            Some(s) => s.step(&self.graph, force),
            None => Ok(()),
        }
    }
}

/// The worker loop of a stage: partitions assigned by worker index, replay up to the durable
/// point of `prior`, times that follow the wall clock, backpressure, the sink on worker 0.
pub fn drive<S: Stage>(
    worker: &mut timely::worker::Worker,
    cfg: &WorkerConfig,
    stop: Arc<AtomicBool>,
    stage: &mut S,
    prior: Option<&progress::SinkProgress>,
) -> Result<()> {
    let index = worker.index();
    let peers = worker.peers();
    let span = tracing::info_span!("worker", stage = stage.name(), index, peers);
    let _e = span.enter();
    let t0 = prior.map(|p| p.time).unwrap_or(0);

    // Every input of the graph: partition p of each topic belongs to worker p mod peers.
    let mut sources = vec![];
    for (src, topic) in stage.topics() {
        let partitions = partition_count(&cfg.kafka, topic, Duration::from_secs(30))?;
        let mine: BTreeMap<i32, i64> =
            (0..partitions).filter(|p| *p as usize % peers == index).map(|p| (p, 0)).collect();
        let durable = prior.map(|p| p.offsets_of(topic)).unwrap_or_default();
        // Partitions still replaying: those with durable output beyond offset 0.
        let replaying: BTreeMap<i32, i64> =
            mine.keys().filter_map(|p| durable.get(p).filter(|o| **o > 0).map(|o| (*p, *o))).collect();
        let reader = PartitionReader::assign(&cfg.kafka, &cfg.group, topic, &mine)?;
        sources.push(Source { src, topic, reader, mine, replaying });
    }
    let replaying_any = sources.iter().any(|s| !s.replaying.is_empty());
    if replaying_any {
        for s in &sources {
            for p in s.mine.keys().filter(|p| !s.replaying.contains_key(p)) {
                s.reader.set_partition_paused(*p, true)?;
            }
        }
    }
    tracing::info!(
        partitions = ?sources.first().map(|s| s.mine.keys().collect::<Vec<_>>()),
        t0,
        replaying = sources.iter().map(|s| s.replaying.len()).sum::<usize>(),
        "worker started"
    );

    stage.advance_to(t0);
    let mut last_t = t0;
    let mut open_records = 0usize;
    let mut held: Vec<(u8, SourceRecord)> = vec![];
    let mut batch: Vec<SourceRecord> = Vec::with_capacity(cfg.batch_max);
    let mut next: BTreeMap<(u8, i32), i64> = BTreeMap::new();
    let paused_gauge = metrics().paused.with_label_values(&[&format!("{}/{index}", stage.name())]);
    let lag_gauge = metrics().frontier_lag_ms.with_label_values(&[&format!("{}/{index}", stage.name())]);
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let replay = sources.iter().any(|s| !s.replaying.is_empty());
        if !replay {
            // Time follows the wall clock in ticks (sooner when the open time is full), and a new
            // time opens only when the dataflow has finished the previous ones: arriving records
            // join the open time, so each touched key's results are recomputed once per time,
            // not once per record.
            let now = now_ms();
            let frontier = stage.frontier().unwrap_or(last_t);
            let tick_due = now >= last_t + cfg.tick_ms.max(1) || (open_records >= cfg.batch_max && now > last_t);
            if tick_due && frontier >= last_t {
                stage.advance_to(now);
                last_t = now;
                open_records = 0;
            }
            lag_gauge.set(last_t.saturating_sub(frontier) as i64);
            // Backpressure: a full open time stops reading (librdkafka's bounded prefetch queue
            // then stops fetching); a dataflow more than PAUSE_AFTER_MS behind also pauses the
            // partitions at the broker until it catches up.
            let pause = stopping || last_t.saturating_sub(frontier) > PAUSE_AFTER_MS;
            for s in sources.iter_mut() {
                if pause {
                    s.reader.pause()?;
                } else {
                    s.reader.resume()?;
                }
            }
            paused_gauge.set(sources.first().is_some_and(|s| s.reader.is_paused()) as i64);
        }
        let full = !replay && open_records >= cfg.batch_max;
        let mut batch_len = 0;
        if !replay {
            for (src, rec) in held.drain(..) {
                batch_len += 1;
                next.insert((src, rec.partition), rec.offset + 1);
                stage.ingest(src, rec);
            }
        }
        for s in sources.iter_mut() {
            batch.clear();
            if !s.reader.is_paused() && !full {
                let room = if replay { cfg.batch_max } else { cfg.batch_max.saturating_sub(open_records).max(1) };
                let wait = Duration::from_millis(if replay { 50 } else { 5 });
                if let Err(e) = s.reader.poll_batch(room, wait, &mut batch) {
                    // librdkafka reconnects on its own; a broker outage is waited out, not fatal.
                    if !e.is_retryable() {
                        return Err(e.into());
                    }
                    tracing::warn!(error = %e, topic = s.topic, "fetch failed; retrying");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
            batch_len += batch.len();
            open_records += batch.len();
            for rec in batch.drain(..) {
                if replay {
                    match s.replaying.get(&rec.partition) {
                        Some(target) if rec.offset < *target => {}
                        _ => {
                            // Past the durable point: belongs after T; keep it until replay ends.
                            if s.replaying.remove(&rec.partition).is_some() {
                                s.reader.set_partition_paused(rec.partition, true)?;
                            }
                            held.push((s.src, rec));
                            continue;
                        }
                    }
                }
                next.insert((s.src, rec.partition), rec.offset + 1);
                stage.ingest(s.src, rec);
            }
            if replay {
                // A partition can also end its replay without a record at its target (e.g. caught up).
                for (p, pos) in s.reader.positions()? {
                    if let (Some(target), Some(pos)) = (s.replaying.get(&p), pos) {
                        if pos >= *target {
                            s.replaying.remove(&p);
                            s.reader.set_partition_paused(p, true)?;
                        }
                    }
                }
            }
        }
        if replay && sources.iter().all(|s| s.replaying.is_empty()) {
            tracing::info!(t0, "replay done");
            for s in &sources {
                for p in s.mine.keys() {
                    s.reader.set_partition_paused(*p, false)?;
                }
            }
        }
        for ((src, p), o) in std::mem::take(&mut next) {
            stage.progress(src, p, o);
        }
        let idle = batch_len == 0;
        stage.flush();
        // Park briefly when there was nothing to read, so an idle or paused worker does not spin.
        let paused = sources.iter().all(|s| s.reader.is_paused());
        worker.step_or_park(Some(if idle && (paused || full) { Duration::from_millis(1) } else { Duration::ZERO }));
        stage.sink_step(false)?;
        if stopping && !replay {
            return drain_and_stop(worker, stage, last_t);
        }
    }
}

/// One input topic of the graph as read by this worker.
struct Source {
    src: u8,
    topic: &'static str,
    reader: PartitionReader,
    mine: BTreeMap<i32, i64>,
    /// Partition → offset through which output is already durable (replay in progress).
    replaying: BTreeMap<i32, i64>,
}

fn ingest_price(graph: &mut Graph, rec: SourceRecord) {
    metrics().records.with_label_values(&[PRICES_STAGE, "in"]).inc();
    match schemas::decode::<RefPrice>(&rec.payload) {
        Ok(p) => {
            // Only CPT/HCPCS prices become benchmarks; the rest is reference data for later stages.
            if let Some(fact) = benchmarks::price_fact(&p) {
                graph.prices.update(fact, 1);
            }
            metrics().records.with_label_values(&[PRICES_STAGE, "out"]).inc();
        }
        Err(e) => dead_letter(graph, PRICES_STAGE, REFERENCE_PRICES, e.to_string(), rec),
    }
}

fn dead_letter(graph: &mut Graph, stage: &str, topic: &str, error: String, rec: SourceRecord) {
    graph.dead.update(dead_record(stage, topic, error, rec), 1);
}

/// The dead letter of a record that could not be used, with the reason.
pub fn dead_record(stage: &str, topic: &str, error: String, rec: SourceRecord) -> DeadLetter {
    tracing::warn!(topic, partition = rec.partition, offset = rec.offset, %error, "dead letter");
    DeadLetter {
        stage: stage.into(),
        error,
        source_topic: topic.into(),
        source_partition: rec.partition,
        source_offset: rec.offset,
        key: rec.key,
        payload: rec.payload,
        at: now_ms() as i64,
    }
}

/// Decodes one claim line into the graph.
fn ingest_claim(graph: &mut Graph, versions: &mut Versions, rec: SourceRecord) {
    metrics().records.with_label_values(&[DECODE_STAGE, "in"]).inc();
    let lines = &mut graph.lines;
    let applied = schemas::decode::<ClaimLine>(&rec.payload).map_err(|e| e.to_string()).and_then(|line| {
        // Versions of a claim must share a partition (and so a worker): the key is the claim id.
        if rec.key.as_deref() != Some(line.claim_id.as_bytes()) {
            return Err(format!(
                "record key {:?} is not the claim id {:?}; claims.lines is keyed by claim id",
                rec.key.as_deref().map(String::from_utf8_lossy),
                line.claim_id
            ));
        }
        versions.apply(&line, |c, d| lines.update(c, d)).ok_or_else(|| {
            format!(
                "claim {} line {}: code, modifier, place of service or charge cannot be keyed",
                line.claim_id, line.line_no
            )
        })
    });
    match applied {
        Ok(()) => metrics().records.with_label_values(&[DECODE_STAGE, "out"]).inc(),
        Err(e) => dead_letter(graph, DECODE_STAGE, CLAIMS_LINES, e, rec),
    }
}

/// Closes the inputs, lets the dataflow finish, and makes the sink durable.
fn drain_and_stop<S: Stage>(worker: &mut timely::worker::Worker, stage: &mut S, last_t: Time) -> Result<()> {
    stage.advance_to(last_t + 1);
    stage.flush();
    while stage.frontier().is_some_and(|f| f < last_t + 1) {
        worker.step_or_park(Some(Duration::from_millis(1)));
    }
    stage.sink_step(true)
}
