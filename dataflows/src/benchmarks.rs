//! The benchmarks graph: claim lines → the current version of each claim line → observed charge
//! statistics per (code, modifier, place of service).
//!
//! A claim line is identified by (claim id, line number). Every version read from the log enters
//! the collection with its position; the latest position wins, and a void (frequency 8) leaves
//! nothing. So a replacement or void retracts the old contribution and the statistics re-derive
//! for exactly the codes it touched.
use differential_dataflow::input::{Input, InputSession};
use differential_dataflow::AsCollection;
use rust_decimal::Decimal;
use schemas::records::{ClaimLine, Frequency};
use schemas::DeadLetter;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use timely::dataflow::operators::probe::Handle;
use timely::dataflow::operators::Exchange;
use udfs::stats::{charge_stats, ChargeStats};

pub type Time = u64;
/// (claim id, line number) as a 128-bit hash: fixed-size keys keep the arrangement free of
/// string compares and allocations. The state is rebuilt from the log at every start, so the
/// hash never outlives the binary that computed it.
pub type ClaimKey = u128;
/// Position of a version in the log: (partition, offset); later wins.
pub type Position = (i32, i64);
pub type BenchKey = CodeKey;
pub type Update<D> = (D, Time, isize);
/// One version of a claim line: its key, where it sits in the log, and what it contributes
/// (`None` for a void).
pub type Version = (ClaimKey, (Position, Option<(BenchKey, Decimal)>));

/// (code, modifier, place of service) packed losslessly into 9 bytes: a CPT/HCPCS code is 5
/// characters, a modifier 2 (zero bytes when absent), a place of service 2 digits —
/// `ClaimLine::validate` guarantees those shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CodeKey(pub [u8; 9]);

impl CodeKey {
    pub fn new(code: &str, modifier: Option<&str>, place_of_service: &str) -> Option<Self> {
        let (c, m, p) = (code.as_bytes(), modifier.unwrap_or("").as_bytes(), place_of_service.as_bytes());
        if c.len() != 5 || !(m.is_empty() || m.len() == 2) || p.len() != 2 {
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

/// What the sink receives, all on worker 0.
#[derive(Default)]
pub struct Outputs {
    pub stats: Vec<Update<(BenchKey, ChargeStats)>>,
    pub progress: Vec<Update<(i32, i64)>>,
    pub dead: Vec<Update<DeadLetter>>,
}

pub struct Graph {
    /// Versions of claim lines; `None` value is a void.
    pub lines: InputSession<Time, Version, isize>,
    /// (partition, next offset) reached by the batch at this time.
    pub progress: InputSession<Time, (i32, i64), isize>,
    pub dead: InputSession<Time, DeadLetter, isize>,
    pub probe: Handle<Time>,
    pub outputs: Rc<RefCell<Outputs>>,
}

impl Graph {
    pub fn advance_to(&mut self, t: Time) {
        self.lines.advance_to(t);
        self.progress.advance_to(t);
        self.dead.advance_to(t);
    }
    pub fn flush(&mut self) {
        self.lines.flush();
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

/// The version of a claim line as the graph sees it; `None` if its code, modifier or place of
/// service do not have the shapes validation guarantees.
pub fn version(line: &ClaimLine, pos: Position) -> Option<Version> {
    let key = claim_key(&line.claim_id, line.line_no);
    let value = match line.frequency() {
        Frequency::Void => None,
        Frequency::Original | Frequency::Replacement => {
            Some((CodeKey::new(&line.code, line.modifier.as_deref(), &line.place_of_service)?, line.charge))
        }
    };
    Some((key, (pos, value)))
}

/// Builds the graph in `worker`; every worker builds the same one.
pub fn build(worker: &mut timely::worker::Worker) -> Graph {
    let outputs = Rc::new(RefCell::new(Outputs::default()));
    let probe = Handle::new();
    let (lines, progress, dead) = worker.dataflow::<Time, _, _>(|scope| {
        let (lines_in, lines) = scope.new_collection::<Version, isize>();
        let (progress_in, progress) = scope.new_collection::<(i32, i64), isize>();
        let (dead_in, dead) = scope.new_collection::<DeadLetter, isize>();

        let current = lines.reduce_named("LatestVersion", |_key, versions, out| {
            // Versions arrive sorted by position: the last one is the latest.
            if let Some(((_, Some((bench, charge))), _)) = versions.last() {
                out.push(((*bench, *charge), 1));
            }
        });
        let stats = current.map(|(_claim, (bench, charge))| (bench, charge)).reduce_named(
            "ChargeStats",
            |_bench, charges, out| {
                let sorted: Vec<(Decimal, i64)> = charges.iter().map(|(c, n)| (**c, *n as i64)).collect();
                if let Some(s) = charge_stats(&sorted) {
                    out.push((s, 1));
                }
            },
        );

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
    Graph { lines, progress, dead, probe, outputs }
}
