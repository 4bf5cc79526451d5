//! One module per subcommand; `main.rs` only parses and dispatches.
pub mod audit;
pub mod bench;
pub mod bench_anomaly;
pub mod bench_corrections;
pub mod bench_findings;
pub mod bench_ingest;
pub mod bench_intake;
pub mod extract;
pub mod generate;
pub mod ingest;
pub mod lag;
pub mod serve;
pub mod sql;
pub mod up;
pub mod worker;
