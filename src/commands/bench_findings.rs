//! `billstream bench findings`: per-kind precision and recall of the findings engine on the
//! labeled evaluation set (`tests/eval/findings/`, see its README), over the reference data in a
//! directory (`deploy/demo/reference/` by default). One run of the findings graph over every case
//! (`dataflows::findings::oneshot::audit`), scored by `dataflows::findings::eval::score`.
use anyhow::{anyhow, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use dataflows::findings::{eval, oneshot, reference};
use std::path::Path;
use std::time::Instant;

/// How many disagreements the table output lists (`--json` has them all).
const SHOWN: usize = 25;

pub fn run(set: &Path, reference_dir: &Path, workers: usize, json: bool) -> Result<()> {
    let t = Instant::now();
    let (mut refs, files) = reference::load_dir(reference_dir, None)
        .map_err(|e| anyhow!("loading the reference data from {}: {e}", reference_dir.display()))?;
    let (cases, observed) = eval::load_set(set).map_err(|e| anyhow!("loading the evaluation set: {e}"))?;
    refs.benchmarks.extend(observed);
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let audited = oneshot::audit(&refs, eval::inputs(&cases), workers).map_err(|e| anyhow!("audit: {e}"))?;
    let audit_s = t.elapsed().as_secs_f64();
    let report = eval::score(&cases, &audited);
    if json {
        let out = serde_json::json!({
            "set": set.display().to_string(),
            "reference": reference_dir.display().to_string(),
            "reference_files": files,
            "edits": refs.edits.len(),
            "benchmarks": refs.benchmarks.len(),
            "workers": workers,
            "load_s": load_s,
            "audit_s": audit_s,
            "report": report,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    eprintln!(
        "reference: {} edits, {} benchmarks from {} ({load_s:.1} s); audit of {} cases on {workers} worker(s): {audit_s:.1} s",
        refs.edits.len(),
        refs.benchmarks.len(),
        reference_dir.display(),
        report.cases
    );
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["kind", "support", "TP", "FP", "FN", "precision", "recall"]);
    for k in &report.kinds {
        t.add_row(vec![
            k.kind.clone(),
            k.support.to_string(),
            k.tp.to_string(),
            k.fp.to_string(),
            k.fn_.to_string(),
            format!("{:.3}", k.precision),
            format!("{:.3}", k.recall),
        ]);
    }
    println!("{t}");
    println!(
        "set: {} cases, {} labels; clean bills (incl. hard negatives): {}, without an error-severity finding: {} ({:.1}%)",
        report.cases,
        report.labels,
        report.clean_cases,
        report.clean_error_free,
        report.clean_error_free_rate * 100.0
    );
    println!(
        "contradictory inputs: {} of {} warned; unexpected warnings on {} other case(s)",
        report.warnings_seen, report.warnings_expected, report.unexpected_warnings
    );
    if !report.disagreements.is_empty() {
        println!("disagreements ({}, first {}):", report.disagreements.len(), SHOWN.min(report.disagreements.len()));
        for d in report.disagreements.iter().take(SHOWN) {
            println!("  {} [{}] {} {} lines {:?}: {}", d.case_id, d.note, d.what, d.kind, d.lines, d.explanation);
        }
    }
    Ok(())
}
