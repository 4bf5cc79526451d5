//! The findings graph: billing-error rules and anomaly scores over bill lines, corrections, EOB and
//! GFE lines, `reference.edits` and `benchmarks` as differential joins and reduces.
//! `graph.rs` builds it, `oneshot.rs` runs it over documents in memory (`billstream audit`, the
//! evaluation bench), `runtime.rs` over Kafka, `reference.rs` loads reference files from a
//! directory (the demo set shipped in `deploy/demo/reference/`).
pub mod eval;
pub mod graph;
pub mod line;
pub mod oneshot;
pub mod reference;
pub mod runtime;
pub mod shared;
pub mod sink;

use schemas::records::BillLine;
use schemas::{Benchmark, Finding, RefEdit};

/// Reference data a findings run rests on: coding edits (NCCI PTP pairs, MUE limits, HCPCS code
/// set entries, the lab panel compositions) and price benchmarks.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    pub edits: Vec<RefEdit>,
    pub benchmarks: Vec<Benchmark>,
    /// The anomaly model to score with, as saved: (version, JSON). None: no anomaly scores.
    pub model: Option<(u64, Vec<u8>)>,
}

/// One patient's case: the lines of its documents (the bill, and optionally the EOB and the Good
/// Faith Estimate; each line's `kind` says which). Doc ids must be unique across cases.
#[derive(Debug, Clone, Default)]
pub struct CaseInput {
    pub case_id: String,
    pub lines: Vec<BillLine>,
    /// The hospital that sent the bill, as its price file names it: the bill is compared with
    /// that hospital's own published gross charges.
    pub provider: Option<String>,
}

/// Something in the input that the rules could not use as it is (negative units, an EOB that
/// does not match the bill, a GFE dated after the care): said, never turned into a finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    pub doc_id: String,
    pub lines: Vec<i32>,
    pub message: String,
}

/// What the graph derived for a set of cases once every input is in.
#[derive(Debug, Clone, Default)]
pub struct Audited {
    /// Current findings (all with diff +1), sorted by doc, kind and lines.
    pub findings: Vec<Finding>,
    pub warnings: Vec<Warning>,
}
