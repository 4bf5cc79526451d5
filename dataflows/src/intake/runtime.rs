//! The intake worker loop over Kafka. Each worker owns partitions p mod peers of
//! `documents.uploaded` and of `documents.ocr`:
//!
//! - uploads go into the OCR graph (pages spread over all workers); each finished document is
//!   produced to `documents.ocr`, or to `dlq` with the reason it could not be read;
//! - OCR results are extracted (pure, `udfs::extract`) into `bill.lines` records and the
//!   document's `bill_lines` Parquet file, or a dead letter when no table could be read.
//!
//! Offsets are committed to each stage's group after its output is flushed, and only up to the
//! first document still in flight, so a crash re-reads (at least once) and never skips; the
//! records are keyed by document and the Parquet file is named by it, so a re-read replaces.
use super::graph::{build, DocTask, Fetch, OcrOutcome};
use super::lines::{bill_lines, part_path, to_batch};
use super::{EXTRACT_GROUP, EXTRACT_STAGE, OCR_GROUP, OCR_STAGE};
use crate::runtime::{io_runtime, now_ms};
use crate::{Result, WorkerConfig};
use connectors::kafka::admin::partition_count;
use connectors::kafka::lag::group_lag;
use connectors::kafka::sink::Sink;
use connectors::kafka::source::{OffsetCommitter, PartitionReader, SourceRecord};
use connectors::objstore::{parquet, Store};
use schemas::records::{DocumentUploaded, OcrResult};
use schemas::topics::{BILL_LINES, DLQ, DOCUMENTS_OCR, DOCUMENTS_UPLOADED};
use schemas::{wire, DeadLetter};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use udfs::extract::extract;
use udfs::ocr::Limits;

const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);
/// Documents a worker has in the OCR graph at once; past it the source is paused.
const MAX_IN_FLIGHT: usize = 4;

/// Offsets of one topic's partitions: in flight, and the next offset to commit.
#[derive(Default)]
struct Positions {
    in_flight: BTreeMap<i32, BTreeSet<i64>>,
    next: BTreeMap<i32, i64>,
    dirty: bool,
}

impl Positions {
    fn start(&mut self, p: i32, o: i64) {
        self.in_flight.entry(p).or_default().insert(o);
        self.next.entry(p).or_insert(o);
    }
    fn finish(&mut self, p: i32, o: i64) {
        let set = self.in_flight.entry(p).or_default();
        set.remove(&o);
        let next = self.next.entry(p).or_insert(0);
        *next = (*next).max(o + 1);
        self.dirty = true;
    }
    fn count(&self) -> usize {
        self.in_flight.values().map(BTreeSet::len).sum()
    }
    /// Per partition: the first offset still in flight, else one past the last finished.
    fn committable(&self) -> BTreeMap<i32, i64> {
        self.next
            .iter()
            .map(|(p, n)| (*p, self.in_flight.get(p).and_then(|s| s.iter().next().copied()).unwrap_or(*n)))
            .collect()
    }
}

fn starts(cfg: &WorkerConfig, group: &str, topic: &str, index: usize, peers: usize) -> Result<BTreeMap<i32, i64>> {
    let parts = partition_count(&cfg.kafka, topic, Duration::from_secs(30))?;
    let lag = group_lag(&cfg.kafka, group, topic, Duration::from_secs(30))?;
    Ok((0..parts)
        .filter(|p| *p as usize % peers == index)
        .map(|p| (p, lag.iter().find(|l| l.partition == p).and_then(|l| l.committed).unwrap_or(0)))
        .collect())
}

fn dead(stage: &str, topic: &str, rec: &SourceRecord, error: String) -> DeadLetter {
    DeadLetter {
        stage: stage.into(),
        error,
        source_topic: topic.into(),
        source_partition: rec.partition,
        source_offset: rec.offset,
        key: rec.key.clone(),
        payload: rec.payload.clone(),
        at: now_ms() as i64,
    }
}

fn send_dead(sink: &mut Sink, d: &DeadLetter) -> Result<()> {
    tracing::warn!(stage = %d.stage, partition = d.source_partition, offset = d.source_offset, error = %d.error, "dead letter");
    sink.send(DLQ, d.source_topic.as_bytes(), Some(&wire::encode(d)?))?;
    Ok(())
}

/// Runs one intake worker until `stop` is set.
pub fn run_worker(
    worker: &mut timely::worker::Worker,
    cfg: &WorkerConfig,
    limits: Limits,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    let (index, peers) = (worker.index(), worker.peers());
    let span = tracing::info_span!("intake_worker", index, peers);
    let _e = span.enter();
    let rt = io_runtime()?;
    let store = Store::open(&cfg.store)?;
    let fetch: Fetch = {
        let (store, rt) = (store.clone(), rt.clone());
        Arc::new(move |key: &str| match rt.block_on(store.get(key)) {
            Ok(Some(b)) => Ok(Arc::new(b.to_vec())),
            Ok(None) => Err(format!("object {key} is not in the store")),
            Err(e) => Err(e.to_string()),
        })
    };
    let mut graph = build(worker, fetch, limits, "eng");
    let uploads = PartitionReader::assign(
        &cfg.kafka,
        OCR_GROUP,
        DOCUMENTS_UPLOADED,
        &starts(cfg, OCR_GROUP, DOCUMENTS_UPLOADED, index, peers)?,
    )?;
    let ocrs = PartitionReader::assign(
        &cfg.kafka,
        EXTRACT_GROUP,
        DOCUMENTS_OCR,
        &starts(cfg, EXTRACT_GROUP, DOCUMENTS_OCR, index, peers)?,
    )?;
    let ocr_commit = OffsetCommitter::new(&cfg.kafka, OCR_GROUP)?;
    let extract_commit = OffsetCommitter::new(&cfg.kafka, EXTRACT_GROUP)?;
    let mut sink = Sink::new(&cfg.kafka)?;
    let mut up_pos = Positions::default();
    let mut ocr_pos = Positions::default();
    let mut payloads: BTreeMap<(i32, i64), SourceRecord> = BTreeMap::new();
    let mut t: u64 = 1;
    let mut batch = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        // Uploads → the OCR graph, bounded by MAX_IN_FLIGHT.
        if up_pos.count() < MAX_IN_FLIGHT {
            batch.clear();
            uploads.poll_batch(MAX_IN_FLIGHT - up_pos.count(), Duration::from_millis(20), &mut batch)?;
            for rec in batch.drain(..) {
                match wire::decode::<DocumentUploaded>(&rec.payload) {
                    Ok(u) => {
                        up_pos.start(rec.partition, rec.offset);
                        graph.input.send(DocTask {
                            doc_id: u.doc_id,
                            kind: u.kind,
                            object_key: u.object_key,
                            uploaded_at: u.uploaded_at,
                            owner: index as u64,
                            partition: rec.partition,
                            offset: rec.offset,
                        });
                        payloads.insert((rec.partition, rec.offset), rec);
                    }
                    Err(e) => {
                        up_pos.start(rec.partition, rec.offset);
                        up_pos.finish(rec.partition, rec.offset);
                        send_dead(&mut sink, &dead(OCR_STAGE, DOCUMENTS_UPLOADED, &rec, format!("decode: {e}")))?;
                    }
                }
            }
        }
        t += 1;
        graph.input.advance_to(t);
        worker.step();
        let done: Vec<OcrOutcome> = graph.outcomes.borrow_mut().drain(..).collect();
        for o in done {
            let (p, off) = (o.doc.partition, o.doc.offset);
            let rec = payloads.remove(&(p, off));
            match o.result {
                Ok(ocr) => {
                    let words: usize = ocr.pages.iter().map(|pg| pg.words.len()).sum();
                    tracing::info!(doc = %ocr.doc_id, pages = ocr.pages.len(), words, "read");
                    sink.send(DOCUMENTS_OCR, ocr.doc_id.as_bytes(), Some(&wire::encode(&ocr)?))?;
                }
                Err(reason) => {
                    if let Some(rec) = &rec {
                        send_dead(&mut sink, &dead(OCR_STAGE, DOCUMENTS_UPLOADED, rec, reason))?;
                    }
                }
            }
            up_pos.finish(p, off);
        }

        // OCR results → line items.
        batch.clear();
        ocrs.poll_batch(16, Duration::from_millis(if up_pos.count() > 0 { 0 } else { 20 }), &mut batch)?;
        for rec in batch.drain(..) {
            ocr_pos.start(rec.partition, rec.offset);
            let _span = tracing::info_span!("intake.extract", partition = rec.partition, offset = rec.offset).entered();
            match wire::decode::<OcrResult>(&rec.payload) {
                Err(e) => send_dead(&mut sink, &dead(EXTRACT_STAGE, DOCUMENTS_OCR, &rec, format!("decode: {e}")))?,
                Ok(ocr) => {
                    let ex = extract(&ocr.pages, Some(ocr.kind));
                    if ex.lines.is_empty() {
                        let why = ex.warnings.join("; ");
                        send_dead(
                            &mut sink,
                            &dead(EXTRACT_STAGE, DOCUMENTS_OCR, &rec, format!("no line items: {why}")),
                        )?;
                    } else {
                        let rows = bill_lines(&ocr.doc_id, ocr.kind, &ex);
                        for r in &rows {
                            sink.send(BILL_LINES, ocr.doc_id.as_bytes(), Some(&wire::encode(r)?))?;
                        }
                        let bytes = parquet::encode(&to_batch(&rows)?)?;
                        rt.block_on(store.put(&part_path(&ocr.doc_id, ocr.uploaded_at), bytes.into()))?;
                        tracing::info!(doc = %ocr.doc_id, lines = rows.len(), warnings = ex.warnings.len(), "extracted");
                    }
                }
            }
            ocr_pos.finish(rec.partition, rec.offset);
        }

        if up_pos.dirty || ocr_pos.dirty {
            sink.flush(FLUSH_TIMEOUT)?;
            if up_pos.dirty {
                ocr_commit.commit(DOCUMENTS_UPLOADED, &up_pos.committable())?;
                up_pos.dirty = false;
            }
            if ocr_pos.dirty {
                extract_commit.commit(DOCUMENTS_OCR, &ocr_pos.committable())?;
                ocr_pos.dirty = false;
            }
        }
    }
    sink.flush(FLUSH_TIMEOUT)?;
    Ok(())
}
