//! HCPCS Level II code files → `reference.edits` records of kind `code` (a valid code, its CMS
//! short description and its dates).
//!
//! Reads two layouts, told apart by their first lines:
//! * the raw CMS release file (`HCPC<year>_CONTR_ANWEB.txt`): fixed-width 320-byte records after
//!   a few disclaimer lines, positions from the CMS record layout (`HCPCS<year>_recordlayout.txt`):
//!   code 1-5, record id 11 (3 procedure, 4 its continuation, 7 modifier, 8 its continuation),
//!   short description 92-119, added date 269-276, action effective date 277-284, termination
//!   date 285-292;
//! * a delimited export with a header row (the Tuva `hcpcs_level_2.csv`, or the CMS spreadsheet
//!   saved as CSV/tab): columns found by name (`code`/`HCPC`, `recid`, `short_description`,
//!   `ADD_DT`, `ACT_EFF_DT`, `TERM_DT`).
//!
//! Invariants: only procedure records (id 3) become records; modifiers (id 7) are counted, not
//! produced (a `code` edit means "a billable procedure code"); continuation lines only continue the
//! long description, which is not used. `effective_from` is the added date (else the action
//! effective date, else January 1 of the year in the file name); `effective_to` the termination
//! date. A code of CPT shape never carries a description (CPT descriptors are AMA text).
//!
//! The helpers every CMS code-set loader shares (code shapes, cells, dates, money) are in
//! `cells.rs`.
use super::cells::{cell, clean, csv_error, csv_reader, decode, find_col, iso_date, split_line, strip_eol};
pub use super::cells::{code_type, is_code, is_cpt};
use crate::feed::{Ctx, Item, LoadError, Out, Tally};
use schemas::RefEdit;
use std::io::{BufRead, BufReader, Cursor, Read};

/// How many lines may come before the first record or header row.
const MAX_PREAMBLE_LINES: usize = 200;

/// Whether `name`/`head` look like a HCPCS Level II file this module reads.
pub fn sniff(name: &str, head: &[u8]) -> bool {
    let upper = name.to_ascii_uppercase();
    let named = upper.contains("HCPC") && !upper.contains("RECORDLAYOUT") && !upper.contains("README");
    let mut lines = head.split(|b| *b == b'\n');
    if lines.clone().any(is_fixed_record) {
        return true;
    }
    // A header row naming the code and a short description.
    named
        && lines.any(|l| {
            let cells = split_line(l);
            find_col(&cells, &["code", "hcpc", "hcpcs", "hcpcs_code"]).is_some()
                && find_col(&cells, SHORT_NAMES).is_some()
        })
}

/// Loads a HCPCS Level II file (either layout) as `code` edits.
pub fn load(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    // Look at the first lines to tell the layout, then read them again with the rest.
    let mut prefix = Vec::new();
    let mut layout = None;
    for n in 1..=MAX_PREAMBLE_LINES {
        let start = prefix.len();
        if input.read_until(b'\n', &mut prefix)? == 0 {
            break;
        }
        let line = &prefix[start..];
        if is_fixed_record(line) {
            layout = Some(Layout::Fixed);
            break;
        }
        let cells = split_line(line);
        if find_col(&cells, &["code", "hcpc", "hcpcs", "hcpcs_code"]).is_some()
            && find_col(&cells, SHORT_NAMES).is_some()
        {
            layout = Some(Layout::Delimited { header_line: n, header_at: start });
            break;
        }
    }
    match layout {
        Some(Layout::Fixed) => {
            let mut r = BufReader::new(Cursor::new(prefix).chain(input));
            load_fixed(ctx, &mut r, out, tally)
        }
        Some(Layout::Delimited { header_line, header_at }) => {
            let rest = prefix.split_off(header_at);
            let mut r = BufReader::new(Cursor::new(rest).chain(input));
            load_delimited(ctx, header_line, &mut r, out, tally)
        }
        None => Err(LoadError::rejected(
            format!("lines 1-{MAX_PREAMBLE_LINES}"),
            "not a HCPCS Level II file: no 320-byte CMS record (code, sequence number, record id 3/4/7/8) \
             and no header row with a code and a short description column",
        )),
    }
}

enum Layout {
    Fixed,
    /// The header row's 1-based line number and its byte offset in the prefix.
    Delimited {
        header_line: usize,
        header_at: usize,
    },
}

/// A record of the CMS fixed-width layout: at least 293 bytes (through the action code), a
/// sequence number in 6-10 and a record id in 11.
fn is_fixed_record(line: &[u8]) -> bool {
    let line = strip_eol(line);
    line.len() >= 293
        && !line.contains(&b'\t')
        && line[..5].iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ')
        && line[5..10].iter().all(u8::is_ascii_digit)
        && matches!(line[10], b'3' | b'4' | b'7' | b'8')
}

fn load_fixed(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    let mut seen_record = false;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let line = strip_eol(&buf);
        if !is_fixed_record(line) {
            // Disclaimer lines come before the records; blank lines may come anywhere.
            if seen_record && !decode(line).trim().is_empty() {
                tally.reject(
                    format!("line {line_no}"),
                    format!("not a {}-byte HCPCS record (code, sequence number, record id)", 320),
                );
            }
            continue;
        }
        seen_record = true;
        let field = |from: usize, to: usize| clean(&decode(&line[from - 1..to.min(line.len())]));
        match line[10] {
            b'3' => {}
            b'7' => {
                tally.count("modifiers", 1);
                continue;
            }
            _ => continue, // continuation of a long description
        }
        tally.count("codes", 1);
        let code = field(1, 5);
        let at = || format!("line {line_no}, code {:?}", field(1, 5));
        let dates = (date_cell(&field(269, 276)), date_cell(&field(277, 284)), date_cell(&field(285, 292)));
        let edit = match code_edit(ctx, &code, &field(92, 119), dates, None) {
            Ok(e) => e,
            Err(reason) => {
                tally.reject(at(), reason);
                continue;
            }
        };
        tally.emit(out, at, Item::Edit(edit));
    }
    if !seen_record {
        return Err(LoadError::rejected("end of file", "no HCPCS records"));
    }
    Ok(())
}

/// Column names (normalized) of the short description.
const SHORT_NAMES: &[&str] = &["short_description", "short_desc", "shortdesc", "shrtdesc", "short_descriptor"];

fn load_delimited(
    ctx: &Ctx,
    header_line: usize,
    input: &mut dyn BufRead,
    out: Out<'_>,
    tally: &mut Tally,
) -> Result<(), LoadError> {
    // The header line decides the delimiter: the CMS spreadsheet export is tab-separated.
    let first = input.fill_buf()?;
    let first_line = first.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.contains(&b'\t') { b'\t' } else { b',' };
    let mut rdr = csv_reader(input, delimiter);
    let mut rec = csv::ByteRecord::new();
    if !rdr.read_byte_record(&mut rec).map_err(|e| csv_error(e, "header row"))? {
        return Err(LoadError::rejected(format!("line {header_line}"), "header row expected"));
    }
    let names: Vec<String> = rec.iter().map(decode).collect();
    let col = |c: &[&str]| find_col(&names, c);
    let (Some(code_col), Some(short_col)) = (col(&["code", "hcpc", "hcpcs", "hcpcs_code"]), col(SHORT_NAMES)) else {
        return Err(LoadError::rejected(format!("line {header_line}"), "no code or short description column"));
    };
    let recid_col = col(&["recid", "ric", "record_id"]);
    let add_col = col(&["add_dt", "add_date", "added_date", "code_added_date"]);
    let eff_col = col(&["act_eff_dt", "action_effective_date", "effective_date"]);
    let term_col = col(&["term_dt", "termination_date"]);
    let name_year = year_in_name(&ctx.source_file);
    if add_col.is_none() && eff_col.is_none() && name_year.is_none() {
        return Err(LoadError::rejected(
            format!("line {header_line}"),
            "cannot tell when the codes take effect: no ADD_DT or ACT_EFF_DT column and no year in the file name",
        ));
    }
    let fallback = name_year.map(|y| format!("{y:04}-01-01"));
    let mut row = header_line;
    while rdr.read_byte_record(&mut rec).map_err(|e| csv_error(e, "row"))? {
        row += 1;
        let get = |i: Option<usize>| i.map(|i| cell(&rec, i)).unwrap_or_default();
        let code = get(Some(code_col));
        if code.is_empty() {
            continue;
        }
        let recid = get(recid_col);
        // Record ids as in the CMS layout; without them a two-character code is a modifier.
        match recid.as_str() {
            "4" | "8" => continue,
            "7" => {
                tally.count("modifiers", 1);
                continue;
            }
            "" if code.len() == 2 => {
                tally.count("modifiers", 1);
                continue;
            }
            _ => {}
        }
        tally.count("codes", 1);
        let dates = (date_cell(&get(add_col)), date_cell(&get(eff_col)), date_cell(&get(term_col)));
        let at = || format!("row {row}, code {:?}", cell(&rec, code_col));
        match code_edit(ctx, &code, &get(Some(short_col)), dates, fallback.as_deref()) {
            Ok(edit) => {
                tally.emit(out, at, Item::Edit(edit));
            }
            Err(reason) => tally.reject(at(), reason),
        }
    }
    Ok(())
}

/// Added, action-effective and termination dates as read (`Err` holds the text that is no date).
type Dates = (Result<Option<String>, String>, Result<Option<String>, String>, Result<Option<String>, String>);

fn code_edit(ctx: &Ctx, code: &str, short: &str, dates: Dates, fallback: Option<&str>) -> Result<RefEdit, String> {
    if !is_code(code) {
        return Err(format!("{code:?} is not a 5-character HCPCS code"));
    }
    let (added, action, term) = dates;
    let added = added.map_err(|t| format!("added date {t:?} is not a date"))?;
    let action = action.map_err(|t| format!("action effective date {t:?} is not a date"))?;
    let term = term.map_err(|t| format!("termination date {t:?} is not a date"))?;
    let Some(from) = added.or(action).or(fallback.map(str::to_string)) else {
        return Err("no added or action effective date".into());
    };
    let description = (!is_cpt(code) && !short.is_empty()).then(|| short.to_string());
    Ok(RefEdit {
        kind: "code".into(),
        code: code.to_string(),
        code2: None,
        modifier_indicator: None,
        mue_limit: None,
        mue_adjudication: None,
        description,
        effective_from: from,
        effective_to: term,
        source_file: ctx.source_file.clone(),
    })
}

/// An optional date cell: empty → `Ok(None)`, a date → `Ok(Some(YYYY-MM-DD))`, else `Err(text)`.
fn date_cell(text: &str) -> Result<Option<String>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    iso_date(text).map(Some).ok_or_else(|| text.to_string())
}

/// A four-digit year (1900-2099) standing alone in a file name (`tuva_hcpcs_level_2_2022.csv`).
fn year_in_name(name: &str) -> Option<i32> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|t| t.len() == 4 && (t.starts_with("19") || t.starts_with("20")))
        .filter_map(|t| t.parse().ok())
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_from_file_name() {
        assert_eq!(year_in_name("tuva_hcpcs_level_2_2022.csv"), Some(2022));
    }

    #[test]
    fn fixed_width_record() {
        let mut line = format!("{:<5}{:05}{}", "A4466", 100, 3);
        line.push_str(&format!("{:<80}{:<28}", "Elastic garment long", "Elastic garment/covering"));
        line.push_str(&" ".repeat(268 - line.len()));
        line.push_str("201001012017010120161231N");
        line.push_str(&" ".repeat(320 - line.len()));
        let modifier = format!("   X1001007{}", &line[11..]);
        let text = format!("***Disclaimers\t\t\r\n\r\n{line}\r\n{modifier}\r\n");
        let ctx = Ctx { source_file: "HCPC2019_CONTR_ANWEB.txt".into(), ..Ctx::default() };
        let mut got = vec![];
        let mut tally = Tally::default();
        load(&ctx, &mut text.as_bytes(), &mut |i| got.push(i), &mut tally).unwrap();
        assert_eq!((tally.counts.get("codes"), tally.counts.get("modifiers")), (Some(&1), Some(&1)));
        let Item::Edit(e) = &got[0] else { panic!("{got:?}") };
        assert_eq!(e.code, "A4466");
        assert_eq!(e.description.as_deref(), Some("Elastic garment/covering"));
        assert_eq!((e.effective_from.as_str(), e.effective_to.as_deref()), ("2010-01-01", Some("2016-12-31")));
    }

    #[test]
    fn not_hcpcs() {
        let ctx = Ctx::default();
        let err = load(&ctx, &mut &b"a,b\n1,2\n"[..], &mut |_| {}, &mut Tally::default()).unwrap_err();
        assert!(err.to_string().contains("not a HCPCS Level II file"), "{err}");
    }
}
