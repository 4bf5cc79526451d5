//! The benchmarks graph: claim-line contributions → observed charge statistics per (code,
//! modifier, place of service).
//!
//! A claim line is identified by (claim id, line number). `Versions` — upsert state kept by the
//! worker that reads the line's partition, since `claims.lines` is keyed by claim id — turns each
//! version into changes of the differential collection: an original asserts its contribution, a
//! replacement (frequency 7) retracts the previous one and asserts its own, a void (8) only
//! retracts. The statistics then re-derive for exactly the codes a change touched.
use differential_dataflow::input::{Input, InputSession};
use differential_dataflow::AsCollection;
use rust_decimal::Decimal;
use schemas::records::{ClaimLine, Frequency};
use schemas::DeadLetter;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use timely::dataflow::operators::probe::Handle;
use timely::dataflow::operators::Exchange;
use udfs::stats::{charge_stats, ChargeStats};

pub type Time = u64;
/// (claim id, line number) as a 128-bit hash: fixed-size keys keep the arrangement free of
/// string compares and allocations. The state is rebuilt from the log at every start, so the
/// hash never outlives the binary that computed it.
pub type ClaimKey = u128;
pub type BenchKey = CodeKey;
pub type Update<D> = (D, Time, isize);
/// What a current claim line contributes: its code key and charge in fixed point.
pub type Contribution = (BenchKey, Money);

/// A charge as an exact fixed-point decimal: ten-thousandths of a dollar. Cheaper to sort and
/// compare than `Decimal` in the arrangement; `ClaimLine::validate` rejects charges with more
/// than 4 decimal places, so the conversion is lossless.
pub type Money = i64;
pub const MONEY_SCALE: u32 = 4;

pub fn to_money(d: Decimal) -> Option<Money> {
    let mut d = d.normalize();
    if d.scale() > MONEY_SCALE {
        return None;
    }
    d.rescale(MONEY_SCALE);
    i64::try_from(d.mantissa()).ok()
}

/// (code, modifier, place of service) packed losslessly into 9 bytes: a CPT/HCPCS code is 5
/// characters, a modifier 2 (zero bytes when absent), a place of service 2 digits (zero bytes
/// when the feed has none: institutional claims, remittances) —
/// `ClaimLine::validate` guarantees those shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CodeKey(pub [u8; 9]);

impl CodeKey {
    pub fn new(code: &str, modifier: Option<&str>, place_of_service: &str) -> Option<Self> {
        let (c, m, p) = (code.as_bytes(), modifier.unwrap_or("").as_bytes(), place_of_service.as_bytes());
        if c.len() != 5 || !(m.is_empty() || m.len() == 2) || !(p.is_empty() || p.len() == 2) {
            return None;
        }
        let mut k = [0u8; 9];
        k[..5].copy_from_slice(c);
        k[5..5 + m.len()].copy_from_slice(m);
        k[7..].copy_from_slice(p);
        Some(Self(k))
    }
    fn text(bytes: &[u8]) -> String {
        bytes.iter().take_while(|b| **b != 0).map(|b| *b as char).collect()
    }
    pub fn code(&self) -> String {
        Self::text(&self.0[..5])
    }
    pub fn modifier(&self) -> String {
        Self::text(&self.0[5..7])
    }
    pub fn place_of_service(&self) -> String {
        Self::text(&self.0[7..])
    }
    pub fn parts(&self) -> (String, String, String) {
        (self.code(), self.modifier(), self.place_of_service())
    }
}

pub fn claim_key(claim_id: &str, line_no: i32) -> ClaimKey {
    use std::hash::{DefaultHasher, Hash, Hasher};
    // Two independently seeded 64-bit SipHashes: a collision needs both to collide.
    let half = |seed: u8| {
        let mut h = DefaultHasher::new();
        (seed, claim_id, line_no).hash(&mut h);
        h.finish() as u128
    };
    (half(0x5a) << 64) | half(0xa5)
}

/// The file a reference price comes from: a newer file (later effective date) of the same
/// source and scope supersedes an older one as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PriceFile {
    pub source: String,
    pub scope: String,
    pub effective_from: String,
    pub source_file: String,
}

/// What a reference benchmark is about: code, modifier, scope and kind of amount.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RefBench {
    pub code: String,
    pub modifier: String,
    pub scope: String,
    pub kind: String,
    pub source: String,
}

/// One published price within its file. Payer and setting are part of its identity, so the
/// distinct prices of a file count each payer's rate once, however often a file repeats it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PriceFact {
    pub bench: RefBench,
    pub payer: String,
    pub setting: String,
    pub amount: Money,
}

/// Reference statistics with the file they rest on (evidence for findings).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RefStats {
    pub stats: ChargeStats,
    pub effective_from: String,
    pub source_file: String,
}

/// Which source-topic a progress entry is about.
pub const SRC_CLAIMS: u8 = 0;
pub const SRC_PRICES: u8 = 1;

/// The reference price codes benchmarks are kept for: CPT and HCPCS (what bills and claims
/// lines are coded with). Other code types (DRG, revenue, NDC, CDM) stay on `reference.prices`.
pub fn price_fact(p: &schemas::RefPrice) -> Option<(PriceFile, PriceFact)> {
    let code = p.code.trim();
    if !matches!(p.code_type.to_ascii_uppercase().as_str(), "CPT" | "HCPCS")
        || code.len() != 5
        || !code.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    Some((
        PriceFile {
            source: p.source.clone(),
            scope: p.scope.clone(),
            effective_from: p.effective_from.clone(),
            source_file: p.source_file.clone(),
        },
        PriceFact {
            bench: RefBench {
                code: code.to_ascii_uppercase(),
                modifier: p.modifier.clone().unwrap_or_default(),
                scope: p.scope.clone(),
                kind: p.amount_kind.clone(),
                source: p.source.clone(),
            },
            payer: p.payer.clone().unwrap_or_default(),
            setting: p.setting.clone().unwrap_or_default(),
            amount: to_money(p.amount)?,
        },
    ))
}

/// What the sink receives, all on worker 0.
#[derive(Default)]
pub struct Outputs {
    pub stats: Vec<Update<(BenchKey, ChargeStats)>>,
    pub refs: Vec<Update<(RefBench, RefStats)>>,
    /// (source, partition, next offset) reached by the batch at this time.
    pub progress: Vec<Update<(u8, i32, i64)>>,
    pub dead: Vec<Update<DeadLetter>>,
}

pub struct Graph {
    /// Contributions of current claim lines (see `Versions`).
    pub lines: InputSession<Time, Contribution, isize>,
    /// Reference prices as read: duplicates collapse in the graph.
    pub prices: InputSession<Time, (PriceFile, PriceFact), isize>,
    /// (source, partition, next offset) reached by the batch at this time.
    pub progress: InputSession<Time, (u8, i32, i64), isize>,
    pub dead: InputSession<Time, DeadLetter, isize>,
    pub probe: Handle<Time>,
    pub outputs: Rc<RefCell<Outputs>>,
}

impl Graph {
    pub fn advance_to(&mut self, t: Time) {
        self.lines.advance_to(t);
        self.prices.advance_to(t);
        self.progress.advance_to(t);
        self.dead.advance_to(t);
    }
    pub fn flush(&mut self) {
        self.lines.flush();
        self.prices.flush();
        self.progress.flush();
        self.dead.flush();
    }
    pub fn time(&self) -> Time {
        *self.lines.time()
    }
    /// The earliest time whose output may still change (`None` when all inputs are closed).
    pub fn frontier(&self) -> Option<Time> {
        self.probe.with_frontier(|f| f.iter().min().copied())
    }
}

/// The latest contribution of every claim line read by one worker: the upsert state that turns
/// versions into retractions and assertions. Rebuilt by replaying the partitions at start.
#[derive(Default)]
pub struct Versions {
    latest: HashMap<ClaimKey, Contribution, BuildHasherDefault<PreHashed>>,
}

/// Claim keys are already uniform 128-bit hashes: the map uses their low bits as they are
/// rather than hashing them a second time.
#[derive(Default)]
pub struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for non-u128 input; fold the bytes in so the map stays correct.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

impl Versions {
    /// Applies the next version of a claim line, passing the resulting changes to `emit`.
    /// `None` when its code, modifier, place of service or charge cannot be keyed (validation
    /// guarantees they can; the caller dead-letters the record otherwise).
    pub fn apply(&mut self, line: &ClaimLine, mut emit: impl FnMut(Contribution, isize)) -> Option<()> {
        let key = claim_key(&line.claim_id, line.line_no);
        let new = match line.frequency() {
            Frequency::Void => None,
            Frequency::Original | Frequency::Replacement => Some((
                CodeKey::new(&line.code, line.modifier.as_deref(), &line.place_of_service)?,
                to_money(line.charge)?,
            )),
        };
        let old = match new {
            Some(n) => self.latest.insert(key, n),
            None => self.latest.remove(&key),
        };
        if old != new {
            if let Some(o) = old {
                emit(o, -1);
            }
            if let Some(n) = new {
                emit(n, 1);
            }
        }
        Some(())
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }
}

/// Builds the graph in `worker`; every worker builds the same one.
pub fn build(worker: &mut timely::worker::Worker) -> Graph {
    let outputs = Rc::new(RefCell::new(Outputs::default()));
    let probe = Handle::new();
    let (lines, progress, dead) = worker.dataflow::<Time, _, _>(|scope| {
        let (lines_in, lines) = scope.new_collection::<Contribution, isize>();
        let (progress_in, progress) = scope.new_collection::<(u8, i32, i64), isize>();
        let (dead_in, dead) = scope.new_collection::<DeadLetter, isize>();

        let stats = lines.reduce_named("ChargeStats", |_bench, charges, out| {
            if let Some(s) = charge_stats(charges, MONEY_SCALE) {
                out.push((s, 1));
            }
        });
        let sink = outputs.clone();
        stats
            .inner
            .exchange(|_| 0)
            .as_collection()
            .inspect(move |u| sink.borrow_mut().stats.push(u.clone()))
            .probe_with(&probe);
        let sink = outputs.clone();
        progress
            .inner
            .exchange(|_| 0)
            .as_collection()
            .inspect(move |u| sink.borrow_mut().progress.push(*u))
            .probe_with(&probe);
        let sink = outputs.clone();
        dead.inner
            .exchange(|_| 0)
            .as_collection()
            .inspect(move |u| sink.borrow_mut().dead.push(u.clone()))
            .probe_with(&probe);
        (lines_in, progress_in, dead_in)
    });
    // Reference prices in a dataflow of their own on the same clock and probe: its operators are
    // not stepped with every batch of claim lines (the claims path stays at its measured speed).
    let prices = worker.dataflow::<Time, _, _>(|scope| {
        let (prices_in, prices) = scope.new_collection::<(PriceFile, PriceFact), isize>();
        // The current file per (source, scope): the latest effective date (ties: the later file
        // name). A new file moves only its own scope's prices in or out.
        let prices = prices.distinct();
        let current = prices
            .clone()
            .map(|(f, _)| ((f.source, f.scope), (f.effective_from, f.source_file)))
            .distinct()
            .reduce_named("CurrentFile", |_scope, files, out| {
                if let Some((latest, _)) = files.last() {
                    out.push(((*latest).clone(), 1));
                }
            })
            .map(|((source, scope), (effective_from, source_file))| PriceFile {
                source,
                scope,
                effective_from,
                source_file,
            });
        let ref_stats = prices
            .semijoin(current)
            .map(|(f, fact)| (fact.bench, (f.effective_from, f.source_file, fact.amount)))
            .reduce_named("RefStats", |_bench, prices, out| {
                // One current file per scope, so every entry shares effective date and file.
                let amounts: Vec<(&Money, isize)> = prices.iter().map(|((_, _, a), n)| (a, *n)).collect();
                if let (Some(s), Some(((eff, file, _), _))) = (charge_stats(&amounts, MONEY_SCALE), prices.first()) {
                    out.push((RefStats { stats: s, effective_from: eff.clone(), source_file: file.clone() }, 1));
                }
            });
        let sink = outputs.clone();
        ref_stats
            .inner
            .exchange(|_| 0)
            .as_collection()
            .inspect(move |u| sink.borrow_mut().refs.push(u.clone()))
            .probe_with(&probe);
        prices_in
    });
    Graph { lines, prices, progress, dead, probe, outputs }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_keys_round_trip() {
        let k = CodeKey::new("99213", Some("25"), "11").unwrap();
        assert_eq!(k.parts(), ("99213".into(), "25".into(), "11".into()));
        assert_eq!(CodeKey::new("J1885", None, "22").unwrap().modifier(), "");
        assert!(CodeKey::new("9921", None, "11").is_none());
        assert!(CodeKey::new("99213", Some("252"), "11").is_none());
        assert_ne!(claim_key("C1", 1), claim_key("C1", 2));
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(to_money(d("12.34")), Some(123_400));
        assert_eq!(Decimal::new(to_money(d("0.0001")).unwrap(), MONEY_SCALE), d("0.0001"));
        assert_eq!(to_money(d("1.23450")), Some(12_345), "trailing zeros are not precision");
        assert_eq!(to_money(d("1.00001")), None);
        assert_eq!(claim_key("C1", 1), claim_key("C1", 1));
    }

    #[test]
    fn versions_retract_what_they_replace() {
        let mut line = testkit::generate::claim_lines(3, 1).remove(0);
        let key = CodeKey::new(&line.code, line.modifier.as_deref(), &line.place_of_service).unwrap();
        let mut v = Versions::default();
        let mut changes = vec![];
        v.apply(&line, |c, d| changes.push((c, d))).unwrap();
        let m = |d: Decimal| to_money(d).unwrap();
        assert_eq!(changes, vec![((key, m(line.charge)), 1)]);

        let old = line.charge;
        line.frequency_code = "7".into();
        line.charge += Decimal::ONE;
        changes.clear();
        v.apply(&line, |c, d| changes.push((c, d))).unwrap();
        assert_eq!(changes, vec![((key, m(old)), -1), ((key, m(line.charge)), 1)]);

        // The same version again changes nothing.
        changes.clear();
        v.apply(&line, |c, d| changes.push((c, d))).unwrap();
        assert!(changes.is_empty());

        line.frequency_code = "8".into();
        v.apply(&line, |c, d| changes.push((c, d))).unwrap();
        assert_eq!(changes, vec![((key, m(line.charge)), -1)]);
        assert!(v.is_empty());

        // Voiding a line never seen retracts nothing.
        changes.clear();
        line.claim_id = "OTHER".into();
        v.apply(&line, |c, d| changes.push((c, d))).unwrap();
        assert!(changes.is_empty());
    }
}
