//! The intake graph over files in memory: `billstream extract`, the extraction bench and tests.
//! Same graph as the deployment (pages spread over `threads` workers); the source is a list of
//! files and the sink is the return value.
use super::graph::{build, DocTask, Fetch, OcrOutcome};
use crate::{DataflowError, Result};
use schemas::records::{DocumentKind, OcrResult};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use udfs::extract::{extract, Extraction};
use udfs::ocr::Limits;

/// One file to read.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub name: String,
    pub bytes: Arc<Vec<u8>>,
    pub kind: Option<DocumentKind>,
}

/// What became of one file, in input order.
#[derive(Debug, Clone)]
pub struct FileResult {
    pub name: String,
    pub result: std::result::Result<(OcrResult, Extraction), String>,
}

/// OCR (spread over `threads` workers) then extraction of every file.
pub fn read_files(files: Vec<InputFile>, threads: usize, limits: Limits) -> Result<Vec<FileResult>> {
    let blobs: Arc<HashMap<String, Arc<Vec<u8>>>> =
        Arc::new(files.iter().enumerate().map(|(i, f)| (i.to_string(), f.bytes.clone())).collect());
    let fetch: Fetch = {
        let blobs = blobs.clone();
        Arc::new(move |key: &str| blobs.get(key).cloned().ok_or_else(|| format!("no file {key}")))
    };
    let collected: Arc<Mutex<Vec<OcrOutcome>>> = Arc::default();
    let tasks: Vec<DocTask> = files
        .iter()
        .enumerate()
        .map(|(i, f)| DocTask {
            doc_id: i.to_string(),
            kind: f.kind.unwrap_or(DocumentKind::Bill),
            object_key: i.to_string(),
            uploaded_at: 0,
            owner: 0,
            partition: 0,
            offset: i as i64,
        })
        .collect();
    let out = collected.clone();
    let guards = timely::execute(timely::Config::process(threads.max(1)), move |worker| {
        let mut g = build(worker, fetch.clone(), limits.clone(), "eng");
        if worker.index() == 0 {
            for t in &tasks {
                g.input.send(t.clone());
            }
        }
        g.input.advance_to(1);
        g.input.close();
        while worker.step_or_park(None) {}
        out.lock().map(|mut o| o.extend(g.outcomes.borrow_mut().drain(..))).ok();
    })
    .map_err(DataflowError::Timely)?;
    for r in guards.join() {
        r.map_err(DataflowError::Timely)?;
    }
    let mut outcomes = collected.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default();
    outcomes.sort_by_key(|o| o.doc.offset);
    let by_index: HashMap<i64, OcrOutcome> = outcomes.into_iter().map(|o| (o.doc.offset, o)).collect();
    Ok(files
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let result = match by_index.get(&(i as i64)) {
                None => Err("no result (worker stopped)".to_string()),
                Some(o) => o.result.clone().map(|ocr| {
                    let _span = tracing::info_span!("intake.extract", file = %f.name).entered();
                    let ex = extract(&ocr.pages, f.kind);
                    (ocr, ex)
                }),
            };
            FileResult { name: f.name, result }
        })
        .collect())
}
