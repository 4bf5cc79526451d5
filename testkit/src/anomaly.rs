//! A deterministic labeled set for the anomaly model: normal claim lines from
//! `generate::claim_lines`, some replaced by injected anomalies of several kinds, with labels.
//!
//! Benchmarks are computed from the training population itself (observed charges per code,
//! modifier and place of service, as the benchmarks dataflow does) plus a Medicare amount per
//! code at 2–3× below its median charge (hospital charges commonly run two to three times
//! Medicare). The test set is a fresh population (another seed) featurized against the training
//! benchmarks, as the findings graph scores new bills against current benchmarks.
use crate::generate::claim_lines;
use rand::{rngs::SmallRng, Rng, SeedableRng};
use rust_decimal::{Decimal, RoundingStrategy};
use schemas::{Benchmark, ClaimLine};
use std::collections::BTreeMap;
use udfs::anomaly::features::{features, BenchIndex, LineFacts, D};

/// Share of injected anomalies in the training population (unsupervised training sees them too,
/// as a real population would contain them) and in the test set.
pub const TRAIN_SHARE: f64 = 0.005;
pub const TEST_SHARE: f64 = 0.05;

/// What was injected into a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Charge 5–30 times the line's own (so 2–90 times the code's usual charge).
    Overcharge,
    /// 30–150 units at the line's usual price per unit.
    AbsurdUnits,
    /// A place of service the population never uses (home, nursing facility, ambulance, other).
    UnusualPlace,
    /// A modifier never seen in the population (bilateral, assistant surgeon, left side, waiver).
    UnusualModifier,
    /// A code no claim in the population carries.
    UnknownCode,
}

pub const KINDS: [Kind; 5] =
    [Kind::Overcharge, Kind::AbsurdUnits, Kind::UnusualPlace, Kind::UnusualModifier, Kind::UnknownCode];

/// Lines with their facts, feature rows and labels (`true`: injected anomaly), index-aligned.
#[derive(Debug, Clone, Default)]
pub struct Labeled {
    pub lines: Vec<ClaimLine>,
    pub facts: Vec<LineFacts>,
    pub rows: Vec<[f64; D]>,
    pub kinds: Vec<Option<Kind>>,
}

impl Labeled {
    pub fn labels(&self) -> Vec<bool> {
        self.kinds.iter().map(Option::is_some).collect()
    }
}

/// A training population and a test set scored against the training population's benchmarks.
#[derive(Debug, Clone)]
pub struct Split {
    pub train: Labeled,
    pub test: Labeled,
    pub benchmarks: Vec<Benchmark>,
    pub index: BenchIndex,
}

/// `train` training lines and `test` test lines, reproducibly from `seed`.
pub fn split(seed: u64, train: usize, test: usize) -> Split {
    let train_lines = inject(seed, claim_lines(seed, train), TRAIN_SHARE);
    let benchmarks = benchmarks_of(&train_lines.0);
    let index = BenchIndex::from_benchmarks(&benchmarks);
    let test_seed = seed.wrapping_add(0x7e57);
    let test_lines = inject(test_seed, claim_lines(test_seed, test), TEST_SHARE);
    Split { train: label(&index, train_lines), test: label(&index, test_lines), benchmarks, index }
}

fn label(index: &BenchIndex, (lines, kinds): (Vec<ClaimLine>, Vec<Option<Kind>>)) -> Labeled {
    let sizes = claim_sizes(&lines);
    let facts: Vec<LineFacts> = lines.iter().zip(&sizes).map(|(l, n)| index.claim_facts(l, *n)).collect();
    let rows = facts.iter().map(features).collect();
    Labeled { lines, facts, rows, kinds }
}

/// Lines on each line's claim (the generator writes a claim's lines together).
pub fn claim_sizes(lines: &[ClaimLine]) -> Vec<u32> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for l in lines {
        *counts.entry(&l.claim_id).or_default() += 1;
    }
    lines.iter().map(|l| counts.get(l.claim_id.as_str()).copied().unwrap_or(1)).collect()
}

/// Replaces about `share` of the lines by an anomaly of a random kind.
pub fn inject(seed: u64, mut lines: Vec<ClaimLine>, share: f64) -> (Vec<ClaimLine>, Vec<Option<Kind>>) {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x0a40_a1e5);
    let mut kinds = Vec::with_capacity(lines.len());
    for line in lines.iter_mut() {
        if !rng.random_bool(share) {
            kinds.push(None);
            continue;
        }
        let kind = KINDS[rng.random_range(0..KINDS.len())];
        match kind {
            Kind::Overcharge => line.charge *= Decimal::from(rng.random_range(5..=30)),
            Kind::AbsurdUnits => {
                let per_unit = line.charge / Decimal::from(line.units.max(1));
                line.units = rng.random_range(30..=150);
                line.charge = (per_unit * Decimal::from(line.units)).round_dp(2);
            }
            Kind::UnusualPlace => line.place_of_service = ["12", "31", "41", "99"][rng.random_range(0..4)].into(),
            Kind::UnusualModifier => line.modifier = Some(["50", "80", "LT", "GA"][rng.random_range(0..4)].into()),
            Kind::UnknownCode => line.code = ["99499", "0001U", "64999", "J9999"][rng.random_range(0..4)].into(),
        }
        kinds.push(Some(kind));
    }
    (lines, kinds)
}

fn stats(mut v: Vec<Decimal>) -> (i64, Decimal, Decimal, Decimal, Decimal, Decimal) {
    v.sort();
    let n = v.len();
    let at = |q: usize| v.get((n.saturating_sub(1)) * q / 10).copied().unwrap_or_default();
    let mean = if n == 0 { Decimal::ZERO } else { (v.iter().sum::<Decimal>() / Decimal::from(n)).round_dp(4) };
    (n as i64, at(0), at(5), at(9), at(10), mean)
}

/// Observed charge benchmarks per (code, modifier, place of service) and a national Medicare
/// amount per code, as the benchmarks topic would carry them.
pub fn benchmarks_of(lines: &[ClaimLine]) -> Vec<Benchmark> {
    let mut groups: BTreeMap<(String, String, String), Vec<Decimal>> = BTreeMap::new();
    let mut by_code: BTreeMap<String, Vec<Decimal>> = BTreeMap::new();
    for l in lines {
        let key = (l.code.clone(), l.modifier.clone().unwrap_or_default(), l.place_of_service.clone());
        groups.entry(key).or_default().push(l.charge);
        by_code.entry(l.code.clone()).or_default().push(l.charge / Decimal::from(l.units.max(1)));
    }
    let bench = |code: String, modifier, pos, scope: &str, kind: &str, v: Vec<Decimal>| {
        let (count, min, median, p90, max, mean) = stats(v);
        Benchmark {
            code,
            modifier,
            place_of_service: pos,
            scope: scope.into(),
            kind: kind.into(),
            source: "synthetic".into(),
            count,
            min,
            median,
            p90,
            max,
            mean,
            effective_from: None,
            source_file: None,
            as_of: 0,
        }
    };
    let mut out: Vec<Benchmark> =
        groups.into_iter().map(|((c, m, p), v)| bench(c, m, p, "observed", "charge", v)).collect();
    // Medicare prices only established codes (20+ lines): injected unknown codes get none.
    for (code, v) in by_code.into_iter().filter(|(_, v)| v.len() >= 20) {
        // A per-code markup between 2.0 and 3.0, so Medicare and observed charges are not
        // simply proportional.
        let markup = Decimal::new(20 + i64::from(code.bytes().map(u32::from).sum::<u32>() % 11), 1);
        let (_, _, median, ..) = stats(v);
        let amount = (median / markup).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        out.push(bench(code, String::new(), String::new(), "national", "allowed_nonfacility", vec![amount]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_with_every_kind_labeled() {
        let a = split(1, 4_000, 4_000);
        let b = split(1, 4_000, 4_000);
        assert_eq!(a.test.lines, b.test.lines);
        assert_eq!(a.test.kinds, b.test.kinds);
        let anomalies = a.test.kinds.iter().flatten().count();
        assert!((120..=280).contains(&anomalies), "about 5%: {anomalies}");
        for k in KINDS {
            assert!(a.test.kinds.contains(&Some(k)), "{k:?}");
        }
        assert!(a.train.kinds.iter().flatten().count() < 60);
        assert_eq!(a.test.rows.len(), 4_000);
        // Everything but unknown codes (no benchmark for the code) has finite features.
        for (x, k) in a.test.rows.iter().zip(&a.test.kinds) {
            if *k != Some(Kind::UnknownCode) {
                assert!(x.iter().all(|v| v.is_finite()), "{k:?} {x:?}");
            }
        }
        assert!(a.benchmarks.iter().any(|b| b.scope == "national"));
    }
}
