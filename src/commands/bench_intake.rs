//! `billstream bench extract` (line-item F1 on the project's own fixture corpus, per document
//! class) and `billstream bench ocr` (OCR pages/s against the tesseract CLI on the same pages).
use anyhow::{anyhow, bail, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use dataflows::intake::{read_files, InputFile};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;
use testkit::fixtures::{corpus, fixture, Class, Layout};
use udfs::extract::score::{score, Score};
use udfs::ocr::Limits;

pub fn extract(seed: u64, per_layout: usize, threads: usize, keep: Option<PathBuf>, json: bool) -> Result<()> {
    let t = Instant::now();
    let docs = corpus(seed, per_layout).map_err(|e| anyhow!("generating the corpus: {e}"))?;
    let gen_s = t.elapsed().as_secs_f64();
    if let Some(dir) = &keep {
        std::fs::create_dir_all(dir)?;
        testkit::fixtures::write_corpus(dir, &docs)?;
    }
    let inputs: Vec<InputFile> = docs
        .iter()
        .map(|d| InputFile { name: d.name.clone(), bytes: Arc::new(d.bytes.clone()), kind: Some(d.truth.kind) })
        .collect();
    let t = Instant::now();
    let results = read_files(inputs, threads, Limits::default()).map_err(|e| anyhow!(e))?;
    let read_s = t.elapsed().as_secs_f64();
    let mut per_class: BTreeMap<String, (usize, Score, usize, Vec<String>)> = BTreeMap::new();
    for (d, r) in docs.iter().zip(&results) {
        let class = serde_json::to_value(d.class)?.as_str().unwrap_or("?").to_string();
        let e = per_class.entry(class).or_insert_with(|| (0, Score::default(), 0, vec![]));
        e.0 += 1;
        match &r.result {
            Ok((_, ex)) => {
                let s = score(ex, &d.truth);
                e.1 += s;
                e.2 += s.totals_ok as usize;
                if s.matched < s.truth || s.matched < s.predicted || !s.totals_ok {
                    e.3.push(format!(
                        "{} ({}/{} lines, totals {})",
                        d.name,
                        s.matched,
                        s.truth,
                        if s.totals_ok { "ok" } else { "wrong" }
                    ));
                }
            }
            Err(err) => {
                e.1 += Score { truth: d.truth.lines.len(), ..Score::default() };
                e.3.push(format!("{}: {err}", d.name));
            }
        }
    }
    let rows: Vec<serde_json::Value> = per_class
        .iter()
        .map(|(class, (n, s, tot, misses))| {
            serde_json::json!({
                "class": class, "documents": n, "true_lines": s.truth, "read_lines": s.predicted, "matched": s.matched,
                "precision": round4(s.precision()), "recall": round4(s.recall()), "f1": round4(s.f1()),
                "totals_correct": tot, "imperfect": misses,
            })
        })
        .collect();
    let out = serde_json::json!({
        "bench": "extract", "seed": seed, "per_layout": per_layout, "documents": docs.len(), "threads": threads,
        "generate_seconds": gen_s, "read_seconds": read_s, "classes": rows,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_header(["class", "documents", "true lines", "read", "matched", "precision", "recall", "F1", "totals ok"]);
        for (class, (n, s, tot, _)) in &per_class {
            t.add_row(vec![
                class.clone(),
                n.to_string(),
                s.truth.to_string(),
                s.predicted.to_string(),
                s.matched.to_string(),
                format!("{:.4}", s.precision()),
                format!("{:.4}", s.recall()),
                format!("{:.4}", s.f1()),
                format!("{tot}/{n}"),
            ]);
        }
        println!("{t}");
        for (class, (_, _, _, misses)) in &per_class {
            for m in misses {
                println!("  {class}: {m}");
            }
        }
        println!("{} documents generated in {gen_s:.1} s, read in {read_s:.1} s with {threads} worker(s)", docs.len());
    }
    Ok(())
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// Scanned pages (PNG) of every single-page layout, written to `dir`.
fn scan_pages(dir: &std::path::Path, pages: usize) -> Result<Vec<PathBuf>> {
    let layouts = [Layout::Hospital, Layout::Physician, Layout::DescriptionFirst, Layout::Eob, Layout::Gfe];
    let mut out = vec![];
    for i in 0..pages {
        let f = fixture(1000 + i as u64, layouts[i % layouts.len()], Class::Scan).map_err(|e| anyhow!("{e}"))?;
        let p = dir.join(format!("page-{i:03}.png"));
        std::fs::write(&p, &f.bytes)?;
        out.push(p);
    }
    Ok(out)
}

/// Pages/s of `billstream`'s OCR stage (decode, preprocessing, recognition, through the intake
/// graph) with 1..=max_workers workers, and of the tesseract CLI (one process per page, one at a
/// time, the same page segmentation mode) on the same pages. Both run single-threaded per page
/// (OMP_THREAD_LIMIT=1), so per-worker rates compare per core.
pub fn ocr(pages: usize, max_workers: usize, json: bool) -> Result<()> {
    if std::env::var("OMP_THREAD_LIMIT").ok().as_deref() != Some("1") {
        bail!("run with OMP_THREAD_LIMIT=1 so tesseract uses one core per page in both measurements");
    }
    let dir = tempfile::tempdir()?;
    let files = scan_pages(dir.path(), pages)?;
    let t = Instant::now();
    for f in &files {
        let out = Command::new("tesseract").arg(f).arg("-").args(["--psm", "6", "tsv"]).output()?;
        if !out.status.success() {
            bail!("tesseract CLI failed on {}: {}", f.display(), String::from_utf8_lossy(&out.stderr));
        }
    }
    let cli_s = t.elapsed().as_secs_f64();
    let cli_rate = pages as f64 / cli_s;
    // The CLI with as many processes at once as the most workers measured: its scaling on this
    // machine, the reference for ours.
    let procs = max_workers.max(1);
    let t = Instant::now();
    let mut running = Vec::new();
    let mut next = 0;
    while next < files.len() || !running.is_empty() {
        while running.len() < procs && next < files.len() {
            let child = Command::new("tesseract")
                .arg(&files[next])
                .arg("-")
                .args(["--psm", "6", "tsv"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()?;
            running.push(child);
            next += 1;
        }
        let mut still = Vec::new();
        for mut c in running {
            match c.try_wait()? {
                Some(_) => {}
                None => still.push(c),
            }
        }
        running = still;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let cli_par_s = t.elapsed().as_secs_f64();
    let cli_par_rate = pages as f64 / cli_par_s;
    let mut runs = vec![];
    for workers in 1..=max_workers.max(1) {
        let inputs: Vec<InputFile> = files
            .iter()
            .map(|f| Ok(InputFile { name: f.display().to_string(), bytes: Arc::new(std::fs::read(f)?), kind: None }))
            .collect::<Result<_>>()?;
        let t = Instant::now();
        let results = read_files(inputs, workers, Limits::default()).map_err(|e| anyhow!(e))?;
        let secs = t.elapsed().as_secs_f64();
        if let Some(bad) = results.iter().find(|r| r.result.is_err()) {
            bail!("{}: {:?}", bad.name, bad.result.as_ref().err());
        }
        let rate = pages as f64 / secs;
        runs.push(serde_json::json!({
            "workers": workers, "seconds": secs, "pages_per_s": rate,
            "pages_per_s_per_worker": rate / workers as f64, "vs_cli_per_core": rate / workers as f64 / cli_rate,
        }));
    }
    let out = serde_json::json!({
        "bench": "ocr", "pages": pages, "tesseract_cli": {"seconds": cli_s, "pages_per_s": cli_rate},
        "tesseract_cli_parallel": {"processes": procs, "seconds": cli_par_s, "pages_per_s": cli_par_rate},
        "billstream": runs,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("tesseract CLI: {pages} pages in {cli_s:.1} s = {cli_rate:.3} pages/s");
        println!("tesseract CLI, {procs} processes at once: {cli_par_rate:.3} pages/s");
        for r in &runs {
            println!(
                "billstream, {} worker(s): {:.3} pages/s ({:.3} per worker, {:.2}x the CLI per core)",
                r["workers"],
                r["pages_per_s"].as_f64().unwrap_or(0.0),
                r["pages_per_s_per_worker"].as_f64().unwrap_or(0.0),
                r["vs_cli_per_core"].as_f64().unwrap_or(0.0)
            );
        }
    }
    Ok(())
}
