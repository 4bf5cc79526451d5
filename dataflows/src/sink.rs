//! Worker 0's sink for the benchmarks dataflow: the `benchmarks` topic (compacted, latest value
//! per key), the `tables/benchmarks` Parquet changelog, dead letters, then the progress file and
//! the consumer-group commit — in that order, so a commit never runs ahead of durable output.
use crate::benchmarks::{BenchKey, Graph, RefBench, RefStats, Time, Update, SRC_CLAIMS};
use crate::metrics::metrics;
use crate::{Result, WorkerConfig};
use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use connectors::kafka::sink::Sink;
use connectors::kafka::source::OffsetCommitter;
use connectors::objstore::progress::{self, SinkProgress};
use connectors::objstore::{parquet, Store};
use rust_decimal::Decimal;
use schemas::topics::{BENCHMARKS, CLAIMS_LINES, DLQ, REFERENCE_PRICES};
use schemas::Benchmark;
use std::sync::Arc;
use std::time::{Duration, Instant};
use udfs::stats::ChargeStats;

/// Name of this sink's progress file (`_state/benchmarks/<group>.json`).
pub const SINK: &str = "benchmarks";
pub const TABLE_DIR: &str = "tables/benchmarks";
pub(crate) const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

pub struct BenchmarksSink {
    store: Store,
    rt: Arc<tokio::runtime::Runtime>,
    producer: Sink,
    committer: OffsetCommitter,
    /// Output at times ≤ this was made durable by an earlier run: replayed, not written again.
    skip_through: Option<Time>,
    progress: SinkProgress,
    offsets_dirty: bool,
    /// Benchmark versions not yet in a Parquet file, with their time and diff.
    pending: Vec<(Benchmark, Time, isize)>,
    pending_since: Option<Instant>,
    roll_rows: usize,
    roll_interval: Duration,
    frontier: Time,
}

impl BenchmarksSink {
    /// Opens the sink and removes Parquet files written after the last durable progress (a
    /// crash between file and progress file): their rows will be produced again by the replay.
    pub fn open(
        cfg: &WorkerConfig,
        store: Store,
        rt: Arc<tokio::runtime::Runtime>,
        prior: Option<SinkProgress>,
    ) -> Result<Self> {
        let skip_through = prior.as_ref().map(|p| p.time);
        let progress = prior.unwrap_or_else(|| SinkProgress { topic: CLAIMS_LINES.into(), ..Default::default() });
        remove_orphans(&rt, &store, TABLE_DIR, skip_through)?;
        Ok(Self {
            producer: Sink::new(&cfg.kafka)?,
            committer: OffsetCommitter::new(&cfg.kafka, &cfg.group)?,
            store,
            rt,
            skip_through,
            progress,
            offsets_dirty: false,
            pending: vec![],
            pending_since: None,
            roll_rows: cfg.roll_rows,
            roll_interval: Duration::from_millis(cfg.roll_interval_ms),
            frontier: 0,
        })
    }

    pub fn progress(&self) -> &SinkProgress {
        &self.progress
    }

    /// Takes the output the graph has completed, produces it, and rolls a file when due.
    pub fn step(&mut self, graph: &Graph, force: bool) -> Result<()> {
        let _span = tracing::debug_span!("sink.benchmarks").entered();
        let frontier = graph.frontier().unwrap_or(Time::MAX);
        if frontier > self.frontier {
            self.frontier = frontier;
            self.take_complete(graph, frontier)?;
        }
        let due = !self.pending.is_empty() && self.pending.len() >= self.roll_rows
            || (self.offsets_dirty || !self.pending.is_empty())
                && (force || self.pending_since.is_some_and(|s| s.elapsed() >= self.roll_interval));
        if due && self.frontier > 0 {
            self.commit(self.frontier.saturating_sub(1).min(Time::MAX - 1))?;
        }
        Ok(())
    }

    fn take_complete(&mut self, graph: &Graph, frontier: Time) -> Result<()> {
        let skip = self.skip_through;
        let fresh = |t: Time| skip.is_none_or(|s| t > s);
        let (stats, refs, prog, dead) = {
            let mut out = graph.outputs.borrow_mut();
            (
                drain_before(&mut out.stats, frontier),
                drain_before(&mut out.refs, frontier),
                drain_before(&mut out.progress, frontier),
                drain_before(&mut out.dead, frontier),
            )
        };
        for ((src, p, o), _, _) in prog {
            let topic = if src == SRC_CLAIMS { CLAIMS_LINES } else { REFERENCE_PRICES };
            let e = self.progress.offsets_mut(topic).entry(p).or_insert(0);
            if o > *e {
                *e = o;
                self.offsets_dirty = true;
            }
        }
        if self.offsets_dirty && self.pending_since.is_none() {
            self.pending_since = Some(Instant::now());
        }
        for (d, _, _) in dead.into_iter().filter(|(_, t, _)| fresh(*t)) {
            let bytes = schemas::encode(&d)?;
            self.producer.send(DLQ, d.source_topic.as_bytes(), Some(&bytes))?;
            metrics().dead_letters.with_label_values(&[d.stage.as_str()]).inc();
        }
        let mut stats: Vec<_> = stats.into_iter().filter(|(_, t, _)| fresh(*t)).collect();
        let mut refs: Vec<_> = refs.into_iter().filter(|(_, t, _)| fresh(*t)).collect();
        if stats.is_empty() && refs.is_empty() {
            return Ok(());
        }
        stats.sort_by(|a, b| (&a.0 .0, a.1, a.2).cmp(&(&b.0 .0, b.1, b.2)));
        refs.sort_by(|a, b| (&a.0 .0, a.1, a.2).cmp(&(&b.0 .0, b.1, b.2)));
        let versions: Vec<(Benchmark, Time, isize)> = stats
            .iter()
            .map(|((k, s), t, d)| (benchmark(k, Some(s), *t), *t, *d))
            .chain(refs.iter().map(|((k, s), t, d)| (ref_benchmark(k, Some(s), *t), *t, *d)))
            .collect();
        self.produce_latest(&versions)?;
        metrics().records.with_label_values(&["benchmarks", "out"]).inc_by(versions.len() as u64);
        if self.pending_since.is_none() {
            self.pending_since = Some(Instant::now());
        }
        self.pending.extend(versions);
        Ok(())
    }

    /// Produces, per key, its state at the latest time among `sorted` (grouped by key, then time
    /// and diff order): the asserted version, or a tombstone when the key no longer exists.
    fn produce_latest(&mut self, sorted: &[(Benchmark, Time, isize)]) -> Result<()> {
        let keys: Vec<String> = sorted.iter().map(|(b, _, _)| b.key()).collect();
        let mut i = 0;
        while i < sorted.len() {
            let key = &keys[i];
            let mut j = i + 1;
            while j < sorted.len() && keys[j] == *key {
                j += 1;
            }
            let last_t = sorted[j - 1].1;
            match sorted[i..j].iter().find(|(_, t, d)| *t == last_t && *d > 0) {
                Some((b, _, _)) => {
                    let bytes = schemas::encode(b)?;
                    self.producer.send(BENCHMARKS, key.as_bytes(), Some(&bytes))?;
                }
                None => self.producer.send(BENCHMARKS, key.as_bytes(), None)?,
            }
            i = j;
        }
        Ok(())
    }

    /// Makes everything through `through` durable: topic records, Parquet file, progress file,
    /// then the consumer-group offsets.
    fn commit(&mut self, through: Time) -> Result<()> {
        let _span = tracing::info_span!("sink.commit", through, rows = self.pending.len()).entered();
        let batch = if self.pending.is_empty() { None } else { Some(to_batch(&self.pending)?) };
        let out =
            Durable { rt: &self.rt, store: &self.store, producer: &mut self.producer, committer: &self.committer };
        out.make(&mut self.progress, SINK, TABLE_DIR, through, batch, &[CLAIMS_LINES, REFERENCE_PRICES])?;
        self.pending.clear();
        self.pending_since = None;
        self.offsets_dirty = false;
        Ok(())
    }
}

/// What a sink makes durable with, in the one order every sink keeps.
pub(crate) struct Durable<'a> {
    pub rt: &'a tokio::runtime::Runtime,
    pub store: &'a Store,
    pub producer: &'a mut Sink,
    pub committer: &'a OffsetCommitter,
}

impl Durable<'_> {
    /// Everything through `through`: the producer flushed (all acknowledged), the changelog
    /// rows `batch` as `<table_dir>/dt=…/part-<through>.parquet`, the progress file, then the
    /// consumer-group offsets of `topics` — so a commit never runs ahead of durable output.
    pub fn make(
        self,
        progress: &mut SinkProgress,
        sink: &str,
        table_dir: &str,
        through: Time,
        batch: Option<RecordBatch>,
        topics: &[&str],
    ) -> Result<()> {
        self.producer.flush(FLUSH_TIMEOUT)?;
        if let Some(batch) = batch {
            let rows = batch.num_rows();
            let path = part_path_in(table_dir, through);
            self.rt.block_on(self.store.put(&path, parquet::encode(&batch)?.into()))?;
            progress.files += 1;
            tracing::info!(%path, rows, "wrote Parquet file");
        }
        progress.time = through;
        self.rt.block_on(progress::write(self.store, sink, self.committer.group(), progress))?;
        for topic in topics {
            self.committer.commit(topic, &progress.offsets_of(topic))?;
        }
        Ok(())
    }
}

/// Removes the files of a changelog table named past the durable time (written before a crash,
/// without their progress file): the replay produces their rows again.
pub(crate) fn remove_orphans(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    table_dir: &str,
    skip_through: Option<Time>,
) -> Result<()> {
    for file in rt.block_on(store.list(table_dir))? {
        let orphan = part_time(&file).is_some_and(|t| skip_through.is_none_or(|s| t > s));
        if orphan {
            tracing::warn!(%file, "removing Parquet file not covered by the progress file");
            rt.block_on(store.delete(&file))?;
        }
    }
    Ok(())
}

pub(crate) fn drain_before<D>(v: &mut Vec<Update<D>>, frontier: Time) -> Vec<Update<D>> {
    let (done, later): (Vec<_>, Vec<_>) = std::mem::take(v).into_iter().partition(|(_, t, _)| *t < frontier);
    *v = later;
    done
}

/// `tables/benchmarks/dt=YYYY-MM-DD/part-<time>.parquet`: the name carries the durable time it
/// completes, so files beyond the progress file are recognisable after a crash.
pub fn part_path(through: Time) -> String {
    part_path_in(TABLE_DIR, through)
}

/// The same naming for another changelog table.
pub fn part_path_in(table_dir: &str, through: Time) -> String {
    let dt = chrono::DateTime::from_timestamp_millis(through as i64)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "1970-01-01".into());
    format!("{table_dir}/dt={dt}/part-{through:020}.parquet")
}

fn part_time(path: &str) -> Option<Time> {
    let name = path.rsplit('/').next()?;
    name.strip_prefix("part-")?.strip_suffix(".parquet")?.parse().ok()
}

pub fn benchmark(key: &BenchKey, stats: Option<&ChargeStats>, time: Time) -> Benchmark {
    let s = stats.cloned().unwrap_or_else(empty_stats);
    Benchmark {
        code: key.code(),
        modifier: key.modifier(),
        place_of_service: key.place_of_service(),
        scope: "observed".into(),
        kind: "charge".into(),
        source: "claims".into(),
        count: s.count,
        min: s.min,
        median: s.median,
        p90: s.p90,
        max: s.max,
        mean: s.mean,
        effective_from: None,
        source_file: None,
        as_of: time as i64,
    }
}

pub fn ref_benchmark(key: &RefBench, stats: Option<&RefStats>, time: Time) -> Benchmark {
    let s = stats.map(|r| r.stats.clone()).unwrap_or_else(empty_stats);
    Benchmark {
        code: key.code.clone(),
        modifier: key.modifier.clone(),
        place_of_service: String::new(),
        scope: key.scope.clone(),
        kind: key.kind.clone(),
        source: key.source.clone(),
        count: s.count,
        min: s.min,
        median: s.median,
        p90: s.p90,
        max: s.max,
        mean: s.mean,
        effective_from: stats.map(|r| r.effective_from.clone()),
        source_file: stats.map(|r| r.source_file.clone()),
        as_of: time as i64,
    }
}

fn empty_stats() -> ChargeStats {
    ChargeStats {
        count: 0,
        min: Decimal::ZERO,
        median: Decimal::ZERO,
        p90: Decimal::ZERO,
        max: Decimal::ZERO,
        mean: Decimal::ZERO,
    }
}

fn money(values: impl Iterator<Item = Decimal>) -> Result<ArrayRef> {
    Ok(schemas::arrow::money_array(values.map(Some))?)
}

fn to_batch(rows: &[(Benchmark, Time, isize)]) -> Result<RecordBatch> {
    let s = |f: fn(&Benchmark) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| f(&r.0))))
    };
    let o = |f: fn(&Benchmark) -> Option<&str>| -> ArrayRef {
        Arc::new(StringArray::from_iter(rows.iter().map(|r| f(&r.0))))
    };
    let cols: Vec<ArrayRef> = vec![
        s(|b| &b.code),
        s(|b| &b.modifier),
        s(|b| &b.place_of_service),
        s(|b| &b.scope),
        s(|b| &b.kind),
        s(|b| &b.source),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0.count))),
        money(rows.iter().map(|r| r.0.min))?,
        money(rows.iter().map(|r| r.0.median))?,
        money(rows.iter().map(|r| r.0.p90))?,
        money(rows.iter().map(|r| r.0.max))?,
        money(rows.iter().map(|r| r.0.mean))?,
        o(|b| b.effective_from.as_deref()),
        o(|b| b.source_file.as_deref()),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1 as i64))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2 as i64))),
    ];
    Ok(RecordBatch::try_new(schemas::arrow::benchmarks_changes(), cols)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_carry_their_time() {
        let p = part_path(1_764_450_000_123);
        assert_eq!(p, "tables/benchmarks/dt=2025-11-29/part-00000001764450000123.parquet");
        assert_eq!(part_time(&p), Some(1_764_450_000_123));
        assert_eq!(part_time("tables/benchmarks/dt=x/other.parquet"), None);
    }

    /// A crash after a Parquet file but before its progress file leaves a file past the durable
    /// time: opening the sink removes it (the replay produces its rows again) and keeps the rest.
    #[test]
    fn open_removes_files_past_the_durable_time() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = WorkerConfig::new(
            connectors::kafka::KafkaConfig::new("127.0.0.1:9"),
            connectors::objstore::StoreConfig::local(dir.path().to_str().unwrap()),
        );
        let store = Store::open(&cfg.store).unwrap();
        let rt = Arc::new(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
        let (kept, orphan) = (part_path(1_000), part_path(2_000));
        for p in [&kept, &orphan] {
            rt.block_on(store.put(p, bytes::Bytes::from_static(b"x"))).unwrap();
        }
        let prior = SinkProgress {
            time: 1_500,
            topic: CLAIMS_LINES.into(),
            offsets: [(0, 7)].into(),
            files: 1,
            ..Default::default()
        };
        let sink = BenchmarksSink::open(&cfg, store.clone(), rt.clone(), Some(prior.clone())).unwrap();
        assert_eq!(sink.progress(), &prior);
        assert!(rt.block_on(store.exists(&kept)).unwrap());
        assert!(!rt.block_on(store.exists(&orphan)).unwrap());
        // With no progress at all, every file is past it.
        drop(sink);
        BenchmarksSink::open(&cfg, store.clone(), rt.clone(), None).unwrap();
        assert!(!rt.block_on(store.exists(&kept)).unwrap());
    }
}
