//! CONTEXT — billstream-udfs: pure functions, no I/O.
//!
//! Files: `stats.rs` (order statistics over a sorted multiset of charges: the benchmark
//! statistics), `generate.rs` (deterministic synthetic claim lines for demos, tests and
//! benchmarks).
//!
//! Invariants: everything here is deterministic in its inputs (the generator in its seed), so
//! the dataflow, the one-shot CLI and SQL give the same answers. Money is `Decimal`.

pub mod generate;
pub mod stats;
