//! What every feed loader (x12, fhir, cms, csv claims) shares: the records it produces, the
//! tally of what it read and rejected, and the file-level error that rejects a whole file.
//!
//! A loader reads one file from a `BufRead` (so the caller can wrap it with a progress bar and
//! multi-GB files stream in bounded memory), calls `out` for each record that passed
//! `Record::validate`, and notes every record it could not use in the `Tally` with where and why.
//! It returns `Err(LoadError)` only when the file as a whole cannot be read (wrong format, bad
//! envelope, unreadable header): then nothing it produced should be trusted.
use schemas::{ClaimLine, Record, RefEdit, RefPrice};
use serde::Serialize;
use std::collections::BTreeMap;

/// One record for the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Claim(ClaimLine),
    Price(RefPrice),
    Edit(RefEdit),
}

impl Item {
    /// Validates the record; the loader rejects it in the tally when this fails.
    pub fn validate(&self) -> Result<(), schemas::SchemaError> {
        match self {
            Item::Claim(r) => r.validate(),
            Item::Price(r) => r.validate(),
            Item::Edit(r) => r.validate(),
        }
    }
}

/// Where a loader puts its records.
pub type Out<'a> = &'a mut dyn FnMut(Item);

/// What the caller tells a loader about the file.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// The file's name as evidence will cite it (no directories).
    pub source_file: String,
    /// Scope override for price files that do not name their hospital or payer.
    pub scope: Option<String>,
    /// PFS: only these Medicare localities (MAC + locality, e.g. "0111205"); all when empty.
    pub localities: Vec<String>,
}

/// One record a loader could not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// Where: `row 12, column "standard_charge|gross"`, `segment 41 (SV1), element 2`, `entry 3`.
    pub at: String,
    pub reason: String,
}

/// How many rejects a tally keeps verbatim; the rest are counted per reason.
pub const KEPT_REJECTS: usize = 200;

/// Counts per record type and rejects with reasons, for the summary and `--dry-run --json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Per record type: "claims", "service_lines", "payments", "adjustments", "prices", "edits",
    /// "codes", ... Record types that are read but not produced (a claim header) count too.
    pub counts: BTreeMap<String, u64>,
    /// Records produced onto the log.
    pub produced: u64,
    /// Records rejected.
    pub rejected: u64,
    /// The first `KEPT_REJECTS` rejects.
    pub rejects: Vec<Reject>,
    /// Warnings about the file that do not reject records (e.g. a CMS validator warning).
    pub warnings: Vec<Reject>,
    /// Keep every reject, not only the first `KEPT_REJECTS` (the ingest command sends each
    /// one to the dead-letter topic, then trims the list for its summary).
    #[serde(skip)]
    pub keep_all: bool,
}

impl Tally {
    pub fn count(&mut self, kind: &str, n: u64) {
        *self.counts.entry(kind.to_string()).or_default() += n;
    }
    pub fn reject(&mut self, at: impl Into<String>, reason: impl Into<String>) {
        self.rejected += 1;
        if self.keep_all || self.rejects.len() < KEPT_REJECTS {
            self.rejects.push(Reject { at: at.into(), reason: reason.into() });
        }
    }
    pub fn warn(&mut self, at: impl Into<String>, reason: impl Into<String>) {
        if self.warnings.len() < KEPT_REJECTS {
            self.warnings.push(Reject { at: at.into(), reason: reason.into() });
        }
    }
    /// Validates `item` and passes it to `out`, or rejects it at `at` with the validation error.
    pub fn emit(&mut self, out: Out<'_>, at: impl FnOnce() -> String, item: Item) -> bool {
        match item.validate() {
            Ok(()) => {
                self.produced += 1;
                out(item);
                true
            }
            Err(e) => {
                self.reject(at(), e.to_string());
                false
            }
        }
    }
    /// Adds another file's tally to this one.
    pub fn merge(&mut self, other: Tally) {
        for (k, v) in other.counts {
            *self.counts.entry(k).or_default() += v;
        }
        self.produced += other.produced;
        self.rejected += other.rejected;
        let room = KEPT_REJECTS.saturating_sub(self.rejects.len());
        self.rejects.extend(other.rejects.into_iter().take(room));
        let room = KEPT_REJECTS.saturating_sub(self.warnings.len());
        self.warnings.extend(other.warnings.into_iter().take(room));
    }
}

/// A file that cannot be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is malformed as a whole: `at` says where (line, segment, JSON path), `reason` what.
    #[error("{at}: {reason}")]
    Rejected { at: String, reason: String },
    #[error("read: {0}")]
    Io(#[from] std::io::Error),
}

impl LoadError {
    pub fn rejected(at: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Rejected { at: at.into(), reason: reason.into() }
    }
    /// Reading may succeed again (a network filesystem); a malformed file never will.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Io(_))
    }
}

/// A loader's signature: read `input`, produce through `out`, note rejects in `tally`.
pub type Loader = fn(&Ctx, &mut dyn std::io::BufRead, Out<'_>, &mut Tally) -> Result<(), LoadError>;

/// Runs `load` over `text` and keeps what it produced (unit tests of the loaders).
#[cfg(test)]
pub(crate) fn run_loader(load: Loader, ctx: &Ctx, text: &str) -> (Result<(), LoadError>, Vec<Item>, Tally) {
    let mut got = vec![];
    let mut tally = Tally::default();
    let r = load(ctx, &mut text.as_bytes(), &mut |i| got.push(i), &mut tally);
    (r, got, tally)
}

/// The prices among `items` (unit tests).
#[cfg(test)]
pub(crate) fn prices(items: Vec<Item>) -> Vec<RefPrice> {
    items.into_iter().filter_map(|i| if let Item::Price(p) = i { Some(p) } else { None }).collect()
}

/// The edits among `items` (unit tests).
#[cfg(test)]
pub(crate) fn edits(items: Vec<Item>) -> Vec<RefEdit> {
    items.into_iter().filter_map(|i| if let Item::Edit(e) = i { Some(e) } else { None }).collect()
}
