//! CONTEXT — billstream-udfs: pure functions, no I/O.
//!
//! Files: `stats.rs` (order statistics over a sorted multiset of charges: the benchmark
//! statistics), `generate.rs` (deterministic synthetic claim lines for demos, tests and
//! benchmarks), `money.rs` (amounts as bills print them), `dates.rs` (dates as bills print them), `codes.rs` (code systems by shape:
//! CPT incl. Category II/III, HCPCS, revenue, NDC; modifiers).
//!
//! Invariants: everything here is deterministic in its inputs (the generator in its seed), so
//! the dataflow, the one-shot CLI and SQL give the same answers. Money is `Decimal`.

pub mod codes;
pub mod dates;
pub mod extract;
pub mod fixtures;
pub mod generate;
pub mod money;
pub mod ocr;
pub mod stats;
