//! NCCI edits → `reference.edits`: procedure-to-procedure pairs (kind `ptp`) and medically
//! unlikely edits (kind `mue`).
//!
//! * PTP (`load_ptp`): the CMS tab-delimited table (`ccipra-v322r0-f1.txt`; also comma-separated
//!   when saved from the spreadsheet release): header lines, then column 1, column 2, `*` when
//!   in existence prior to 1996, effective date YYYYMMDD, deletion date YYYYMMDD or `*`, modifier
//!   indicator 0/1/9, rationale. The header is whatever precedes the first row of that shape.
//! * MUE CSV (`load_mue_csv`): the CMS layout (a multi-line quoted AMA notice, then `HCPCS/CPT
//!   Code, <Practitioner|Outpatient Hospital|DME Supplier> Services MUE Values, MUE Adjudication
//!   Indicator, MUE Rationale`); `effective_from` from the file name (`Eff_07-01-2026`).
//! * MUE JSON (`load_mue_json`): an object of code → `{maxUnits, adjudicationType}`, streamed one
//!   entry at a time; `effective_from` from the quarter in the file name (`2026Q2`).
//!
//! Invariants: a PTP edit's `effective_to` is the deletion date as CMS writes it (`*` → none);
//! the rationale is not carried (RefEdit has no field for it). `mue_adjudication` is the CMS
//! indicator text, e.g. "2 Date of Service Edit: Policy".
use super::cells::{cell, csv_error, csv_reader, decode, is_code, iso_date, norm_name};
use super::clfs::quarter_start;
use super::tic::json_error;
use crate::feed::{Ctx, Item, LoadError, Out, Tally};
use schemas::RefEdit;
use serde::de::{Deserializer as _, MapAccess, Visitor};
use std::fmt;
use std::io::BufRead;

/// How many lines or rows may come before the first PTP row or the MUE header row.
const MAX_PREAMBLE: usize = 40;

/// Whether `name`/`head` look like any NCCI file this module reads.
pub fn sniff(name: &str, head: &[u8]) -> bool {
    sniff_ptp(name, head) || sniff_mue_csv(name, head) || sniff_mue_json(name, head)
}

/// A PTP table: the CMS title line or a first row of the PTP shape.
pub fn sniff_ptp(name: &str, head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let upper = name.to_ascii_uppercase();
    text.contains("Column1/Column2 Edits")
        || ((upper.contains("PTP") || upper.starts_with("CCI")) && text.lines().any(|l| ptp_fields(l).is_some()))
}

/// A MUE table in the CMS CSV layout.
pub fn sniff_mue_csv(_name: &str, head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_uppercase();
    text.contains("MUE VALUES") && text.contains("MUE ADJUDICATION INDICATOR")
}

/// A MUE object of code → `{maxUnits, …}`.
pub fn sniff_mue_json(_name: &str, head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    text.trim_start().starts_with('{') && text.contains("\"maxUnits\"")
}

/// The fields of a PTP row, or `None` when the line is not one (header lines).
fn ptp_fields(line: &str) -> Option<Vec<String>> {
    let delimiter = if line.contains('\t') { '\t' } else { ',' };
    let f: Vec<String> = line.split(delimiter).map(|c| c.trim().trim_matches('"').trim().to_string()).collect();
    let dated = f.get(3).is_some_and(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()));
    (f.len() >= 6 && is_code(&f[0]) && is_code(&f[1]) && dated).then_some(f)
}

/// Loads an NCCI PTP table as `ptp` edits.
pub fn load_ptp(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    let mut started = false;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let line = decode(&buf);
        let line = line.trim_end_matches(['\r', '\n']);
        let Some(f) = ptp_fields(line) else {
            if !started && line_no >= MAX_PREAMBLE {
                return Err(LoadError::rejected(
                    format!("lines 1-{line_no}"),
                    "not an NCCI PTP table: no row of column 1 code, column 2 code, prior-1996 flag, effective date \
                     (YYYYMMDD), deletion date, modifier indicator",
                ));
            }
            if started && !line.trim().is_empty() {
                tally.reject(
                    format!("line {line_no}"),
                    "not a PTP row (column 1, column 2, prior-1996 flag, effective date YYYYMMDD, deletion date, \
                     modifier indicator, rationale)",
                );
            }
            continue;
        };
        started = true;
        tally.count("edits", 1);
        let at = || format!("line {line_no}, {}/{}", f[0], f[1]);
        let Some(from) = iso_date(&f[3]) else {
            tally.reject(at(), format!("effective date {:?} is not a date", f[3]));
            continue;
        };
        let to = match f[4].as_str() {
            "" | "*" => None,
            d => match iso_date(d) {
                Some(d) => Some(d),
                None => {
                    tally.reject(at(), format!("deletion date {d:?} is not a date or *"));
                    continue;
                }
            },
        };
        if to.is_some() {
            tally.count("deleted", 1);
        }
        let edit = RefEdit {
            kind: "ptp".into(),
            code: f[0].clone(),
            code2: Some(f[1].clone()),
            modifier_indicator: Some(f[5].clone()),
            mue_limit: None,
            mue_adjudication: None,
            description: None,
            effective_from: from,
            effective_to: to,
            source_file: ctx.source_file.clone(),
        };
        tally.emit(out, at, Item::Edit(edit));
    }
    if !started {
        return Err(LoadError::rejected(format!("lines 1-{line_no}"), "not an NCCI PTP table: no PTP rows"));
    }
    Ok(())
}

/// The date a MUE file name states: `Eff_07-01-2026` (MM-DD-YYYY), else a quarter (`2026Q2`).
fn mue_effective(name: &str) -> Option<String> {
    let b = name.as_bytes();
    for i in 0..b.len().saturating_sub(9) {
        let w = &b[i..i + 10];
        let digits = |r: std::ops::Range<usize>| w[r].iter().all(u8::is_ascii_digit);
        let sep = |c: u8| c == b'-' || c == b'_';
        if digits(0..2) && sep(w[2]) && digits(3..5) && sep(w[5]) && digits(6..10) {
            let t = std::str::from_utf8(w).ok()?;
            if let Some(d) = iso_date(&format!("{}/{}/{}", &t[..2], &t[3..5], &t[6..])) {
                return Some(d);
            }
        }
    }
    quarter_start(name)
}

fn no_date(at: String) -> LoadError {
    LoadError::rejected(
        at,
        "cannot tell when the MUEs take effect: the file name has no effective date (e.g. Eff_07-01-2026) or \
         quarter (e.g. 2026Q2)",
    )
}

/// Loads a MUE table in the CMS CSV layout as `mue` edits.
pub fn load_mue_csv(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut rdr = csv_reader(input, b',');
    let mut rec = csv::ByteRecord::new();
    let mut cols: Option<(usize, usize, Option<usize>)> = None;
    let mut from = String::new();
    let mut row = 0usize;
    while rdr.read_byte_record(&mut rec).map_err(|e| csv_error(e, "MUE row"))? {
        row += 1;
        let Some((code_col, limit_col, mai_col)) = cols else {
            let names: Vec<String> = (0..rec.len()).map(|i| norm_name(&cell(&rec, i))).collect();
            let find = |f: &dyn Fn(&str) -> bool| names.iter().position(|n| f(n));
            let code = find(&|n| n.contains("hcpcs") || n.contains("cpt"));
            let limit = find(&|n| n.contains("mue_value"));
            if let (Some(code), Some(limit)) = (code, limit) {
                from = mue_effective(&ctx.source_file).ok_or_else(|| no_date(format!("row {row}")))?;
                cols = Some((code, limit, find(&|n| n.contains("adjudication"))));
            } else if row >= MAX_PREAMBLE {
                break;
            }
            continue;
        };
        let code = cell(&rec, code_col);
        if code.is_empty() {
            continue;
        }
        tally.count("codes", 1);
        let limit = cell(&rec, limit_col);
        let mai = mai_col.map(|i| cell(&rec, i)).filter(|m| !m.is_empty());
        let at = || format!("row {row}, code {:?}", cell(&rec, code_col));
        match mue_edit(ctx, &code, limit.parse::<i32>().ok(), &limit, mai, &from) {
            Ok(e) => {
                tally.emit(out, at, Item::Edit(e));
            }
            Err(reason) => tally.reject(at(), reason),
        }
    }
    if cols.is_none() {
        return Err(LoadError::rejected(
            format!("rows 1-{row}"),
            "not a MUE table: no header row with a HCPCS/CPT code column and an MUE Values column",
        ));
    }
    Ok(())
}

/// A `mue` edit; `limit_text` is the limit as the file wrote it, for the reject reason.
fn mue_edit(
    ctx: &Ctx,
    code: &str,
    limit: Option<i32>,
    limit_text: &str,
    mai: Option<String>,
    from: &str,
) -> Result<RefEdit, String> {
    if !is_code(code) {
        return Err(format!("{code:?} is not a 5-character HCPCS code"));
    }
    let Some(limit) = limit.filter(|l| *l >= 0) else {
        return Err(format!("MUE value {limit_text} is not a number of units"));
    };
    Ok(RefEdit {
        kind: "mue".into(),
        code: code.to_string(),
        code2: None,
        modifier_indicator: None,
        mue_limit: Some(limit),
        mue_adjudication: mai,
        description: None,
        effective_from: from.to_string(),
        effective_to: None,
        source_file: ctx.source_file.clone(),
    })
}

/// Loads a MUE object of code → `{maxUnits, adjudicationType}` as `mue` edits.
///
/// `adjudicationType` "line" is MAI 1; "date_of_service" is MAI 2 or 3, which the object does
/// not tell apart: it becomes "3 Date of Service Edit: Clinical" when the file name says the
/// file holds only MAI 3 rows (`…MAI3only…`), else "Date of Service Edit". A numeric `mai`
/// field, when present, decides.
pub fn load_mue_json(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let from = mue_effective(&ctx.source_file).ok_or_else(|| no_date("file name".into()))?;
    let mut de = serde_json::Deserializer::from_reader(input);
    let visitor = MueObject { ctx, out, tally, from, mai3: ctx.source_file.to_ascii_uppercase().contains("MAI3") };
    de.deserialize_map(visitor).map_err(json_error)?;
    de.end().map_err(json_error)
}

struct MueObject<'a, 'o> {
    ctx: &'a Ctx,
    out: Out<'o>,
    tally: &'a mut Tally,
    from: String,
    mai3: bool,
}

impl<'de> Visitor<'de> for MueObject<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of HCPCS code → {\"maxUnits\": n, \"adjudicationType\": …}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(code) = map.next_key::<String>()? {
            // One entry at a time; an entry is a few fields.
            let v: serde_json::Value = map.next_value()?;
            self.tally.count("codes", 1);
            let limit = ["maxUnits", "max_units", "mue"]
                .iter()
                .find_map(|k| v.get(k))
                .and_then(serde_json::Value::as_i64)
                .and_then(|n| i32::try_from(n).ok());
            let mai = match (v.get("mai").and_then(serde_json::Value::as_u64), v.get("adjudicationType")) {
                (Some(n), _) => mai_text(&n.to_string()),
                (None, Some(serde_json::Value::String(t))) => match t.as_str() {
                    "line" => Some("1 Line Edit".into()),
                    "date_of_service" if self.mai3 => Some("3 Date of Service Edit: Clinical".into()),
                    "date_of_service" => Some("Date of Service Edit".into()),
                    other => Some(other.to_string()),
                },
                _ => None,
            };
            let at = || format!("key {code:?}");
            let shown = v.get("maxUnits").map_or_else(|| "(missing)".to_string(), |m| m.to_string());
            match mue_edit(self.ctx, &code, limit, &shown, mai, &self.from) {
                Ok(e) => {
                    self.tally.emit(self.out, at, Item::Edit(e));
                }
                Err(reason) => self.tally.reject(at(), reason),
            }
        }
        Ok(())
    }
}

/// The CMS text of an MUE adjudication indicator number.
fn mai_text(n: &str) -> Option<String> {
    match n {
        "1" => Some("1 Line Edit".into()),
        "2" => Some("2 Date of Service Edit: Policy".into()),
        "3" => Some("3 Date of Service Edit: Clinical".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: crate::feed::Loader, name: &str, text: &str) -> (Result<(), LoadError>, Vec<RefEdit>, Tally) {
        let ctx = Ctx { source_file: name.into(), ..Ctx::default() };
        let (r, got, tally) = crate::feed::run_loader(f, &ctx, text);
        (r, crate::feed::edits(got), tally)
    }

    #[test]
    fn ptp_rows() {
        let text = "CPT only copyright\t\t\nColumn1/Column2 Edits\t\t\nColumn 1\tColumn 2\t*=in existence\n\
            0001U\t80503\t\t20220101\t*\t1\tMisuse\n\
            0001A\t90473\t*\t20220101\t20220101\t9\tCPT Manual\n\
            0001A\t90474\t\t2022010X\t*\t9\tCPT Manual\n\
            0001A\t90475\t\t20220101\t*\t7\tCPT Manual\n";
        let (r, got, tally) = run(load_ptp, "ccipra.txt", text);
        r.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].effective_to, None);
        assert_eq!(
            (got[1].effective_to.as_deref(), got[1].modifier_indicator.as_deref()),
            (Some("2022-01-01"), Some("9"))
        );
        assert_eq!(tally.rejected, 2, "{:?}", tally.rejects);
        assert!(tally.rejects[1].reason.contains("modifier_indicator"), "{:?}", tally.rejects);
        let (r, _, _) = run(load_ptp, "x.txt", "a\tb\n");
        assert!(r.unwrap_err().to_string().contains("not an NCCI PTP table"));
    }

    #[test]
    fn mue_csv_and_json() {
        let text = "\"Notice line one\n\nline two\",,,\r\n\"HCPCS/\nCPT Code\",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\r\n\
            0001U,1,2 Date of Service Edit: Policy,Code Descriptor\r\n0002U,x,2 Date of Service Edit: Policy,Code\r\n";
        let (r, got, tally) = run(load_mue_csv, "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv", text);
        r.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].effective_from, "2026-07-01");
        assert_eq!(got[0].mue_adjudication.as_deref(), Some("2 Date of Service Edit: Policy"));
        assert!(tally.rejects[0].reason.contains("MUE value x"), "{:?}", tally.rejects);
        let (r, _, _) = run(load_mue_csv, "mue.csv", text);
        assert!(r.unwrap_err().to_string().contains("no effective date"));

        let json = r#"{"0002M": {"adjudicationType": "date_of_service", "maxUnits": 1}, "V5364": {"maxUnits": -1}}"#;
        let (r, got, tally) = run(load_mue_json, "mue_2026Q2_MAI3only.json", json);
        r.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].effective_from.as_str(), got[0].mue_limit), ("2026-04-01", Some(1)));
        assert_eq!(got[0].mue_adjudication.as_deref(), Some("3 Date of Service Edit: Clinical"));
        assert_eq!(tally.rejected, 1);
        let (r, _, _) = run(load_mue_json, "mue_2026Q2.json", "[1, 2]");
        assert!(r.unwrap_err().to_string().contains("an object of HCPCS code"));
    }
}
