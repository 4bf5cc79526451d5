//! Features of one line for the anomaly model, and the benchmark lookup they rest on.
//!
//! Every feature is a logarithm of a ratio or a count, so that "ten times the usual" is as far
//! from normal as "a tenth of it" and a few huge charges do not squash the rest of the axis (an
//! isolation forest splits uniformly between the minimum and maximum of a node).
//!
//! | # | name | value |
//! |---|---|---|
//! | 0 | charge compared with Medicare | ln(charge per unit ÷ Medicare allowed per unit) |
//! | 1 | charge compared with typical charges | ln(charge per unit ÷ median observed charge for the code) |
//! | 2 | number of units | ln(units) |
//! | 3 | how usual the place of service is for the code | ln((claims of the code at this place + 1) ÷ (claims of the code + 1)) |
//! | 4 | how usual the modifier is for the code | ln((claims of the code with this modifier, or none + 1) ÷ (claims of the code + 1)) |
//! | 5 | how common the code is | ln((claims of the code + 1) ÷ (all claims + 1)) |
//! | 6 | lines on the same bill | ln(lines on the claim or bill): the code mix around the line |
//!
//! The charge itself is not a feature: with the two ratios it would say the same thing a third
//! time, and `explain` would split the credit for an overcharge three ways, sometimes naming the
//! least informative of the three ("the amount is large") before the informative ones.
//!
//! A fact that is not known (no Medicare amount for the code, a bill line without a place of
//! service, no claims observed at all) gives NaN; the model fills NaN with the training median of
//! that feature (`Model::score`), which places the line in the middle of that axis — unknown is
//! treated as ordinary, never as suspicious. Counts are shares of the population, not absolute
//! counts, so the features do not drift as the population grows.
//!
//! The provider is not a feature: bill lines carry no provider id, an NPI's hash has no order an
//! isolation forest could split on meaningfully, and a provider's pricing already shows in
//! features 0 and 1. Place of service is the setting side of "provider/place of service".
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use schemas::records::BillLine;
use schemas::{Benchmark, ClaimLine};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Number of features.
pub const D: usize = 7;

/// Feature names in plain words (explanations quote them).
pub const FEATURES: [&str; D] = [
    "charge compared with Medicare",
    "charge compared with typical charges",
    "number of units",
    "how usual the place of service is for the code",
    "how usual the modifier is for the code",
    "how common the code is",
    "lines on the same bill",
];

/// What a patient reads when a feature drove a score: (value above usual, value below usual).
pub(crate) const PHRASES: [(&str, &str); D] = [
    (
        "the charge per unit is far above what Medicare allows for this service",
        "the charge per unit is far below what Medicare allows for this service",
    ),
    (
        "the charge per unit is far above what providers usually charge for this service",
        "the charge per unit is far below what providers usually charge for this service",
    ),
    ("the number of units is unusually high", "the number of units is unusually low"),
    (
        "this service is billed at this place of service more often than most",
        "this service is rarely billed at this place of service",
    ),
    ("this modifier is used with this service more often than most", "this modifier is rarely used with this service"),
    ("this code is billed unusually often", "this code is rarely billed"),
    ("the bill has an unusually long list of lines", "the bill has unusually few lines"),
];

/// Clamp for log ratios: beyond e^±20 nothing changes how isolated a line is, and the bound
/// keeps absurd inputs (a charge of a billion, a zero benchmark) finite.
const LOG_CLAMP: f64 = 20.0;
/// Floor for amounts in ratios ($0.01): a zero charge stays finite.
const MIN_AMOUNT: f64 = 0.01;

/// One line as the model sees it: the line's own fields plus what benchmarks say about its code.
/// Build it with `BenchIndex::claim_facts` at training and `Model::bill_facts` (the index frozen
/// into the model) at scoring, so training and scoring agree.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFacts {
    pub code: String,
    pub modifier: Option<String>,
    pub place_of_service: Option<String>,
    pub units: i32,
    pub charge: Decimal,
    /// Medicare allowed per unit for the code.
    pub medicare: Option<Decimal>,
    /// Median observed charge of a line of the code (claims are nearly all one unit, so this is
    /// compared with the charge per unit).
    pub observed_median: Option<Decimal>,
    /// Claim lines observed for the code (`Some(0)`: claims were observed, none for this code;
    /// `None`: no claims observed at all).
    pub observed_count: Option<u64>,
    /// Of those, at this line's place of service (`None`: the line has no place of service).
    pub observed_at_place: Option<u64>,
    /// Of those, with this line's modifier (or with none, for a line without one).
    pub observed_with_modifier: Option<u64>,
    /// All claim lines observed, any code.
    pub observed_total: Option<u64>,
    /// Lines on the same claim or bill: the code mix the line sits in.
    pub doc_lines: u32,
}

fn ln_ratio(a: f64, b: f64) -> f64 {
    (a.max(MIN_AMOUNT) / b.max(MIN_AMOUNT)).ln().clamp(-LOG_CLAMP, LOG_CLAMP)
}

fn share(part: Option<u64>, whole: Option<u64>) -> f64 {
    match (part, whole) {
        (Some(p), Some(w)) => ((p as f64 + 1.0) / (w as f64 + 1.0)).ln(),
        _ => f64::NAN,
    }
}

/// The feature vector of a line (see the module table). Finite for every known fact; NaN marks
/// an unknown one.
pub fn features(f: &LineFacts) -> [f64; D] {
    let units = f.units.max(1);
    let per_unit = (f.charge / Decimal::from(units)).to_f64().unwrap_or(0.0);
    let vs = |b: Option<Decimal>| match b.and_then(|b| b.to_f64()) {
        Some(b) if b > 0.0 => ln_ratio(per_unit, b),
        _ => f64::NAN,
    };
    let code_count = f.observed_count;
    [
        vs(f.medicare),
        vs(f.observed_median),
        f64::from(units).ln(),
        share(f.observed_at_place, code_count),
        share(f.observed_with_modifier, code_count),
        share(code_count, f.observed_total),
        f64::from(f.doc_lines.max(1)).ln(),
    ]
}

/// What the benchmarks say about one code: the per-code summary a model freezes at training.
/// Maps are ordered so a saved model's JSON is stable; empty fields are left out (most codes
/// have a handful of places and modifiers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct CodeRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    medicare: Option<Decimal>,
    #[serde(default, skip_serializing_if = "is_zero")]
    count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    median: Option<Decimal>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    by_place: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    by_modifier: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The summary `LineFacts` are computed from: per code, the Medicare amount, observed count and
/// median, counts by place of service and by modifier; and the total of observed claim lines.
/// `BenchIndex` keeps one up to date; a `Model` carries the one it was trained with (a frozen
/// copy), so scoring computes features exactly as training did, whatever the benchmarks do later.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoringRef {
    codes: BTreeMap<String, CodeRef>,
    total: u64,
}

impl ScoringRef {
    /// Claim lines observed in all (0 when no observed benchmarks were loaded).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Codes summarized.
    pub fn codes(&self) -> usize {
        self.codes.len()
    }

    fn facts(
        &self,
        code: &str,
        modifier: Option<&str>,
        place: Option<&str>,
        units: i32,
        charge: Decimal,
        doc_lines: u32,
    ) -> LineFacts {
        let observed = self.total > 0;
        let r = self.codes.get(code);
        let count = observed.then(|| r.map(|r| r.count).unwrap_or(0));
        let at_place = place.filter(|_| observed).map(|p| r.and_then(|r| r.by_place.get(p)).copied().unwrap_or(0));
        let with_modifier =
            observed.then(|| r.and_then(|r| r.by_modifier.get(modifier.unwrap_or(""))).copied().unwrap_or(0));
        LineFacts {
            code: code.to_string(),
            modifier: modifier.map(String::from),
            place_of_service: place.map(String::from),
            units,
            charge,
            medicare: r.and_then(|r| r.medicare),
            observed_median: r.and_then(|r| r.median),
            observed_count: count,
            observed_at_place: at_place,
            observed_with_modifier: with_modifier,
            observed_total: observed.then_some(self.total),
            doc_lines,
        }
    }

    /// Facts of a bill line (first modifier; bills print no place of service).
    pub fn bill_facts(&self, line: &BillLine, doc_lines: u32) -> LineFacts {
        self.facts(
            line.code.as_deref().unwrap_or(""),
            line.modifiers.first().map(String::as_str),
            None,
            line.units,
            line.charge,
            doc_lines,
        )
    }

    /// Facts of a claim line (an empty place of service — institutional claims — is unknown).
    pub fn claim_facts(&self, line: &ClaimLine, claim_lines: u32) -> LineFacts {
        let place = Some(line.place_of_service.as_str()).filter(|p| !p.is_empty());
        self.facts(&line.code, line.modifier.as_deref(), place, line.units, line.charge, claim_lines)
    }
}

/// The benchmark lookup behind `LineFacts`, fed from the compacted `benchmarks` topic (or any
/// list of `Benchmark`s):
/// - Medicare: `national` allowed amounts when present, else the median of the locality ones;
/// - observed: the `observed`/`charge` entries per (code, modifier, place of service) — claim
///   counts summed per place and per modifier, the median as the count-weighted median of the
///   entries' medians.
///
/// An entry with count 0 is a retraction (the benchmarks sink writes one when a key empties).
/// The entries are kept to recompute a code's summary on update; the summary (`ScoringRef`) is
/// what facts are computed from, and what `snapshot` hands to a model.
#[derive(Debug, Clone, Default)]
pub struct BenchIndex {
    entries: HashMap<String, BTreeMap<String, Benchmark>>,
    summary: ScoringRef,
}

fn is_medicare(b: &Benchmark) -> bool {
    (b.scope == "national" || b.scope.starts_with("locality:")) && b.kind.starts_with("allowed")
}

fn is_observed(b: &Benchmark) -> bool {
    b.scope == "observed" && b.kind == "charge"
}

/// Lower median of values weighted by counts.
fn weighted_median(mut v: Vec<(Decimal, u64)>) -> Option<Decimal> {
    v.sort();
    let n: u64 = v.iter().map(|(_, c)| c).sum();
    let mut seen = 0;
    for (x, c) in &v {
        seen += c;
        if seen * 2 >= n {
            return Some(*x);
        }
    }
    None
}

impl BenchIndex {
    pub fn from_benchmarks<'a>(benchmarks: impl IntoIterator<Item = &'a Benchmark>) -> Self {
        let mut index = Self::default();
        for b in benchmarks {
            index.upsert(b);
        }
        index
    }

    /// Applies one record of the compacted topic (latest value per key wins).
    pub fn upsert(&mut self, b: &Benchmark) {
        if !is_medicare(b) && !is_observed(b) {
            return;
        }
        let entries = self.entries.entry(b.code.clone()).or_default();
        if b.count <= 0 {
            entries.remove(&b.key());
        } else {
            entries.insert(b.key(), b.clone());
        }
        let code = b.code.clone();
        self.refresh(&code);
    }

    /// Recomputes one code's summary from its entries (a handful per code: cheap).
    fn refresh(&mut self, code: &str) {
        let Some(entries) = self.entries.get(code) else { return };
        let mut r = CodeRef::default();
        let national: Vec<Decimal> =
            entries.values().filter(|b| is_medicare(b) && b.scope == "national").map(|b| b.median).collect();
        let mut medicare: Vec<Decimal> = if national.is_empty() {
            entries.values().filter(|b| is_medicare(b)).map(|b| b.median).collect()
        } else {
            national
        };
        medicare.sort();
        r.medicare = medicare.get(medicare.len().saturating_sub(1) / 2).copied();
        let mut medians = vec![];
        for b in entries.values().filter(|b| is_observed(b)) {
            let n = b.count as u64;
            r.count += n;
            *r.by_place.entry(b.place_of_service.clone()).or_default() += n;
            *r.by_modifier.entry(b.modifier.clone()).or_default() += n;
            medians.push((b.median, n));
        }
        r.median = weighted_median(medians);
        let s = &mut self.summary;
        let new = r.count;
        // A code whose entries were all retracted leaves the summary (nothing to freeze).
        let old = if entries.is_empty() { s.codes.remove(code) } else { s.codes.insert(code.to_string(), r) };
        s.total = s.total - old.map(|o| o.count).unwrap_or(0) + if entries.is_empty() { 0 } else { new };
    }

    /// Claim lines observed in all (0 when no observed benchmarks were loaded).
    pub fn total(&self) -> u64 {
        self.summary.total
    }

    /// The current summary, to freeze into a model at training time.
    pub fn snapshot(&self) -> ScoringRef {
        self.summary.clone()
    }

    /// Facts of a bill line (first modifier; bills print no place of service).
    pub fn bill_facts(&self, line: &BillLine, doc_lines: u32) -> LineFacts {
        self.summary.bill_facts(line, doc_lines)
    }

    /// Facts of a claim line (an empty place of service — institutional claims — is unknown).
    pub fn claim_facts(&self, line: &ClaimLine, claim_lines: u32) -> LineFacts {
        self.summary.claim_facts(line, claim_lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    pub(crate) fn bench(
        code: &str,
        modifier: &str,
        pos: &str,
        scope: &str,
        kind: &str,
        count: i64,
        median: &str,
    ) -> Benchmark {
        Benchmark {
            code: code.into(),
            modifier: modifier.into(),
            place_of_service: pos.into(),
            scope: scope.into(),
            kind: kind.into(),
            source: "test".into(),
            count,
            min: d(median),
            median: d(median),
            p90: d(median),
            max: d(median),
            mean: d(median),
            effective_from: None,
            source_file: None,
            as_of: 0,
        }
    }

    fn index() -> BenchIndex {
        BenchIndex::from_benchmarks(&[
            bench("99213", "", "11", "observed", "charge", 80, "150"),
            bench("99213", "25", "22", "observed", "charge", 20, "200"),
            bench("99213", "", "", "national", "allowed_nonfacility", 1, "90"),
            bench("99213", "", "", "locality:01", "allowed_nonfacility", 1, "120"),
            bench("70551", "", "22", "observed", "charge", 100, "1200"),
            bench("70551", "", "", "hospital:H", "gross", 1, "5000"),
        ])
    }

    #[test]
    fn features_are_finite_for_known_facts_and_absurd_inputs() {
        let ix = index();
        let claim = testkit::generate::claim_lines(3, 1)[0].clone();
        for (code, units, charge) in
            [("99213", 1, "150"), ("99213", 0, "0"), ("99213", 100_000, "99999999999"), ("99213", 3, "0.001")]
        {
            let line = ClaimLine {
                code: code.into(),
                units,
                charge: d(charge),
                place_of_service: "11".into(),
                ..claim.clone()
            };
            let x = features(&ix.claim_facts(&line, 4));
            assert!(x.iter().all(|v| v.is_finite()), "{code} {units} {charge}: {x:?}");
        }
    }

    #[test]
    fn lookups_and_unknowns() {
        let ix = index();
        assert_eq!(ix.total(), 200);
        let claim = testkit::generate::claim_lines(3, 1)[0].clone();
        let line = ClaimLine {
            code: "99213".into(),
            modifier: None,
            place_of_service: "11".into(),
            units: 1,
            charge: d("180"),
            ..claim
        };
        let f = ix.claim_facts(&line, 2);
        assert_eq!(f.medicare, Some(d("90")), "national wins over localities");
        assert_eq!(f.observed_median, Some(d("150")), "weighted median: 80 of 100 lines at 150");
        assert_eq!((f.observed_count, f.observed_at_place, f.observed_with_modifier), (Some(100), Some(80), Some(80)));
        let x = features(&f);
        assert!((x[0] - 2f64.ln()).abs() < 1e-12);
        assert!((x[3] - (81f64 / 101.0).ln()).abs() < 1e-12);

        // A place the code is never billed at, an unknown code, a bill line without a place.
        let x = features(&ix.claim_facts(&ClaimLine { place_of_service: "41".into(), ..line.clone() }, 2));
        assert!((x[3] - (1f64 / 101.0).ln()).abs() < 1e-12);
        let x = features(&ix.claim_facts(&ClaimLine { code: "99499".into(), ..line.clone() }, 2));
        assert!(x[0].is_nan() && x[1].is_nan() && x[5] == (1f64 / 201.0).ln());
        let bill = crate::rules::testing::line(1, "2026-03-14", "99213", 1, None, "180.00");
        let x = features(&ix.bill_facts(&bill, 5));
        assert!(x[3].is_nan() && x[0].is_finite() && (x[6] - 5f64.ln()).abs() < 1e-12);

        // No claims observed at all: the counts are unknown, not zero.
        let empty = BenchIndex::default();
        let x = features(&empty.bill_facts(&bill, 1));
        assert!(x[0].is_nan() && x[3].is_nan() && x[4].is_nan() && x[5].is_nan() && x[2] == 0.0);
    }

    #[test]
    fn a_retraction_removes_the_entry() {
        let mut ix = index();
        ix.upsert(&bench("70551", "", "22", "observed", "charge", 0, "0"));
        assert_eq!(ix.total(), 100);
        ix.upsert(&bench("99213", "", "", "national", "allowed_nonfacility", 0, "0"));
        let claim = testkit::generate::claim_lines(3, 1)[0].clone();
        let f = ix.claim_facts(&ClaimLine { code: "99213".into(), ..claim }, 1);
        assert_eq!(f.medicare, Some(d("120")));
    }
}
