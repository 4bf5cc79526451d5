//! CMS hospital price-transparency machine-readable files (45 CFR 180.50) → `reference.prices`.
//!
//! Reads the CMS templates v2.x (2.0.0–2.2.1) and v3.0 in their three layouts: CSV "tall" (one
//! payer and plan per row), CSV "wide" (payer and plan inside the column headers) and JSON; and
//! the pre-2024 wide CSV layout of e.g. Stony Brook University Hospital's 2022 file (`legacy`).
//! `load` tells them apart by content: `{` → JSON; a CSV whose row 1 has `hospital_name` /
//! `last_updated_on` → CMS CSV (tall or wide from row 3); otherwise the legacy header.
//!
//! Streaming: CSV row by row (`csv`, one reused record buffer); JSON through a `DeserializeSeed`
//! that handles each `standard_charge_information` element as it is parsed. Memory is bounded by
//! one row or one item, whatever the file size.
//!
//! Checks — those of CMS's hpt-validator (github.com/CMSgov/hpt-validator), with its errors as
//! errors and its alerts as `tally.warn`:
//! * The file as a whole is rejected (`LoadError`, with where and why) when its structure or
//!   general data is unusable: empty file, invalid JSON, blank row 1 or 3, a missing or duplicate
//!   header, an unreplaced template placeholder (`[state]`, `[i]`, `[payer_name]`), a missing
//!   required column, tall and wide at once, an invalid MRF date, a required general value blank,
//!   root-level JSON schema errors, no data rows.
//! * A row (CSV) or item / standard charge / payer entry (JSON, the smallest enclosing one) with an
//!   error loads none of its prices and is one reject, located by row and column or JSON pointer:
//!   missing required values, invalid code types, settings, methodologies, drug units, counts,
//!   non-positive or non-numeric amounts, a code without its type (and the reverse), a
//!   payer-specific charge without payer/plan/methodology, a dollar amount without min and max, a
//!   percentage or algorithm without the estimated amount (v2.2) or the count and allowed amounts
//!   (v3.0), "other" without notes, an NDC without drug information, an item without any charge.
//!   A JSON `modifier_information` entry with an error is a reject like a CSV modifier-only row.
//! * Alerts (loaded anyway): nine 9s (999999999) in estimated or allowed amounts, an
//!   `estimated_amount` in a v3 file, a false attestation/affirmation, a version value that does
//!   not match the template, a file without payer-specific charges; plus the loader's own: a short
//!   row, non-UTF-8 bytes, a legacy file without a date.
//!
//! Versions: the rules follow the file's shape (v3 elements `attestation`, `location_name`,
//! `type_2_npi`; v2 ones `affirmation`, `hospital_location`) and otherwise its `version` value.
//! Every v2.x file is checked against the v2.2 dictionary (the last v2 one; CMS's own test suite
//! checks its 2.0.0-labelled fixtures against the 2.1/2.2 conditionals).
//!
//! Header normalization: a UTF-8 BOM, letter case, whitespace around a header and around each `|`
//! do not matter (`code | 1 | type` = `code|1|type`, as the v3 tall example writes it). A space
//! inside a name does: the v2.0 tall example's `standard _charge|negotiated_algorithm` is not
//! `standard_charge|negotiated_algorithm`, so that required column is missing and the file is
//! rejected, with a hint naming the near miss. That is what the hpt-validator does (it trims only
//! around pipes) and what the dictionaries allow: they excuse "leading and trailing spaces in
//! headers … and around pipes", not spaces inside an element name; guessing would also let a
//! truly different header through.
//!
//! Output, one `RefPrice` per amount and per code of the item (a row with a CPT and a revenue
//! code gives two of each): source "MRF"; scope `hospital:<hospital_name>`, or `ctx.scope` when
//! set; effective_from the MRF date (M/D/YYYY accepted in CSV and converted); setting; modifier
//! (the first of `modifiers` / `modifier_code`); amount_kind "gross", "cash", "negotiated" (payer
//! "Payer | Plan"), "negotiated_min", "negotiated_max", and "estimated" (v2.x estimated allowed
//! amount, with its payer). Percentages and algorithms have no dollar amount: they are counted in
//! "charges_without_dollar_amount", not emitted. v3 median and percentile allowed amounts are
//! statistics of past payments, not prices: not emitted. Modifier-only rows (no code) are counted
//! in "modifier_rows", rows shorter than the headers in "short_rows". In the tall layout an item's gross, cash, min and max repeat on each payer
//! row; they are emitted once per run of consecutive rows of the same item. Counts: "items" (data
//! rows or JSON items), "prices", "payer_plans" (distinct payer-plan pairs with a payer-specific
//! charge), "charges_without_dollar_amount", "placeholder_amounts", "modifier_rows", "short_rows",
//! "modifiers" (JSON modifier_information entries).
//!
//! Legacy layout: see `legacy` for its column mapping, hospital name (set `ctx.scope` to
//! `hospital:<name>`, or it is read from the `<EIN>_<HospitalName>_standardcharges.csv` file name)
//! and date.
mod csv_columns;
mod csv_file;
mod csv_header;
mod csv_rows;
mod emit;
mod header;
mod json;
mod json_schema;
mod legacy;
mod validate;

use crate::feed::{Ctx, LoadError, Out, Tally};
use std::io::BufRead;

/// Loads one MRF of any supported layout (see the module documentation).
pub fn load(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let head = input.fill_buf()?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    } else if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(LoadError::rejected("file", "the file is UTF-16 text: an MRF is read as UTF-8 (save it as UTF-8)"));
    } else if head.starts_with(b"\x1F\x8B") {
        return Err(LoadError::rejected("file", "the file is gzip-compressed: decompress it before loading"));
    }
    let first = loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break None;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    };
    match first {
        None => Err(LoadError::rejected("file", "the file is empty")),
        Some(b'{' | b'[') => json::load(ctx, input, out, tally),
        Some(_) => csv_file::load(ctx, input, out, tally),
    }
}

/// Whether the first bytes of a file (a few KB) are an MRF this module loads: JSON with
/// `hospital_name` or `standard_charge_information` (and not a JSON Schema), a CSV whose first
/// row has `hospital_name` and `last_updated_on`, or the pre-2024 header. The file name is not
/// needed: hospitals name their files freely.
pub fn sniff(_name: &str, head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start();
    if t.starts_with('{') {
        return !t.contains("\"$schema\"")
            && (t.contains("\"hospital_name\"") || t.contains("\"standard_charge_information\""));
    }
    let first_line = t.lines().next().unwrap_or("");
    let lower = first_line.to_lowercase();
    if lower.contains("hospital_name") && lower.contains("last_updated_on") {
        return true;
    }
    let fields: Vec<&str> = first_line.split(',').map(|f| f.trim_matches('"')).collect();
    legacy::recognise(&fields).is_some()
}

#[cfg(test)]
mod tests;
