//! The benchmarks graph fed from memory instead of Kafka: the dataflow-alone benchmark and
//! anything that wants answers without a broker. Same graph as the Kafka runtime.
use crate::benchmarks::{self, Time};
use schemas::records::ClaimLine;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use udfs::stats::ChargeStats;

pub type CodeParts = (String, String, String);

pub struct InprocRun {
    /// Wall time from the first record in to the last result out.
    pub elapsed: Duration,
    /// Wall time of the last round alone (e.g. corrections on top of loaded state), on worker 0.
    pub last_round: Duration,
    pub lines: usize,
    /// The final benchmarks (consolidated output) by (code, modifier, place of service).
    pub benchmarks: BTreeMap<CodeParts, ChargeStats>,
}

/// Runs `rounds` of claim lines through the graph on `workers` threads in batches of `batch`
/// lines, each batch at its own time. Lines are dealt to workers by claim line, as partitions
/// keyed by claim id deal them, so later versions supersede earlier ones on the same worker.
pub fn run(rounds: Vec<Vec<ClaimLine>>, workers: usize, batch: usize) -> Result<InprocRun, String> {
    let lines: usize = rounds.iter().map(Vec::len).sum();
    let rounds = Arc::new(rounds);
    let result: Arc<Mutex<BTreeMap<(benchmarks::BenchKey, ChargeStats), isize>>> = Arc::default();
    let start = Instant::now();
    let res = result.clone();
    let last_round: Arc<Mutex<Duration>> = Arc::default();
    let lr = last_round.clone();
    let guards = timely::execute(timely::Config::process(workers.max(1)), move |worker| {
        let index = worker.index();
        let peers = worker.peers();
        let mut graph = benchmarks::build(worker);
        let mut t: Time = 1;
        let mut versions = benchmarks::Versions::default();
        for round in rounds.iter() {
            let round_start = Instant::now();
            for chunk in round.chunks(batch.max(1)) {
                for line in chunk.iter() {
                    if peers == 1 || deal(&line.claim_id, peers) == index {
                        let lines = &mut graph.lines;
                        versions.apply(line, |c, d| lines.update(c, d));
                    }
                }
                t += 1;
                graph.advance_to(t);
                graph.flush();
                // Keep a bounded amount of work in flight, as the Kafka runtime does.
                while graph.probe.less_than(&t.saturating_sub(4)) {
                    worker.step();
                }
            }
            // Each round completes before the next starts, so a round's time is its own.
            t += 1;
            graph.advance_to(t);
            graph.flush();
            while graph.probe.less_than(&t) {
                worker.step();
            }
            if let Ok(mut l) = lr.lock() {
                *l = round_start.elapsed();
            }
        }
        graph.advance_to(t + 1);
        graph.flush();
        while graph.probe.less_than(&(t + 1)) {
            worker.step();
        }
        if index == 0 {
            let out = std::mem::take(&mut graph.outputs.borrow_mut().stats);
            if let Ok(mut acc) = res.lock() {
                for (d, _, r) in out {
                    *acc.entry(d).or_insert(0) += r;
                }
            }
        }
    })?;
    for g in guards.join() {
        g?;
    }
    let elapsed = start.elapsed();
    let acc = result.lock().map_err(|e| e.to_string())?;
    let mut benchmarks = BTreeMap::new();
    for ((k, s), r) in acc.iter() {
        if *r > 0 {
            benchmarks.insert(k.parts(), s.clone());
        }
    }
    let last_round = *last_round.lock().map_err(|e| e.to_string())?;
    Ok(InprocRun { elapsed, last_round, lines, benchmarks })
}

/// Which worker a claim goes to, as a partition keyed by claim id would pick (FNV-1a: cheap,
/// and only the spread matters here).
fn deal(claim_id: &str, peers: usize) -> usize {
    let h = claim_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    (h % peers as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::collections::HashMap;

    /// Recomputes benchmarks directly: apply versions in order, then sort and interpolate.
    fn recompute(rounds: &[Vec<ClaimLine>]) -> BTreeMap<CodeParts, ChargeStats> {
        let mut latest: HashMap<(String, i32), &ClaimLine> = HashMap::new();
        for l in rounds.iter().flatten() {
            latest.insert((l.claim_id.clone(), l.line_no), l);
        }
        let mut groups: BTreeMap<CodeParts, Vec<Decimal>> = BTreeMap::new();
        for l in latest.values().filter(|l| l.frequency_code != "8") {
            groups
                .entry((l.code.clone(), l.modifier.clone().unwrap_or_default(), l.place_of_service.clone()))
                .or_default()
                .push(l.charge);
        }
        groups
            .into_iter()
            .map(|(k, mut v)| {
                v.sort();
                let n = v.len();
                let q = |q: Decimal| {
                    let pos = q * Decimal::from(n - 1);
                    let i = pos.trunc();
                    let lo = v[usize::try_from(i.trunc().mantissa() / 10i128.pow(i.scale())).unwrap()];
                    let hi = v[(usize::try_from(i.mantissa() / 10i128.pow(i.scale())).unwrap() + 1).min(n - 1)];
                    (lo + (hi - lo) * (pos - i))
                        .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                };
                let sum: Decimal = v.iter().sum();
                let s = ChargeStats {
                    count: n as i64,
                    min: v[0],
                    median: q(Decimal::new(5, 1)),
                    p90: q(Decimal::new(9, 1)),
                    max: v[n - 1],
                    mean: (sum / Decimal::from(n))
                        .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
                };
                (k, s)
            })
            .collect()
    }

    #[test]
    fn equals_recomputation_with_replacements_and_voids() {
        let base = testkit::generate::claim_lines(11, 20_000);
        let changes = testkit::generate::replacements_and_voids(11, &base, 500);
        let rounds = vec![base, changes];
        let expect = recompute(&rounds);
        for workers in [1, 3] {
            let got = run(rounds.clone(), workers, 1_000).unwrap();
            assert_eq!(got.lines, 20_500);
            assert_eq!(got.benchmarks.len(), expect.len());
            assert_eq!(got.benchmarks, expect, "workers = {workers}");
        }
        // The changes moved something: without them the answer differs.
        assert_ne!(recompute(&rounds[..1]), expect);
    }
}
