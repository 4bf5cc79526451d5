//! The findings evaluation set's format: labeled cases (`EvalCase`, `Label`) and the finding
//! kinds the set labels, as written to `tests/eval/findings/` and read by the scorer
//! (`dataflows::findings::eval`). The seeded generator of the cases lives in the dev-only
//! `billstream-testkit` crate (`testkit::evalset`).
use schemas::records::BillLine;
use serde::{Deserialize, Serialize};

/// The finding kinds the set labels (`anomaly` is scored by its own AUC bench).
pub const KINDS: [&str; 11] = [
    "duplicate_charge",
    "arithmetic_error",
    "total_mismatch",
    "unbundled_pair",
    "units_exceed_mue",
    "addon_without_primary",
    "invalid_code",
    "price_outlier",
    "eob_mismatch",
    "balance_billing",
    "gfe_exceeded",
];

/// Kinds whose label names the whole bill (matched on document and kind).
pub use crate::rules::DOCUMENT_KINDS;

/// One expected finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub kind: String,
    pub doc_id: String,
    /// The lines the error is on (1-based table rows of `doc_id`).
    pub lines: Vec<i32>,
}

/// One patient's documents with what a correct audit finds in them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalCase {
    pub case_id: String,
    /// What was generated: `clean`, `error: <kind> (<how>)`, `negative: <what>`,
    /// `contradictory: <what>` (for reading results; scoring uses the labels).
    #[serde(default)]
    pub note: String,
    /// The input should draw at least one warning (contradictory inputs).
    #[serde(default)]
    pub expect_warnings: bool,
    /// No labels: the case must draw no finding (other than `anomaly`).
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Every line of every document of the case (`kind` says bill, EOB or GFE).
    pub lines: Vec<BillLine>,
}
