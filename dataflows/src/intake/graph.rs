//! The OCR graph: documents in, words out, pages spread over all workers.
//!
//! The worker that read a document (its owner) checks it and either reads its text layer at once
//! or splits it into page jobs; jobs are exchanged by (document, page) so a long scan keeps every
//! worker busy; finished pages go back to the owner, which emits the document when its last page
//! arrives. The owner is also the only worker that commits the document's source offset.
use schemas::records::{DocumentKind, OcrMethod, OcrPage, OcrResult};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use timely::dataflow::operators::core::Map;
use timely::dataflow::operators::probe::Handle;
use timely::dataflow::operators::{Exchange, Input, Inspect, Probe};
use timely::dataflow::InputHandleVec as InputHandle;
use udfs::ocr::{prepare, Engine, Limits, PageJob, Prepared};

/// A document to read and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocTask {
    pub doc_id: String,
    pub kind: DocumentKind,
    pub object_key: String,
    pub uploaded_at: i64,
    /// Worker that read it from the source and reports its outcome.
    pub owner: u64,
    pub partition: i32,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PageTask {
    doc: DocTask,
    job: PageJob,
    pages: u32,
    /// Which worker runs it: dealt round-robin by the splitting worker, so a burst of pages
    /// (one long scan, or many one-page photos) spreads evenly.
    route: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Partial {
    /// The whole document, read from its text layer or failed before any page ran.
    Whole(Result<(OcrMethod, Vec<OcrPage>), String>),
    Page {
        page_no: u32,
        pages: u32,
        result: Result<OcrPage, String>,
    },
}

type Split = (DocTask, Option<PageTask>, Option<Partial>);
/// A page number and its words, or why it could not be read.
type PageOutcome = (u32, Result<OcrPage, String>);

/// What became of one document: its words, or why it could not be read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OcrOutcome {
    pub doc: DocTask,
    pub result: Result<OcrResult, String>,
}

/// Fetches a document's bytes by object key (the object store in a deployment, memory in the
/// one-shot CLI). Errors are strings: they end up in a dead letter.
pub type Fetch = Arc<dyn Fn(&str) -> Result<Arc<Vec<u8>>, String> + Send + Sync>;

pub type Time = u64;

pub struct OcrGraph {
    pub input: InputHandle<Time, DocTask>,
    pub probe: Handle<Time>,
    /// Outcomes of the documents this worker owns, in completion order.
    pub outcomes: Rc<RefCell<Vec<OcrOutcome>>>,
}

/// The last document's bytes per worker: consecutive pages of one document fetch it once.
struct BlobCache {
    fetch: Fetch,
    last: Option<(String, Arc<Vec<u8>>)>,
}

impl BlobCache {
    fn get(&mut self, key: &str) -> Result<Arc<Vec<u8>>, String> {
        if let Some((k, b)) = &self.last {
            if k == key {
                return Ok(b.clone());
            }
        }
        let b = (self.fetch)(key)?;
        self.last = Some((key.to_string(), b.clone()));
        Ok(b)
    }
}

/// Builds the OCR graph in `worker`; every worker builds the same one.
pub fn build(worker: &mut timely::worker::Worker, fetch: Fetch, limits: Limits, lang: &str) -> OcrGraph {
    let outcomes = Rc::new(RefCell::new(Vec::new()));
    let probe = Handle::new();
    let index = worker.index() as u64;
    let lang = lang.to_string();
    let input = worker.dataflow::<Time, _, _>(|scope| {
        let (input, docs) = scope.new_input::<Vec<DocTask>>();
        // One cache per worker for both stages: the owner that checked a document fetches it
        // once even when its own pages come back to it.
        let split_cache = Rc::new(RefCell::new(BlobCache { fetch, last: None }));
        let page_cache = split_cache.clone();
        let split_limits = limits.clone();
        let mut dealt = index;
        // Split: the owner checks the document and reads a text layer itself.
        let split = docs.flat_map::<Vec<Split>, _, _>(move |doc: DocTask| -> Vec<Split> {
            let _span = tracing::info_span!("intake.prepare", doc = %doc.doc_id).entered();
            let bytes = match split_cache.borrow_mut().get(&doc.object_key) {
                Ok(b) => b,
                Err(e) => return vec![(doc, None, Some(Partial::Whole(Err(format!("fetch: {e}")))))],
            };
            match prepare(&bytes, &split_limits) {
                Err(e) => vec![(doc, None, Some(Partial::Whole(Err(e.to_string()))))],
                Ok(Prepared::Text(pages)) => vec![(doc, None, Some(Partial::Whole(Ok((OcrMethod::TextLayer, pages)))))],
                Ok(Prepared::Ocr(jobs)) => {
                    let n = jobs.len() as u32;
                    jobs.into_iter()
                        .map(|job| {
                            dealt += 1;
                            (doc.clone(), Some(PageTask { doc: doc.clone(), job, pages: n, route: dealt }), None)
                        })
                        .collect()
                }
            }
        });
        // Pages go to any worker; each keeps one tesseract instance, created on first use, and
        // the second engine for pages with small text where it is installed.
        let mut engine: Option<Engine> = None;
        let mut second = super::second_engine::SecondEngine::default();
        let page_limits = limits;
        let pages = split
            .exchange(|(doc, task, _): &Split| match task {
                Some(t) => t.route,
                None => doc.owner,
            })
            .flat_map::<Vec<(DocTask, Partial)>, _, _>(move |(doc, task, whole): Split| {
                let Some(task) = task else { return whole.map(|w| (doc, w)) };
                let _span =
                    tracing::info_span!("intake.ocr_page", doc = %doc.doc_id, page = task.job.page_no).entered();
                let result = (|| -> Result<OcrPage, String> {
                    if engine.is_none() {
                        engine = Some(Engine::new(&lang).map_err(|e| e.to_string())?);
                    }
                    let bytes = page_cache.borrow_mut().get(&doc.object_key)?;
                    let eng = engine.as_mut().ok_or_else(|| "no OCR engine".to_string())?;
                    second.read_page(&task.job, &bytes, eng, &page_limits)
                })();
                Some((doc, Partial::Page { page_no: task.job.page_no, pages: task.pages, result }))
            });
        // Gather: the owner assembles each document from its pages.
        let mut pending: HashMap<(String, i32, i64), Vec<PageOutcome>> = HashMap::new();
        let sink = outcomes.clone();
        pages
            .exchange(|(doc, _): &(DocTask, Partial)| doc.owner)
            .flat_map::<Vec<OcrOutcome>, _, _>(move |(doc, part): (DocTask, Partial)| -> Option<OcrOutcome> {
                let finish = |doc: DocTask, r: Result<(OcrMethod, Vec<OcrPage>), String>| OcrOutcome {
                    result: r.map(|(method, pages)| OcrResult {
                        doc_id: doc.doc_id.clone(),
                        kind: doc.kind,
                        uploaded_at: doc.uploaded_at,
                        method,
                        pages,
                    }),
                    doc,
                };
                match part {
                    Partial::Whole(r) => Some(finish(doc, r)),
                    Partial::Page { page_no, pages, result } => {
                        let key = (doc.doc_id.clone(), doc.partition, doc.offset);
                        let got = pending.entry(key.clone()).or_default();
                        got.push((page_no, result));
                        if got.len() < pages as usize {
                            return None;
                        }
                        let mut got = pending.remove(&key).unwrap_or_default();
                        got.sort_by_key(|(p, _)| *p);
                        let pages: Result<Vec<OcrPage>, String> = got
                            .into_iter()
                            .map(|(p, r)| r.map_err(|e| if e.contains("page") { e } else { format!("page {p}: {e}") }))
                            .collect();
                        Some(finish(doc, pages.map(|p| (OcrMethod::Ocr, p))))
                    }
                }
            })
            .inspect(move |o: &OcrOutcome| sink.borrow_mut().push(o.clone()))
            .probe_with(&probe);
        input
    });
    OcrGraph { input, probe, outcomes }
}
