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
use std::cell::RefCell;
use std::rc::Rc;
use timely::dataflow::operators::probe::Handle;
use timely::dataflow::operators::Exchange;
use udfs::stats::{charge_stats, ChargeStats};

pub type Time = u64;
/// (claim id, line number)
pub type ClaimKey = (String, i32);
/// Position of a version in the log: (partition, offset); later wins.
pub type Position = (i32, i64);
/// (code, modifier or "", place of service)
pub type BenchKey = (String, String, String);
pub type Update<D> = (D, Time, isize);

/// What the sink receives, all on worker 0.
#[derive(Default)]
pub struct Outputs {
    pub stats: Vec<Update<(BenchKey, ChargeStats)>>,
    pub progress: Vec<Update<(i32, i64)>>,
    pub dead: Vec<Update<DeadLetter>>,
}

pub struct Graph {
    /// Versions of claim lines; `None` value is a void.
    pub lines: InputSession<Time, (ClaimKey, (Position, Option<(BenchKey, Decimal)>)), isize>,
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

/// The version of a claim line as the graph sees it.
pub fn version(line: &ClaimLine, pos: Position) -> (ClaimKey, (Position, Option<(BenchKey, Decimal)>)) {
    let key = (line.claim_id.clone(), line.line_no);
    let value = match line.frequency() {
        Frequency::Void => None,
        Frequency::Original | Frequency::Replacement => Some((
            (line.code.clone(), line.modifier.clone().unwrap_or_default(), line.place_of_service.clone()),
            line.charge,
        )),
    };
    (key, (pos, value))
}

/// Builds the graph in `worker`; every worker builds the same one.
pub fn build(worker: &mut timely::worker::Worker) -> Graph {
    let outputs = Rc::new(RefCell::new(Outputs::default()));
    let probe = Handle::new();
    let (lines, progress, dead) = worker.dataflow::<Time, _, _>(|scope| {
        let (lines_in, lines) = scope.new_collection::<(ClaimKey, (Position, Option<(BenchKey, Decimal)>)), isize>();
        let (progress_in, progress) = scope.new_collection::<(i32, i64), isize>();
        let (dead_in, dead) = scope.new_collection::<DeadLetter, isize>();

        let current = lines.reduce_named("LatestVersion", |_key, versions, out| {
            // Versions arrive sorted by position: the last one is the latest.
            if let Some(((_, Some((bench, charge))), _)) = versions.last() {
                out.push(((bench.clone(), *charge), 1));
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
