//! The pre-2024 wide CSV layout hospitals published before the CMS template (e.g. Stony Brook
//! University Hospital's 2022 file): one header row
//! `HospCode,Code,Description,Code_Type,Gross Charge,Discounted Cash Price,Minimum Negotiated Charge,Maximum Negotiated Charge,<Payer>-<Plan>,…`
//! and one row per item, `NA` (or blank, `N/A`) for a missing amount.
//!
//! Column mapping (headers compared case-insensitively, `_` read as a space):
//! * `Code` → code; `Code_Type`: `CPT/HCPCS` → HCPCS when the code starts with a letter (Level II),
//!   CPT otherwise; `DRG` → DRG; blank → CDM (the file's 8-digit chargemaster numbers); a CMS code
//!   type → itself; anything else → LOCAL (with one warning).
//! * `Gross Charge` → gross, `Discounted Cash Price` → cash, `Minimum`/`Maximum Negotiated Charge`
//!   → negotiated_min/negotiated_max; every other column is a payer-plan column `<Payer>-<Plan>`
//!   (split at its last `-`) → negotiated with payer "Payer | Plan".
//! * `HospCode` (the hospital's internal facility number, the same on every row) and `Description`
//!   are not prices.
//!
//! The layout names neither hospital nor date. Scope: `ctx.scope` when set (e.g.
//! "hospital:Stony Brook University Hospital"), else the hospital name of the CMS file-naming
//! convention `<EIN>_<HospitalName>_standardcharges.csv` (CamelCase split into words); with
//! neither the file is rejected. Date: a YYYY-MM-DD / YYYYMMDD date in the file name, else
//! 2021-01-01, the day 45 CFR 180 took effect (no such file can be older), with a warning: any
//! dated file of the same hospital supersedes it.
use super::csv_file::{line_of, Records};
use super::emit::{Emitter, Kind, Target};
use super::header::Rules;
use super::validate::{self, Problems};
use crate::feed::{Ctx, LoadError, Out, Tally};
use csv::StringRecord;

/// The effective date of an undated legacy file: 45 CFR 180 applies from 2021-01-01.
const RULE_START: &str = "2021-01-01";

/// Column indices of a recognised legacy header.
#[derive(Debug)]
pub(crate) struct Layout {
    code: usize,
    code_type: Option<usize>,
    gross: usize,
    cash: usize,
    min: Option<usize>,
    max: Option<usize>,
    /// `(column, "Payer | Plan")`.
    payers: Vec<(usize, String)>,
    names: Vec<String>,
}

fn key(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The layout when row 1 is this header (at least Code, Description, Gross Charge and
/// Discounted Cash Price).
pub(crate) fn recognise(row1: &[&str]) -> Option<Layout> {
    let keys: Vec<String> = row1.iter().map(|h| key(h)).collect();
    let find = |k: &str| keys.iter().position(|h| h == k);
    let (code, _description, gross, cash) =
        (find("code")?, find("description")?, find("gross charge")?, find("discounted cash price")?);
    let known = [
        "hospcode",
        "code",
        "description",
        "code type",
        "gross charge",
        "discounted cash price",
        "minimum negotiated charge",
        "maximum negotiated charge",
    ];
    let payers = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| !k.is_empty() && !known.contains(&k.as_str()))
        .map(|(i, _)| {
            let h = row1[i].trim();
            let label = match h.rsplit_once('-') {
                Some((payer, plan)) if !payer.trim().is_empty() && !plan.trim().is_empty() => {
                    format!("{} | {}", payer.trim(), plan.trim())
                }
                _ => h.to_string(),
            };
            (i, label)
        })
        .collect();
    Some(Layout {
        code,
        code_type: find("code type"),
        gross,
        cash,
        min: find("minimum negotiated charge"),
        max: find("maximum negotiated charge"),
        payers,
        names: row1.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_string()).collect(),
    })
}

/// "113243405_StonyBrookUniversityHospital_standardcharges.csv" → "Stony Brook University Hospital".
fn hospital_from_file_name(file: &str) -> Option<String> {
    let stem = file.rsplit(['/', '\\']).next()?;
    let stem = stem.split('.').next()?;
    let mut parts = stem.split('_');
    let ein = parts.next()?;
    let name = parts.next()?;
    if !ein.bytes().all(|c| c.is_ascii_digit()) || name.is_empty() || !stem.to_lowercase().contains("standardcharges") {
        return None;
    }
    let mut words = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        let c = if c == '-' { ' ' } else { c };
        if c.is_uppercase() && prev.is_some_and(|p| p.is_lowercase()) {
            words.push(' ');
        }
        words.push(c);
        prev = Some(c);
    }
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    (!words.is_empty()).then_some(words)
}

/// A date written in the file name (2022-01-01 or 20220101).
fn date_from_file_name(file: &str) -> Option<String> {
    let digits: Vec<(usize, char)> = file.char_indices().collect();
    for start in 0..digits.len() {
        let s: String = digits[start..].iter().map(|(_, c)| *c).take(10).collect();
        if let Some(d) = super::header::mrf_date(&s, false) {
            return Some(d);
        }
        let s8: String = digits[start..].iter().map(|(_, c)| *c).take(8).collect();
        if s8.len() == 8 && s8.starts_with("20") && s8.bytes().all(|c| c.is_ascii_digit()) {
            let iso = format!("{}-{}-{}", &s8[0..4], &s8[4..6], &s8[6..8]);
            if let Some(d) = super::header::mrf_date(&iso, false) {
                return Some(d);
            }
        }
    }
    None
}

fn code_type(written: &str, code: &str) -> Option<&'static str> {
    let w = written.trim();
    if w.is_empty() {
        return Some("CDM");
    }
    if w.eq_ignore_ascii_case("CPT/HCPCS") || w.eq_ignore_ascii_case("HCPCS/CPT") {
        return Some(if code.starts_with(|c: char| c.is_ascii_alphabetic()) { "HCPCS" } else { "CPT" });
    }
    validate::code_type(Rules::V3, w, false)
}

fn missing(v: &str) -> bool {
    v.is_empty() || v.eq_ignore_ascii_case("NA") || v.eq_ignore_ascii_case("N/A")
}

/// Loads the rows after the header (which was on line `header_line`).
pub(crate) fn load(
    ctx: &Ctx,
    layout: &Layout,
    header_line: u64,
    rows: &mut Records<'_>,
    out: Out<'_>,
    tally: &mut Tally,
) -> Result<(), LoadError> {
    let hospital = match &ctx.scope {
        Some(s) if !s.trim().is_empty() => String::new(),
        _ => hospital_from_file_name(&ctx.source_file).ok_or_else(|| {
            LoadError::rejected(
                format!("row {header_line}"),
                format!(
                    "this pre-2024 layout does not name its hospital and the file name {:?} does not follow \
                     <EIN>_<HospitalName>_standardcharges.csv: set the scope (ctx.scope, e.g. \"hospital:<name>\")",
                    ctx.source_file
                ),
            )
        })?,
    };
    let effective_from = match date_from_file_name(&ctx.source_file) {
        Some(d) => d,
        None => {
            tally.warn(
                "file",
                format!(
                    "the pre-2024 layout has no MRF date and the file name none: prices are dated {RULE_START} \
                     (45 CFR 180 took effect), so any dated file of this hospital supersedes them"
                ),
            );
            RULE_START.to_string()
        }
    };
    let mut em = Emitter::new(ctx, &hospital, effective_from);
    let mut problems = Problems::default();
    let mut warned_type = false;
    let amounts: Vec<(usize, Kind, Option<&str>)> = [
        (Some(layout.gross), Kind::Gross),
        (Some(layout.cash), Kind::Cash),
        (layout.min, Kind::Min),
        (layout.max, Kind::Max),
    ]
    .into_iter()
    .filter_map(|(c, k)| c.map(|c| (c, k, None)))
    .chain(layout.payers.iter().map(|(c, label)| (*c, Kind::Negotiated, Some(label.as_str()))))
    .collect();
    let mut n = 0u64;
    while let Some(rec) = rows.next(tally)? {
        if rec.iter().all(|f| f.trim().is_empty()) {
            rows.give_back(rec);
            continue;
        }
        n += 1;
        row(&rec, layout, &amounts, &mut em, &mut problems, &mut warned_type, out, tally);
        rows.give_back(rec);
    }
    if n == 0 {
        return Err(LoadError::rejected(format!("row {}", header_line + 1), "no data rows after the header"));
    }
    tally.count("items", n);
    em.finish(tally);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn row(
    rec: &StringRecord,
    layout: &Layout,
    amounts: &[(usize, Kind, Option<&str>)],
    em: &mut Emitter,
    problems: &mut Problems,
    warned_type: &mut bool,
    out: Out<'_>,
    tally: &mut Tally,
) {
    let line = line_of(rec);
    let get = |i: usize| rec.get(i).map(str::trim).unwrap_or("");
    let at_col = |i: usize| format!("row {line}, column {:?}", layout.names.get(i).map(String::as_str).unwrap_or(""));
    problems.clear();
    let code = get(layout.code);
    if code.is_empty() {
        problems.push(at_col(layout.code), "the code is blank");
    }
    let written_type = layout.code_type.map(get).unwrap_or("");
    let ty = match code_type(written_type, code) {
        Some(t) => t,
        None => {
            if !*warned_type {
                *warned_type = true;
                tally.warn(
                    at_col(layout.code_type.unwrap_or(layout.code)),
                    format!("code type {written_type:?} is not a CMS code type: loaded as LOCAL (not reported again)"),
                );
            }
            "LOCAL"
        }
    };
    let mut parsed = Vec::with_capacity(amounts.len());
    for &(c, kind, payer) in amounts {
        let v = get(c);
        if missing(v) {
            continue;
        }
        match validate::positive_number(v) {
            Ok(d) => parsed.push((kind, payer, d)),
            Err(m) => problems.push(at_col(c), m),
        }
    }
    if !problems.is_empty() {
        let (at, reason) = problems.reject_reason();
        tally.reject(at, reason);
        return;
    }
    let codes = [(code, ty)];
    let at = || format!("row {line}");
    for (kind, payer, amount) in parsed {
        if let Some(p) = payer {
            em.payer_charge(p);
        }
        let t = Target { codes: &codes, modifier: None, setting: None, payer };
        em.emit(out, tally, &at, &t, kind, amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_dates_from_the_cms_file_naming_convention() {
        assert_eq!(
            hospital_from_file_name("113243405_StonyBrookUniversityHospital_standardcharges.csv").as_deref(),
            Some("Stony Brook University Hospital")
        );
        assert_eq!(hospital_from_file_name("prices.csv"), None);
        assert_eq!(date_from_file_name("12_X_standardcharges_2022-01-01.csv").as_deref(), Some("2022-01-01"));
        assert_eq!(date_from_file_name("12_X_standardcharges_20230415.csv").as_deref(), Some("2023-04-15"));
        assert_eq!(date_from_file_name("113243405_StonyBrookUniversityHospital_standardcharges.csv"), None);
    }

    #[test]
    fn code_types() {
        assert_eq!(code_type("CPT/HCPCS", "99213"), Some("CPT"));
        assert_eq!(code_type("CPT/HCPCS", "J1450"), Some("HCPCS"));
        assert_eq!(code_type("", "30000004"), Some("CDM"));
        assert_eq!(code_type("DRG", "1"), Some("DRG"));
        assert_eq!(code_type("SUPPLY", "1"), None);
    }

    #[test]
    fn payer_plan_columns_split_at_the_last_dash() {
        let l = recognise(&[
            "HospCode",
            "Code",
            "Description",
            "Code_Type",
            "Gross Charge",
            "Discounted Cash Price",
            "EMBLEMHEALTH/HIP-Medicare Advantage",
        ])
        .unwrap();
        assert_eq!(l.payers, vec![(6, "EMBLEMHEALTH/HIP | Medicare Advantage".to_string())]);
        assert!(recognise(&["hospital_name", "last_updated_on"]).is_none());
    }
}
