//! `billstream bench real-bills`: line-item F1 on published hospital statements, against golden
//! files transcribed by eye from the pages (tests/golden/real; the documents themselves stay in
//! ../shared/data/real-bills). A line counts when its date, code (or charge-master number),
//! units and charge all match a transcribed line. Lines that do not match and are not flagged
//! are counted apart: they are the errors a patient would not be warned about.
use super::input;
use anyhow::{anyhow, Context, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use dataflows::intake::{read_files, InputFile};
use schemas::records::{DocumentKind, OcrMethod};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use udfs::extract::score::score;
use udfs::extract::Extraction;
use udfs::ocr::Limits;

#[derive(Debug, Serialize)]
pub struct DocScore {
    pub document: String,
    pub method: &'static str,
    pub has_line_items: bool,
    pub truth: usize,
    pub predicted: usize,
    pub matched: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Predicted lines matching no transcribed line and not flagged for checking.
    pub wrong_unflagged: usize,
    /// Every printed total the golden file has was read exactly.
    pub totals_ok: bool,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

/// The golden file's lines and totals as an extraction (payments and adjustments as the
/// extractor keeps them: amounts, without the sign statements print).
fn golden(path: &Path) -> Result<(String, bool, Extraction)> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| format!("{}", path.display()))?;
    let source = v["source"].as_str().ok_or_else(|| anyhow!("{}: no \"source\"", path.display()))?.to_string();
    let has = v["has_line_items"].as_bool().unwrap_or(true);
    let mut ex =
        udfs::extract::items::from_json(&bytes, DocumentKind::Bill).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    ex.totals.payments = ex.totals.payments.map(|d| d.abs());
    ex.totals.adjustments = ex.totals.adjustments.map(|d| d.abs());
    Ok((source, has, ex))
}

pub fn run(docs_dir: &Path, golden_dir: &Path, json: bool) -> Result<Vec<DocScore>> {
    let mut goldens: Vec<_> = std::fs::read_dir(golden_dir)
        .with_context(|| format!("{}: cannot list the golden files", golden_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    goldens.sort();
    let mut out = Vec::new();
    for g in goldens {
        let (source, has_line_items, truth) = golden(&g)?;
        let doc = input::read(&docs_dir.join(&source))?;
        let started = Instant::now();
        let file = InputFile { name: source.clone(), bytes: Arc::new(doc.bytes), kind: None };
        let r = read_files(vec![file], 1, Limits::default()).map_err(|e| anyhow!(e))?.remove(0);
        let seconds = started.elapsed().as_secs_f64();
        let (ocr, ex) = r.result.map_err(|e| anyhow!("{source}: {e}"))?;
        let s = score(&ex, &truth);
        out.push(DocScore {
            document: source,
            method: match ocr.method {
                OcrMethod::TextLayer => "text",
                OcrMethod::Ocr => "ocr",
            },
            has_line_items,
            truth: s.truth,
            predicted: s.predicted,
            matched: s.matched,
            precision: s.precision(),
            recall: s.recall(),
            f1: s.f1(),
            wrong_unflagged: s.wrong_unflagged,
            totals_ok: s.totals_ok,
            warnings: ex.warnings,
            seconds,
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print(&out);
    }
    Ok(out)
}

fn print(rows: &[DocScore]) {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "document",
        "read by",
        "true lines",
        "read",
        "matched",
        "precision",
        "recall",
        "F1",
        "wrong, not flagged",
        "totals",
        "s",
    ]);
    for r in rows {
        let num = |v: String| Cell::new(v).set_alignment(CellAlignment::Right);
        t.add_row(vec![
            Cell::new(&r.document),
            Cell::new(r.method),
            num(r.truth.to_string()),
            num(r.predicted.to_string()),
            num(r.matched.to_string()),
            num(format!("{:.3}", r.precision)),
            num(format!("{:.3}", r.recall)),
            num(format!("{:.3}", r.f1)),
            num(r.wrong_unflagged.to_string()),
            Cell::new(if r.totals_ok { "ok" } else { "wrong" }),
            num(format!("{:.1}", r.seconds)),
        ]);
    }
    println!("{t}");
}
