//! A CSV MRF as a whole: reads it record by record with the `csv` crate, tells a CMS template
//! file (general data elements in row 1) from the pre-2024 layout `legacy` knows, reads the CMS
//! header rows 1–3 and streams the data rows to `csv_rows`.
//!
//! Invariants: one `ByteRecord` buffer is reused for every row (no allocation per row beyond the
//! prices); rows are "flexible" so a short or long row never stops the file; blank lines are
//! skipped but a blank row 1 or row 3 rejects the file (the validator's HeaderBlankError); bytes
//! that are not UTF-8 are replaced (with one warning) instead of failing the file.
use super::csv_rows::Rows;
use super::emit::Emitter;
use super::header::normalize;
use super::{csv_columns, csv_header, legacy};
use crate::feed::{Ctx, LoadError, Out, Tally};
use csv::{ByteRecord, StringRecord};
use std::io::BufRead;

/// The records of a CSV file, as `StringRecord`s that share one buffer, each with the line it
/// really starts on.
///
/// The `csv` reader dates a record from where it started scanning: before any blank lines it then
/// skipped, and, in CRLF files, on the line before (the `\n` of the previous `\r\n` is consumed
/// late). So the start line is worked out backwards from the reader's position after the record:
/// minus the line breaks inside its quoted fields, minus the `\n` it consumed when the file ends
/// lines with a bare LF (told from the first record, which starts on line 1). A record never
/// starts before the line after the previous one ended (a last line without a line break).
pub(crate) struct Records<'a> {
    rdr: csv::Reader<&'a mut dyn BufRead>,
    spare: Option<ByteRecord>,
    warned_utf8: bool,
    lf: Option<bool>,
    prev_end: u64,
    /// Blank lines skipped before the last record read.
    pub(crate) gap: u64,
}

/// The line a record starts on (1-based).
pub(crate) fn line_of(rec: &StringRecord) -> u64 {
    rec.position().map_or(0, |p| p.line())
}

fn csv_error(e: csv::Error) -> LoadError {
    let at = e.position().map_or_else(|| "file".to_string(), |p| format!("row {}", p.line()));
    match e.into_kind() {
        csv::ErrorKind::Io(io) => LoadError::Io(io),
        other => LoadError::rejected(at, format!("unreadable CSV: {other:?}")),
    }
}

impl<'a> Records<'a> {
    pub(crate) fn new(input: &'a mut dyn BufRead) -> Self {
        let rdr =
            csv::ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(1 << 16).from_reader(input);
        Records { rdr, spare: None, warned_utf8: false, lf: None, prev_end: 0, gap: 0 }
    }

    /// Sets the record's real start line (see the type's documentation).
    fn date(&mut self, b: &mut ByteRecord) {
        let after = self.rdr.position().line();
        let breaks = b.as_slice().iter().filter(|&&c| c == b'\n').count() as u64;
        let lf = *self.lf.get_or_insert(after >= breaks + 2);
        let start = after.saturating_sub(breaks + u64::from(lf)).max(self.prev_end + 1);
        self.gap = start - (self.prev_end + 1);
        self.prev_end = start + breaks;
        let mut pos = b.position().cloned().unwrap_or_else(csv::Position::new);
        pos.set_line(start);
        b.set_position(Some(pos));
    }

    /// The next record (blank lines are skipped), to be handed back with `give_back`.
    pub(crate) fn next(&mut self, tally: &mut Tally) -> Result<Option<StringRecord>, LoadError> {
        let mut b = self.spare.take().unwrap_or_default();
        if !self.rdr.read_byte_record(&mut b).map_err(csv_error)? {
            self.spare = Some(b);
            return Ok(None);
        }
        self.date(&mut b);
        match StringRecord::from_byte_record(b) {
            Ok(s) => Ok(Some(s)),
            Err(e) => {
                let b = e.into_byte_record();
                let mut s: StringRecord = b.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
                s.set_position(b.position().cloned());
                if !self.warned_utf8 {
                    self.warned_utf8 = true;
                    tally.warn(
                        format!("row {}", line_of(&s)),
                        "bytes that are not UTF-8 (probably Windows-1252 text) were replaced with U+FFFD; \
                         further rows are not reported",
                    );
                }
                self.spare = Some(b);
                Ok(Some(s))
            }
        }
    }

    /// Returns a record's buffer for the next read.
    pub(crate) fn give_back(&mut self, rec: StringRecord) {
        self.spare = Some(rec.into_byte_record());
    }
}

fn fields(rec: &StringRecord) -> Vec<&str> {
    rec.iter().collect()
}

/// Loads a CSV MRF (CMS tall or wide, v2.x or v3.0, or the pre-2024 layout `legacy` knows).
pub(crate) fn load(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut rows = Records::new(input);
    let Some(row1) = rows.next(tally)? else {
        return Err(LoadError::rejected("file", "the file is empty"));
    };
    let norms: Vec<String> = row1.iter().map(normalize).collect();
    let is_cms = norms.iter().any(|n| n == "hospital_name" || n == "last_updated_on");
    if !is_cms {
        if let Some(layout) = legacy::recognise(&fields(&row1)) {
            let line = line_of(&row1);
            rows.give_back(row1);
            return legacy::load(ctx, &layout, line, &mut rows, out, tally);
        }
        let at = format!("row {}", line_of(&row1));
        if norms.iter().any(|n| n == "description") && norms.iter().any(|n| n.starts_with("code|")) {
            return Err(LoadError::rejected(
                at,
                "row 1 holds the item column headers (description, code|1, …): a CMS MRF starts with the general \
                 data elements (hospital_name, last_updated_on, version, …) in row 1 and their values in row 2",
            ));
        }
        return Err(LoadError::rejected(
            at,
            "not a hospital price-transparency MRF: row 1 has none of the CMS general data elements \
             (hospital_name, last_updated_on, version, …) and is not the pre-2024 layout this loader knows \
             (Code, Description, Code_Type, Gross Charge, Discounted Cash Price, …)",
        ));
    }
    if line_of(&row1) != 1 {
        return Err(LoadError::rejected(
            "row 1",
            "row 1 is blank: a CMS MRF starts with the general data element headers",
        ));
    }
    let names: Vec<String> = row1.iter().map(str::to_string).collect();
    rows.give_back(row1);

    let Some(row2) = rows.next(tally)? else {
        return Err(LoadError::rejected(
            "row 2",
            "the file ends after row 1: the general data element values (row 2) are missing",
        ));
    };
    let line2 = line_of(&row2);
    if rows.gap > 0 {
        return Err(LoadError::rejected(
            format!("row {}", line2 - rows.gap),
            "row 2 (the general data element values) is blank",
        ));
    }
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let general = csv_header::read(&name_refs, &fields(&row2), line2, tally);
    rows.give_back(row2);
    let general = general?;

    let Some(row3) = rows.next(tally)? else {
        return Err(LoadError::rejected("row 3", "the file ends after row 2: the column headers (row 3) are missing"));
    };
    let line3 = line_of(&row3);
    if rows.gap > 0 {
        return Err(LoadError::rejected(format!("row {}", line3 - rows.gap), "row 3 (the column headers) is blank"));
    }
    let mapped = csv_columns::map(general.rules, &fields(&row3));
    rows.give_back(row3);
    let (cols, alerts) = mapped.map_err(|problems| {
        let first = &problems[0];
        let at = match first.0 {
            Some(i) => format!("row {line3}, column {}", i + 1),
            None => format!("row {line3}"),
        };
        let all: Vec<&str> = problems.iter().map(|(_, m)| m.as_str()).collect();
        LoadError::rejected(at, format!("column headers (row 3): {}", all.join("; ")))
    })?;
    for (i, alert) in alerts {
        tally.warn(format!("row {line3}, column {:?}", cols.name(Some(i))), alert);
    }

    let em = Emitter::new(ctx, &general.hospital_name, general.effective_from);
    let mut data = Rows::new(&cols, general.rules, em);
    let mut n = 0u64;
    while let Some(rec) = rows.next(tally)? {
        if rec.iter().all(|f| f.trim().is_empty()) {
            rows.give_back(rec);
            continue;
        }
        n += 1;
        data.row(&rec, line_of(&rec), out, tally);
        rows.give_back(rec);
    }
    if n == 0 {
        return Err(LoadError::rejected(format!("row {}", line3 + 1), "no data rows after the column headers (row 3)"));
    }
    data.finish(tally);
    Ok(())
}
