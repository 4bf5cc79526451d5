//! CONTEXT — billstream-udfs: the logic of every stage, as functions the dataflows, the one-shot
//! CLI and SQL share.
//!
//! Files: `stats.rs` (order statistics over a sorted multiset of charges: the benchmark
//! statistics), `money.rs`, `dates.rs`, `codes.rs` (amounts, dates and code systems as bills
//! print them), `ocr/` (documents to words: limits and errors in `mod.rs`, `document.rs`
//! deciding text layer vs OCR and splitting pages,
//! `pdf.rs` checks and the text layer, `raster.rs` poppler child processes (pdftoppm, and
//! pdftotext where the in-process text layer gives up) and image decoding, `preprocess.rs`,
//! `tesseract.rs`, `combine.rs` two engines' words of one page), `extract/` (words to line items: `rows.rs`, `header.rs` (labels, stacked
//! headers), `fields.rs`, `table.rs` (the page walk: headers, remittance tables, postings,
//! subtotals, dates printed once per group, blocks), `score.rs`; `pasted.rs` lays pasted text
//! out as words on a grid, `items.rs` reads JSON line items), `rules/` (billing-error
//! rules over a document's lines and matched edits, one module per finding kind: duplicate
//! charges, arithmetic, totals, add-ons without their primary, NCCI procedure-to-procedure
//! pairs, MUE units, price outliers, invalid codes, EOB and Good Faith Estimate comparisons,
//! balance billing; lab panel compositions; the money at issue over a bill), `anomaly/` (the
//! extended isolation forest: features, model with its frozen reference, scoring, the finding,
//! AUC), `evalset.rs` (the evaluation set's case format, `EvalCase` and `Label`, and the kinds it
//! labels). The synthetic generators (claims, bills with ground truth, hostile files, the
//! evaluation and anomaly sets) are the dev-only `billstream-testkit` crate, a dev-dependency here.
//!
//! Invariants: a charge-master number is never a code (`cdm_code`, code system CDM). A line is
//! only emitted from a row under a charge table's columns with an amount; payments, subtotals,
//! remittances and prose are not lines. Extraction and statistics are pure and deterministic in
//! their inputs. OCR is the one impure part — it runs a rasterizer child process and tesseract —
//! and is bounded by `ocr::Limits`; its output is logged
//! (`documents.ocr`) so that everything after it replays deterministically. Money is `Decimal`.

pub mod anomaly;
pub mod codes;
pub mod dates;
pub mod evalset;
pub mod extract;
pub mod money;
pub mod ocr;
pub mod rules;
pub mod stats;
