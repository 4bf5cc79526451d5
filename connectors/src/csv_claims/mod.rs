//! CSV claims feeds → claim lines, in two layouts told apart by the header (`header.rs`):
//! Tuva's normalized `medical_claim` table (`tuva.rs`), and Billstream's own claim line CSV
//! (`billstream.rs`), whose columns are the `ClaimLine` fields, so that any other feed can be
//! mapped to it. Rows stream one at a time; memory holds one row and the set of claim ids seen
//! (64-bit hashes, counted exactly up to `MAX_DISTINCT_CLAIMS`).
//!
//! Tuva `medical_claim` → ClaimLine (columns by name, any order; others ignored):
//!
//! | ClaimLine              | Tuva column(s)                                                                 |
//! |------------------------|--------------------------------------------------------------------------------|
//! | claim_id               | `claim_id` (required)                                                          |
//! | line_no                | `claim_line_number` (required, whole number)                                   |
//! | frequency_code         | last digit of `bill_type_code`: 7 → `7`, 8 → `8`, anything else or empty → `1` |
//! | provider_npi           | first non-empty of `billing_npi`, `facility_npi`, `rendering_npi`; else empty   |
//! | payer                  | `payer`                                                                        |
//! | place_of_service       | `place_of_service_code` (one digit gets its leading zero back); empty when `claim_type` is institutional |
//! | code                   | `hcpcs_code`, upper-cased (required: an institutional row without one is counted in `lines_without_hcpcs` and not produced; any other row without one is rejected) |
//! | modifier               | first non-empty of `hcpcs_modifier_1`..`_5`; the others are counted in `modifiers_beyond_first` |
//! | service_date           | `claim_line_start_date`, else `claim_start_date` (YYYY-MM-DD, YYYYMMDD or a timestamp) |
//! | units                  | `service_unit_quantity` (whole number; empty → 1; 0 is rejected by validation)  |
//! | charge                 | `charge_amount` (required)                                                     |
//! | allowed                | `allowed_amount`                                                               |
//! | paid                   | `paid_amount`                                                                  |
//! | patient_responsibility | `coinsurance_amount` + `copayment_amount` + `deductible_amount` (those present; empty when none is) |
//! | carc, rarc             | none (empty)                                                                   |
//!
//! Billstream claim line CSV (header names exactly the ClaimLine fields, any order, no others):
//!
//! | column                 | required | value                                                                |
//! |------------------------|----------|----------------------------------------------------------------------|
//! | claim_id               | yes      | text                                                                 |
//! | line_no                | yes      | whole number                                                         |
//! | frequency_code         | no       | `1` original (default), `7` replacement, `8` void                    |
//! | provider_npi           | no       | text                                                                 |
//! | payer                  | no       | text; empty → none                                                   |
//! | place_of_service       | no       | 2-digit CMS code; empty for institutional lines                      |
//! | code                   | yes      | 5-character CPT/HCPCS code (upper-cased)                             |
//! | modifier               | no       | 2 characters; empty → none                                           |
//! | service_date           | yes      | YYYY-MM-DD (or YYYYMMDD)                                             |
//! | units                  | no       | whole number > 0; empty → 1                                          |
//! | charge                 | yes      | decimal amount, e.g. `125.00`                                        |
//! | allowed, paid, patient_responsibility | no | decimal amount; empty → none                            |
//! | carc, rarc             | no       | codes separated by `;`, e.g. `45;253`                                |
//!
//! Amounts are plain decimals (`1200.50`; no `$`, thousands separators or exponents). Fields are
//! trimmed. Rows are numbered as records, the header being row 1 (blank lines are skipped and not
//! numbered; a quoted field may span lines); a rejected row is reported as
//! `row 17, column charge_amount` with the reason (`"12.x" is not an amount`), including the
//! `ClaimLine::validate` failures (mapped back to the column). A row with a different number of
//! fields than the header, or not UTF-8, is rejected whole. The file is rejected (`LoadError`)
//! when it is empty or its header is neither layout.
//!
//! Counts: `rows` (data rows read, blank lines skipped by the CSV reader), `claims` (distinct
//! claim ids), `lines.<claim_type>` (Tuva rows producing a line, by `claim_type`),
//! `lines_without_hcpcs`, `modifiers_beyond_first`.
mod billstream;
mod fields;
mod header;
mod tuva;

pub use billstream::{write_billstream, COLUMNS as BILLSTREAM_COLUMNS};

use crate::feed::{Ctx, Item, LoadError, Out, Tally};
use csv::{ByteRecord, StringRecord};
use header::Layout;
use schemas::{ClaimLine, SchemaError};
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::BufRead;

/// Distinct claim ids counted exactly up to this many; past it `claims` is a lower bound and a
/// warning says so (about 64 MiB of hashes).
pub const MAX_DISTINCT_CLAIMS: usize = 1 << 22;

/// What became of one data row.
pub(crate) enum RowOutcome {
    Line {
        line: Box<ClaimLine>,
        kind: Option<String>,
        extra_modifiers: usize,
    },
    /// Not a line to check; counted under this name.
    Skip(&'static str),
    Reject {
        column: String,
        reason: String,
    },
}

/// Reads a CSV claims feed (Tuva `medical_claim` or the Billstream claim line CSV, by header).
pub fn load(_ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    let mut raw = ByteRecord::new();
    if !reader.read_byte_record(&mut raw).map_err(csv_error)? {
        return Err(LoadError::rejected("row 1", "the file is empty: no header"));
    }
    let header = StringRecord::from_byte_record(raw.clone())
        .map_err(|_| LoadError::rejected("row 1", "the header is not valid UTF-8"))?;
    let names = header::normalize(&header.iter().collect::<Vec<_>>());
    let width = names.len();
    let layout = header::detect(names.clone()).map_err(|reason| LoadError::rejected("row 1 (header)", reason))?;
    let claim_id_at = names.iter().position(|n| n == "claim_id");
    let mut claims = ClaimIds::default();
    // Records counted as a spreadsheet numbers rows, the header being row 1. (The csv crate's
    // line numbers are off by one per CRLF line end.)
    let mut row = 1u64;
    while reader.read_byte_record(&mut raw).map_err(csv_error)? {
        row += 1;
        tally.count("rows", 1);
        if raw.len() != width {
            tally.reject(format!("row {row}"), format!("{} fields, the header has {width}", raw.len()));
            continue;
        }
        let record = match StringRecord::from_byte_record(raw.clone()) {
            Ok(r) => r,
            Err(e) => {
                let column = e.utf8_error().field();
                let name = names.get(column).map_or("?", String::as_str);
                tally.reject(format!("row {row}, column {name}"), "not valid UTF-8");
                continue;
            }
        };
        claims.see(claim_id_at.and_then(|i| record.get(i)));
        let (outcome, column_of): (RowOutcome, fn(&str) -> &str) = match &layout {
            Layout::Tuva(c) => (tuva::row(c, &record), tuva::column_of),
            Layout::Billstream(c) => (billstream::row(c, &record), |field| field),
        };
        match outcome {
            RowOutcome::Skip(what) => tally.count(what, 1),
            RowOutcome::Reject { column, reason } => tally.reject(format!("row {row}, column {column}"), reason),
            RowOutcome::Line { line, kind, extra_modifiers } => {
                if extra_modifiers > 0 {
                    tally.count("modifiers_beyond_first", extra_modifiers as u64);
                }
                let item = Item::Claim(*line);
                match item.validate() {
                    Err(SchemaError::Invalid { field, reason, .. }) => {
                        tally.reject(format!("row {row}, column {}", column_of(field)), reason);
                    }
                    _ => {
                        if let Some(kind) = kind {
                            tally.count(&format!("lines.{kind}"), 1);
                        }
                        tally.emit(out, || format!("row {row}"), item);
                    }
                }
            }
        }
    }
    tally.count("claims", claims.ids.len() as u64);
    if claims.saturated {
        tally.warn("file", format!("more than {MAX_DISTINCT_CLAIMS} distinct claim ids: `claims` counts the first"));
    }
    Ok(())
}

/// Whether `head` (the first bytes of a file) starts with a header of either layout: Tuva
/// (`claim_id` and `claim_line_number`) or Billstream (`claim_id`, `line_no`, `code`). A header
/// cut off by the end of `head` is judged on its complete names.
pub fn sniff(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let line = match head.iter().position(|&b| b == b'\n') {
        Some(end) => &head[..end],
        // No line end within `head`: drop the last, possibly partial, name.
        None => &head[..head.iter().rposition(|&b| b == b',').unwrap_or(0)],
    };
    std::str::from_utf8(line).is_ok_and(header::looks_like_claims)
}

fn csv_error(e: csv::Error) -> LoadError {
    let at = e.position().map_or("file".to_string(), |p| format!("row {}", p.record() + 1));
    match e.into_kind() {
        csv::ErrorKind::Io(io) => LoadError::Io(io),
        other => LoadError::rejected(at, format!("not readable as CSV: {other:?}")),
    }
}

/// Distinct claim ids, as 64-bit hashes.
#[derive(Default)]
struct ClaimIds {
    ids: HashSet<u64>,
    saturated: bool,
}

impl ClaimIds {
    fn see(&mut self, id: Option<&str>) {
        let Some(id) = id.map(str::trim).filter(|id| !id.is_empty()) else { return };
        let mut h = DefaultHasher::new();
        id.hash(&mut h);
        let hash = h.finish();
        if self.ids.len() < MAX_DISTINCT_CLAIMS {
            self.ids.insert(hash);
        } else if !self.ids.contains(&hash) {
            self.saturated = true;
        }
    }
}
