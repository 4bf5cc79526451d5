//! Cell and value helpers shared by the CMS code-set loaders (PFS, CLFS, OPPS, NCCI, HCPCS):
//! code shapes, CSV readers over any `BufRead`, cells decoded as UTF-8 or else Latin-1, dates
//! and amounts as CMS files write them.
use crate::feed::LoadError;
use rust_decimal::Decimal;
use std::io::BufRead;
use std::str::FromStr;

/// Five ASCII letters or digits: the shape of every CPT and HCPCS code.
pub fn is_code(code: &str) -> bool {
    code.len() == 5 && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// CPT (Level I) shapes: five digits, or four digits and F (category II), T (category III),
/// U (proprietary lab analyses) or M (multianalyte assays).
pub fn is_cpt(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && b[..4].iter().all(u8::is_ascii_digit)
        && (b[4].is_ascii_digit() || matches!(b[4], b'F' | b'T' | b'U' | b'M'))
}

/// `RefPrice::code_type` of a code by its shape: "CPT" for Level I, "HCPCS" for Level II.
pub fn code_type(code: &str) -> &'static str {
    if is_cpt(code) {
        "CPT"
    } else {
        "HCPCS"
    }
}

/// A cell's text: UTF-8 when it is, else Latin-1 (older CMS files), trimmed of whitespace
/// (NBSP included: OPPS has codes with a trailing one), control characters (the DOS end-of-file
/// byte in RVU files) and a byte-order mark.
pub(crate) fn cell(rec: &csv::ByteRecord, i: usize) -> String {
    rec.get(i).map(|b| clean(&decode(b))).unwrap_or_default()
}

pub(crate) fn clean(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c.is_control() || c == '\u{feff}').to_string()
}

pub(crate) fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

pub(crate) fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Splits one header line on tabs (if any) or commas, without quotes, for layout detection.
pub(crate) fn split_line(line: &[u8]) -> Vec<String> {
    let line = strip_eol(line);
    let delimiter = if line.contains(&b'\t') { b'\t' } else { b',' };
    line.split(|b| *b == delimiter).map(|c| decode(c).trim_matches('"').to_string()).collect()
}

/// A header name lower-cased with runs of other characters as one `_`: "ADD DT" → "add_dt".
pub(crate) fn norm_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// The first column whose normalized name is one of `names`.
pub(crate) fn find_col(header: &[String], names: &[&str]) -> Option<usize> {
    header.iter().position(|h| names.contains(&norm_name(h).as_str()))
}

/// A CSV reader over every row (headers are found by the loaders), rows of any length.
pub(crate) fn csv_reader(input: &mut dyn BufRead, delimiter: u8) -> csv::Reader<&mut dyn BufRead> {
    csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(input)
}

/// A CSV error as a file-level error: I/O stays retryable, broken quoting says where.
pub(crate) fn csv_error(e: csv::Error, what: &str) -> LoadError {
    let at = e.position().map(|p| format!("line {}", p.line())).unwrap_or_else(|| what.to_string());
    match e.into_kind() {
        csv::ErrorKind::Io(io) => LoadError::Io(io),
        other => LoadError::rejected(at, format!("unreadable CSV: {other:?}")),
    }
}

/// `YYYYMMDD`, `YYYY-MM-DD` or `M/D/YYYY` → `YYYY-MM-DD`, checked as a calendar date.
pub(crate) fn iso_date(text: &str) -> Option<String> {
    let t = text.trim();
    let (y, m, d) = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        (t[..4].parse().ok()?, t[4..6].parse().ok()?, t[6..].parse().ok()?)
    } else if t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-' {
        (t[..4].parse().ok()?, t[5..7].parse().ok()?, t[8..].parse().ok()?)
    } else {
        let mut p = t.split('/');
        let (m, d, y) = (p.next()?.parse().ok()?, p.next()?.parse().ok()?, p.next()?);
        if p.next().is_some() || y.len() != 4 {
            return None;
        }
        (y.parse().ok()?, m, d)
    };
    chrono::NaiveDate::from_ymd_opt(y, m, d).map(|d| d.format("%Y-%m-%d").to_string())
}

/// A dollar amount as CMS files write it: `136.02`, `$2,107.97`, ` 720.0 `.
pub(crate) fn money(text: &str) -> Option<Decimal> {
    let t: String = text.chars().filter(|c| !matches!(c, '$' | ',') && !c.is_whitespace()).collect();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
        return None;
    }
    Decimal::from_str(&t).ok()
}

/// Month number of an English month name or its three-letter abbreviation.
pub(crate) fn month_number(word: &str) -> Option<u32> {
    udfs::dates::month(word)
}

/// The first month and year named together in `text` ("April 2026", "2026 April",
/// "2026-04", "2026_april_web_addendum_b"): a month word or two-digit month next to a year.
pub(crate) fn month_year(text: &str) -> Option<(i32, u32)> {
    let tokens: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).collect();
    let year = |t: &str| -> Option<i32> {
        (t.len() == 4 && (t.starts_with("19") || t.starts_with("20"))).then(|| t.parse().ok()).flatten()
    };
    for (i, t) in tokens.iter().enumerate() {
        if let Some(m) = month_number(t) {
            // "April 2026", "2026 April", "January 1, 2026".
            let near = [i.checked_sub(1), Some(i + 1), Some(i + 2), i.checked_sub(2)];
            if let Some(y) = near.iter().flatten().filter_map(|&j| tokens.get(j)).find_map(|t| year(t)) {
                return Some((y, m));
            }
        }
        if let (Some(y), Some(next)) = (year(t), tokens.get(i + 1)) {
            if let Ok(m @ 1..=12) = next.parse::<u32>() {
                if next.len() == 2 {
                    return Some((y, m));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_cells() {
        assert!(is_cpt("99213") && is_cpt("0001F") && is_cpt("0591T") && is_cpt("0001U") && is_cpt("0002M"));
        assert!(!is_cpt("G0463") && !is_cpt("A1") && !is_cpt("9921"));
        assert_eq!(code_type("G0463"), "HCPCS");
        assert_eq!(code_type("71046"), "CPT");
        assert_eq!(clean("A4341\u{a0}"), "A4341");
        assert_eq!(clean("\u{1a}"), "");
        assert_eq!(decode(b"caf\xe9"), "café");
        assert_eq!(norm_name("\u{feff}code"), "code");
        assert_eq!(norm_name("ADD DT"), "add_dt");
    }

    #[test]
    fn dates_and_money() {
        assert_eq!(iso_date("20231231").as_deref(), Some("2023-12-31"));
        assert_eq!(iso_date("2026-04-01").as_deref(), Some("2026-04-01"));
        assert_eq!(iso_date("7/1/2026").as_deref(), Some("2026-07-01"));
        assert_eq!(iso_date("20230230"), None);
        assert_eq!(iso_date("*"), None);
        assert_eq!(money("$2,107.97"), Decimal::from_str("2107.97").ok());
        assert_eq!(money("720.0"), Decimal::from_str("720").ok());
        assert_eq!(money("n/a"), None);
        assert_eq!(month_year("OPPS Addendum B April 2026"), Some((2026, 4)));
        assert_eq!(month_year("2026_april_web_addendum_b.csv"), Some((2026, 4)));
        assert_eq!(month_year("release 2026-04"), Some((2026, 4)));
        assert_eq!(month_year("nothing 2026"), None);
        assert_eq!(month_year("effective January 1, 2026"), Some((2026, 1)));
    }
}
