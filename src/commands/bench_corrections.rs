//! `billstream bench corrections`: how long a patient's correction of one bill line takes to
//! reach the findings, with millions of bill lines in the findings graph's state, against
//! recomputing every finding from scratch with the same engine (the load round).
//!
//! Round 0 loads `docs` synthetic bills of `lines_per_doc` lines plus the reference data; each
//! following round is one correction (retract the old line, assert the new). Bills are generated
//! per worker inside the feed from a seed and the document number, so the state is never held
//! twice in memory and the planner can regenerate any bill to know its current lines.
use anyhow::{anyhow, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use dataflows::findings::graph::{pick_benchmarks, In};
use dataflows::findings::line::Ln;
use dataflows::findings::oneshot::{reference_changes, run_rounds, worker_of, Change};
use dataflows::findings::Reference;
use rust_decimal::Decimal;
use schemas::records::{BillLine, DocumentKind};
use schemas::{Benchmark, RefEdit};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use udfs::codes::{classify, CodeSystem};

/// The target for a correction's new findings, at the 99th percentile.
const TARGET_P99_MS: f64 = 50.0;
const SEED: u64 = 42;
/// Share of bills generated with a real problem (per mille).
const PROBLEM_PER_MILLE: u64 = 40;
/// Share of bills printing a total (per cent): they make charge corrections move `total_mismatch`.
const TOTALS_PERCENT: u64 = 30;

/// What a hospital bill is drawn from: (code, revenue code, usual units at most, hospital price
/// in cents when no Medicare benchmark is loaded for the code).
const CANDIDATES: &[(&str, &str, i32, i64)] = &[
    ("99213", "0510", 1, 18_000),
    ("99214", "0510", 1, 26_000),
    ("99283", "0450", 1, 90_000),
    ("99284", "0450", 1, 150_000),
    ("99285", "0450", 1, 240_000),
    ("85025", "0300", 1, 4_500),
    ("80053", "0300", 1, 12_000),
    ("80061", "0300", 1, 9_000),
    ("85610", "0300", 1, 3_500),
    ("81001", "0300", 1, 2_500),
    ("84443", "0300", 1, 8_000),
    ("87086", "0300", 1, 6_000),
    ("36415", "0300", 1, 2_000),
    ("82947", "0300", 1, 2_500),
    ("83036", "0300", 1, 5_500),
    ("71046", "0320", 1, 35_000),
    ("73721", "0610", 1, 220_000),
    ("70450", "0350", 1, 180_000),
    ("74177", "0350", 1, 350_000),
    ("76700", "0402", 1, 90_000),
    ("93000", "0730", 1, 12_000),
    ("96374", "0260", 1, 40_000),
    ("97110", "0420", 4, 15_000),
    ("97140", "0420", 3, 14_000),
    ("94640", "0410", 2, 11_000),
    ("J1885", "0636", 2, 3_000),
    ("J2405", "0636", 4, 2_500),
    ("J7030", "0258", 2, 12_000),
    ("G0008", "0771", 1, 4_000),
];

/// Runs the benchmark and prints a table (or one JSON object with `json`).
pub fn run(docs: usize, lines_per_doc: usize, corrections: usize, workers: usize, json: bool) -> Result<()> {
    if docs == 0 || lines_per_doc < 2 {
        return Err(anyhow!("need at least one bill of at least two lines"));
    }
    let (reference, reference_source) = load_reference();
    let gen = Arc::new(Gen::new(&reference, docs, lines_per_doc)?);

    // What generating and converting the lines costs on one thread: part of the load round's
    // time (there spread over the workers), stated so the recompute figure can be read fairly.
    let t = Instant::now();
    let mut lines = 0usize;
    let mut problems = 0usize;
    for i in 0..docs {
        let d = gen.doc(i);
        problems += usize::from(d.problem.is_some());
        for l in &d.lines {
            lines += usize::from(Ln::from_bill(l).is_ok());
        }
    }
    let generation = t.elapsed();
    let fanout = fanout(&reference, &gen, docs);

    let plan = Arc::new(plan(&gen, corrections));
    let reference = Arc::new(reference);
    let rss_loaded = Arc::new(AtomicU64::new(0));
    let (g, p, r, rss) = (gen.clone(), plan.clone(), reference.clone(), rss_loaded.clone());
    let rounds = run_rounds(1 + plan.len(), workers, move |round, worker, peers, emit| {
        if round == 0 {
            reference_changes(&r, worker, peers, emit);
            for i in 0..g.docs {
                if worker_of(&doc_id(i), peers) == worker {
                    for l in g.doc(i).lines {
                        emit(Change::Line(l, 1));
                    }
                }
            }
            return;
        }
        if round == 1 && worker == 0 {
            // The state is in: resident memory now is what holding it costs.
            rss.store(proc_status_kb("VmRSS:").unwrap_or(0), Ordering::Relaxed);
        }
        let Some(c) = p.get(round - 1) else { return };
        if worker_of(&c.doc, peers) == worker {
            emit(Change::Line(c.old.clone(), -1));
            emit(Change::Line(c.new.clone(), 1));
        }
    })
    .map_err(|e| anyhow!(e))?;
    let peak_kb = proc_status_kb("VmHWM:").unwrap_or(0);

    let load = rounds.first().ok_or_else(|| anyhow!("the load round did not run"))?;
    let state_findings =
        current_count(load.findings.iter().map(|(f, d)| ((f.doc_id.clone(), f.kind.clone(), f.lines.clone()), *d)));
    let mut by_kind: BTreeMap<String, i64> = BTreeMap::new();
    for (f, d) in &load.findings {
        *by_kind.entry(f.kind.clone()).or_default() += *d as i64;
    }
    let docs_with_findings = load.findings.iter().map(|(f, _)| f.doc_id.as_str()).collect::<BTreeSet<_>>().len();

    let mut latencies: Vec<Duration> = vec![];
    let (mut asserted, mut retracted, mut changed, mut violations) = (0usize, 0usize, 0usize, 0usize);
    let mut kinds: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (c, r) in plan.iter().zip(rounds.iter().skip(1)) {
        latencies.push(r.elapsed);
        let net = current_net(r.findings.iter().map(|(f, d)| ((f.doc_id.as_str(), f.kind.as_str(), &f.lines), *d)));
        // A correction may only move findings (and warnings) of the document it corrects.
        violations += r.findings.iter().filter(|(f, _)| f.doc_id != c.doc).count();
        violations += r.warnings.iter().filter(|(w, _)| w.doc_id != c.doc).count();
        asserted += net.iter().filter(|d| **d > 0).count();
        retracted += net.iter().filter(|d| **d < 0).count();
        let k = kinds.entry(c.kind.as_str()).or_default();
        k.0 += 1;
        if !net.is_empty() {
            changed += 1;
            k.1 += 1;
        }
    }
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pct = |p: f64| -> f64 {
        let n = latencies.len();
        if n == 0 {
            return 0.0;
        }
        let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
        ms(latencies[i])
    };
    let (p50, p90, p99) = (pct(0.50), pct(0.90), pct(0.99));
    let max = latencies.last().map_or(0.0, |d| ms(*d));
    let mean =
        if latencies.is_empty() { 0.0 } else { latencies.iter().map(|d| ms(*d)).sum::<f64>() / latencies.len() as f64 };
    let load_s = load.elapsed.as_secs_f64();
    let met = !latencies.is_empty() && p99 <= TARGET_P99_MS;

    let out = serde_json::json!({
        "bench": "corrections",
        "docs": docs,
        "lines_per_doc": lines_per_doc,
        "lines": lines,
        "workers": workers,
        "reference": reference_source,
        "reference_edits": reference.edits.len(),
        "reference_benchmarks": reference.benchmarks.len(),
        "docs_with_problems_generated": problems,
        "reference_rows_per_line": fanout,
        "row_bytes": {"Ln": std::mem::size_of::<Ln>(), "In": std::mem::size_of::<In>()},
        "findings_in_state": state_findings,
        "docs_with_findings": docs_with_findings,
        "findings_by_kind": by_kind,
        "recompute_seconds": load_s,
        "generation_seconds_1_thread": generation.as_secs_f64(),
        "rss_with_state_mb": rss_loaded.load(Ordering::Relaxed) / 1024,
        "peak_rss_mb": peak_kb / 1024,
        "corrections": latencies.len(),
        "corrections_by_kind": kinds.iter().map(|(k, (n, ch))| (k.to_string(), serde_json::json!({"count": n, "changed_findings": ch}))).collect::<serde_json::Map<_, _>>(),
        "corrections_changing_findings": changed,
        "findings_asserted": asserted,
        "findings_retracted": retracted,
        "violations": violations,
        "latency_ms": {"p50": p50, "p90": p90, "p99": p99, "max": max, "mean": mean},
        "recompute_over_p99": if p99 > 0.0 { load_s * 1e3 / p99 } else { 0.0 },
        "target_p99_ms": TARGET_P99_MS,
        "target_met": met,
    });
    if json {
        println!("{out}");
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["what", "value"]);
    let kinds_text = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ");
    let corr_text =
        kinds.iter().map(|(k, (n, ch))| format!("{k} {n} ({ch} changed findings)")).collect::<Vec<_>>().join(", ");
    let rows: Vec<(&str, String)> = vec![
        ("state", format!("{docs} bills × {lines_per_doc} lines = {lines} lines, {workers} worker(s)")),
        (
            "reference",
            format!("{reference_source}: {} edits, {} benchmarks", reference.edits.len(), reference.benchmarks.len()),
        ),
        (
            "graph rows per line",
            format!(
                "1 line + {fanout:.2} matched reference rows in the document reduce; size_of In {} B, Ln {} B",
                std::mem::size_of::<In>(),
                std::mem::size_of::<Ln>()
            ),
        ),
        (
            "findings in state",
            format!(
                "{state_findings} on {docs_with_findings} bills ({problems} generated with a problem): {kinds_text}"
            ),
        ),
        (
            "recompute from scratch (load round)",
            format!("{load_s:.2} s (generating the lines: {:.2} s on 1 thread)", generation.as_secs_f64()),
        ),
        ("RSS with state / peak", format!("{} MB / {} MB", rss_loaded.load(Ordering::Relaxed) / 1024, peak_kb / 1024)),
        ("corrections", format!("{}: {corr_text}", latencies.len())),
        ("finding changes", format!("+{asserted} −{retracted} over {changed} corrections")),
        ("findings of other bills touched", violations.to_string()),
        ("latency p50 / p90 / p99 / max", format!("{p50:.2} / {p90:.2} / {p99:.2} / {max:.2} ms (mean {mean:.2})")),
        ("recompute ÷ p99", format!("{:.0}×", if p99 > 0.0 { load_s * 1e3 / p99 } else { 0.0 })),
        ("target p99 ≤ 50 ms", if met { "met".into() } else { "NOT met".into() }),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    println!("{t}");
    Ok(())
}

/// The demo reference set when it is there (run from the repository root), else a small
/// built-in one: the lab panels, a few MUE limits, HCPCS entries and Medicare amounts.
fn load_reference() -> (Reference, String) {
    let dir = Path::new("deploy/demo/reference");
    match dataflows::findings::reference::load_dir(dir, None) {
        Ok((r, _)) => (r, dir.display().to_string()),
        Err(e) => {
            eprintln!("{e}; using the built-in reference set");
            (builtin_reference(), "built-in".to_string())
        }
    }
}

fn builtin_reference() -> Reference {
    let edit = |kind: &str, code: &str, limit: Option<i32>| RefEdit {
        kind: kind.into(),
        code: code.into(),
        code2: None,
        modifier_indicator: None,
        mue_limit: limit,
        mue_adjudication: limit.map(|_| "3 Date of Service Edit: Clinical".into()),
        description: None,
        effective_from: "2020-01-01".into(),
        effective_to: None,
        source_file: "built-in".into(),
    };
    let mut edits = udfs::rules::panels::panel_edits();
    for (code, limit) in [("36415", 2), ("85025", 2), ("80053", 1), ("J1885", 8), ("J2405", 32), ("97110", 6)] {
        edits.push(edit("mue", code, Some(limit)));
    }
    for code in ["J1885", "J2405", "J7030", "G0008"] {
        edits.push(edit("code", code, None));
    }
    let bench = |code: &str, cents: i64| {
        let m = Decimal::new(cents, 2);
        Benchmark {
            code: code.into(),
            modifier: String::new(),
            place_of_service: String::new(),
            scope: "national".into(),
            kind: "allowed".into(),
            source: "built-in".into(),
            count: 1,
            min: m,
            median: m,
            p90: m,
            max: m,
            mean: m,
            effective_from: Some("2026-01-01".into()),
            source_file: Some("built-in".into()),
            as_of: 0,
        }
    };
    let benchmarks = [("99213", 9_200), ("99284", 42_600), ("85025", 777), ("80053", 1_056), ("71046", 3_100)]
        .iter()
        .map(|(c, a)| bench(c, *a))
        .collect();
    Reference { edits, benchmarks, model: None }
}

/// Reference rows the joins attach to an average bill line (edits whose column-one code is the
/// line's code, picked benchmarks of the code, the code-set marker of HCPCS lines): each is a row
/// of the document reduce's input, next to the line itself. Sampled over up to 10,000 bills.
fn fanout(reference: &Reference, gen: &Gen, docs: usize) -> f64 {
    let mut edits: HashMap<&str, usize> = HashMap::new();
    for e in &reference.edits {
        *edits.entry(e.code.as_str()).or_default() += 1;
    }
    let code_set = reference.edits.iter().any(|e| e.kind == "code");
    let mut benches: HashMap<&str, Vec<&Benchmark>> = HashMap::new();
    for b in &reference.benchmarks {
        benches.entry(b.code.as_str()).or_default().push(b);
    }
    let picked: HashMap<&str, usize> = benches.iter().map(|(c, bs)| (*c, pick_benchmarks(bs).len())).collect();
    let (mut rows, mut n) = (0usize, 0usize);
    for i in 0..docs.min(10_000) {
        for l in gen.doc(i).lines {
            let Some(c) = l.code.as_deref() else { continue };
            n += 1;
            rows += edits.get(c).copied().unwrap_or(0) + picked.get(c).copied().unwrap_or(0);
            rows += usize::from(code_set && classify(c) == CodeSystem::Hcpcs);
        }
    }
    rows as f64 / n.max(1) as f64
}

/// `d0000042`: short ids keep every arrangement keyed by document small.
fn doc_id(i: usize) -> String {
    format!("d{i:07}")
}

/// A kB figure of /proc/self/status (Linux), e.g. `VmHWM:` (peak resident set).
fn proc_status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// How many keys are present once the diffs are summed.
fn current_count<K: Ord>(updates: impl Iterator<Item = (K, isize)>) -> usize {
    let mut acc: BTreeMap<K, isize> = BTreeMap::new();
    for (k, d) in updates {
        *acc.entry(k).or_default() += d;
    }
    acc.values().filter(|n| **n > 0).count()
}

/// The net change per key of one round (a finding retracted and asserted again cancels out).
fn current_net<K: Ord>(updates: impl Iterator<Item = (K, isize)>) -> Vec<isize> {
    let mut acc: BTreeMap<K, isize> = BTreeMap::new();
    for (k, d) in updates {
        *acc.entry(k).or_default() += d;
    }
    acc.into_values().filter(|n| *n != 0).collect()
}

/// SplitMix64: tiny, seedable, and the same on every platform (the binary has no `rand`).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Clone)]
struct Item {
    code: String,
    rev: &'static str,
    max_units: i32,
    /// Hospital price per unit, cents: 1.6–2.5 times Medicare when a benchmark is loaded (below
    /// the outlier rule's three times), the list price otherwise.
    price: i64,
    /// The highest Medicare amount the outlier rule compares with, cents.
    medicare: Option<i64>,
    mue: Option<i32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Problem {
    /// Line `i` repeats line `i − 1`.
    Duplicate,
    /// Lines `i − 1` and `i` are an NCCI PTP pair on the same day.
    Pair,
    /// Line `i` bills more units than the code's MUE.
    Mue,
    /// Line `i`'s charge was misread: units × unit price ≠ charge (and the total, printed from
    /// the true charges, no longer adds up).
    Misread,
    /// Line `i` charges more than three times Medicare.
    Outlier,
}

struct Doc {
    lines: Vec<BillLine>,
    /// The problem and the index of its line, until a correction fixes it.
    problem: Option<(Problem, usize)>,
}

/// The deterministic bill generator.
struct Gen {
    docs: usize,
    lines_per_doc: usize,
    items: Vec<Item>,
    /// Unordered code pairs with a PTP edit: kept apart on clean bills.
    pairs: HashSet<(String, String)>,
    /// PTP pairs in force for the generated dates, both codes CPT: the unbundling problems.
    ptp: Vec<(Item, Item)>,
}

fn unordered(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

fn cents(d: Decimal) -> Option<i64> {
    (d * Decimal::ONE_HUNDRED).round().try_into().ok()
}

impl Gen {
    fn new(reference: &Reference, docs: usize, lines_per_doc: usize) -> Result<Gen> {
        let mut mue: HashMap<&str, i32> = HashMap::new();
        let mut code_set: HashSet<&str> = HashSet::new();
        let mut pairs = HashSet::new();
        for e in &reference.edits {
            match (e.kind.as_str(), e.mue_limit, e.code2.as_deref()) {
                ("mue", Some(l), _) => {
                    let m = mue.entry(e.code.as_str()).or_insert(l);
                    *m = (*m).min(l);
                }
                ("code", ..) => {
                    code_set.insert(e.code.as_str());
                }
                ("ptp", _, Some(c2)) => {
                    pairs.insert(unordered(&e.code, c2));
                }
                _ => {}
            }
        }
        let mut by_code: HashMap<&str, Vec<&Benchmark>> = HashMap::new();
        for b in &reference.benchmarks {
            by_code.entry(b.code.as_str()).or_default().push(b);
        }
        let medicare = |code: &str| -> Option<i64> {
            let picked = pick_benchmarks(by_code.get(code).map(Vec::as_slice).unwrap_or_default());
            picked
                .iter()
                .filter(|b| b.modifier.is_empty() && b.kind.starts_with("allowed"))
                .filter_map(|b| cents(b.median))
                .filter(|c| *c > 0)
                .max()
        };
        let item = |code: &str, rev: &'static str, max_units: i32, list: i64| -> Option<Item> {
            let hcpcs = classify(code) == CodeSystem::Hcpcs;
            // An HCPCS code outside a loaded code set would be a finding on every clean bill.
            if hcpcs && !code_set.is_empty() && !code_set.contains(code) {
                return None;
            }
            let limit = mue.get(code).copied();
            if limit == Some(0) {
                return None;
            }
            let m = medicare(code);
            let factor = 16 + (code.bytes().map(u64::from).sum::<u64>() % 10) as i64;
            let price = m.map_or(list, |m| (m * factor + 5) / 10);
            Some(Item {
                code: code.to_string(),
                rev,
                max_units: max_units.min(limit.unwrap_or(i32::MAX)).max(1),
                price,
                medicare: m,
                mue: limit,
            })
        };
        let addons: HashSet<&str> = udfs::rules::addon::ADDONS.iter().map(|(a, _)| *a).collect();
        let items: Vec<Item> = CANDIDATES
            .iter()
            .filter(|(c, ..)| !addons.contains(c))
            .filter_map(|(c, r, u, p)| item(c, r, *u, *p))
            .collect();
        if items.len() < 4 {
            return Err(anyhow!("the reference leaves fewer than 4 usable catalog codes"));
        }
        let mut ptp: Vec<(Item, Item)> = reference
            .edits
            .iter()
            .filter(|e| e.kind == "ptp" && matches!(e.modifier_indicator.as_deref(), Some("0" | "1")))
            .filter(|e| e.effective_from.as_str() <= FIRST_DATE && e.effective_to.is_none())
            .filter_map(|e| {
                let c2 = e.code2.as_deref()?;
                if classify(&e.code) != CodeSystem::Cpt || classify(c2) != CodeSystem::Cpt {
                    return None;
                }
                Some((item(&e.code, "0300", 1, 10_000)?, item(c2, "0300", 1, 3_000)?))
            })
            .collect();
        ptp.sort_by(|a, b| (&a.0.code, &a.1.code).cmp(&(&b.0.code, &b.1.code)));
        ptp.dedup_by(|a, b| (&a.0.code, &a.1.code) == (&b.0.code, &b.1.code));
        Ok(Gen { docs, lines_per_doc, items, pairs, ptp })
    }

    fn doc(&self, i: usize) -> Doc {
        let id = doc_id(i);
        let mut rng = Rng::new(SEED ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let base = rng.below(150);
        let mut lines: Vec<BillLine> = Vec::with_capacity(self.lines_per_doc);
        let mut codes: Vec<&str> = vec![];
        for no in 0..self.lines_per_doc {
            let it = self.pick_clean(&mut rng, &codes);
            codes.push(&it.code);
            let units = 1 + rng.below(it.max_units as usize) as i32;
            lines.push(line(&id, no, base + rng.below(3), it, units, it.price));
        }
        let mut problem = None;
        let mut misread: Option<(usize, i64)> = None;
        if (rng.next() % 1000) < PROBLEM_PER_MILLE {
            let j = 1 + rng.below(self.lines_per_doc - 1);
            let kinds = [Problem::Duplicate, Problem::Pair, Problem::Mue, Problem::Misread, Problem::Outlier];
            let p = kinds[rng.below(kinds.len())];
            let done = match p {
                Problem::Duplicate => {
                    lines[j] = BillLine { line_no: lines[j].line_no, ..lines[j - 1].clone() };
                    true
                }
                Problem::Pair if !self.ptp.is_empty() => {
                    let (a, b) = &self.ptp[rng.below(self.ptp.len())];
                    let day = base + rng.below(3);
                    lines[j - 1] = line(&id, j - 1, day, a, 1, a.price);
                    lines[j] = line(&id, j, day, b, 1, b.price);
                    true
                }
                Problem::Mue => {
                    let low: Vec<&Item> = self.items.iter().filter(|it| it.mue.is_some_and(|m| m <= 4)).collect();
                    match low.get(rng.below(low.len())) {
                        Some(it) => {
                            let units = it.mue.unwrap_or(1) + 1 + rng.below(2) as i32;
                            lines[j] = line(&id, j, base, it, units, it.price);
                            true
                        }
                        None => false,
                    }
                }
                Problem::Misread => {
                    let charge = cents(lines[j].charge).unwrap_or(0);
                    misread = Some((j, charge + 100 * (1 + rng.below(90) as i64)));
                    true
                }
                Problem::Outlier => {
                    let with = self.items.iter().filter(|it| it.medicare.is_some()).collect::<Vec<_>>();
                    if with.is_empty() {
                        false
                    } else {
                        let it = with[rng.below(with.len())];
                        let per_unit = it.medicare.unwrap_or(0) * (40 + rng.below(20) as i64) / 10;
                        lines[j] = line(&id, j, base, it, 1, per_unit);
                        true
                    }
                }
                Problem::Pair => false,
            };
            if done {
                problem = Some((p, j));
            }
        }
        if rng.below(100) < TOTALS_PERCENT as usize {
            let total: Decimal = lines.iter().map(|l| l.charge).sum();
            for l in lines.iter_mut() {
                l.total_charges = Some(total);
            }
        }
        if let Some((j, c)) = misread {
            lines[j].charge = Decimal::new(c, 2);
        }
        Doc { lines, problem }
    }

    /// A catalog item that neither repeats a code of the bill nor forms a PTP pair with one.
    fn pick_clean(&self, rng: &mut Rng, codes: &[&str]) -> &Item {
        let mut it = &self.items[rng.below(self.items.len())];
        for _ in 0..32 {
            let clash = codes.iter().any(|c| *c == it.code || self.pairs.contains(&unordered(c, &it.code)));
            if !clash {
                break;
            }
            it = &self.items[rng.below(self.items.len())];
        }
        it
    }
}

/// The first service date generated; `day` counts from it (2026-07-01 + 0..152 days: the MUE
/// and PTP files of the demo set are in force then).
const FIRST_DATE: &str = "2026-07-01";

fn date(day: usize) -> String {
    let mut d = day;
    for (month, len) in [(7, 31), (8, 31), (9, 30), (10, 31), (11, 30), (12, 31)] {
        if d < len {
            return format!("2026-{month:02}-{:02}", d + 1);
        }
        d -= len;
    }
    "2026-12-31".to_string()
}

fn line(doc: &str, index: usize, day: usize, it: &Item, units: i32, price: i64) -> BillLine {
    BillLine {
        doc_id: doc.to_string(),
        kind: DocumentKind::Bill,
        line_no: index as i32 + 1,
        page: 1,
        service_date: Some(date(day)),
        code: Some(it.code.clone()),
        code_system: classify(&it.code).as_str().to_string(),
        revenue_code: Some(it.rev.to_string()),
        cdm_code: None,
        modifiers: vec![],
        description: String::new(),
        units,
        unit_price: Some(Decimal::new(price, 2)),
        charge: Decimal::new(price * i64::from(units), 2),
        allowed: None,
        plan_paid: None,
        patient_responsibility: None,
        confidence: 1.0,
        flagged: false,
        total_charges: None,
        payments: None,
        adjustments: None,
        balance_due: None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// The line behind a bill's problem, corrected (removes its findings).
    Fix,
    /// Another code, charge recomputed from its price.
    Code,
    /// More units, same charge (units × unit price no longer matches).
    Units,
    /// A different charge (a digit misread).
    Charge,
    /// The line turns out to repeat the line above it.
    Repeat,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Fix => "fix",
            Kind::Code => "code",
            Kind::Units => "units",
            Kind::Charge => "charge",
            Kind::Repeat => "repeat",
        }
    }
}

struct Correction {
    doc: String,
    kind: Kind,
    old: BillLine,
    new: BillLine,
}

/// The corrections, in order, each against the bill's current lines (a bill corrected twice
/// retracts what the first correction asserted).
fn plan(gen: &Gen, n: usize) -> Vec<Correction> {
    let mut rng = Rng::new(SEED.wrapping_mul(0x9E37_79B9) ^ 0xC0DE);
    let mut state: HashMap<usize, Doc> = HashMap::new();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let roll = rng.below(100);
        let mut target = None;
        if roll < 35 {
            // A bill with a problem still open, found by drawing bills as a patient would come.
            for _ in 0..100_000 {
                let i = rng.below(gen.docs);
                let open = state.get(&i).map_or_else(|| gen.doc(i).problem, |d| d.problem);
                if open.is_some() {
                    target = Some((i, Kind::Fix));
                    break;
                }
            }
        }
        let (i, kind) = target.unwrap_or_else(|| {
            let kind = match roll {
                0..=54 => Kind::Code,
                55..=74 => Kind::Units,
                75..=89 => Kind::Charge,
                _ => Kind::Repeat,
            };
            (rng.below(gen.docs), kind)
        });
        let doc = state.entry(i).or_insert_with(|| gen.doc(i));
        let id = doc_id(i);
        let (j, new) = match (kind, doc.problem) {
            (Kind::Fix, Some((p, j))) => {
                let old = &doc.lines[j];
                let new = match p {
                    Problem::Duplicate | Problem::Pair => replace_code(gen, &mut rng, &doc.lines, j),
                    Problem::Mue => BillLine { units: 1, charge: old.unit_price.unwrap_or(old.charge), ..old.clone() },
                    Problem::Misread => {
                        let price = old.unit_price.unwrap_or(old.charge);
                        BillLine { charge: price * Decimal::from(old.units), ..old.clone() }
                    }
                    Problem::Outlier => {
                        let it = gen.items.iter().find(|it| Some(&it.code) == old.code.as_ref());
                        let price = it.map_or(old.charge, |it| Decimal::new(it.price, 2));
                        BillLine { unit_price: Some(price), charge: price * Decimal::from(old.units), ..old.clone() }
                    }
                };
                doc.problem = None;
                (j, new)
            }
            (Kind::Units, _) => {
                let j = rng.below(doc.lines.len());
                (j, BillLine { units: doc.lines[j].units + 1, ..doc.lines[j].clone() })
            }
            (Kind::Charge, _) => {
                let j = rng.below(doc.lines.len());
                let bump = Decimal::new(100 * (1 + rng.below(90) as i64), 2);
                (j, BillLine { charge: doc.lines[j].charge + bump, ..doc.lines[j].clone() })
            }
            (Kind::Repeat, _) => {
                let j = 1 + rng.below(doc.lines.len() - 1);
                let above = &doc.lines[j - 1];
                (
                    j,
                    BillLine {
                        line_no: doc.lines[j].line_no,
                        total_charges: doc.lines[j].total_charges,
                        ..above.clone()
                    },
                )
            }
            // `Code`, and a `Fix` whose bill had no open problem after all.
            _ => {
                let j = rng.below(doc.lines.len());
                (j, replace_code(gen, &mut rng, &doc.lines, j))
            }
        };
        let old = std::mem::replace(&mut doc.lines[j], new.clone());
        out.push(Correction { doc: id, kind, old, new });
    }
    out
}

/// Line `j` of `lines` under another catalog code, priced from the catalog.
fn replace_code(gen: &Gen, rng: &mut Rng, lines: &[BillLine], j: usize) -> BillLine {
    let others: Vec<&str> =
        lines.iter().enumerate().filter(|(k, _)| *k != j).filter_map(|(_, l)| l.code.as_deref()).collect();
    let old = &lines[j];
    let mut it = gen.pick_clean(rng, &others);
    for _ in 0..8 {
        if Some(&it.code) != old.code.as_ref() {
            break;
        }
        it = gen.pick_clean(rng, &others);
    }
    let units = old.units.clamp(1, it.max_units);
    let price = Decimal::new(it.price, 2);
    BillLine {
        code: Some(it.code.clone()),
        code_system: classify(&it.code).as_str().to_string(),
        revenue_code: Some(it.rev.to_string()),
        cdm_code: None,
        units,
        unit_price: Some(price),
        charge: price * Decimal::from(units),
        ..old.clone()
    }
}
