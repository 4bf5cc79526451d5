//! Worker 0's sink for the findings stage: every finding change to the `findings` topic (a
//! Finding with `diff` +1 or −1, keyed by document), the `tables/findings` Parquet changelog,
//! the rules' warnings to `dlq`, then the progress file and the consumer-group commit of every
//! input topic — in that order, as the benchmarks sink does, so a commit never runs ahead of
//! durable output.
use super::graph::{Graph, Outputs};
use super::runtime::{SINK, TOPICS};
use crate::benchmarks::{Time, Update};
use crate::metrics::metrics;
use crate::sink::Durable;
use crate::{Result, WorkerConfig};
use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use connectors::kafka::sink::Sink;
use connectors::kafka::source::OffsetCommitter;
use connectors::objstore::progress::SinkProgress;
use connectors::objstore::Store;
use schemas::topics::{BILL_LINES, DLQ, FINDINGS};
use schemas::{DeadLetter, Finding};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const TABLE_DIR: &str = "tables/findings";
/// Stage of the dead letters that carry the rules' warnings (input the rules could not use).
pub const WARNING_STAGE: &str = "findings.rules";

pub struct FindingsSink {
    store: Store,
    rt: Arc<tokio::runtime::Runtime>,
    producer: Sink,
    committer: OffsetCommitter,
    /// Output at times ≤ this was made durable by an earlier run: replayed, not written again.
    skip_through: Option<Time>,
    progress: SinkProgress,
    offsets_dirty: bool,
    pending: Vec<Update<Finding>>,
    pending_since: Option<Instant>,
    roll_rows: usize,
    roll_interval: Duration,
    frontier: Time,
}

impl FindingsSink {
    /// Opens the sink and removes Parquet files written after the last durable progress.
    pub fn open(
        cfg: &WorkerConfig,
        store: Store,
        rt: Arc<tokio::runtime::Runtime>,
        prior: Option<SinkProgress>,
    ) -> Result<Self> {
        let skip_through = prior.as_ref().map(|p| p.time);
        let progress = prior.unwrap_or_else(|| SinkProgress { topic: BILL_LINES.into(), ..Default::default() });
        crate::sink::remove_orphans(&rt, &store, TABLE_DIR, skip_through)?;
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

    /// Takes the output the graph has completed, produces it, and rolls a file when due.
    pub fn step(&mut self, graph: &Graph, force: bool) -> Result<()> {
        let _span = tracing::debug_span!("sink.findings").entered();
        let frontier = graph.frontier().unwrap_or(Time::MAX);
        if frontier > self.frontier {
            self.frontier = frontier;
            self.take_complete(&mut graph.outputs.borrow_mut(), frontier)?;
        }
        let due = self.pending.len() >= self.roll_rows
            || (self.offsets_dirty || !self.pending.is_empty())
                && (force || self.pending_since.is_some_and(|s| s.elapsed() >= self.roll_interval));
        if due && self.frontier > 0 {
            self.commit(self.frontier.saturating_sub(1).min(Time::MAX - 1))?;
        }
        Ok(())
    }

    fn take_complete(&mut self, out: &mut Outputs, frontier: Time) -> Result<()> {
        let skip = self.skip_through;
        let fresh = |t: Time| skip.is_none_or(|s| t > s);
        let findings = crate::sink::drain_before(&mut out.findings, frontier);
        let warnings = crate::sink::drain_before(&mut out.warnings, frontier);
        for ((src, p, o), _, _) in crate::sink::drain_before(&mut out.progress, frontier) {
            let Some((_, topic)) = TOPICS.iter().find(|(s, _)| *s == src) else { continue };
            let e = self.progress.offsets_mut(topic).entry(p).or_insert(0);
            if o > *e {
                *e = o;
                self.offsets_dirty = true;
            }
        }
        if self.offsets_dirty && self.pending_since.is_none() {
            self.pending_since = Some(Instant::now());
        }
        for (d, _, _) in crate::sink::drain_before(&mut out.dead, frontier).into_iter().filter(|(_, t, _)| fresh(*t)) {
            self.dead_letter(&d)?;
        }
        // Warnings are said once, when they appear; a retracted warning needs no dead letter.
        for (w, t, _) in warnings.into_iter().filter(|(_, t, d)| fresh(*t) && *d > 0) {
            let payload = serde_json::to_vec(&w).unwrap_or_default();
            let d = DeadLetter {
                stage: WARNING_STAGE.into(),
                error: w.message.clone(),
                source_topic: BILL_LINES.into(),
                // A warning is derived from a document, not read at one offset.
                source_partition: -1,
                source_offset: -1,
                key: Some(w.doc_id.into_bytes()),
                payload,
                at: t as i64,
            };
            self.dead_letter(&d)?;
        }
        let mut changes: Vec<Update<Finding>> = findings.into_iter().filter(|(_, t, _)| fresh(*t)).collect();
        if changes.is_empty() {
            return Ok(());
        }
        changes.sort_by(|a, b| (a.1, a.2 > 0, &a.0.doc_id).cmp(&(b.1, b.2 > 0, &b.0.doc_id)));
        for (f, _, d) in &changes {
            // Retractions first within a time (sorted above): a reader applying the topic in
            // order never holds both the old and the new version of a finding.
            let change = Finding { diff: if *d > 0 { 1 } else { -1 }, ..f.clone() };
            let bytes = schemas::encode(&change)?;
            for _ in 0..d.unsigned_abs() {
                self.producer.send(FINDINGS, f.doc_id.as_bytes(), Some(&bytes))?;
            }
        }
        metrics().records.with_label_values(&["findings", "out"]).inc_by(changes.len() as u64);
        if self.pending_since.is_none() {
            self.pending_since = Some(Instant::now());
        }
        self.pending.extend(changes);
        Ok(())
    }

    fn dead_letter(&mut self, d: &DeadLetter) -> Result<()> {
        let bytes = schemas::encode(d)?;
        self.producer.send(DLQ, d.source_topic.as_bytes(), Some(&bytes))?;
        metrics().dead_letters.with_label_values(&[d.stage.as_str()]).inc();
        Ok(())
    }

    /// Makes everything through `through` durable, in the benchmarks sink's order.
    fn commit(&mut self, through: Time) -> Result<()> {
        let _span = tracing::info_span!("sink.findings.commit", through, rows = self.pending.len()).entered();
        let batch = if self.pending.is_empty() { None } else { Some(to_batch(&self.pending)?) };
        let out =
            Durable { rt: &self.rt, store: &self.store, producer: &mut self.producer, committer: &self.committer };
        let topics: Vec<&str> = TOPICS.iter().map(|(_, t)| *t).collect();
        out.make(&mut self.progress, SINK, TABLE_DIR, through, batch, &topics)?;
        self.pending.clear();
        self.pending_since = None;
        self.offsets_dirty = false;
        Ok(())
    }
}

fn to_batch(rows: &[Update<Finding>]) -> Result<RecordBatch> {
    let s = |f: &dyn Fn(&Finding) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| f(&r.0))))
    };
    let cols: Vec<ArrayRef> = vec![
        s(&|f| f.doc_id.clone()),
        s(&|f| f.kind.clone()),
        s(&|f| f.severity.clone()),
        s(&|f| f.lines.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",")),
        schemas::arrow::money_array(rows.iter().map(|r| Some(r.0.amount_at_issue)))?,
        s(&|f| f.explanation.clone()),
        s(&|f| serde_json::to_string(&f.evidence).unwrap_or_default()),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1 as i64))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2 as i64))),
    ];
    Ok(RecordBatch::try_new(schemas::arrow::findings_changes(), cols)?)
}
