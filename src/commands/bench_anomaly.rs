//! `billstream bench anomaly`: the anomaly model on the synthetic labeled set — ROC AUC on the
//! injected anomalies and single-threaded scoring throughput (lines/s) — and the feature matrix
//! with labels as CSV, so `bench/anomaly_sklearn.py` measures scikit-learn on the same rows.
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use udfs::anomaly::{auc, synthetic, train, ModelMeta, Params, D, FEATURES};

/// Scoring is repeated over the test set until at least this long has passed (a steady figure).
const MIN_SCORING_SECS: f64 = 2.0;

pub fn run(train_lines: usize, test_lines: usize, seed: u64, features_out: Option<PathBuf>, json: bool) -> Result<()> {
    let t = Instant::now();
    let set = synthetic::split(seed, train_lines, test_lines);
    let generate_s = t.elapsed().as_secs_f64();
    if let Some(path) = &features_out {
        write_csv(path, &set).with_context(|| format!("writing {}", path.display()))?;
    }

    let params = Params::default();
    let t = Instant::now();
    let model = train(&set.train.rows, &params, ModelMeta::default())?;
    let train_s = t.elapsed().as_secs_f64();

    let labels = set.test.labels();
    let scores: Vec<f64> = set.test.rows.iter().map(|x| model.score(x)).collect();
    let scored: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    let auc = auc(&scored);

    // Throughput: features are precomputed (as for scikit-learn, which reads the same matrix);
    // one thread, the sum keeps the optimizer from dropping the work.
    let t = Instant::now();
    let (mut scored_lines, mut sink) = (0usize, 0.0f64);
    while t.elapsed().as_secs_f64() < MIN_SCORING_SECS {
        for x in &set.test.rows {
            sink += model.score(x);
        }
        scored_lines += set.test.rows.len();
    }
    let score_s = t.elapsed().as_secs_f64();

    let flagged = |pick: &dyn Fn(Option<synthetic::Kind>) -> bool| {
        let rows: Vec<f64> = scores.iter().zip(&set.test.kinds).filter(|(_, k)| pick(**k)).map(|(s, _)| *s).collect();
        let hit = rows.iter().filter(|s| **s > model.meta.threshold).count();
        serde_json::json!({"lines": rows.len(), "above_threshold": hit})
    };
    let mut per_kind = serde_json::Map::new();
    for k in synthetic::KINDS {
        per_kind.insert(format!("{k:?}"), flagged(&|x| x == Some(k)));
    }
    per_kind.insert("normal".into(), flagged(&|x| x.is_none()));
    let out = serde_json::json!({
        "bench": "anomaly", "library": "extended-isolation-forest 0.2.3", "seed": seed,
        "train_lines": set.train.rows.len(), "test_lines": set.test.rows.len(),
        "test_anomalies": labels.iter().filter(|l| **l).count(), "features": D,
        "trees": params.trees, "sample_size": params.sample_size, "extension_level": params.extension_level,
        "generate_s": generate_s, "train_s": train_s,
        "auc": (auc * 10_000.0).round() / 10_000.0,
        "threshold": model.meta.threshold, "per_kind": per_kind,
        "scored_lines": scored_lines, "score_s": score_s,
        "lines_per_s": (scored_lines as f64 / score_s).round(),
        "checksum": sink,
    });
    if json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// `split,label,kind,<feature names>`: one row per line, train rows first. NaN (an unknown fact)
/// is written as `nan`; both sides fill it with the training median.
fn write_csv(path: &PathBuf, set: &synthetic::Split) -> Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    let names: Vec<String> = FEATURES.iter().map(|f| format!("\"{f}\"")).collect();
    writeln!(w, "split,label,kind,{}", names.join(","))?;
    for (name, part) in [("train", &set.train), ("test", &set.test)] {
        for (x, k) in part.rows.iter().zip(&part.kinds) {
            let kind = k.map(|k| format!("{k:?}")).unwrap_or_default();
            write!(w, "{name},{},{kind}", u8::from(k.is_some()))?;
            for v in x {
                // `{:?}` writes the shortest text that parses back to the same f64.
                if v.is_finite() {
                    write!(w, ",{v:?}")?;
                } else {
                    write!(w, ",nan")?;
                }
            }
            writeln!(w)?;
        }
    }
    w.flush()?;
    Ok(())
}
