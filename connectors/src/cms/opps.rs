//! OPPS Addendum B → `reference.prices` (source `OPPS`, scope `national`, setting `outpatient`,
//! amount kind `allowed`: the national unadjusted payment rate).
//!
//! Reads the CMS Addendum B CSV (title and notice lines, then `HCPCS Code, Short Descriptor, SI,
//! APC, Relative Weight, Payment Rate, …`) and code/SI/rate extracts
//! (`HCPCSCode,StatusIndicator,PaymentRate,Changed?,Source`), found by their header row: a HCPCS
//! column, a status indicator column and a payment rate column.
//!
//! Invariants: rows without a payment rate (packaged, not paid under OPPS, …) are counted as
//! `unpriced`, not produced. Codes are trimmed of whitespace including NBSP (the April 2026 file
//! has `A4341\u{a0}`). `effective_from` is the month in the title lines or the file name
//! ("April 2026"), else the row's `Source` release (`2026-04`); a file with none is rejected.
use super::cells::{cell, code_type, csv_error, csv_reader, is_code, money, month_year, norm_name};
use crate::feed::{Ctx, Item, LoadError, Out, Tally};
use schemas::RefPrice;
use std::io::BufRead;

/// How many rows may come before the header row.
const MAX_PREAMBLE_ROWS: u64 = 40;

/// Whether `name`/`head` look like an OPPS Addendum B file.
pub fn sniff(name: &str, head: &[u8]) -> bool {
    let upper = name.to_ascii_uppercase().replace(['_', '-'], " ");
    let text = String::from_utf8_lossy(head);
    let header = text.lines().take(40).any(|l| {
        let names: Vec<String> = l.split(',').map(norm_name).collect();
        Columns::find(&names).is_some()
    });
    upper.contains("ADDENDUM B") || upper.contains("ADDENDUMB") || (header && !upper.contains("STATUS INDICATOR"))
}

struct Columns {
    code: usize,
    rate: usize,
    release: Option<usize>,
}

impl Columns {
    fn find(names: &[String]) -> Option<Columns> {
        let find = |f: &dyn Fn(&str) -> bool| names.iter().position(|n| f(n));
        // The status indicator is not carried, but it tells Addendum B from other code lists.
        find(&|n| n == "si" || n == "statusindicator" || n == "status_indicator")?;
        Some(Columns {
            code: find(&|n| n == "hcpcs_code" || n == "hcpcscode" || n == "hcpcs")?,
            rate: find(&|n| n == "payment_rate" || n == "paymentrate")?,
            release: find(&|n| n == "source" || n == "release"),
        })
    }
}

/// Loads an OPPS Addendum B file.
pub fn load(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut rdr = csv_reader(input, b',');
    let mut rec = csv::ByteRecord::new();
    let mut cols: Option<Columns> = None;
    let mut title = String::new();
    let mut file_month: Option<String> = None;
    let mut row = 0u64;
    while rdr.read_byte_record(&mut rec).map_err(|e| csv_error(e, "Addendum B row"))? {
        row += 1;
        let Some(c) = &cols else {
            let cells: Vec<String> = (0..rec.len()).map(|i| cell(&rec, i)).collect();
            let names: Vec<String> = cells.iter().map(|n| norm_name(n)).collect();
            if let Some(found) = Columns::find(&names) {
                // The title lines name the quarter ("… April 2026 …"); else the file name may.
                file_month = month_year(&title)
                    .or_else(|| month_year(&ctx.source_file))
                    .map(|(y, m)| format!("{y:04}-{m:02}-01"));
                if file_month.is_none() && found.release.is_none() {
                    return Err(LoadError::rejected(
                        format!("rows 1-{row}"),
                        "cannot tell when the rates take effect: no month and year in the title lines or the file \
                         name (e.g. \"April 2026\") and no Source column",
                    ));
                }
                cols = Some(found);
            } else if row >= MAX_PREAMBLE_ROWS {
                break;
            } else {
                title.push_str(&cells.join(" "));
                title.push('\n');
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
        if rate_text.is_empty() {
            tally.count("unpriced", 1);
            continue;
        }
        let Some(rate) = money(&rate_text) else {
            tally.reject(at(), format!("payment rate {rate_text:?} is not an amount"));
            continue;
        };
        let effective_from = match &file_month {
            Some(m) => m.clone(),
            // No month for the file: the header row check made sure there is a Source column.
            None => {
                let release = c.release.map(|i| cell(&rec, i)).unwrap_or_default();
                match release_month(&release) {
                    Some(m) => m,
                    None => {
                        tally.reject(at(), format!("Source {release:?} is not a YYYY-MM release"));
                        continue;
                    }
                }
            }
        };
        let price = RefPrice {
            source: "OPPS".into(),
            code: code.clone(),
            code_type: code_type(&code).into(),
            modifier: None,
            scope: "national".into(),
            payer: None,
            setting: Some("outpatient".into()),
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
            "not an OPPS Addendum B file: no header row with HCPCS code, SI and payment rate columns",
        ));
    }
    Ok(())
}

/// `2026-04` → `2026-04-01`.
fn release_month(text: &str) -> Option<String> {
    let (y, m) = text.split_once('-')?;
    let ok = y.len() == 4 && m.len() == 2 && y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit());
    let month: u32 = m.parse().ok()?;
    (ok && (1..=12).contains(&month)).then(|| format!("{y}-{m}-01"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, text: &str) -> (Result<(), LoadError>, Vec<RefPrice>, Tally) {
        let ctx = Ctx { source_file: name.into(), ..Ctx::default() };
        let (r, got, tally) = crate::feed::run_loader(load, &ctx, text);
        (r, crate::feed::prices(got), tally)
    }

    #[test]
    fn cms_layout_with_title_and_dollar_amounts() {
        let text = "Addendum B.-- OPPS Payment by HCPCS Code for April 2026,,,,,\r\n\
            CPT codes and descriptions only are copyright 2025 AMA,,,,,\r\n\
            HCPCS Code,Short Descriptor,SI,APC,Relative Weight,Payment Rate,National Unadjusted Copayment\r\n\
            G0463,Hospital outpt clinic visit,J2,5012,1.5,$136.02,\r\n\
            G0465\u{a0},Autologous prp for dia ulcer,T,5054,10,\"$2,107.97\",$421.60\r\n\
            A4341\u{a0},Cath ind cont,N,,,,\r\n";
        let (r, got, tally) = run("addendum_b.csv", text);
        r.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].code.as_str(), got[0].amount.to_string().as_str()), ("G0463", "136.02"));
        assert_eq!((got[1].code.as_str(), got[1].amount.to_string().as_str()), ("G0465", "2107.97"));
        assert_eq!(got[0].effective_from, "2026-04-01");
        assert_eq!(got[0].setting.as_deref(), Some("outpatient"));
        assert_eq!((tally.counts["codes"], tally.counts["unpriced"]), (3, 1));
    }

    #[test]
    fn extract_uses_source_release() {
        let (r, got, _) = run(
            "opps_code_si_rate.csv",
            "HCPCSCode,StatusIndicator,PaymentRate,Changed?,Source\r\n99284,J2,426.3,false,2026-04\r\n",
        );
        r.unwrap();
        assert_eq!(got[0].effective_from, "2026-04-01");
        let (r, _, _) = run("x.csv", "HCPCSCode,StatusIndicator,PaymentRate\r\n99284,J2,426.3\r\n");
        assert!(r.unwrap_err().to_string().contains("cannot tell when"));
        let (r, _, _) = run("x.csv", "StatusIndicator,Paid,Description\r\nA,Sometimes,x\r\n");
        assert!(r.unwrap_err().to_string().contains("not an OPPS Addendum B file"));
    }
}
