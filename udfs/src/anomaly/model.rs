//! The anomaly model: an extended isolation forest over `features`, the per-feature fill for
//! unknown facts, and `ModelMeta` (version, training data range, thresholds, metrics).
//!
//! Scores are the forest's: 2^(−mean path length ÷ c(sample size)), in (0, 1); near 0.5 is
//! ordinary, towards 1 is isolated quickly, i.e. unusual. Thresholds are quantiles of the scores
//! of the training rows: `contamination` says what share of the population is worth a look.
use super::features::{BenchIndex, LineFacts, ScoringRef, D, FEATURES};
use super::flat::FlatForest;
use super::AnomalyError;
use extended_isolation_forest::{Forest, ForestOptions};
use schemas::records::BillLine;
use schemas::ClaimLine;
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
    /// The benchmark summary the training rows were featurized with, frozen: scoring computes
    /// features from it, not from live benchmarks, so a line means to the model what it meant
    /// at training (benchmarks drifting later would otherwise shift every feature).
    reference: ScoringRef,
    /// The crate's forest flattened (`flat.rs`); the crate's boxed trees are not kept.
    forest: FlatForest,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("meta", &self.meta)
            .field("fill", &self.fill)
            .field("codes", &self.reference.codes())
            .field("trees", &self.forest.trees())
            .finish_non_exhaustive()
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
/// caller's. `rows` must have been featurized against `index` as it is now: its summary is
/// frozen into the model for scoring.
pub fn train(
    rows: &[[f64; D]],
    params: &Params,
    mut meta: ModelMeta,
    index: &BenchIndex,
) -> Result<Model, AnomalyError> {
    let bad = |s: &str| Err(AnomalyError::Params(s.to_string()));
    if params.trees == 0 || params.sample_size < 2 {
        return bad("trees must be ≥ 1 and sample_size ≥ 2");
    }
    if params.extension_level >= D {
        return bad("extension_level must be below the number of features");
    }
    // Written positively so that NaN fails too.
    let shares_ok = params.contamination > 0.0
        && params.contamination < 0.5
        && params.warn_contamination > 0.0
        && params.warn_contamination <= params.contamination;
    if !shares_ok {
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
    let forest = FlatForest::from_forest(&Forest::from_slice(&filled, &options)?)?;
    // Thresholds from the scorer that will score: the flat forest.
    let flat: Vec<_> = filled.iter().map(FlatForest::row).collect();
    let mut scores = Vec::new();
    forest.score_batch(&flat, &mut scores);
    scores.sort_by(f64::total_cmp);
    meta.rows = rows.len() as u64;
    meta.params = Some(params.clone());
    meta.threshold = quantile(&scores, 1.0 - params.contamination);
    meta.warn_threshold = quantile(&scores, 1.0 - params.warn_contamination).max(meta.threshold);
    meta.metrics.score_quantiles = QUANTILES.iter().map(|q| (*q, quantile(&scores, *q))).collect();
    Ok(Model { meta, fill, reference: index.snapshot(), forest })
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
    /// Facts of a bill line against the benchmarks as they were at training (what
    /// `BenchIndex::bill_facts` gave then), for `features`.
    pub fn bill_facts(&self, line: &BillLine, doc_lines: u32) -> LineFacts {
        self.reference.bill_facts(line, doc_lines)
    }

    /// Facts of a claim line against the benchmarks as they were at training.
    pub fn claim_facts(&self, line: &ClaimLine, claim_lines: u32) -> LineFacts {
        self.reference.claim_facts(line, claim_lines)
    }

    /// The frozen benchmark summary.
    pub fn reference(&self) -> &ScoringRef {
        &self.reference
    }

    /// Anomaly score in (0, 1); unknown (non-finite) features count as usual.
    pub fn score(&self, x: &[f64; D]) -> f64 {
        self.forest.score(&FlatForest::row(&fill_row(x, &self.fill)))
    }

    /// Scores of many lines into `out` (cleared first), each identical to `score`'s: faster
    /// per line, as the trees stay in cache across a block of lines.
    pub fn score_batch(&self, xs: &[[f64; D]], out: &mut Vec<f64>) {
        let rows: Vec<_> = xs.iter().map(|x| FlatForest::row(&fill_row(x, &self.fill))).collect();
        self.forest.score_batch(&rows, out);
    }

    /// The usual value of each feature (training median).
    pub fn usual(&self) -> &[f64; D] {
        &self.fill
    }

    /// Which features drove the score, largest first: exact Shapley values of the score, with
    /// the usual values (training medians) as the baseline. The score is evaluated for every
    /// subset S of features taken from the line (the rest at their usual value), 2^D = 128
    /// scores, and feature i gets its average marginal effect v(S ∪ {i}) − v(S) over the
    /// subsets, Shapley-weighted. The contributions add up to score(line) − score(usual line);
    /// features that say the same thing (the two charge ratios) share the credit instead of
    /// hiding each other, which dropping one feature at a time would do. Paid only for lines
    /// that are reported (128 scores, one batch).
    pub fn explain(&self, x: &[f64; D]) -> Vec<(&'static str, f64)> {
        let x = fill_row(x, &self.fill);
        let subsets: Vec<[f64; D]> = (0..1usize << D)
            .map(|mask| {
                let mut y = self.fill;
                for (i, yi) in y.iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        *yi = x[i];
                    }
                }
                y
            })
            .collect();
        let mut v = Vec::new();
        self.score_batch(&subsets, &mut v);
        // weight[k] = k! (D − k − 1)! / D!: the share of orderings in which i follows exactly
        // the k features of a given subset.
        let fact = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
        let weight: Vec<f64> = (0..D).map(|k| fact(k) * fact(D - k - 1) / fact(D)).collect();
        let mut out: Vec<(usize, f64)> = (0..D)
            .map(|i| {
                let phi = (0..1usize << D)
                    .filter(|m| m & (1 << i) == 0)
                    .map(|m| weight[m.count_ones() as usize] * (v[m | (1 << i)] - v[m]))
                    .sum::<f64>();
                (i, phi)
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
    // The labeled set comes from testkit, which links its own build of this crate: only its
    // plain data (feature rows, lines, benchmarks) is used here, the index is rebuilt locally.
    use testkit::anomaly as synthetic;

    #[test]
    fn round_trips_through_json_with_identical_scores() {
        let set = synthetic::split(5, 3_000, 500);
        let index = BenchIndex::from_benchmarks(&set.benchmarks);
        let model = train(&set.train.rows, &Params::default(), ModelMeta::default(), &index).unwrap();
        assert_eq!(model.meta.rows, 3_000);
        assert!(model.meta.threshold > 0.4 && model.meta.warn_threshold >= model.meta.threshold);
        let back = Model::from_json(&model.to_json().unwrap()).unwrap();
        assert_eq!(back.meta, model.meta);
        let mut batch = vec![];
        back.score_batch(&set.test.rows, &mut batch);
        for (x, b) in set.test.rows.iter().zip(&batch) {
            assert_eq!(model.score(x).to_bits(), back.score(x).to_bits());
            assert_eq!(b.to_bits(), back.score(x).to_bits());
        }
        // Shapley contributions add up to score(x) − score(usual line).
        let x = &set.test.rows[1];
        let total: f64 = back.explain(x).iter().map(|(_, c)| c).sum();
        assert!((total - (back.score(x) - back.score(back.usual()))).abs() < 1e-9);
        let mut unknown = set.test.rows[0];
        unknown[0] = f64::NAN;
        assert!(back.score(&unknown).is_finite());
    }

    #[test]
    fn refuses_bad_input() {
        let rows = vec![[0.0; D]; 10];
        assert!(matches!(
            train(&rows, &Params::default(), ModelMeta::default(), &BenchIndex::default()),
            Err(AnomalyError::InsufficientData { .. })
        ));
        let p = Params { extension_level: D, ..Params::default() };
        let ix = BenchIndex::default();
        assert!(matches!(train(&vec![[0.0; D]; 100], &p, ModelMeta::default(), &ix), Err(AnomalyError::Params(_))));
        assert!(Model::from_json(b"{}").is_err());
    }

    #[test]
    fn small_samples_train_on_what_there_is() {
        let set = synthetic::split(9, 40, 10);
        let index = BenchIndex::from_benchmarks(&set.benchmarks);
        let m = train(&set.train.rows, &Params::default(), ModelMeta::default(), &index).unwrap();
        assert!(m.score(&set.test.rows[0]) > 0.0);
    }

    #[test]
    fn bill_facts_are_frozen_at_training() {
        let set = synthetic::split(7, 2_000, 10);
        let mut index = BenchIndex::from_benchmarks(&set.benchmarks);
        let model =
            train(&set.train.rows, &Params { trees: 5, ..Params::default() }, ModelMeta::default(), &index).unwrap();
        let code = set.train.lines[0].code.clone();
        let mut bill = crate::rules::testing::line(1, "2026-03-14", &code, 2, None, "180.00");
        bill.modifiers = vec!["25".into()];
        let before = index.bill_facts(&bill, 3);
        assert_eq!(model.bill_facts(&bill, 3), before);
        assert!(before.medicare.is_some() && before.observed_count.is_some_and(|n| n > 0));
        let unknown = crate::rules::testing::line(2, "2026-03-14", "0001U", 1, None, "10.00");
        assert_eq!(model.bill_facts(&unknown, 1), index.bill_facts(&unknown, 1));

        // The benchmarks move on (the code's Medicare amount, its observed lines retracted, a
        // new code): the live index answers differently, the model as at training, also after
        // a JSON round trip.
        for b in set.benchmarks.iter().filter(|b| b.code == code) {
            index.upsert(&schemas::Benchmark { median: b.median * rust_decimal::Decimal::TWO, count: 0, ..b.clone() });
        }
        index.upsert(&schemas::Benchmark { code: "0001U".into(), ..set.benchmarks[0].clone() });
        assert_ne!(index.bill_facts(&bill, 3), before);
        assert_ne!(index.bill_facts(&unknown, 1), model.bill_facts(&unknown, 1));
        assert_eq!(model.bill_facts(&bill, 3), before);
        let back = Model::from_json(&model.to_json().unwrap()).unwrap();
        assert_eq!(back.bill_facts(&bill, 3), before);
        assert_eq!(back.reference(), model.reference());
    }
}
