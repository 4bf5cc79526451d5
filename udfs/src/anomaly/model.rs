//! The anomaly model: an extended isolation forest over `features`, the per-feature fill for
//! unknown facts, and `ModelMeta` (version, training data range, thresholds, metrics).
//!
//! Scores are the forest's: 2^(−mean path length ÷ c(sample size)), in (0, 1); near 0.5 is
//! ordinary, towards 1 is isolated quickly, i.e. unusual. Thresholds are quantiles of the scores
//! of the training rows: `contamination` says what share of the population is worth a look.
use super::features::{D, FEATURES};
use super::AnomalyError;
use extended_isolation_forest::{Forest, ForestOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Training parameters. Defaults match scikit-learn's IsolationForest (100 trees, 256 samples per
/// tree) so the benchmark compares like with like; `extension_level` D−1 is the fully extended
/// forest (random hyperplanes in all dimensions), 0 would be the classic axis-parallel one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub trees: usize,
    pub sample_size: usize,
    pub extension_level: usize,
    /// Share of training rows scoring above `threshold` (an `info` finding).
    pub contamination: f64,
    /// Share above `warn_threshold` (a `warning`): stricter.
    pub warn_contamination: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self { trees: 100, sample_size: 256, extension_level: D - 1, contamination: 0.005, warn_contamination: 0.001 }
    }
}

/// How the model scored its own training rows, and on labeled data when known.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// (quantile, score) over the training rows: 0.5, 0.9, 0.99, 0.995, 0.999, 1.
    pub score_quantiles: Vec<(f64, f64)>,
    /// ROC AUC on a labeled set (the synthetic anomalies), when one was scored.
    #[serde(default)]
    pub auc: Option<f64>,
}

/// What a stored model says about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// 1, 2, …: assigned by the model store when saved (0 before).
    pub version: u64,
    /// Training time, ms since the Unix epoch.
    pub trained_at: i64,
    /// Rows the forest was trained on (a uniform sample of the population observed).
    pub rows: u64,
    /// Claim lines observed up to training: the population the sample stands for.
    #[serde(default)]
    pub population: u64,
    /// Training data range: earliest and latest service date (YYYY-MM-DD) among the observed
    /// claim lines; empty when unknown.
    pub data_from: String,
    pub data_to: String,
    /// Training data range on the log: partition of `claims.lines` → next offset; every line
    /// before it was observed (a retrainer counts lines beyond it as new).
    #[serde(default)]
    pub offsets: BTreeMap<i32, i64>,
    #[serde(default)]
    pub params: Option<Params>,
    /// Scores above this are findings (`info`) ...
    pub threshold: f64,
    /// ... and above this `warning`s.
    pub warn_threshold: f64,
    pub metrics: Metrics,
}

/// A trained model. Serializable as a whole (`to_json`): what the object store versions.
#[derive(Serialize, Deserialize)]
pub struct Model {
    pub meta: ModelMeta,
    /// Training median of each feature: stands in for an unknown fact, and is the "usual" value
    /// `explain` compares with.
    fill: [f64; D],
    forest: Forest<f64, D>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("meta", &self.meta).field("fill", &self.fill).finish_non_exhaustive()
    }
}

/// Fewer rows than this cannot say what is usual.
pub const MIN_ROWS: usize = 32;
const QUANTILES: [f64; 6] = [0.5, 0.9, 0.99, 0.995, 0.999, 1.0];

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Value at quantile `q` of ascending `sorted` (nearest rank at or below q·(n−1)).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).floor() as usize]
}

/// Trains a forest on `rows` (NaN = unknown fact) and sets `meta.rows`, `meta.params`, the
/// thresholds and the score quantiles; the rest of `meta` (data range, population) is the
/// caller's.
pub fn train(rows: &[[f64; D]], params: &Params, mut meta: ModelMeta) -> Result<Model, AnomalyError> {
    let bad = |s: &str| Err(AnomalyError::Params(s.to_string()));
    if params.trees == 0 || params.sample_size < 2 {
        return bad("trees must be ≥ 1 and sample_size ≥ 2");
    }
    if params.extension_level >= D {
        return bad("extension_level must be below the number of features");
    }
    if !(params.contamination > 0.0 && params.contamination < 0.5)
        || !(params.warn_contamination > 0.0 && params.warn_contamination <= params.contamination)
    {
        return bad("need 0 < warn_contamination ≤ contamination < 0.5");
    }
    if rows.len() < MIN_ROWS {
        return Err(AnomalyError::InsufficientData { rows: rows.len(), need: MIN_ROWS });
    }
    let mut fill = [0.0; D];
    for (i, f) in fill.iter_mut().enumerate() {
        *f = median(rows.iter().map(|r| r[i]).filter(|v| v.is_finite()).collect());
    }
    let filled: Vec<[f64; D]> = rows.iter().map(|r| fill_row(r, &fill)).collect();
    let options = ForestOptions {
        n_trees: params.trees,
        sample_size: params.sample_size.min(rows.len()),
        max_tree_depth: None,
        extension_level: params.extension_level,
    };
    let forest = Forest::from_slice(&filled, &options)?;
    let mut scores: Vec<f64> = filled.iter().map(|r| forest.score(r)).collect();
    scores.sort_by(f64::total_cmp);
    meta.rows = rows.len() as u64;
    meta.params = Some(params.clone());
    meta.threshold = quantile(&scores, 1.0 - params.contamination);
    meta.warn_threshold = quantile(&scores, 1.0 - params.warn_contamination).max(meta.threshold);
    meta.metrics.score_quantiles = QUANTILES.iter().map(|q| (*q, quantile(&scores, *q))).collect();
    Ok(Model { meta, fill, forest })
}

fn fill_row(x: &[f64; D], fill: &[f64; D]) -> [f64; D] {
    let mut r = *x;
    for (v, f) in r.iter_mut().zip(fill) {
        if !v.is_finite() {
            *v = *f;
        }
    }
    r
}

impl Model {
    /// Anomaly score in (0, 1); unknown (non-finite) features count as usual.
    pub fn score(&self, x: &[f64; D]) -> f64 {
        self.forest.score(&fill_row(x, &self.fill))
    }

    /// The usual value of each feature (training median).
    pub fn usual(&self) -> &[f64; D] {
        &self.fill
    }

    /// Which features drove the score, largest first: feature i's contribution is how much the
    /// score drops when that feature alone is set to its usual value (training median) — an
    /// occlusion attribution. It asks the model itself, works with oblique (extended) splits where
    /// split-counting methods do not, and costs D extra scores, paid only for lines that are
    /// reported. Contributions need not add up to the score; features that interact can each
    /// look small.
    pub fn explain(&self, x: &[f64; D]) -> Vec<(&'static str, f64)> {
        let x = fill_row(x, &self.fill);
        let s = self.forest.score(&x);
        let mut out: Vec<(usize, f64)> = (0..D)
            .map(|i| {
                let mut y = x;
                y[i] = self.fill[i];
                (i, s - self.forest.score(&y))
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.into_iter().map(|(i, c)| (FEATURES[i], c)).collect()
    }

    pub fn to_json(&self) -> Result<Vec<u8>, AnomalyError> {
        Ok(serde_json::to_vec(self)?)
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, AnomalyError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::synthetic;

    #[test]
    fn round_trips_through_json_with_identical_scores() {
        let set = synthetic::split(5, 3_000, 500);
        let model = train(&set.train.rows, &Params::default(), ModelMeta::default()).unwrap();
        assert_eq!(model.meta.rows, 3_000);
        assert!(model.meta.threshold > 0.4 && model.meta.warn_threshold >= model.meta.threshold);
        let back = Model::from_json(&model.to_json().unwrap()).unwrap();
        assert_eq!(back.meta, model.meta);
        for x in set.test.rows.iter().take(200) {
            assert_eq!(model.score(x).to_bits(), back.score(x).to_bits());
        }
        let mut unknown = set.test.rows[0];
        unknown[0] = f64::NAN;
        assert!(back.score(&unknown).is_finite());
    }

    #[test]
    fn refuses_bad_input() {
        let rows = vec![[0.0; D]; 10];
        assert!(matches!(
            train(&rows, &Params::default(), ModelMeta::default()),
            Err(AnomalyError::InsufficientData { .. })
        ));
        let p = Params { extension_level: D, ..Params::default() };
        assert!(matches!(train(&vec![[0.0; D]; 100], &p, ModelMeta::default()), Err(AnomalyError::Params(_))));
        assert!(Model::from_json(b"{}").is_err());
    }

    #[test]
    fn small_samples_train_on_what_there_is() {
        let set = synthetic::split(9, 40, 10);
        let m = train(&set.train.rows, &Params::default(), ModelMeta::default()).unwrap();
        assert!(m.score(&set.test.rows[0]) > 0.0);
    }
}
