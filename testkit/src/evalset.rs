//! The findings evaluation set: a deterministic, seeded generator of labeled cases over the
//! reference data (coding edits and benchmarks), so that per-kind precision and recall of the
//! findings engine can be measured (`billstream bench findings`, `tests/findings_eval.rs`).
//!
//! Every case is one patient's documents: a bill, and sometimes an EOB or a Good Faith Estimate.
//! - clean bills: priced plausibly (per unit at 40–65% of the lowest price-outlier threshold of
//!   the code: 3× the lowest Medicare amount, the observed 90th percentile), HCPCS codes valid
//!   on the date, no NCCI PTP pair on a day, units within every MUE, add-ons with a primary,
//!   totals that add up, an EOB or GFE that agrees with the bill;
//! - one injected error of each kind, labeled with its document and lines. The injection is
//!   chosen so that it causes that finding and no other (a duplicated line of a code whose MUE
//!   allows the doubled units, an overcharge that stays under the price thresholds, ...);
//! - hard negatives that look like an error and are not (a distinct-procedure modifier on an
//!   indicator-1 pair, an add-on with its primary, the same service on two dates, a repeat lab
//!   with modifier 91, a pair whose PTP edit was deleted before the date, a bill $1–$399.99
//!   over its GFE, an EOB that matches the bill): no labels;
//! - contradictory inputs (an EOB sharing no date and no code with the bill, a GFE dated after
//!   the care, negative units): no labels, `expect_warnings`.
//!
//! The observed-charge benchmarks the `price_outlier` (observed) cases rest on are generated here
//! too (`EvalSet::observed`: synthetic claim statistics): the CMS files carry no claims.
//! Descriptions are generic categories written here ("Lab test"), never CPT descriptors.
//!
//! The case format (`EvalCase`, `Label`, `KINDS`, `DOCUMENT_KINDS`) is `udfs::evalset`, re-exported here.
use chrono::{Duration, NaiveDate};
use rand::{rngs::SmallRng, Rng, SeedableRng};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use schemas::records::{BillLine, DocumentKind};
use schemas::{Benchmark, RefEdit};
use std::collections::{BTreeMap, BTreeSet};
use udfs::codes::{classify, CodeSystem};
use udfs::rules::{addon::ADDONS, panels, unbundled};

pub use udfs::evalset::{EvalCase, Label, DOCUMENT_KINDS, KINDS};

/// A generated set.
#[derive(Debug, Clone, Default)]
pub struct EvalSet {
    pub cases: Vec<EvalCase>,
    /// Observed charge statistics (scope `observed`) the cases were priced against; a run must
    /// add them to the reference.
    pub observed: Vec<Benchmark>,
}

/// How many cases of each group `generate` writes.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub per_kind: usize,
    pub clean: usize,
    pub per_negative: usize,
    pub per_contradiction: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes { per_kind: 40, clean: 160, per_negative: 12, per_contradiction: 14 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvalSetError {
    #[error("the reference data cannot support {0}")]
    Reference(String),
}

/// A service the generator bills: code, generic description, revenue code on hospital bills,
/// units range, and a price range in cents per unit for codes without any benchmark.
#[derive(Debug, Clone, Copy)]
struct Svc {
    code: &'static str,
    what: &'static str,
    rev: &'static str,
    units: (i32, i32),
    fallback: Option<(i64, i64)>,
}

const fn svc(code: &'static str, what: &'static str, rev: &'static str) -> Svc {
    Svc { code, what, rev, units: (1, 1), fallback: None }
}

const OFFICE: &[Svc] = &[
    svc("99202", "Office visit, new patient", "0510"),
    svc("99203", "Office visit, new patient", "0510"),
    svc("99204", "Office visit, new patient", "0510"),
    svc("99212", "Office visit", "0510"),
    svc("99213", "Office visit", "0510"),
    svc("99214", "Office visit", "0510"),
    svc("99215", "Office visit", "0510"),
];
const ER: &[Svc] = &[
    svc("99282", "Emergency department visit", "0450"),
    svc("99283", "Emergency department visit", "0450"),
    svc("99284", "Emergency department visit", "0450"),
    svc("99285", "Emergency department visit", "0450"),
];
/// Lab tests; the metabolic panels are alternatives (a bill has at most one).
const LABS: &[Svc] = &[
    svc("85025", "Lab test", "0305"),
    svc("80053", "Lab test", "0301"),
    svc("80061", "Lab test", "0301"),
    svc("84443", "Lab test", "0301"),
    svc("83036", "Lab test", "0301"),
    svc("81003", "Lab test", "0300"),
    svc("87880", "Lab test", "0306"),
    svc("85610", "Lab test", "0305"),
    svc("84484", "Lab test", "0301"),
    svc("87086", "Lab test", "0306"),
];
const METABOLIC: [&str; 4] = ["80047", "80048", "80053", "80069"];
const DRAW: Svc = svc("36415", "Blood draw", "0300");
const IMAGING: &[Svc] = &[
    svc("71046", "Imaging", "0324"),
    svc("73610", "Imaging", "0320"),
    svc("72100", "Imaging", "0320"),
    svc("70450", "Imaging", "0350"),
    svc("74177", "Imaging", "0350"),
    svc("70551", "Imaging", "0610"),
    svc("73721", "Imaging", "0610"),
    svc("76700", "Imaging", "0402"),
    svc("93000", "Heart test", "0730"),
    svc("77067", "Imaging", "0403"),
];
const DRUGS: &[Svc] = &[
    Svc { code: "J2405", what: "Medication", rev: "0636", units: (1, 2), fallback: Some((1_800, 4_500)) },
    Svc { code: "J1100", what: "Medication", rev: "0636", units: (1, 4), fallback: Some((900, 2_400)) },
    Svc { code: "J0696", what: "Medication", rev: "0636", units: (1, 2), fallback: Some((2_500, 6_000)) },
    Svc { code: "J7030", what: "IV fluid", rev: "0258", units: (1, 2), fallback: Some((3_000, 9_000)) },
];
const THERAPY: &[Svc] = &[
    Svc { code: "97110", what: "Physical therapy", rev: "0420", units: (1, 4), fallback: None },
    Svc { code: "97140", what: "Physical therapy", rev: "0420", units: (1, 3), fallback: None },
    Svc { code: "97530", what: "Physical therapy", rev: "0420", units: (1, 3), fallback: None },
];
/// (primary, its add-on) packages, and primaries billed alone.
const IV: &[(Svc, Option<Svc>)] = &[
    (svc("96374", "IV therapy", "0260"), None),
    (svc("96374", "IV therapy", "0260"), Some(svc("96375", "IV therapy, additional", "0260"))),
    (svc("96360", "IV therapy", "0260"), Some(Svc { units: (1, 2), ..svc("96361", "IV therapy, additional", "0260") })),
    (svc("96365", "IV therapy", "0260"), Some(svc("96366", "IV therapy, additional", "0260"))),
];
const PROCEDURES: &[(Svc, Option<Svc>)] = &[
    (svc("20610", "Procedure", "0360"), None),
    (svc("12001", "Procedure", "0360"), None),
    (svc("29125", "Procedure", "0360"), None),
    (svc("11042", "Procedure", "0360"), Some(svc("11045", "Procedure, additional", "0360"))),
    (svc("64483", "Procedure", "0360"), Some(svc("64484", "Procedure, additional", "0360"))),
];
const INJECTION: Svc = svc("96372", "Injection", "0260");
const CRITICAL: (Svc, Svc) = (svc("99291", "Critical care", "0450"), svc("99292", "Critical care, additional", "0450"));
/// Distinct-procedure modifiers used on hard negatives.
const DISTINCT: [&str; 3] = ["59", "XU", "XS"];

/// What the reference says about codes, indexed for the generator.
struct Catalog<'a> {
    /// Lowest and highest Medicare amount (modifier-less) per code.
    medicare: BTreeMap<&'a str, (Decimal, Decimal)>,
    /// Highest Medicare amount over every modifier.
    medicare_top: BTreeMap<&'a str, Decimal>,
    /// Lowest observed 90th percentile (5 or more claims) per code.
    observed_p90: BTreeMap<String, Decimal>,
    codes: BTreeMap<&'a str, Vec<&'a RefEdit>>,
    mue: BTreeMap<&'a str, Vec<&'a RefEdit>>,
    ptp: BTreeMap<(&'a str, &'a str), Vec<&'a RefEdit>>,
}

fn is_medicare(b: &Benchmark) -> bool {
    (b.scope.starts_with("locality:") || b.scope == "national") && b.kind.starts_with("allowed")
}

impl<'a> Catalog<'a> {
    fn new(edits: &'a [RefEdit], benchmarks: &'a [Benchmark]) -> Self {
        let mut c = Catalog {
            medicare: BTreeMap::new(),
            medicare_top: BTreeMap::new(),
            observed_p90: BTreeMap::new(),
            codes: BTreeMap::new(),
            mue: BTreeMap::new(),
            ptp: BTreeMap::new(),
        };
        for b in benchmarks.iter().filter(|b| b.median > Decimal::ZERO) {
            if is_medicare(b) {
                let top = c.medicare_top.entry(b.code.as_str()).or_insert(b.median);
                *top = (*top).max(b.median);
                if b.modifier.is_empty() {
                    let e = c.medicare.entry(b.code.as_str()).or_insert((b.median, b.median));
                    *e = (e.0.min(b.median), e.1.max(b.median));
                }
            }
        }
        c.add_observed(benchmarks);
        for e in edits {
            match (e.kind.as_str(), e.code2.as_deref()) {
                ("code", _) => c.codes.entry(e.code.as_str()).or_default().push(e),
                ("mue", _) => c.mue.entry(e.code.as_str()).or_default().push(e),
                ("ptp", Some(c2)) => c.ptp.entry((e.code.as_str(), c2)).or_default().push(e),
                _ => {}
            }
        }
        c
    }

    fn add_observed(&mut self, benchmarks: &[Benchmark]) {
        for b in benchmarks {
            if b.scope == "observed" && b.kind == "charge" && b.modifier.is_empty() && b.count >= 5 {
                let e = self.observed_p90.entry(b.code.clone()).or_insert(b.p90);
                *e = (*e).min(b.p90);
            }
        }
    }

    /// The lowest per-unit charge any price-outlier comparison could flag.
    fn ceiling(&self, code: &str) -> Option<Decimal> {
        let medicare = self.medicare.get(code).map(|(lo, _)| *lo * Decimal::from(3));
        match (medicare, self.observed_p90.get(code)) {
            (Some(m), Some(o)) => Some(m.min(*o)),
            (m, o) => m.or(o.copied()),
        }
    }

    /// (lowest, highest) MUE limit in force on `date`, if the code has one.
    fn mue_limits(&self, code: &str, date: &str) -> Option<(i32, i32)> {
        let limits: Vec<i32> =
            self.mue.get(code)?.iter().filter(|e| unbundled::in_force(e, date)).filter_map(|e| e.mue_limit).collect();
        Some((*limits.iter().min()?, *limits.iter().max()?))
    }

    /// Whether the code set accepts a code on `date` (CPT and other shapes are not checked).
    fn valid_code(&self, code: &str, date: &str) -> bool {
        if classify(code) != CodeSystem::Hcpcs || self.codes.is_empty() {
            return true;
        }
        self.codes.get(code).is_some_and(|es| {
            es.iter().any(|e| e.effective_from.as_str() <= date && e.effective_to.as_deref().is_none_or(|t| date <= t))
        })
    }

    /// Whether a PTP edit in force on `date` pairs the two lines (either order), given their
    /// modifiers.
    fn pair_edit(&self, a: &Draft, b: &Draft) -> bool {
        let date = a.date_text();
        if a.date != b.date {
            return false;
        }
        let distinct = |d: &Draft| d.mods.iter().any(|m| unbundled::DISTINCT_MODIFIERS.contains(&m.as_str()));
        [(a, b), (b, a)].iter().any(|(x, y)| {
            self.ptp.get(&(x.code.as_str(), y.code.as_str())).is_some_and(|es| {
                es.iter().any(|e| {
                    unbundled::in_force(e, &date)
                        && match e.modifier_indicator.as_deref() {
                            Some("0") => true,
                            Some("1") => !(distinct(x) || distinct(y)),
                            _ => false,
                        }
                })
            })
        })
    }
}

/// One bill line before numbering.
#[derive(Debug, Clone)]
struct Draft {
    date: NaiveDate,
    code: String,
    what: String,
    rev: Option<String>,
    mods: Vec<String>,
    units: i32,
    price: Decimal,
    charge: Decimal,
    show_price: bool,
    /// Part of the label.
    mark: bool,
}

impl Draft {
    fn date_text(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }
}

/// How the bill states its totals.
#[derive(Debug, Clone, Default)]
struct Totals {
    stated: bool,
    /// Added to the sum of the lines (a total that does not add up).
    gap: Decimal,
    payments: Option<Decimal>,
    adjustments: Option<Decimal>,
    balance_due: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Clinic,
    Er,
    Lab,
    Imaging,
    Therapy,
    Procedure,
    Critical,
}

struct Gen<'a> {
    cat: Catalog<'a>,
    rng: SmallRng,
    hospital: bool,
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

fn to_cents(d: Decimal) -> i64 {
    (d * Decimal::from(100)).floor().to_i64().unwrap_or(0)
}

/// The first day of the window bills fall in: the demo MUE files take effect on 2026-07-01.
const FIRST_DAY: (i32, u32, u32) = (2026, 7, 6);
const DAYS: i64 = 84;

impl<'a> Gen<'a> {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.random_range(0..xs.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn cents_between(&mut self, lo: Decimal, hi: Decimal) -> Decimal {
        let (lo, hi) = (to_cents(lo).max(100), to_cents(hi));
        cents(if hi <= lo { lo } else { self.rng.random_range(lo..=hi) })
    }

    fn date(&mut self) -> NaiveDate {
        let (y, m, d) = FIRST_DAY;
        let first = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        first + Duration::days(self.rng.random_range(0..DAYS))
    }

    /// A clean per-unit price for `code`, if it can be priced.
    fn clean_price(&mut self, code: &str, fallback: Option<(i64, i64)>) -> Option<Decimal> {
        match (self.cat.ceiling(code), fallback) {
            (Some(c), _) => {
                let p = self.cents_between(c * Decimal::new(40, 2), c * Decimal::new(65, 2));
                // Above the ceiling only when the ceiling is under a dollar: not plausible to bill.
                (p < c).then_some(p)
            }
            (None, Some((lo, hi))) => Some(cents(self.rng.random_range(lo..=hi))),
            (None, None) => None,
        }
    }

    /// A clean line of `s` on `date`, or `None` when the reference rules it out.
    fn line(&mut self, s: Svc, date: NaiveDate) -> Option<Draft> {
        let day = date.format("%Y-%m-%d").to_string();
        if !self.cat.valid_code(s.code, &day) {
            return None;
        }
        let mut units = self.rng.random_range(s.units.0..=s.units.1);
        if let Some((lo, _)) = self.cat.mue_limits(s.code, &day) {
            units = units.min(lo);
        }
        if units < 1 {
            return None;
        }
        let price = self.clean_price(s.code, s.fallback)?;
        Some(Draft {
            date,
            code: s.code.to_string(),
            what: s.what.to_string(),
            rev: self.hospital.then(|| s.rev.to_string()),
            mods: vec![],
            units,
            price,
            charge: price * Decimal::from(units),
            show_price: true,
            mark: false,
        })
    }

    /// Adds `d` unless it would make the bill unclean: the same code twice on a day, a PTP
    /// pair, more units of the code on the day than its MUE.
    fn push_clean(&self, bill: &mut Vec<Draft>, d: Draft) -> bool {
        if bill.iter().any(|o| o.date == d.date && o.code == d.code) || bill.iter().any(|o| self.cat.pair_edit(o, &d)) {
            return false;
        }
        bill.push(d);
        true
    }

    fn add(&mut self, bill: &mut Vec<Draft>, s: Svc, date: NaiveDate) -> bool {
        match self.line(s, date) {
            Some(d) => self.push_clean(bill, d),
            None => false,
        }
    }

    /// A primary with its add-on: both or neither.
    fn add_package(&mut self, bill: &mut Vec<Draft>, (p, a): (Svc, Option<Svc>), date: NaiveDate) {
        let Some(primary) = self.line(p, date) else { return };
        let addon = match a {
            Some(a) => match self.line(a, date) {
                Some(l) => Some(l),
                None => return,
            },
            None => None,
        };
        let before = bill.len();
        if !self.push_clean(bill, primary) {
            return;
        }
        if let Some(l) = addon {
            if !self.push_clean(bill, l) {
                bill.truncate(before);
            }
        }
    }

    fn labs(&mut self, bill: &mut Vec<Draft>, date: NaiveDate, n: usize) {
        let mut added = 0;
        for _ in 0..n * 3 {
            if added == n {
                break;
            }
            let s = self.pick(LABS);
            let panel_taken = METABOLIC.contains(&s.code)
                && bill.iter().any(|o| o.date == date && METABOLIC.contains(&o.code.as_str()));
            if !panel_taken && self.add(bill, s, date) {
                added += 1;
            }
        }
        if added > 0 {
            self.add(bill, DRAW, date);
        }
    }

    fn base(&mut self, style: Style) -> (Vec<Draft>, Style) {
        self.hospital = matches!(style, Style::Er | Style::Critical) || self.chance(0.4);
        let mut bill = vec![];
        let date = self.date();
        match style {
            Style::Clinic => {
                let v = self.pick(OFFICE);
                self.add(&mut bill, v, date);
                let n = self.rng.random_range(0..=3);
                self.labs(&mut bill, date, n);
                if self.chance(0.3) {
                    let s = self.pick(IMAGING);
                    self.add(&mut bill, s, date);
                }
                if self.chance(0.25) {
                    self.add(&mut bill, INJECTION, date);
                    let s = self.pick(DRUGS);
                    self.add(&mut bill, s, date);
                }
                if self.chance(0.25) {
                    let later = date + Duration::days(self.rng.random_range(7..28));
                    let v = self.pick(OFFICE);
                    self.add(&mut bill, v, later);
                    let n = self.rng.random_range(0..=2);
                    self.labs(&mut bill, later, n);
                }
            }
            Style::Er => {
                let v = self.pick(ER);
                self.add(&mut bill, v, date);
                let n = self.rng.random_range(1..=4);
                self.labs(&mut bill, date, n);
                if self.chance(0.5) {
                    let s = self.pick(IMAGING);
                    self.add(&mut bill, s, date);
                }
                if self.chance(0.7) {
                    let p = self.pick(IV);
                    self.add_package(&mut bill, p, date);
                    for _ in 0..self.rng.random_range(1..=2) {
                        let s = self.pick(DRUGS);
                        self.add(&mut bill, s, date);
                    }
                }
            }
            Style::Lab => {
                let n = self.rng.random_range(2..=5);
                self.labs(&mut bill, date, n);
            }
            Style::Imaging => {
                for _ in 0..self.rng.random_range(1..=2) {
                    let s = self.pick(IMAGING);
                    self.add(&mut bill, s, date);
                }
                if self.chance(0.4) {
                    let v = self.pick(OFFICE);
                    self.add(&mut bill, v, date);
                }
            }
            Style::Therapy => {
                let visits = self.rng.random_range(1..=3);
                for k in 0..visits {
                    let day = date + Duration::days(7 * k);
                    for s in THERAPY {
                        if self.chance(0.7) {
                            self.add(&mut bill, *s, day);
                        }
                    }
                }
            }
            Style::Procedure => {
                let v = self.pick(OFFICE);
                self.add(&mut bill, v, date);
                let p = self.pick(PROCEDURES);
                self.add_package(&mut bill, p, date);
                if self.chance(0.3) {
                    self.add(&mut bill, INJECTION, date);
                }
            }
            Style::Critical => {
                self.add_package(&mut bill, (CRITICAL.0, Some(CRITICAL.1)), date);
                let n = self.rng.random_range(1..=3);
                self.labs(&mut bill, date, n);
                if self.chance(0.5) {
                    let s = self.pick(IMAGING);
                    self.add(&mut bill, s, date);
                }
            }
        }
        for d in bill.iter_mut() {
            // Some bills print no unit price: the arithmetic check has nothing to compare.
            d.show_price = !self.rng.random_bool(0.15);
        }
        (bill, style)
    }

    /// A clean bill of one of `styles` with at least `min_lines` lines (`None` when the
    /// reference prices too few of the services to make one).
    fn clean_bill(&mut self, styles: &[Style], min_lines: usize) -> Option<Vec<Draft>> {
        for _ in 0..500 {
            let style = self.pick(styles);
            let (bill, _) = self.base(style);
            if bill.len() >= min_lines.max(1) {
                return Some(bill);
            }
        }
        None
    }

    /// Inserts `d` at a random place among the lines of its date.
    fn insert(&mut self, bill: &mut Vec<Draft>, d: Draft) {
        let at = self.rng.random_range(0..=bill.len());
        bill.insert(at, d);
        bill.sort_by_key(|l| l.date);
    }
}

/// Numbers the drafts into `doc_id`'s bill lines; returns them and the numbers of marked lines.
fn finish(doc_id: &str, kind: DocumentKind, drafts: &[Draft], t: &Totals) -> (Vec<BillLine>, Vec<i32>) {
    let sum: Decimal = drafts.iter().map(|d| d.charge).sum();
    let mut marked = vec![];
    let lines = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let no = i as i32 + 1;
            if d.mark {
                marked.push(no);
            }
            BillLine {
                doc_id: doc_id.to_string(),
                kind,
                line_no: no,
                page: 1,
                service_date: Some(d.date_text()),
                code: Some(d.code.clone()),
                code_system: match classify(&d.code) {
                    // Lab codes like 0001U are CPT (proprietary laboratory analyses).
                    CodeSystem::Unknown => "CPT".into(),
                    other => other.as_str().into(),
                },
                revenue_code: d.rev.clone(),
                cdm_code: None,
                modifiers: d.mods.clone(),
                description: d.what.clone(),
                units: d.units,
                unit_price: d.show_price.then_some(d.price),
                charge: d.charge,
                allowed: None,
                plan_paid: None,
                patient_responsibility: None,
                confidence: 0.99,
                flagged: false,
                total_charges: t.stated.then_some(sum + t.gap),
                payments: t.payments,
                adjustments: t.adjustments,
                balance_due: t.balance_due,
            }
        })
        .collect();
    (lines, marked)
}

/// The EOB of a bill: each line allowed at 35–75% of its charge, the patient owing 10–30% of
/// the allowed amount. Returns the EOB lines, the plan's payments and the contractual
/// adjustment (for the bill's totals), and what the patient owes.
fn eob_for(g: &mut Gen<'_>, doc_id: &str, bill: &[Draft]) -> (Vec<BillLine>, Decimal, Decimal, Decimal) {
    let (mut paid, mut adjusted, mut owed) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let share = Decimal::new(g.rng.random_range(10..=30), 2);
    let lines = bill
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let allowed = (d.charge * Decimal::new(g.rng.random_range(35..=75), 2)).round_dp(2);
            let patient = (allowed * share).round_dp(2);
            paid += allowed - patient;
            adjusted += d.charge - allowed;
            owed += patient;
            BillLine {
                doc_id: doc_id.to_string(),
                kind: DocumentKind::Eob,
                line_no: i as i32 + 1,
                page: 1,
                service_date: Some(d.date_text()),
                code: Some(d.code.clone()),
                code_system: classify(&d.code).as_str().into(),
                revenue_code: None,
                cdm_code: None,
                modifiers: d.mods.clone(),
                description: d.what.clone(),
                units: d.units,
                unit_price: None,
                charge: d.charge,
                allowed: Some(allowed),
                plan_paid: Some(allowed - patient),
                patient_responsibility: Some(patient),
                confidence: 0.99,
                flagged: false,
                total_charges: None,
                payments: None,
                adjustments: None,
                balance_due: None,
            }
        })
        .collect();
    (lines, paid, adjusted, owed)
}

/// A Good Faith Estimate listing the bill's services, dated `shift` days from each, with
/// charges scaled so that they total `total`.
fn gfe_for(doc_id: &str, bill: &[Draft], total: Decimal, shift: i64) -> Vec<BillLine> {
    let sum: Decimal = bill.iter().map(|d| d.charge).sum();
    let mut left = total;
    let n = bill.len();
    bill.iter()
        .enumerate()
        .map(|(i, d)| {
            let charge = if i + 1 == n { left } else { (d.charge * total / sum).round_dp(2) };
            left -= charge;
            BillLine {
                doc_id: doc_id.to_string(),
                kind: DocumentKind::Gfe,
                line_no: i as i32 + 1,
                page: 1,
                service_date: Some((d.date + Duration::days(shift)).format("%Y-%m-%d").to_string()),
                code: Some(d.code.clone()),
                code_system: classify(&d.code).as_str().into(),
                revenue_code: None,
                cdm_code: None,
                modifiers: vec![],
                description: d.what.clone(),
                units: d.units,
                unit_price: None,
                charge,
                allowed: None,
                plan_paid: None,
                patient_responsibility: None,
                confidence: 0.99,
                flagged: false,
                total_charges: Some(total),
                payments: None,
                adjustments: None,
                balance_due: None,
            }
        })
        .collect()
}

fn label(kind: &str, doc_id: &str, lines: Vec<i32>) -> Label {
    Label { kind: kind.into(), doc_id: doc_id.into(), lines }
}

/// What one generator step produced: the bill, extra documents, labels, note.
struct Built {
    bill: Vec<Draft>,
    totals: Totals,
    others: Vec<BillLine>,
    /// Label kinds; their lines are the bill's marked lines (all lines for document kinds).
    kinds: Vec<&'static str>,
    note: String,
    expect_warnings: bool,
}

impl Built {
    fn plain(bill: Vec<Draft>, g: &mut Gen<'_>, note: String) -> Built {
        let stated = g.chance(0.85);
        Built {
            bill,
            totals: Totals { stated, ..Totals::default() },
            others: vec![],
            kinds: vec![],
            note,
            expect_warnings: false,
        }
    }
}

/// Generates the evaluation set over the reference's `edits` and `benchmarks`.
pub fn generate(edits: &[RefEdit], benchmarks: &[Benchmark], seed: u64, sizes: Sizes) -> Result<EvalSet, EvalSetError> {
    let mut g = Gen { cat: Catalog::new(edits, benchmarks), rng: SmallRng::seed_from_u64(seed), hospital: false };
    if g.cat.medicare.is_empty() {
        return Err(EvalSetError::Reference("priced bills: no Medicare benchmarks".into()));
    }
    let observed = observed_benchmarks(&mut g);
    g.cat.add_observed(&observed);

    let mut cases = vec![];
    let mut push = |b: Built| {
        let case_id = format!("E{:04}", cases.len() + 1);
        let doc = format!("{case_id}-bill");
        let (mut lines, marked) = finish(&doc, DocumentKind::Bill, &b.bill, &b.totals);
        let all: Vec<i32> = lines.iter().map(|l| l.line_no).collect();
        let labels = b
            .kinds
            .iter()
            .map(|k| {
                let on = if DOCUMENT_KINDS.contains(k) && marked.is_empty() { all.clone() } else { marked.clone() };
                label(k, &doc, on)
            })
            .collect();
        for mut o in b.others {
            let suffix = if o.kind == DocumentKind::Eob { "eob" } else { "gfe" };
            o.doc_id = format!("{case_id}-{suffix}");
            lines.push(o);
        }
        cases.push(EvalCase { case_id, note: b.note, expect_warnings: b.expect_warnings, labels, lines });
    };

    const ALL: [Style; 7] =
        [Style::Clinic, Style::Er, Style::Lab, Style::Imaging, Style::Therapy, Style::Procedure, Style::Critical];
    for i in 0..sizes.clean {
        let bill = g.clean_bill(&ALL, 1).ok_or_else(|| EvalSetError::Reference("clean bills".into()))?;
        let b = match i % 5 {
            // An EOB that agrees with the bill, or a GFE the bill stays within.
            3 => with_eob(&mut g, bill, Decimal::ZERO, "clean (with its EOB)"),
            4 => {
                let sum: Decimal = bill.iter().map(|d| d.charge).sum();
                let extra = g.cents_between(Decimal::ZERO, sum * Decimal::new(15, 2));
                with_gfe(&mut g, bill, sum + extra, 0, "clean (within its GFE)")
            }
            _ => Built::plain(bill, &mut g, "clean".into()),
        };
        push(b);
    }
    for kind in KINDS {
        for i in 0..sizes.per_kind {
            let b = retry(&mut g, kind, |g| inject(g, kind, i))?;
            push(b);
        }
    }
    for what in NEGATIVES {
        for i in 0..sizes.per_negative {
            // A negative the reference cannot support (no deleted PTP edit) is left out.
            let Ok(b) = retry(&mut g, what, |g| negative(g, what, i)) else { break };
            push(b);
        }
    }
    for what in CONTRADICTIONS {
        for _ in 0..sizes.per_contradiction {
            let b = retry(&mut g, what, |g| contradiction(g, what))?;
            push(b);
        }
    }
    Ok(EvalSet { cases, observed })
}

fn retry(g: &mut Gen<'_>, what: &str, mut f: impl FnMut(&mut Gen<'_>) -> Option<Built>) -> Result<Built, EvalSetError> {
    for _ in 0..200 {
        if let Some(b) = f(g) {
            return Ok(b);
        }
    }
    Err(EvalSetError::Reference(what.to_string()))
}

/// Synthetic observed charge statistics for about half the codes the generator bills: 20–120
/// claims each, charged at 1.4–2.4 times the lowest Medicare amount.
fn observed_benchmarks(g: &mut Gen<'_>) -> Vec<Benchmark> {
    let mut codes: BTreeSet<&str> = BTreeSet::new();
    for s in OFFICE.iter().chain(ER).chain(LABS).chain(IMAGING).chain(THERAPY).chain([&DRAW, &INJECTION]) {
        codes.insert(s.code);
    }
    let mut out = vec![];
    for code in codes {
        let Some((lo, _)) = g.cat.medicare.get(code).copied() else { continue };
        if !g.chance(0.5) {
            continue;
        }
        let n = g.rng.random_range(20..=120);
        let mut counts: BTreeMap<i64, isize> = BTreeMap::new();
        for _ in 0..n {
            let c = g.cents_between(lo * Decimal::new(14, 1), lo * Decimal::new(24, 1));
            *counts.entry(to_cents(c)).or_default() += 1;
        }
        let sorted: Vec<(&i64, isize)> = counts.iter().map(|(c, n)| (c, *n)).collect();
        let Some(s) = udfs::stats::charge_stats(&sorted, 2) else { continue };
        out.push(Benchmark {
            code: code.to_string(),
            modifier: String::new(),
            place_of_service: String::new(),
            scope: "observed".into(),
            kind: "charge".into(),
            source: "claims".into(),
            count: s.count,
            min: s.min,
            median: s.median,
            p90: s.p90,
            max: s.max,
            mean: s.mean,
            effective_from: None,
            source_file: None,
            as_of: 0,
        });
    }
    out
}

fn with_eob(g: &mut Gen<'_>, bill: Vec<Draft>, extra: Decimal, note: &str) -> Built {
    let (eob, paid, adjusted, owed) = eob_for(g, "eob", &bill);
    Built {
        totals: Totals {
            stated: true,
            gap: Decimal::ZERO,
            payments: Some(-paid),
            adjustments: Some(-adjusted),
            balance_due: Some(owed + extra),
        },
        bill,
        others: eob,
        kinds: vec![],
        note: note.into(),
        expect_warnings: false,
    }
}

fn with_gfe(g: &mut Gen<'_>, bill: Vec<Draft>, estimate: Decimal, shift: i64, note: &str) -> Built {
    let gfe = gfe_for("gfe", &bill, estimate, shift);
    let stated = g.chance(0.85);
    Built {
        totals: Totals { stated, ..Totals::default() },
        bill,
        others: gfe,
        kinds: vec![],
        note: note.into(),
        expect_warnings: false,
    }
}

fn has_protected(bill: &[Draft]) -> bool {
    bill.iter().any(|d| {
        matches!(d.code.as_str(), "99281" | "99282" | "99283" | "99284" | "99285" | "99291")
            || d.rev.as_deref().is_some_and(|r| r.starts_with("045"))
    })
}

/// A bill with one error of `kind` (variant by `i`), or `None` to try again.
fn inject(g: &mut Gen<'_>, kind: &'static str, i: usize) -> Option<Built> {
    const ANY: [Style; 6] = [Style::Clinic, Style::Er, Style::Lab, Style::Imaging, Style::Therapy, Style::Procedure];
    let mut b = match kind {
        "duplicate_charge" => {
            let mut bill = g.clean_bill(&ANY, 2)?;
            // A line whose doubled units stay within its MUE: the copy is the only problem.
            let ok: Vec<usize> = (0..bill.len())
                .filter(|&k| {
                    let d = &bill[k];
                    !ADDONS.iter().any(|(a, _)| *a == d.code)
                        && g.cat.mue_limits(&d.code, &d.date_text()).is_none_or(|(lo, _)| lo >= 2 * d.units)
                })
                .collect();
            let k = *ok.get(g.rng.random_range(0..ok.len().max(1)))?;
            bill[k].mark = true;
            let copy = bill[k].clone();
            let at = if g.chance(0.5) { k + 1 } else { g.rng.random_range(0..=bill.len()) };
            bill.insert(at, copy);
            bill.sort_by_key(|l| l.date);
            let mut b = Built::plain(bill, g, "error: duplicate_charge (a line billed twice)".into());
            b.kinds = vec![kind];
            b
        }
        "arithmetic_error" => {
            let mut bill = g.clean_bill(&ANY, 1)?;
            let k = g.rng.random_range(0..bill.len());
            let (price, units) = (bill[k].price, bill[k].units);
            let expected = price * Decimal::from(units);
            let ceiling = g.cat.ceiling(&bill[k].code).unwrap_or(price * Decimal::from(3));
            let under = i % 5 == 4;
            let charge = if under {
                g.cents_between(expected * Decimal::new(5, 1), expected - Decimal::ONE)
            } else {
                // Over, yet under 85% of the price ceiling per unit: no price finding with it.
                let top = (ceiling * Decimal::new(85, 2) * Decimal::from(units)).min(expected * Decimal::new(125, 2));
                g.cents_between(expected + Decimal::ONE, top)
            };
            let top = ceiling * Decimal::new(85, 2) * Decimal::from(units);
            if (under && charge >= expected) || (!under && (charge <= expected || charge > top)) {
                return None;
            }
            let d = &mut bill[k];
            d.charge = charge;
            d.show_price = true;
            d.mark = true;
            let how = if under { "undercharge" } else { "overcharge" };
            let mut b = Built::plain(bill, g, format!("error: arithmetic_error ({how}: units × price ≠ charge)"));
            b.kinds = vec![kind];
            b
        }
        "total_mismatch" => {
            let bill = g.clean_bill(&ANY, 1)?;
            let sum: Decimal = bill.iter().map(|d| d.charge).sum();
            let under = i % 5 == 4;
            let gap = if under {
                -g.cents_between(Decimal::ONE, (sum * Decimal::new(3, 1)).max(Decimal::new(200, 2)))
            } else {
                g.cents_between(Decimal::from(5), Decimal::from(600))
            };
            if sum + gap <= Decimal::ZERO {
                return None;
            }
            let mut b = Built::plain(bill, g, "error: total_mismatch (stated total ≠ sum of lines)".into());
            b.totals = Totals { stated: true, gap, ..Totals::default() };
            b.kinds = vec![kind];
            b
        }
        "unbundled_pair" => {
            let mut bill = g.clean_bill(&ANY, 1)?;
            let date = bill[0].date;
            let (c1, c2, how) = pair(g, &date.format("%Y-%m-%d").to_string(), i.is_multiple_of(2))?;
            let mut added = 0;
            for code in [c1, c2] {
                if let Some(d) = bill.iter_mut().find(|d| d.date == date && d.code == code) {
                    d.mark = true;
                    continue;
                }
                let mut d = lab_line(g, &code, date)?;
                d.mark = true;
                // The new line must not pair with anything else on the bill.
                if bill.iter().any(|o| !o.mark && g.cat.pair_edit(o, &d)) {
                    return None;
                }
                g.insert(&mut bill, d);
                added += 1;
            }
            if added == 0 {
                return None;
            }
            let mut b = Built::plain(bill, g, format!("error: unbundled_pair ({how})"));
            b.kinds = vec![kind];
            b
        }
        "units_exceed_mue" => {
            let mut bill = g.clean_bill(&ANY, 1)?;
            let day = bill[0].date_text();
            let ok: Vec<usize> = (0..bill.len())
                .filter(|&k| bill[k].date_text() == day && g.cat.mue_limits(&bill[k].code, &day).is_some())
                .filter(|&k| !ADDONS.iter().any(|(a, _)| *a == bill[k].code))
                .collect();
            let k = *ok.get(g.rng.random_range(0..ok.len().max(1)))?;
            let (_, hi) = g.cat.mue_limits(&bill[k].code, &day)?;
            let d = &mut bill[k];
            d.units = hi + g.rng.random_range(1..=2);
            d.charge = d.price * Decimal::from(d.units);
            d.mark = true;
            let note = format!("error: units_exceed_mue ({} units of {}, limit {hi})", d.units, d.code);
            let mut b = Built::plain(bill, g, note);
            b.kinds = vec![kind];
            b
        }
        "addon_without_primary" => {
            let mut bill = g.clean_bill(&ANY, 1)?;
            let date = bill[0].date;
            let addons: Vec<Svc> = IV
                .iter()
                .chain(PROCEDURES)
                .filter_map(|(_, a)| *a)
                .chain([CRITICAL.1])
                .filter(|a| {
                    let primaries = ADDONS.iter().find(|(c, _)| *c == a.code).map(|(_, p)| *p).unwrap_or_default();
                    !bill.iter().any(|d| d.date == date && (primaries.contains(&d.code.as_str()) || d.code == a.code))
                })
                .collect();
            if addons.is_empty() {
                return None;
            }
            let a = g.pick(&addons);
            let mut d = g.line(a, date)?;
            if bill.iter().any(|o| g.cat.pair_edit(o, &d)) {
                return None;
            }
            d.mark = true;
            g.insert(&mut bill, d);
            let mut b = Built::plain(bill, g, format!("error: addon_without_primary ({} alone)", a.code));
            b.kinds = vec![kind];
            b
        }
        "invalid_code" => {
            let mut bill = g.clean_bill(&ANY, 1)?;
            let date = bill[0].date;
            let day = date.format("%Y-%m-%d").to_string();
            let (code, how) = invalid_code(g, &day, i.is_multiple_of(3))?;
            let units = 1;
            let price = cents(g.rng.random_range(1_500..=30_000));
            let d = Draft {
                date,
                code,
                what: g.pick(&["Supply", "Medication", "Equipment"]).into(),
                rev: g.hospital.then(|| "0270".to_string()),
                mods: vec![],
                units,
                price,
                charge: price,
                show_price: true,
                mark: true,
            };
            g.insert(&mut bill, d);
            let mut b = Built::plain(bill, g, format!("error: invalid_code ({how})"));
            b.kinds = vec![kind];
            b
        }
        "price_outlier" => {
            let mut bill = g.clean_bill(&ANY, 1)?;
            let observed = i % 2 == 1;
            let ok: Vec<usize> = (0..bill.len())
                .filter(|&k| {
                    let c = bill[k].code.as_str();
                    let (lo, _) = g.cat.medicare.get(c).copied().unwrap_or_default();
                    let p90 = g.cat.observed_p90.get(c).copied();
                    if observed {
                        p90.is_some_and(|p| p < lo * Decimal::new(285, 2))
                    } else {
                        g.cat.medicare_top.contains_key(c)
                    }
                })
                .collect();
            let k = *ok.get(g.rng.random_range(0..ok.len().max(1)))?;
            let code = bill[k].code.clone();
            let price = if observed {
                // Above the observed 90th percentile, under 3× every Medicare amount.
                let p90 = *g.cat.observed_p90.get(code.as_str())?;
                let (lo, _) = *g.cat.medicare.get(code.as_str())?;
                let gap = lo * Decimal::from(3) - p90;
                g.cents_between(p90 + gap * Decimal::new(3, 1), p90 + gap * Decimal::new(7, 1))
            } else {
                let top = *g.cat.medicare_top.get(code.as_str())? * Decimal::from(3);
                g.cents_between(top * Decimal::new(13, 1), top * Decimal::from(3))
            };
            let d = &mut bill[k];
            d.price = price;
            d.charge = price * Decimal::from(d.units);
            d.mark = true;
            let how = if observed { "above the observed 90th percentile" } else { "above 3× Medicare" };
            let mut b = Built::plain(bill, g, format!("error: price_outlier ({how})"));
            b.kinds = vec![kind];
            b
        }
        "eob_mismatch" | "balance_billing" => {
            let styles: &[Style] = if kind == "eob_mismatch" {
                &[Style::Clinic, Style::Lab, Style::Imaging, Style::Therapy, Style::Procedure]
            } else {
                &[Style::Er, Style::Critical]
            };
            let bill = g.clean_bill(styles, 1)?;
            if has_protected(&bill) != (kind == "balance_billing") {
                return None;
            }
            let sum: Decimal = bill.iter().map(|d| d.charge).sum();
            let mut b = with_eob(g, bill, Decimal::ZERO, "");
            let owed = b.totals.balance_due.unwrap_or_default();
            let (asked, how) = if i.is_multiple_of(2) {
                // The bill leaves out the contractual adjustment: charges less the plan's payment.
                (sum + b.totals.payments.unwrap_or_default(), "contractual adjustment not applied")
            } else {
                (owed + g.cents_between(Decimal::from(20), Decimal::from(400)), "asks more than the EOB")
            };
            if asked <= owed {
                return None;
            }
            if kind == "eob_mismatch" {
                b.totals.balance_due = Some(asked);
            } else {
                b.totals.balance_due = Some(asked);
                for d in b.bill.iter_mut() {
                    d.mark = has_protected(std::slice::from_ref(d));
                }
            }
            if i.is_multiple_of(2) {
                b.totals.adjustments = None;
            }
            b.note = format!("error: {kind} ({how})");
            b.kinds = vec![kind];
            b
        }
        "gfe_exceeded" => {
            let bill = g.clean_bill(&[Style::Imaging, Style::Procedure, Style::Clinic, Style::Er], 2)?;
            let sum: Decimal = bill.iter().map(|d| d.charge).sum();
            if sum < Decimal::from(600) {
                return None;
            }
            let over = match i % 8 {
                0 => Decimal::from(400),
                _ => g.cents_between(Decimal::from(400), (sum - Decimal::from(150)).min(Decimal::from(1500))),
            };
            let shift = -(i as i64 % 3) * 7;
            let mut b = with_gfe(g, bill, sum - over, shift, "");
            b.note = format!("error: gfe_exceeded ({} over the estimate)", udfs::rules::dollars(over));
            b.kinds = vec![kind];
            b
        }
        _ => return None,
    };
    if !DOCUMENT_KINDS.contains(&kind) && !b.bill.iter().any(|d| d.mark) {
        return None;
    }
    if kind != "total_mismatch" {
        b.totals.gap = Decimal::ZERO;
    }
    if kind == "total_mismatch" {
        b.totals.stated = true;
    }
    Some(b)
}

/// A line for a code the PTP pairs use (lab panels and their tests, the CMS excerpt's codes),
/// priced cleanly, or from a generic range when the code has no benchmark.
fn lab_line(g: &mut Gen<'_>, code: &str, date: NaiveDate) -> Option<Draft> {
    let day = date.format("%Y-%m-%d").to_string();
    if !g.cat.valid_code(code, &day) || g.cat.mue_limits(code, &day).is_some_and(|(lo, _)| lo < 1) {
        return None;
    }
    let price = g.clean_price(code, Some((1_500, 9_000)))?;
    let lab = panels::PANELS.iter().any(|(p, parts)| *p == code || parts.contains(&code))
        || code.ends_with('U')
        || code.ends_with('M')
        || code.starts_with('8');
    Some(Draft {
        date,
        code: code.to_string(),
        what: if lab { "Lab test" } else { "Service" }.into(),
        rev: g.hospital.then(|| "0300".to_string()),
        mods: vec![],
        units: 1,
        price,
        charge: price,
        show_price: true,
        mark: false,
    })
}

/// A same-day PTP pair in force on `day` with modifier indicator 0 or 1: from the shipped
/// panel compositions or (`panel` false) from the other edits (the CMS PTP file).
fn pair(g: &mut Gen<'_>, day: &str, panel: bool) -> Option<(String, String, String)> {
    let panel_source = panels::SOURCE;
    let candidates: Vec<(&str, &str, bool)> = g
        .cat
        .ptp
        .iter()
        .filter(|(_, es)| {
            es.iter().any(|e| {
                unbundled::in_force(e, day)
                    && matches!(e.modifier_indicator.as_deref(), Some("0") | Some("1"))
                    && (e.source_file == panel_source) == panel
            })
        })
        .map(|((c1, c2), es)| (*c1, *c2, es.iter().any(|e| e.modifier_indicator.as_deref() == Some("1"))))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let (c1, c2, _) = g.pick(&candidates);
    let how =
        if panel { format!("lab panel {c1} with its component {c2}") } else { format!("NCCI PTP pair {c1}/{c2}") };
    Some((c1.to_string(), c2.to_string(), how))
}

/// A HCPCS Level II code the code set rules out on `day`: one terminated before it (when
/// `terminated` and the code set has one), else one the code set does not list.
fn invalid_code(g: &mut Gen<'_>, day: &str, terminated: bool) -> Option<(String, String)> {
    if g.cat.codes.is_empty() {
        return None;
    }
    if terminated {
        let ended: Vec<&str> = g
            .cat
            .codes
            .iter()
            .filter(|(c, es)| {
                classify(c) == CodeSystem::Hcpcs
                    && es.iter().all(|e| e.effective_to.as_deref().is_some_and(|t| t < day))
                    && !g.cat.mue.contains_key(*c)
                    && !g.cat.medicare_top.contains_key(*c)
            })
            .map(|(c, _)| *c)
            .collect();
        if !ended.is_empty() {
            let c = g.pick(&ended);
            return Some((c.to_string(), format!("{c} terminated before the date of service")));
        }
    }
    let letters = ['A', 'E', 'J', 'L', 'Q', 'K'];
    for _ in 0..1000 {
        let code = format!("{}{:04}", g.pick(&letters), g.rng.random_range(0..10_000));
        let used = g.cat.codes.contains_key(code.as_str())
            || g.cat.mue.contains_key(code.as_str())
            || g.cat.medicare_top.contains_key(code.as_str())
            || g.cat.ptp.keys().any(|(a, b)| *a == code || *b == code);
        if !used {
            return Some((code.clone(), format!("{code} is not in the HCPCS code set")));
        }
    }
    None
}

/// Hard negatives: inputs that look like an error and are not.
const NEGATIVES: [&str; 7] = [
    "distinct-procedure modifier on an indicator-1 pair",
    "add-on with its primary",
    "same service on different dates",
    "repeat lab test with modifier 91",
    "PTP pair whose edit was deleted before the date",
    "bill less than $400 over its GFE",
    "EOB matching the bill",
];

fn negative(g: &mut Gen<'_>, what: &str, i: usize) -> Option<Built> {
    const ANY: [Style; 5] = [Style::Clinic, Style::Lab, Style::Imaging, Style::Therapy, Style::Procedure];
    let note = format!("negative: {what}");
    match what {
        "distinct-procedure modifier on an indicator-1 pair" => {
            let mut bill = g.clean_bill(&ANY, 1)?;
            let date = bill[0].date;
            let day = date.format("%Y-%m-%d").to_string();
            let (c1, c2, _) = pair(g, &day, i.is_multiple_of(2))?;
            // Indicator 1 only: indicator 0 pairs stay unbundled whatever the modifier.
            let only_one = g.cat.ptp.get(&(c1.as_str(), c2.as_str())).is_some_and(|es| {
                es.iter().filter(|e| unbundled::in_force(e, &day)).all(|e| e.modifier_indicator.as_deref() != Some("0"))
            });
            if !only_one || bill.iter().any(|d| d.code == c1 || d.code == c2) {
                return None;
            }
            let a = lab_line(g, &c1, date)?;
            let mut b = lab_line(g, &c2, date)?;
            b.mods = vec![g.pick(&DISTINCT).to_string()];
            if bill.iter().any(|o| g.cat.pair_edit(o, &a) || g.cat.pair_edit(o, &b)) || g.cat.pair_edit(&a, &b) {
                return None;
            }
            g.insert(&mut bill, a);
            g.insert(&mut bill, b);
            Some(Built::plain(bill, g, note))
        }
        "add-on with its primary" => {
            let mut bill = vec![];
            let date = g.date();
            g.hospital = g.chance(0.5);
            let p = *PROCEDURES.iter().chain(IV).filter(|(_, a)| a.is_some()).nth(i % 5)?;
            g.add_package(&mut bill, p, date);
            if bill.len() < 2 {
                return None;
            }
            let n = g.rng.random_range(0..=2);
            g.labs(&mut bill, date, n);
            Some(Built::plain(bill, g, note))
        }
        "same service on different dates" => {
            let mut bill = g.clean_bill(&[Style::Clinic, Style::Lab, Style::Imaging, Style::Procedure], 1)?;
            let k = g.rng.random_range(0..bill.len());
            let mut copy = bill[k].clone();
            copy.date += Duration::days(g.rng.random_range(1..=21));
            if ADDONS.iter().any(|(a, _)| *a == copy.code) || !g.push_clean(&mut bill, copy) {
                return None;
            }
            bill.sort_by_key(|l| l.date);
            Some(Built::plain(bill, g, note))
        }
        "repeat lab test with modifier 91" => {
            let mut bill = g.clean_bill(&[Style::Lab, Style::Clinic, Style::Er], 1)?;
            let ok: Vec<usize> = (0..bill.len())
                .filter(|&k| {
                    LABS.iter().any(|s| s.code == bill[k].code)
                        && g.cat.mue_limits(&bill[k].code, &bill[k].date_text()).is_none_or(|(lo, _)| lo >= 2)
                })
                .collect();
            let k = *ok.get(g.rng.random_range(0..ok.len().max(1)))?;
            let mut copy = bill[k].clone();
            copy.mods = vec!["91".into()];
            g.insert(&mut bill, copy);
            Some(Built::plain(bill, g, note))
        }
        "PTP pair whose edit was deleted before the date" => {
            let mut bill = g.clean_bill(&ANY, 1)?;
            let date = bill[0].date;
            let day = date.format("%Y-%m-%d").to_string();
            let gone: Vec<(&str, &str)> = g
                .cat
                .ptp
                .iter()
                .filter(|(_, es)| {
                    es.iter().all(|e| e.effective_to.as_deref().is_some_and(|t| t <= day.as_str()))
                        && es.iter().any(|e| {
                            e.modifier_indicator.as_deref() == Some("0") || e.modifier_indicator.as_deref() == Some("1")
                        })
                })
                .map(|(k, _)| *k)
                .filter(|(a, b)| classify(a) != CodeSystem::Hcpcs && classify(b) != CodeSystem::Hcpcs)
                .collect();
            if gone.is_empty() {
                return None;
            }
            let (c1, c2) = g.pick(&gone);
            if bill.iter().any(|d| d.code == c1 || d.code == c2) {
                return None;
            }
            let a = lab_line(g, c1, date)?;
            let b = lab_line(g, c2, date)?;
            if bill.iter().any(|o| g.cat.pair_edit(o, &a) || g.cat.pair_edit(o, &b)) || g.cat.pair_edit(&a, &b) {
                return None;
            }
            g.insert(&mut bill, a);
            g.insert(&mut bill, b);
            Some(Built::plain(bill, g, note))
        }
        "bill less than $400 over its GFE" => {
            let bill = g.clean_bill(&[Style::Imaging, Style::Procedure, Style::Clinic], 2)?;
            let sum: Decimal = bill.iter().map(|d| d.charge).sum();
            let over = match i % 4 {
                0 => Decimal::new(39_999, 2),
                _ => g.cents_between(Decimal::ONE, Decimal::new(39_999, 2)),
            };
            if sum - over < Decimal::from(50) {
                return None;
            }
            Some(with_gfe(g, bill, sum - over, 0, &note))
        }
        "EOB matching the bill" => {
            let styles: &[Style] = if i.is_multiple_of(2) { &[Style::Er, Style::Critical] } else { &ANY };
            let bill = g.clean_bill(styles, 1)?;
            Some(with_eob(g, bill, Decimal::ZERO, &note))
        }
        _ => None,
    }
}

/// Malformed or contradictory inputs: each must draw a warning and no finding.
const CONTRADICTIONS: [&str; 3] =
    ["EOB for another patient (no shared date or code)", "GFE dated after the services", "negative units"];

fn contradiction(g: &mut Gen<'_>, what: &str) -> Option<Built> {
    let note = format!("contradictory: {what}");
    let mut b = match what {
        "EOB for another patient (no shared date or code)" => {
            let bill = g.clean_bill(&[Style::Clinic, Style::Lab, Style::Imaging, Style::Er], 1)?;
            let mut b = with_eob(g, bill.clone(), Decimal::ZERO, &note);
            // Someone else's visit, months earlier, with codes this bill does not have.
            let other = g.clean_bill(&[Style::Clinic, Style::Imaging, Style::Therapy, Style::Procedure], 1)?;
            let shift = Duration::days(g.rng.random_range(100..200));
            let other: Vec<Draft> = other.into_iter().map(|d| Draft { date: d.date - shift, ..d }).collect();
            let codes: BTreeSet<&str> = bill.iter().map(|d| d.code.as_str()).collect();
            let dates: BTreeSet<NaiveDate> = bill.iter().map(|d| d.date).collect();
            if other.iter().any(|d| codes.contains(d.code.as_str()) || dates.contains(&d.date)) {
                return None;
            }
            let (eob, _, _, owed) = eob_for(g, "eob", &other);
            let sum: Decimal = bill.iter().map(|d| d.charge).sum();
            // The bill asks more than that EOB's patient share: compared, it would look like a mismatch.
            let asked = (owed + Decimal::from(25)).max(sum * Decimal::new(3, 1)).min(sum).round_dp(2);
            if asked <= owed {
                return None;
            }
            b.others = eob;
            b.totals = Totals { stated: true, balance_due: Some(asked), ..Totals::default() };
            b
        }
        "GFE dated after the services" => {
            let bill = g.clean_bill(&[Style::Imaging, Style::Procedure, Style::Clinic], 2)?;
            let sum: Decimal = bill.iter().map(|d| d.charge).sum();
            if sum < Decimal::from(600) {
                return None;
            }
            let over = g.cents_between(Decimal::from(400), sum - Decimal::from(150));
            let last = bill.iter().map(|d| d.date).max()?;
            let first = bill.iter().map(|d| d.date).min()?;
            let shift = (last - first).num_days() + g.rng.random_range(10..60);
            with_gfe(g, bill, sum - over, shift, &note)
        }
        "negative units" => {
            let mut bill = g.clean_bill(&[Style::Clinic, Style::Lab, Style::Er, Style::Therapy], 2)?;
            let k = g.rng.random_range(0..bill.len());
            let d = &mut bill[k];
            if ADDONS.iter().any(|(a, _)| *a == d.code) {
                return None;
            }
            // A minus sign on the units (a misprint or a misread): price and charge as usual.
            d.units = -d.units;
            d.show_price = true;
            let mut b = Built::plain(bill, g, note.clone());
            b.totals.stated = true;
            b
        }
        _ => return None,
    };
    b.note = note;
    b.expect_warnings = true;
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use udfs::rules;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn bench(code: &str, scope: &str, kind: &str, amount: &str) -> Benchmark {
        Benchmark {
            code: code.into(),
            modifier: String::new(),
            place_of_service: String::new(),
            scope: scope.into(),
            kind: kind.into(),
            source: "test".into(),
            count: 1,
            min: d(amount),
            median: d(amount),
            p90: d(amount),
            max: d(amount),
            mean: d(amount),
            effective_from: Some("2026-01-01".into()),
            source_file: Some("test".into()),
            as_of: 0,
        }
    }

    fn edit(
        kind: &str,
        code: &str,
        code2: Option<&str>,
        mi: Option<&str>,
        mue: Option<i32>,
        to: Option<&str>,
    ) -> RefEdit {
        RefEdit {
            kind: kind.into(),
            code: code.into(),
            code2: code2.map(String::from),
            modifier_indicator: mi.map(String::from),
            mue_limit: mue,
            mue_adjudication: mue.map(|_| "3 Date of Service Edit: Clinical".into()),
            description: None,
            effective_from: "2020-01-01".into(),
            effective_to: to.map(String::from),
            source_file: "test".into(),
        }
    }

    /// A small reference shaped like the demo one.
    fn reference() -> (Vec<RefEdit>, Vec<Benchmark>) {
        let mut b = vec![];
        let pfs = [
            ("99202", "75"),
            ("99203", "110"),
            ("99204", "170"),
            ("99212", "55"),
            ("99213", "90"),
            ("99214", "130"),
            ("99215", "180"),
            ("99282", "50"),
            ("99283", "80"),
            ("99284", "130"),
            ("99285", "190"),
            ("99291", "230"),
            ("99292", "110"),
            ("71046", "30"),
            ("70450", "120"),
            ("70551", "270"),
            ("93000", "17"),
            ("96372", "15"),
            ("96374", "40"),
            ("96375", "16"),
            ("96360", "35"),
            ("96361", "13"),
            ("96365", "65"),
            ("96366", "20"),
            ("97110", "30"),
            ("97140", "28"),
            ("20610", "70"),
            ("11042", "130"),
            ("11045", "25"),
            ("64483", "250"),
            ("64484", "110"),
        ];
        for (c, a) in pfs {
            b.push(bench(c, "locality:01112-05", "allowed_nonfacility", a));
        }
        b.push(bench("99284", "national", "allowed", "426.30"));
        for (c, a) in [("85025", "7.77"), ("80053", "10.56"), ("80061", "13.39"), ("36415", "9.34"), ("82947", "3.93")]
        {
            b.push(bench(c, "national", "allowed", a));
        }
        let mut e = panels::panel_edits();
        e.push(edit("ptp", "0001U", Some("81105"), Some("1"), None, None));
        e.push(edit("ptp", "0001U", Some("0029U"), Some("1"), None, Some("2026-06-30")));
        for (c, l) in [("85025", 2), ("80053", 1), ("36415", 2), ("99213", 2), ("96372", 4), ("70450", 3), ("96374", 1)]
        {
            e.push(edit("mue", c, None, None, Some(l), None));
        }
        for c in ["J2405", "J1100", "J0696", "J7030", "A4550"] {
            e.push(edit("code", c, None, None, None, None));
        }
        e.push(edit("code", "A4466", None, None, None, Some("2016-12-31")));
        (e, b)
    }

    fn small() -> Sizes {
        Sizes { per_kind: 12, clean: 40, per_negative: 4, per_contradiction: 4 }
    }

    #[test]
    fn the_same_seed_gives_the_same_set() {
        let (e, b) = reference();
        let one = generate(&e, &b, 7, small()).unwrap();
        let two = generate(&e, &b, 7, small()).unwrap();
        let json = |s: &EvalSet| serde_json::to_string(&s.cases).unwrap();
        assert_eq!(json(&one), json(&two));
        assert_eq!(one.observed, two.observed);
        assert_ne!(json(&one), json(&generate(&e, &b, 8, small()).unwrap()));
    }

    #[test]
    fn every_kind_negative_and_contradiction_is_represented() {
        let (e, b) = reference();
        let set = generate(&e, &b, 1, small()).unwrap();
        for k in KINDS {
            let n = set.cases.iter().filter(|c| c.labels.iter().any(|l| l.kind == k)).count();
            assert_eq!(n, 12, "{k}");
        }
        for what in NEGATIVES {
            assert!(set.cases.iter().any(|c| c.note.ends_with(what)), "{what}");
        }
        for what in CONTRADICTIONS {
            let cases: Vec<_> = set.cases.iter().filter(|c| c.note.ends_with(what)).collect();
            assert_eq!(cases.len(), 4, "{what}");
            assert!(cases.iter().all(|c| c.expect_warnings && c.labels.is_empty()));
        }
        assert_eq!(set.cases.iter().filter(|c| c.note.starts_with("clean")).count(), 40);
        // Money as decimal strings, and a case round-trips.
        let line = serde_json::to_string(&set.cases[0]).unwrap();
        assert!(line.contains("\"charge\":\""), "{line}");
        let back: EvalCase = serde_json::from_str(&line).unwrap();
        assert_eq!(back, set.cases[0]);
    }

    /// The rule functions over one case, the way the findings graph combines them (the most
    /// favourable Medicare amount, every edit of a code): the kinds they find.
    fn oracle(c: &EvalCase, edits: &[RefEdit], benches: &[Benchmark]) -> (BTreeSet<String>, bool) {
        let bill: Vec<&BillLine> = c.lines.iter().filter(|l| l.kind == DocumentKind::Bill).collect();
        let eob: Vec<&BillLine> = c.lines.iter().filter(|l| l.kind == DocumentKind::Eob).collect();
        let gfe: Vec<&BillLine> = c.lines.iter().filter(|l| l.kind == DocumentKind::Gfe).collect();
        let doc = &bill[0].doc_id;
        let usable: Vec<&BillLine> = bill.iter().copied().filter(|l| l.units >= 0).collect();
        let mut warned = bill.len() != usable.len();
        let mut f = vec![];
        f.extend(rules::duplicate::check(doc, &usable));
        f.extend(rules::arithmetic::check(doc, &usable));
        f.extend(rules::totals::check(doc, &bill));
        f.extend(rules::addon::check(doc, &usable));
        for e in edits {
            for a in &usable {
                if a.code.as_deref() != Some(e.code.as_str()) {
                    continue;
                }
                match e.kind.as_str() {
                    "ptp" => {
                        for b in usable.iter().filter(|b| b.code == e.code2) {
                            f.extend(rules::unbundled::check_pair(doc, a, b, e));
                        }
                    }
                    "mue" => {
                        let of: Vec<&BillLine> = usable.iter().copied().filter(|l| l.code == a.code).collect();
                        f.extend(rules::mue::check(doc, &of, e));
                    }
                    _ => {}
                }
            }
        }
        for l in &bill {
            let known: Vec<&RefEdit> =
                edits.iter().filter(|e| e.kind == "code" && l.code.as_deref() == Some(e.code.as_str())).collect();
            if l.code.as_deref().is_some_and(|c| classify(c) == CodeSystem::Hcpcs) {
                f.extend(rules::invalid_code::check(doc, l, &known));
            }
        }
        let mut set_benches: Vec<Benchmark> = benches.to_vec();
        set_benches.sort_by_key(|b| std::cmp::Reverse(b.median));
        for l in &usable {
            let top = set_benches.iter().find(|b| is_medicare(b) && l.code.as_deref() == Some(b.code.as_str()));
            let obs = set_benches.iter().find(|b| b.scope == "observed" && l.code.as_deref() == Some(b.code.as_str()));
            for b in top.into_iter().chain(obs) {
                f.extend(rules::outlier::check(doc, l, b));
            }
        }
        if !eob.is_empty() {
            let shared = eob.iter().any(|e| bill.iter().any(|l| l.service_date == e.service_date || l.code == e.code));
            if !shared {
                warned = true;
            } else if let Some(x) = rules::balance::check(doc, &bill, &eob) {
                f.push(x);
            } else {
                f.extend(rules::estimates::eob_mismatch(doc, &bill, &eob));
            }
        }
        if !gfe.is_empty() {
            let last = bill.iter().filter_map(|l| l.service_date.clone()).max();
            let est = gfe.iter().filter_map(|l| l.service_date.clone()).max();
            if est > last {
                warned = true;
            } else {
                f.extend(rules::estimates::gfe_exceeded(doc, &bill, &gfe, last.as_deref()));
            }
        }
        (f.into_iter().map(|x| x.kind).collect(), warned)
    }

    #[test]
    fn each_case_draws_exactly_its_labels_from_the_rules() {
        let (e, b) = reference();
        let set = generate(&e, &b, 3, small()).unwrap();
        let mut benches = b.clone();
        benches.extend(set.observed.iter().cloned());
        for c in &set.cases {
            let (found, warned) = oracle(c, &e, &benches);
            let want: BTreeSet<String> = c.labels.iter().map(|l| l.kind.clone()).collect();
            assert_eq!(found, want, "{} {}", c.case_id, c.note);
            assert_eq!(warned, c.expect_warnings, "{} {}", c.case_id, c.note);
        }
    }

    #[test]
    fn a_reference_without_prices_is_refused() {
        let (e, _) = reference();
        assert!(generate(&e, &[], 1, small()).is_err());
    }
}
