//! Medicare Part B drug payment limits (the quarterly ASP pricing file) → `reference.prices`
//! (source `ASP`, scope `national`, amount kind `payment_limit`: what Medicare allows per HCPCS
//! dosage unit of a drug, biological or vaccine).
//!
//! Reads the CMS CSV: a title and notes, "Effective <Month> <d>, <yyyy> through <Month> <d>,
//! <yyyy>", then `HCPCS Code,Short Description,HCPCS Code Dosage,Payment Limit,...`, found by that
//! header row. Invariants: `effective_from`/`effective_to` come from the Effective line, else the
//! `YYYY-MM` in the file name (the quarter's first day, no end); a file with neither is rejected.
//! A limit of "N/A" (priced by the contractor) is counted as `unpriced`, not produced. The
//! dosage unit is counted per file (`dosages`) but not yet carried on the record.
//! Descriptions are not read (CPT descriptors are AMA text).
use super::cells::{cell, code_type, csv_error, csv_reader, is_code, money, norm_name};
use crate::feed::{Ctx, Item, LoadError, Out, Tally};
use schemas::RefPrice;
use std::io::BufRead;

/// How many rows may come before the header row.
const MAX_PREAMBLE_ROWS: u64 = 40;

/// Whether `name`/`head` look like an ASP pricing file.
pub fn sniff(name: &str, head: &[u8]) -> bool {
    let upper = name.to_ascii_uppercase();
    let text = String::from_utf8_lossy(head).to_ascii_uppercase();
    upper.starts_with("ASP_PRICING")
        || upper.starts_with("ASP_PAYMENT")
        || text.contains("PAYMENT ALLOWANCE LIMITS FOR MEDICARE PART B DRUGS")
}

/// Loads an ASP pricing file.
pub fn load(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut rdr = csv_reader(input, b',');
    let mut rec = csv::ByteRecord::new();
    let mut cols: Option<(usize, usize, Option<usize>)> = None;
    let mut dates: Option<(String, Option<String>)> = None;
    let mut row = 0u64;
    while rdr.read_byte_record(&mut rec).map_err(|e| csv_error(e, "ASP row"))? {
        row += 1;
        let Some((code_col, limit_col, dose_col)) = cols else {
            let first = cell(&rec, 0);
            if first.to_ascii_lowercase().starts_with("effective") {
                dates = effective_range(&first);
            }
            let names: Vec<String> = (0..rec.len()).map(|i| norm_name(&cell(&rec, i))).collect();
            let find = |want: &str| names.iter().position(|n| n == want);
            if let (Some(c), Some(l)) = (find("hcpcs_code"), find("payment_limit")) {
                dates = dates.or_else(|| name_month(&ctx.source_file).map(|d| (d, None)));
                if dates.is_none() {
                    return Err(LoadError::rejected(
                        format!("row {row}"),
                        "cannot tell when the limits take effect: no \"Effective ...\" line and no YYYY-MM in the file name",
                    ));
                }
                cols = Some((c, l, find("hcpcs_code_dosage")));
            } else if row >= MAX_PREAMBLE_ROWS {
                break;
            }
            continue;
        };
        let code = cell(&rec, code_col);
        if code.is_empty() {
            continue;
        }
        tally.count("codes", 1);
        let at = || format!("row {row}, code {:?}", cell(&rec, code_col));
        if !is_code(&code) {
            tally.reject(at(), format!("{code:?} is not a 5-character HCPCS code"));
            continue;
        }
        if dose_col.is_some_and(|d| !cell(&rec, d).is_empty()) {
            tally.count("dosages", 1);
        }
        let limit_text = cell(&rec, limit_col);
        let amount = match money(&limit_text) {
            Some(a) if !a.is_zero() => a,
            _ if limit_text.is_empty() || limit_text.eq_ignore_ascii_case("n/a") => {
                tally.count("unpriced", 1);
                continue;
            }
            _ => {
                tally.reject(at(), format!("payment limit {limit_text:?} is not an amount"));
                continue;
            }
        };
        let (effective_from, effective_to) = dates.clone().unwrap_or_default();
        let price = RefPrice {
            source: "ASP".into(),
            code: code.clone(),
            code_type: code_type(&code).into(),
            modifier: None,
            scope: "national".into(),
            payer: None,
            setting: None,
            amount_kind: "payment_limit".into(),
            amount,
            effective_from,
            effective_to,
            source_file: ctx.source_file.clone(),
        };
        if tally.emit(out, at, Item::Price(price)) {
            tally.count("prices", 1);
        }
    }
    if cols.is_none() {
        return Err(LoadError::rejected(
            format!("rows 1-{row}"),
            "not an ASP pricing file: no header row with HCPCS Code and Payment Limit columns",
        ));
    }
    Ok(())
}

/// "Effective January 1, 2025 through March 31, 2025" → ("2025-01-01", Some("2025-03-31")).
fn effective_range(text: &str) -> Option<(String, Option<String>)> {
    let lower = text.to_ascii_lowercase();
    let rest = lower.trim_start_matches("effective").trim();
    let (from, to) = match rest.split_once(" through ") {
        Some((f, t)) => (f, Some(t)),
        None => (rest, None),
    };
    Some((long_date(from)?, to.and_then(long_date)))
}

/// "january 1, 2025" → "2025-01-01" (the dates bills print, `udfs::dates`).
fn long_date(text: &str) -> Option<String> {
    udfs::dates::parse_date(text).map(|d| d.format("%Y-%m-%d").to_string())
}

/// `ASP_Pricing_File_2025-04_032725.csv` → "2025-04-01".
fn name_month(name: &str) -> Option<String> {
    let b = name.as_bytes();
    (0..b.len().saturating_sub(6)).find_map(|i| {
        let s = name.get(i..i + 7)?;
        let (y, m) = s.split_once('-')?;
        let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
        (y > 1990 && (1..=12).contains(&m) && y.to_string().len() == 4).then(|| format!("{y:04}-{m:02}-01"))
    })
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
    fn cms_layout() {
        let text = "Payment Allowance Limits for Medicare Part B Drugs,,,,\n,,,,\n\
            \"Effective April 1, 2025 through June 30, 2025\",,,,\n\
            HCPCS Code,Short Description,HCPCS Code Dosage,Payment Limit,Co-insurance Percentage\n\
            J0696,REDACTED,500 MG,0.354,20.000\n\
            A9606,REDACTED,1 microCurie,N/A,20.000\n\
            J99,REDACTED,1 MG,1.000,20.000\n";
        let (r, got, tally) = run("ASP_Pricing_File_2025-04_032725.csv", text);
        r.unwrap();
        assert_eq!(got.len(), 1);
        let p = &got[0];
        assert_eq!(
            (p.code.as_str(), p.amount, p.amount_kind.as_str()),
            ("J0696", Decimal::from_str("0.354").unwrap(), "payment_limit")
        );
        assert_eq!((p.effective_from.as_str(), p.effective_to.as_deref()), ("2025-04-01", Some("2025-06-30")));
        assert_eq!((tally.counts["unpriced"], tally.rejected), (1, 1));
    }

    #[test]
    fn dates_from_the_name_and_refusals() {
        let (r, got, _) = run("ASP_Pricing_File_2025-10_091725.csv", "HCPCS Code,Payment Limit\nJ1100,0.118\n");
        r.unwrap();
        assert_eq!((got[0].effective_from.as_str(), got[0].effective_to.as_deref()), ("2025-10-01", None));
        let (r, _, _) = run("drugs.csv", "HCPCS Code,Payment Limit\nJ1100,0.118\n");
        assert!(r.unwrap_err().to_string().contains("cannot tell when"));
        let (r, _, _) = run("ASP_2025-01.csv", "a,b\n1,2\n");
        assert!(r.unwrap_err().to_string().contains("not an ASP pricing file"));
        assert_eq!(
            effective_range("Effective January 1, 2026 through March 31, 2026"),
            Some(("2026-01-01".into(), Some("2026-03-31".into())))
        );
    }
}
