//! CONTEXT — billstream-testkit: every synthetic generator the tests, the bench commands and
//! `billstream generate` use. Dev-only: the library crates take it as a dev-dependency at most.
//!
//! Files: `generate.rs` (deterministic synthetic claim lines: the demo feed of `billstream up`,
//! the test workload and the benchmark input; replacements and voids of earlier claims),
//! `fixtures/` (synthetic bills in several layouts and classes with ground truth: `doc.rs` the
//! document model and its layouts, `catalog.rs` services, `metrics.rs` text widths, `render.rs`
//! text PDFs, `degrade.rs` scans and photos, `mod.rs` `Fixture`, `fixture`, `corpus`,
//! `write_corpus`; `hostile.rs` builds bombs and broken files for the limits' tests),
//! `evalset.rs` (the labeled findings evaluation set: clean bills, one injected error of each
//! kind, hard negatives and contradictory inputs, over the reference data; the case format,
//! `EvalCase`, `Label`, `KINDS`, is `udfs::evalset`, re-exported), `anomaly.rs` (the labeled
//! synthetic set for the anomaly model: generated claim lines plus injected anomalies of several
//! kinds, `Split` into training and test populations, featurized with `udfs::anomaly`).
//!
//! Invariants: every generator is pure and deterministic in its seed (the same seed gives the
//! same lines, truth, cases and text-PDF bytes; rasters also depend on the installed poppler).
//! The ground truth is what the document states, written independently of the extractor, so
//! extraction can be scored against it. Descriptions are generic categories, never CPT
//! descriptors. Types that cross into a library crate's own unit tests must be `schemas` types
//! or plain data: testkit links its own build of `udfs`.

pub mod anomaly;
pub mod evalset;
pub mod fixtures;
pub mod generate;
