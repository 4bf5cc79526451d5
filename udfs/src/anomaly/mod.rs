//! The `anomaly` finding kind: an extended isolation forest (the `extended-isolation-forest`
//! crate) over features of the claims population, scoring bill lines.
//!
//! - `features.rs`: `LineFacts` (a line plus what benchmarks say about its code) and the feature
//!   vector the model sees; `BenchIndex`, the live benchmark lookup training featurizes claim
//!   lines with, and `ScoringRef`, its per-code summary, which the model freezes at training so
//!   scoring (`Model::bill_facts`) computes features exactly as training did.
//! - `model.rs`: `Model` (forest, missing-value fill, frozen `ScoringRef`, `ModelMeta` with
//!   version, training data range, threshold and metrics), `train`, `score`, `score_batch`,
//!   `explain`, JSON round trip.
//! - `flat.rs`: the crate's forest flattened into contiguous complete trees: what the model
//!   stores and scores with (several times faster than the crate's boxed nodes).
//! - `check.rs`: a score above the model's threshold becomes a `Finding`.
//! - `auc.rs`: ROC AUC with ties. The deterministic labeled set (generated claim lines plus
//!   injected anomalies of several kinds) for tests and the benchmark is `testkit::anomaly`.
//!
//! Invariants: money stays `Decimal` everywhere except inside the feature vector (f64 by
//! necessity of the model); feature computation is pure; training is randomized by the crate
//! (it draws from `thread_rng`), so two trainings differ slightly but a saved model scores
//! deterministically.
pub mod auc;
pub mod check;
pub mod features;
pub mod flat;
pub mod model;

pub use auc::auc;
pub use check::check;
pub use features::{features, BenchIndex, LineFacts, ScoringRef, D, FEATURES};
pub use flat::FlatForest;
pub use model::{train, Metrics, Model, ModelMeta, Params};

/// Why a model could not be trained or read.
#[derive(Debug, thiserror::Error)]
pub enum AnomalyError {
    #[error("need at least {need} training rows, got {rows}")]
    InsufficientData { rows: usize, need: usize },
    #[error("bad parameters: {0}")]
    Params(String),
    #[error("isolation forest: {0}")]
    Forest(#[from] extended_isolation_forest::Error),
    #[error("model json: {0}")]
    Json(#[from] serde_json::Error),
}
