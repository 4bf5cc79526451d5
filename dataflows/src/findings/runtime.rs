//! The findings stage over Kafka: the generic worker loop (`runtime::drive`) with the findings
//! graph, its inputs' upsert state and worker 0's sink.
//!
//! Inputs and what each worker keeps of them (partition p of each topic → worker p mod peers):
//! - `bill.lines` (key: doc id): the latest version of each (doc, line); a new version retracts
//!   the old one. A line the patient corrected is not overwritten by the machine's reading.
//! - `bill.corrections` (key: doc id): a patient's edit replaces or deletes one line.
//! - `documents.uploaded`: which case a document belongs to (a bill meets its EOB and GFE there).
//! - `reference.edits`: NCCI, MUE and code-set entries, each once; worker 0 adds the lab panel
//!   compositions the project ships.
//! - `benchmarks` (compacted, key per benchmark): the latest value per key; a tombstone retracts.
//! - the anomaly model: worker 0 looks for a newer version in the object store every few
//!   seconds (the retrainer saves them) and puts it in force: the graph broadcasts it to every
//!   worker and re-scores every bill with it.
//!
//! Bad records become dead letters with the reason; nothing stops the stage.
use super::graph::{self, CaseId, DocId, Graph};
use super::line::Ln;
use super::sink::FindingsSink;
use crate::benchmarks::Time;
use crate::metrics::metrics;
use crate::runtime::{dead_record, drive, io_runtime, Stage};
use crate::{Result, WorkerConfig};
use connectors::kafka::source::SourceRecord;
use connectors::objstore::{models, progress, Store};
use schemas::records::{BillCorrection, BillLine, DocumentUploaded};
use schemas::topics::{BENCHMARKS, BILL_CORRECTIONS, BILL_LINES, DOCUMENTS_UPLOADED, REFERENCE_EDITS};
use schemas::{Benchmark, RefEdit};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The consumer group the findings stage commits to (what `billstream lag` shows for it).
pub const GROUP: &str = "billstream-findings";
/// Name of the progress file (`_state/findings/<group>.json`).
pub const SINK: &str = "findings";
pub const STAGE: &str = "findings.decode";

pub const SRC_LINES: u8 = 0;
pub const SRC_CORRECTIONS: u8 = 1;
pub const SRC_DOCUMENTS: u8 = 2;
pub const SRC_EDITS: u8 = 3;
pub const SRC_BENCHMARKS: u8 = 4;
pub const TOPICS: [(u8, &str); 5] = [
    (SRC_LINES, BILL_LINES),
    (SRC_CORRECTIONS, BILL_CORRECTIONS),
    (SRC_DOCUMENTS, DOCUMENTS_UPLOADED),
    (SRC_EDITS, REFERENCE_EDITS),
    (SRC_BENCHMARKS, BENCHMARKS),
];

/// Runs one findings worker until `stop` is set. `cfg.group` should be `GROUP` (the binary sets
/// it), so the stage's offsets and progress are its own.
pub fn run_worker(worker: &mut timely::worker::Worker, cfg: &WorkerConfig, stop: Arc<AtomicBool>) -> Result<()> {
    let index = worker.index();
    let rt = io_runtime()?;
    let store = Store::open(&cfg.store)?;
    let prior = rt.block_on(progress::read(&store, SINK, &cfg.group))?;
    let graph = graph::build(worker);
    let sink = if index == 0 { Some(FindingsSink::open(cfg, store, rt.clone(), prior.clone())?) } else { None };
    let mut stage = FindingsStage::new(graph, sink);
    if index == 0 {
        stage.models =
            Some(ModelWatch { store: Store::open(&cfg.store)?, rt, model: MODEL.into(), current: None, polled: None });
        // Shipped with the project: the panels are edits whether or not a PTP file was loaded.
        for e in udfs::rules::panels::panel_edits() {
            stage.edit(e);
        }
    }
    drive(worker, cfg, stop, &mut stage, prior.as_ref())
}

/// The findings graph with the upsert state of its inputs (this worker's partitions only).
pub struct FindingsStage {
    pub graph: Graph,
    lines: HashMap<(DocId, i32), Ln>,
    corrected: HashSet<(DocId, i32)>,
    cases: HashMap<DocId, CaseId>,
    edits: HashSet<RefEdit>,
    benchmarks: HashMap<Vec<u8>, Benchmark>,
    sink: Option<FindingsSink>,
    /// Worker 0: the anomaly model in force, from the object store.
    models: Option<ModelWatch>,
}

/// The anomaly model name in the store (`models/anomaly/`), as the retrainer saves it.
pub const MODEL: &str = "anomaly";
/// How often worker 0 looks for a newer model.
const MODEL_POLL: Duration = Duration::from_secs(5);

struct ModelWatch {
    store: Store,
    rt: Arc<tokio::runtime::Runtime>,
    model: String,
    current: Option<(u64, Vec<u8>)>,
    polled: Option<Instant>,
}

impl ModelWatch {
    /// A newer model than the one in force, if the store has one (errors are logged and retried:
    /// findings go on without anomaly scores meanwhile).
    fn newer(&mut self) -> Option<(u64, Vec<u8>)> {
        if self.polled.is_some_and(|t| t.elapsed() < MODEL_POLL) {
            return None;
        }
        self.polled = Some(Instant::now());
        match self.rt.block_on(models::latest_body(&self.store, &self.model)) {
            Ok(Some((v, body))) if self.current.as_ref().is_none_or(|(c, _)| v > *c) => Some((v, body)),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the anomaly model; retrying");
                None
            }
        }
    }
}

impl FindingsStage {
    pub fn new(graph: Graph, sink: Option<FindingsSink>) -> Self {
        Self {
            graph,
            lines: HashMap::new(),
            corrected: HashSet::new(),
            cases: HashMap::new(),
            edits: HashSet::new(),
            benchmarks: HashMap::new(),
            sink,
            models: None,
        }
    }

    /// Replaces (doc, line) with `new` (or removes it): −old +new on the graph.
    fn put_line(&mut self, doc: &str, line_no: i32, new: Option<Ln>) {
        let key = (doc.to_string(), line_no);
        let old = match &new {
            Some(n) => self.lines.insert(key, n.clone()),
            None => self.lines.remove(&key),
        };
        if old == new {
            return;
        }
        if let Some(o) = old {
            self.graph.lines.update((doc.to_string(), o), -1);
        }
        if let Some(n) = new {
            self.graph.lines.update((doc.to_string(), n), 1);
        }
    }

    pub fn edit(&mut self, e: RefEdit) {
        if self.edits.insert(e.clone()) {
            self.graph.edits.update(e, 1);
        }
    }

    fn line(&mut self, rec: &SourceRecord) -> std::result::Result<(), String> {
        let l = schemas::decode::<BillLine>(&rec.payload).map_err(|e| e.to_string())?;
        // (Checked only once some line was corrected: the lookup key costs an allocation.)
        if !self.corrected.is_empty() && self.corrected.contains(&(l.doc_id.clone(), l.line_no)) {
            // The patient's correction stands over a later re-reading of the document.
            return Ok(());
        }
        let ln = Ln::from_bill(&l).map_err(|e| format!("document {}: {e}", l.doc_id))?;
        self.put_line(&l.doc_id, l.line_no, Some(ln));
        Ok(())
    }

    fn correction(&mut self, rec: &SourceRecord) -> std::result::Result<(), String> {
        let c = schemas::decode::<BillCorrection>(&rec.payload).map_err(|e| e.to_string())?;
        let new = c.line.as_ref().map(Ln::from_bill).transpose().map_err(|e| format!("document {}: {e}", c.doc_id))?;
        self.corrected.insert((c.doc_id.clone(), c.line_no));
        self.put_line(&c.doc_id, c.line_no, new);
        Ok(())
    }

    fn document(&mut self, rec: &SourceRecord) -> std::result::Result<(), String> {
        let d = schemas::decode::<DocumentUploaded>(&rec.payload).map_err(|e| e.to_string())?;
        if !self.cases.contains_key(&d.doc_id) {
            self.cases.insert(d.doc_id.clone(), d.case_id.clone());
            if let Some(p) = d.provider {
                self.graph.providers.update((d.doc_id.clone(), p), 1);
            }
            self.graph.cases.update((d.doc_id, d.case_id), 1);
        }
        Ok(())
    }

    fn benchmark(&mut self, rec: &SourceRecord) -> std::result::Result<(), String> {
        let key = rec.key.clone().unwrap_or_default();
        let new = if rec.payload.is_empty() {
            None
        } else {
            let mut b = schemas::decode::<Benchmark>(&rec.payload).map_err(|e| e.to_string())?;
            // `as_of` changes with every version; the graph compares values.
            b.as_of = 0;
            Some(b)
        };
        let old = match &new {
            Some(b) => self.benchmarks.insert(key, b.clone()),
            None => self.benchmarks.remove(&key),
        };
        if old != new {
            if let Some(o) = old {
                self.graph.benchmarks.update(o, -1);
            }
            if let Some(n) = new {
                self.graph.benchmarks.update(n, 1);
            }
        }
        Ok(())
    }
}

impl Stage for FindingsStage {
    fn name(&self) -> &'static str {
        "findings"
    }
    fn topics(&self) -> Vec<(u8, &'static str)> {
        TOPICS.to_vec()
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
        metrics().records.with_label_values(&[STAGE, "in"]).inc();
        let done = match src {
            SRC_LINES => self.line(&rec),
            SRC_CORRECTIONS => self.correction(&rec),
            SRC_DOCUMENTS => self.document(&rec),
            SRC_EDITS => schemas::decode::<RefEdit>(&rec.payload).map(|e| self.edit(e)).map_err(|e| e.to_string()),
            _ => self.benchmark(&rec),
        };
        match done {
            Ok(()) => metrics().records.with_label_values(&[STAGE, "out"]).inc(),
            Err(e) => {
                let topic = TOPICS.iter().find(|(s, _)| *s == src).map_or(BILL_LINES, |(_, t)| *t);
                let d = dead_record(STAGE, topic, e, rec);
                self.graph.dead.update(d, 1);
            }
        }
    }
    fn sink_step(&mut self, force: bool) -> Result<()> {
        if let Some(w) = self.models.as_mut() {
            if let Some(new) = w.newer() {
                tracing::info!(version = new.0, "anomaly model in force");
                if let Some(old) = w.current.take() {
                    self.graph.models.update(old, -1);
                }
                self.graph.models.update(new.clone(), 1);
                w.current = Some(new);
            }
        }
        match self.sink.as_mut() {
            Some(s) => s.step(&self.graph, force),
            None => Ok(()),
        }
    }
}
