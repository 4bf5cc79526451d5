//! Bill intake: uploaded documents → words (`documents.ocr`) → line items (`bill.lines` and the
//! `bill_lines` Parquet table). OCR is the expensive, non-deterministic half and writes its
//! result to the log, so extraction (pure, in `udfs::extract`) replays without re-OCR.
pub mod graph;
pub mod lines;
pub mod oneshot;
pub mod paddle;
pub mod runtime;
mod second_engine;

pub use graph::{DocTask, Fetch, OcrOutcome};
pub use oneshot::{read_files, FileResult, InputFile};

/// Consumer groups of the two intake stages (what `billstream lag` and exporters watch).
pub const OCR_GROUP: &str = "billstream-intake-ocr";
pub const EXTRACT_GROUP: &str = "billstream-intake-extract";
pub const OCR_STAGE: &str = "intake.ocr";
pub const EXTRACT_STAGE: &str = "intake.extract";
