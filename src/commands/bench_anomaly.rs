//! `billstream bench anomaly`: the anomaly model on the synthetic labeled set, for several forest
//! sizes — ROC AUC on the injected anomalies and single-threaded scoring throughput (lines/s,
//! one line per call and the whole test set per call) — and the feature matrix with labels as
//! CSV, so `bench/anomaly_sklearn.py` measures scikit-learn on the same rows.
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use testkit::anomaly as synthetic;
use udfs::anomaly::{auc, train, ModelMeta, Params, D, FEATURES};

/// Scoring is repeated over the test set until at least this long has passed (a steady figure).
const MIN_SCORING_SECS: f64 = 2.0;
/// Forest sizes measured: the default and smaller ones (AUC against throughput).
const TREES: [usize; 3] = [100, 50, 25];

pub fn run(train_lines: usize, test_lines: usize, seed: u64, features_out: Option<PathBuf>, json: bool) -> Result<()> {
    let t = Instant::now();
    let set = synthetic::split(seed, train_lines, test_lines);
    let generate_s = t.elapsed().as_secs_f64();
    if let Some(path) = &features_out {
        write_csv(path, &set).with_context(|| format!("writing {}", path.display()))?;
    }

    let labels = set.test.labels();
    let default_trees = Params::default().trees;
    let mut forests = vec![];
    for trees in TREES {
        let params = Params { trees, ..Params::default() };
        // Per-kind detection for every size: a smaller forest is only a candidate default if it
        // catches the same kinds.
        forests.push(measure(&set, &labels, &params, true)?);
    }
    let out = serde_json::json!({
        "bench": "anomaly", "library": "extended-isolation-forest 0.2.3 (flattened for scoring)", "seed": seed,
        "train_lines": set.train.rows.len(), "test_lines": set.test.rows.len(),
        "test_anomalies": labels.iter().filter(|l| **l).count(), "features": D,
        "default_trees": default_trees, "generate_s": generate_s, "forests": forests,
    });
    if json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// Trains one forest and measures it: AUC, then single-threaded throughput one line per call
/// (`Model::score`, how a stream meets lines) and the whole test set per call
/// (`Model::score_batch`, as scikit-learn is measured). Features are precomputed (scikit-learn
/// reads the same matrix); the checksum keeps the optimizer from dropping the work.
fn measure(set: &synthetic::Split, labels: &[bool], params: &Params, per_kind: bool) -> Result<serde_json::Value> {
    let t = Instant::now();
    let model = train(&set.train.rows, params, ModelMeta::default(), &set.index)?;
    let train_s = t.elapsed().as_secs_f64();

    let mut scores = vec![];
    model.score_batch(&set.test.rows, &mut scores);
    let scored: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    let auc = auc(&scored);

    let t = Instant::now();
    let (mut one_lines, mut sink) = (0usize, 0.0f64);
    while t.elapsed().as_secs_f64() < MIN_SCORING_SECS {
        for x in &set.test.rows {
            sink += model.score(x);
        }
        one_lines += set.test.rows.len();
    }
    let one_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (mut batch_lines, mut batch) = (0usize, vec![]);
    while t.elapsed().as_secs_f64() < MIN_SCORING_SECS {
        model.score_batch(&set.test.rows, &mut batch);
        sink += batch.iter().sum::<f64>();
        batch_lines += set.test.rows.len();
    }
    let batch_s = t.elapsed().as_secs_f64();

    let flagged = |pick: &dyn Fn(Option<synthetic::Kind>) -> bool| {
        let rows: Vec<f64> = scores.iter().zip(&set.test.kinds).filter(|(_, k)| pick(**k)).map(|(s, _)| *s).collect();
        let hit = rows.iter().filter(|s| **s > model.meta.threshold).count();
        serde_json::json!({"lines": rows.len(), "above_threshold": hit})
    };
    let mut kinds = serde_json::Map::new();
    if per_kind {
        for k in synthetic::KINDS {
            kinds.insert(format!("{k:?}"), flagged(&|x| x == Some(k)));
        }
        kinds.insert("normal".into(), flagged(&|x| x.is_none()));
    }
    Ok(serde_json::json!({
        "trees": params.trees, "sample_size": params.sample_size, "extension_level": params.extension_level,
        "train_s": train_s, "auc": (auc * 10_000.0).round() / 10_000.0, "threshold": model.meta.threshold,
        "per_kind": kinds,
        "one_per_call_lines_per_s": (one_lines as f64 / one_s).round(),
        "batch_lines_per_s": (batch_lines as f64 / batch_s).round(),
        "checksum": sink,
    }))
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
