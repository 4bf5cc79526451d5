//! Extraction against expectations kept as data: every `<name>.expected.json` in
//! tests/golden/extract through `billstream extract --json`, and the generated corpus through
//! the intake graph in process, scored the way `billstream bench extract` scores it.
mod common;
use common::BIN;
use dataflows::intake::{read_files, InputFile};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use testkit::fixtures::{corpus, Class};
use udfs::extract::score::{score, Score};
use udfs::ocr::Limits;

/// Every key of `want` must equal the same key of `got` (recursively for objects and arrays).
fn contains(got: &serde_json::Value, want: &serde_json::Value, path: &str, errors: &mut Vec<String>) {
    match (got, want) {
        (serde_json::Value::Object(g), serde_json::Value::Object(w)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => contains(gv, wv, &format!("{path}.{k}"), errors),
                    None if wv.is_null() => {}
                    None => errors.push(format!("{path}.{k}: missing, want {wv}")),
                }
            }
        }
        (serde_json::Value::Array(g), serde_json::Value::Array(w)) => {
            if g.len() != w.len() {
                errors.push(format!("{path}: {} items, want {}", g.len(), w.len()));
            }
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                contains(gv, wv, &format!("{path}[{i}]"), errors);
            }
        }
        _ if got != want => errors.push(format!("{path}: got {got}, want {want}")),
        _ => {}
    }
}

#[test]
fn golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/extract");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".json") || name.ends_with(".md") {
            continue;
        }
        let stem = name.rsplit_once('.').unwrap().0;
        let want: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{stem}.expected.json"))).unwrap()).unwrap();
        let out = Command::new(BIN).arg("extract").arg(&path).arg("--json").output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut errors = vec![];
        contains(&got, &want, &name, &mut errors);
        assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
        checked += 1;
    }
    assert!(checked >= 7, "golden documents found: {checked}");
}

#[test]
fn generated_corpus_is_read() {
    let docs = corpus(21, 1).unwrap();
    let inputs = docs
        .iter()
        .map(|d| InputFile { name: d.name.clone(), bytes: Arc::new(d.bytes.clone()), kind: Some(d.truth.kind) })
        .collect();
    let results = read_files(inputs, 2, Limits::default()).unwrap();
    let mut text = Score::default();
    let mut images = Score::default();
    let mut totals_wrong = vec![];
    for (d, r) in docs.iter().zip(&results) {
        let (_, ex) = r.result.as_ref().unwrap_or_else(|e| panic!("{}: {e}", d.name));
        let s = score(ex, &d.truth);
        if !s.totals_ok {
            totals_wrong.push(d.name.clone());
        }
        if d.class == Class::TextPdf {
            assert_eq!((s.matched, s.predicted), (s.truth, s.truth), "{}: text PDFs are read exactly", d.name);
            text += s;
        } else {
            images += s;
        }
    }
    assert!(text.truth > 50 && images.truth > 100, "corpus too small: {text:?} {images:?}");
    // Regression guard well inside what the bench measures (BENCHMARKS.md); OCR is deterministic
    // for the same pages, so this does not flap.
    assert!(images.f1() >= 0.93, "OCR'd documents: F1 {:.4} ({images:?})", images.f1());
    assert!(totals_wrong.len() <= 2, "totals misread: {totals_wrong:?}");
}
