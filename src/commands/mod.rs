//! One module per subcommand; `main.rs` only parses and dispatches.
pub mod bench;
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
