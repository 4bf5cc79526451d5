//! Clinical Laboratory Fee Schedule → `reference.prices` (source `CLFS`, scope `national`,
//! amount kind `allowed`).
//!
//! Reads the CMS CLFS CSV (notice lines, then `YEAR,HCPCS,MOD,EFF_DATE,INDICATOR,RATE,SHORTDESC,…`)
//! and two-column code/rate extracts (`hcpcs,clfs_rate_usd`), both found by their header row: a
//! row with a HCPCS column and a rate column.
//!
//! Invariants: `effective_from` is the row's EFF_DATE when the file has one, else the quarter in
//! the file name (`26CLABQ2` or `CY2026_Q2` → 2026-04-01); a file with neither is rejected. Rows
//! with no rate or a zero rate (priced by the contractor) are counted as `unpriced`, not produced.
//! Descriptions are not read (CPT descriptors are AMA text).
use super::cells::{cell, code_type, csv_error, csv_reader, is_code, iso_date, money, norm_name};
use crate::feed::{Ctx, Item, LoadError, Out, Tally};
use schemas::RefPrice;
use std::io::BufRead;

/// How many rows may come before the header row.
const MAX_PREAMBLE_ROWS: u64 = 40;

/// Whether `name`/`head` look like a CLFS file.
pub fn sniff(name: &str, head: &[u8]) -> bool {
    let upper = name.to_ascii_uppercase();
    let text = String::from_utf8_lossy(head).to_ascii_uppercase();
    upper.contains("CLAB")
        || upper.contains("CLFS")
        || text.contains("HCPCS,MOD,EFF_DATE,INDICATOR,RATE")
        || text.starts_with("HCPCS,CLFS_RATE")
}

struct Columns {
    code: usize,
    modifier: Option<usize>,
    eff_date: Option<usize>,
    rate: usize,
}

impl Columns {
    fn find(names: &[String]) -> Option<Columns> {
        let find = |f: &dyn Fn(&str) -> bool| names.iter().position(|n| f(n));
        Some(Columns {
            code: find(&|n| n == "hcpcs" || n == "hcpcs_code" || n == "code")?,
            modifier: find(&|n| n == "mod" || n == "modifier"),
            eff_date: find(&|n| n == "eff_date" || n == "effective_date"),
            rate: find(&|n| n == "rate" || n.starts_with("clfs_rate") || n == "payment_rate" || n == "national_limit")?,
        })
    }
}

/// Loads a CLFS file.
pub fn load(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let from_name = quarter_start(&ctx.source_file);
    let mut rdr = csv_reader(input, b',');
    let mut rec = csv::ByteRecord::new();
    let mut cols: Option<Columns> = None;
    let mut row = 0u64;
    while rdr.read_byte_record(&mut rec).map_err(|e| csv_error(e, "CLFS row"))? {
        row += 1;
        let Some(c) = &cols else {
            let names: Vec<String> = (0..rec.len()).map(|i| norm_name(&cell(&rec, i))).collect();
            if let Some(found) = Columns::find(&names) {
                if found.eff_date.is_none() && from_name.is_none() {
                    return Err(LoadError::rejected(
                        format!("row {row}"),
                        "cannot tell when the rates take effect: no EFF_DATE column and no quarter in the file name \
                         (e.g. 26CLABQ2)",
                    ));
                }
                cols = Some(found);
            } else if row >= MAX_PREAMBLE_ROWS {
                break;
            }
            continue;
        };
        let code = cell(&rec, c.code);
        if code.is_empty() {
            continue;
        }
        tally.count("codes", 1);
        let at = || format!("row {row}, code {:?}", cell(&rec, c.code));
        if !is_code(&code) {
            tally.reject(at(), format!("{code:?} is not a 5-character HCPCS code"));
            continue;
        }
        let rate_text = cell(&rec, c.rate);
        let rate = match money(&rate_text) {
            Some(r) if !r.is_zero() => r,
            None if !rate_text.is_empty() => {
                tally.reject(at(), format!("rate {rate_text:?} is not an amount"));
                continue;
            }
            _ => {
                tally.count("unpriced", 1);
                continue;
            }
        };
        let eff_text = c.eff_date.map(|i| cell(&rec, i)).unwrap_or_default();
        let effective_from = match (iso_date(&eff_text), &from_name) {
            (Some(d), _) => d,
            (None, Some(d)) if eff_text.is_empty() => d.clone(),
            _ => {
                tally.reject(at(), format!("EFF_DATE {eff_text:?} is not a date"));
                continue;
            }
        };
        let modifier = c.modifier.map(|i| cell(&rec, i)).filter(|m| !m.is_empty());
        let price = RefPrice {
            source: "CLFS".into(),
            code: code.clone(),
            code_type: code_type(&code).into(),
            modifier,
            scope: "national".into(),
            payer: None,
            setting: None,
            amount_kind: "allowed".into(),
            amount: rate,
            effective_from,
            effective_to: None,
            source_file: ctx.source_file.clone(),
        };
        if tally.emit(out, at, Item::Price(price)) {
            tally.count("prices", 1);
        }
    }
    if cols.is_none() {
        return Err(LoadError::rejected(
            format!("rows 1-{row}"),
            "not a CLFS file: no header row with a HCPCS and a RATE column",
        ));
    }
    Ok(())
}

/// The first day of the quarter a CLFS file name states: `26CLABQ2` (two-digit year, `CLAB`,
/// quarter) or `CY2026_Q2` / `2026Q2` (four-digit year, quarter) → `2026-04-01`.
pub(crate) fn quarter_start(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let b = upper.as_bytes();
    for (i, _) in upper.match_indices('Q') {
        let Some(q @ b'1'..=b'4') = b.get(i + 1).copied() else { continue };
        let before = upper[..i].trim_end_matches(['_', '-', ' ']);
        let before = before.strip_suffix("CLAB").unwrap_or(before);
        let digits: String = before.chars().rev().take_while(char::is_ascii_digit).collect();
        let year: i32 = match digits.len() {
            2 => 2000 + digits.chars().rev().collect::<String>().parse::<i32>().ok()?,
            n if n >= 4 => digits[..4].chars().rev().collect::<String>().parse().ok()?,
            _ => continue,
        };
        let month = (q - b'1') as u32 * 3 + 1;
        return Some(format!("{year:04}-{month:02}-01"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn run(name: &str, text: &str) -> (Result<(), LoadError>, Vec<RefPrice>, Tally) {
        let ctx = Ctx { source_file: name.into(), ..Ctx::default() };
        let (r, got, tally) = crate::feed::run_loader(load, &ctx, text);
        (r, crate::feed::prices(got), tally)
    }

    #[test]
    fn cms_layout_with_notice_and_eff_date() {
        let text = "2026 Clinical Diagnostic Laboratory Fee Schedule\r\ncopyright, AMA\r\n\r\n\
            YEAR,HCPCS,MOD,EFF_DATE,INDICATOR,RATE,SHORTDESC,LONGDESC,EXTENDEDLONGDESC\r\n\
            2026,85025,,20260101,N,7.77,x,y,\"z, w\"\r\n\
            2026,87804,QW,20260101,N,16.55,x,y,z\r\n\
            2026,0001U,,20260101,N,0.00,x,y,z\r\n\
            2026,8502,,20260101,N,1.00,x,y,z\r\n";
        let (r, got, tally) = run("PUF_CLFS.csv", text);
        r.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].amount, got[0].effective_from.as_str()), (Decimal::from_str("7.77").unwrap(), "2026-01-01"));
        assert_eq!(got[1].modifier.as_deref(), Some("QW"));
        assert_eq!((tally.counts["unpriced"], tally.rejected), (1, 1));
    }

    #[test]
    fn extract_takes_the_quarter_from_the_name() {
        let (r, got, _) = run("hbc_clfs_26CLABQ2_code_rate.csv", "hcpcs,clfs_rate_usd\r\n36415,9.34\r\n");
        r.unwrap();
        assert_eq!(got[0].effective_from, "2026-04-01");
        let (r, _, _) = run("rates.csv", "hcpcs,clfs_rate_usd\r\n36415,9.34\r\n");
        assert!(r.unwrap_err().to_string().contains("no EFF_DATE column"));
        let (r, _, _) = run("rates.csv", "a,b\r\n1,2\r\n");
        assert!(r.unwrap_err().to_string().contains("not a CLFS file"));
    }

    #[test]
    fn quarters() {
        assert_eq!(quarter_start("26CLABQ2").as_deref(), Some("2026-04-01"));
        assert_eq!(quarter_start("PUF_CLFS_CY2026_Q4V1.csv").as_deref(), Some("2026-10-01"));
        assert_eq!(quarter_start("mue_2026Q1.json").as_deref(), Some("2026-01-01"));
        assert_eq!(quarter_start("Q5.csv"), None);
    }
}
