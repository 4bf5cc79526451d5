//! Reference data from a directory of CMS files (the demo set in `deploy/demo/reference/`, or an
//! operator's full quarterly files) for in-process findings runs: `billstream bench findings`,
//! tests, the one-shot audit.
//!
//! Every file goes through the loaders `billstream ingest` uses (`connectors::ingest::read_files`:
//! the same detection, validation and rejects), so a file that loads here loads onto the log.
//! Edits are taken as they are, plus the lab panel compositions (`udfs::rules::panels`). Prices
//! become `Benchmark` rows exactly as the benchmarks dataflow derives them: `price_fact`, only
//! the current file of each (source, scope) (latest effective date, ties: the later file name),
//! the `RefStats` statistics over distinct prices, `sink::ref_benchmark`.
//!
//! The PFS RVU file yields one scope per Medicare locality (109 of them, two amounts per code
//! each: about four million rows). `locality` limits it to one: `DEFAULT_LOCALITY` when `None`
//! (San Francisco, the locality the README's examples use), every locality with `"all"`.
use super::Reference;
use crate::benchmarks::{price_fact, Money, PriceFact, PriceFile, RefBench, RefStats, MONEY_SCALE};
use crate::{DataflowError, Result};
use connectors::feed::Item;
use connectors::ingest::{read_files, Options};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The PFS locality priced when the caller names none (MAC-locality).
pub const DEFAULT_LOCALITY: &str = "01112-05";

/// Loads every file in `dir` (not subdirectories; `*.md` notes are skipped). Returns the
/// reference and one summary line per file (format, records, rejects, and the error of a file
/// rejected as a whole). Fails only when the directory cannot be read or holds no data file.
pub fn load_dir(dir: &Path, locality: Option<&str>) -> Result<(Reference, Vec<String>)> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| DataflowError::Config(format!("cannot read reference directory {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !p.extension().is_some_and(|x| x.eq_ignore_ascii_case("md")))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(DataflowError::Config(format!("no reference files in {}", dir.display())));
    }
    let localities = match locality.unwrap_or(DEFAULT_LOCALITY) {
        "all" => vec![],
        one => vec![one.to_string()],
    };
    let opts = Options { dry_run: true, localities, ..Options::default() };
    let mut edits = Vec::new();
    let mut prices = Vec::new();
    let summaries = read_files(&paths, &opts, &mut |item| match item {
        Item::Edit(e) => edits.push(e),
        Item::Price(p) => prices.push(p),
        // Claims are not reference data; a claims file here is counted in its summary only.
        Item::Claim(_) => {}
    });
    let lines = summaries
        .iter()
        .map(|s| {
            let format = s.format.map_or("unrecognised", |f| f.name());
            let error = s.error.as_deref().map(|e| format!(" ({}: {e})", s.status)).unwrap_or_default();
            format!("{}: {format}, {} records, {} rejects{error}", s.file, s.tally.produced, s.tally.rejected)
        })
        .collect();
    edits.extend(udfs::rules::panels::panel_edits());
    let benchmarks = benchmarks(prices.iter().filter_map(price_fact));
    Ok((Reference { edits, benchmarks, model: None }, lines))
}

/// The reference benchmarks of a batch of price facts: what the `CurrentFile` and `RefStats`
/// reduces of `benchmarks::build` hold once every price is in.
pub fn benchmarks(facts: impl Iterator<Item = (PriceFile, PriceFact)>) -> Vec<schemas::Benchmark> {
    // `distinct`: a price repeated in a file (or a file loaded twice) counts once.
    let facts: BTreeSet<(PriceFile, PriceFact)> = facts.collect();
    let mut current: BTreeMap<(&str, &str), (&str, &str)> = BTreeMap::new();
    for (f, _) in &facts {
        let file = (f.effective_from.as_str(), f.source_file.as_str());
        let slot = current.entry((f.source.as_str(), f.scope.as_str())).or_insert(file);
        *slot = (*slot).max(file);
    }
    let mut amounts: BTreeMap<&RefBench, (&PriceFile, BTreeMap<Money, isize>)> = BTreeMap::new();
    for (f, fact) in &facts {
        let latest = current.get(&(f.source.as_str(), f.scope.as_str()));
        if latest != Some(&(f.effective_from.as_str(), f.source_file.as_str())) {
            continue;
        }
        *amounts.entry(&fact.bench).or_insert_with(|| (f, BTreeMap::new())).1.entry(fact.amount).or_default() += 1;
    }
    amounts
        .into_iter()
        .filter_map(|(bench, (file, counts))| {
            let sorted: Vec<(&Money, isize)> = counts.iter().map(|(a, n)| (a, *n)).collect();
            let stats = udfs::stats::charge_stats(&sorted, MONEY_SCALE)?;
            let r =
                RefStats { stats, effective_from: file.effective_from.clone(), source_file: file.source_file.clone() };
            Some(crate::sink::ref_benchmark(bench, Some(&r), 0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::{Decimal, RoundingStrategy};
    use std::str::FromStr;

    fn demo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/demo/reference")
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn the_demo_reference_loads_with_the_ingest_loaders() {
        let (r, lines) = load_dir(&demo(), None).unwrap();
        assert_eq!(lines.len(), 8, "{lines:#?}");
        assert!(lines.iter().all(|l| !l.contains("unrecognised") && !l.contains("rejected")), "{lines:#?}");
        let kind = |k: &str| r.edits.iter().filter(|e| e.kind == k).count();
        assert!(kind("ptp") >= 46 + udfs::rules::panels::panel_edits().len(), "{}", kind("ptp"));
        assert!(r.edits.iter().any(|e| e.code == "0001U" && e.code2.as_deref() == Some("81105")));
        assert!(r.edits.iter().any(|e| e.code == "80053" && e.code2.as_deref() == Some("82947")));
        assert!(kind("mue") > 9_000, "{}", kind("mue"));
        assert!(r.edits.iter().any(|e| e.kind == "mue" && e.code == "0001U" && e.mue_limit == Some(1)));
        assert!(kind("code") > 5_000, "{}", kind("code"));
        assert!(r.edits.iter().any(|e| e.kind == "code" && e.code == "J1885"));

        let bench = |code: &str, scope: &str, kind: &str| {
            r.benchmarks.iter().find(|b| b.code == code && b.modifier.is_empty() && b.scope == scope && b.kind == kind)
        };
        // 99213 in San Francisco from its RVU row (work 1.30, PE 1.28 / 0.55, MP 0.10, CF 33.8872)
        // and the locality's GPCIs (1.095, 1.410, 0.425).
        let pfs = |pe: &str| {
            ((d("1.30") * d("1.095") + d(pe) * d("1.410") + d("0.10") * d("0.425")) * d("33.8872"))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        };
        let nf = bench("99213", "locality:01112-05", "allowed_nonfacility").unwrap();
        assert_eq!((nf.median, nf.count, nf.source.as_str()), (pfs("1.28"), 1, "PFS"));
        assert_eq!(nf.source_file.as_deref(), Some("PPRRVU23_JAN.descriptions-redacted.csv"));
        assert_eq!(nf.effective_from.as_deref(), Some("2023-01-01"));
        assert_eq!(bench("99213", "locality:01112-05", "allowed_facility").unwrap().median, pfs("0.55"));
        assert!(r.benchmarks.iter().all(|b| !b.scope.starts_with("locality:") || b.scope == "locality:01112-05"));
        // 85025 from the CLFS row "85025,7.77"; 99284 from the OPPS row (April 2026, $426.30).
        let cbc = bench("85025", "national", "allowed").unwrap();
        assert_eq!((cbc.median, cbc.max, cbc.source.as_str()), (d("7.77"), d("7.77"), "CLFS"));
        assert_eq!(cbc.effective_from.as_deref(), Some("2026-04-01"));
        let er = r.benchmarks.iter().find(|b| b.code == "99284" && b.source == "OPPS").unwrap();
        assert_eq!(er.median, d("426.30"));
    }

    #[test]
    fn only_the_current_file_of_a_scope_counts() {
        let price = |file: &str, eff: &str, amount: &str| schemas::RefPrice {
            source: "CLFS".into(),
            code: "85025".into(),
            code_type: "CPT".into(),
            modifier: None,
            scope: "national".into(),
            payer: None,
            setting: None,
            amount_kind: "allowed".into(),
            amount: d(amount),
            effective_from: eff.into(),
            effective_to: None,
            source_file: file.into(),
        };
        let all = [price("26CLABQ1.csv", "2026-01-01", "7.50"), price("26CLABQ2.csv", "2026-04-01", "7.77")];
        let b = benchmarks(all.iter().filter_map(price_fact));
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].median, b[0].source_file.as_deref()), (d("7.77"), Some("26CLABQ2.csv")));
    }
}
