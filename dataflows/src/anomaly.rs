//! The anomaly retrain stage: reads `claims.lines` and the compacted `benchmarks` topic with its
//! own partition readers, keeps a bounded uniform sample of claim lines, and when
//! `min_new_claims` lines arrived since the last model, trains an extended isolation forest and
//! saves it as the next version in the object store (`models/anomaly/v<n>.json`, with its
//! training data range and metrics). Not a dataflow: training is a batch job over a sample, and
//! nothing downstream waits on it — the findings graph loads the latest model.
//!
//! - **Sample.** A reservoir (algorithm R, seeded, so a replay samples the same lines) of claim
//!   lines, not of feature rows: features are computed at training time against the benchmarks
//!   as they are then, and that benchmark summary is frozen into the model (`Model::bill_facts`),
//!   so the findings graph featurizes bill lines exactly as the training rows were, without a
//!   live index. Memory is bounded by `reservoir` lines.
//! - **Claims.** Voids (frequency 8) are skipped; an original and its replacements are each a
//!   line the population contains. The lines of a claim arrive together (the topic is keyed by
//!   claim id), so a claim's size — the "lines on the same bill" feature — is known when the next
//!   claim starts on that partition.
//! - **Restart.** Every start reads both topics from the beginning (the sample is rebuilt); lines
//!   before the latest model's `offsets` are not new. After each saved model its offsets are
//!   committed to the consumer group `billstream-anomaly`, so `billstream lag` shows how many
//!   claim lines no model has seen yet.
//! - **Benchmarks first.** The first training waits until the benchmarks topic has been read up
//!   to the high watermark it had at start, so early lines are not featurized without benchmarks.
use crate::runtime::io_runtime;
use crate::{DataflowError, Result, WorkerConfig};
use connectors::kafka::admin::partition_count;
use connectors::kafka::lag::group_lag;
use connectors::kafka::source::{OffsetCommitter, PartitionReader, SourceRecord};
use connectors::objstore::models::{self, ModelStoreError};
use connectors::objstore::Store;
use schemas::records::{ClaimLine, Frequency};
use schemas::topics::{BENCHMARKS, CLAIMS_LINES};
use schemas::Benchmark;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use udfs::anomaly::{features, train, AnomalyError, BenchIndex, Model, ModelMeta, Params, D};

/// The retrainer's consumer group (offsets committed after each saved model).
pub const GROUP: &str = "billstream-anomaly";

/// Retraining settings; the defaults suit production.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetrainConfig {
    /// Train a new model when this many claim lines arrived since the last one.
    pub min_new_claims: u64,
    /// Claim lines kept in the uniform sample the forest is trained on.
    pub reservoir: usize,
    /// Model name in the store: `models/<model>/`.
    pub model: String,
    pub group: String,
    pub params: Params,
    /// Seed of the sampling (the forest itself draws from the crate's thread rng).
    pub seed: u64,
}

impl Default for RetrainConfig {
    fn default() -> Self {
        Self {
            min_new_claims: 50_000,
            reservoir: 100_000,
            model: "anomaly".into(),
            group: GROUP.into(),
            params: Params::default(),
            seed: 0x5eed,
        }
    }
}

/// A sampled claim line and the number of lines on its claim.
type Sampled = (ClaimLine, u32);

/// The pure core: sample, counters, benchmark index; no I/O.
#[derive(Debug)]
pub struct Retrainer {
    cfg: RetrainConfig,
    index: BenchIndex,
    sample: Vec<Sampled>,
    /// SplitMix64 state: the sampler's random numbers (a few lines; no generator crate needed).
    rng: u64,
    /// Lines offered to the sample (non-void claim lines observed).
    seen: u64,
    /// Lines beyond the last model's offsets.
    new_lines: u64,
    /// The last model's offsets: lines before them are not new.
    trained_through: BTreeMap<i32, i64>,
    /// Partition → next offset observed.
    next: BTreeMap<i32, i64>,
    /// The claim in progress on each partition (its size is known when the next one starts).
    open: BTreeMap<i32, Vec<ClaimLine>>,
    first_date: Option<String>,
    last_date: Option<String>,
}

impl Retrainer {
    /// `last`: the meta of the latest stored model, whose offsets mark what is not new.
    pub fn new(cfg: RetrainConfig, last: Option<&ModelMeta>) -> Self {
        let rng = cfg.seed;
        Self {
            index: BenchIndex::default(),
            sample: Vec::with_capacity(cfg.reservoir.min(1 << 20)),
            rng,
            seen: 0,
            new_lines: 0,
            trained_through: last.map(|m| m.offsets.clone()).unwrap_or_default(),
            next: BTreeMap::new(),
            open: BTreeMap::new(),
            first_date: None,
            last_date: None,
            cfg,
        }
    }

    /// One record of the compacted `benchmarks` topic.
    pub fn benchmark(&mut self, b: &Benchmark) {
        self.index.upsert(b);
    }

    /// One claim line read at (`partition`, `offset`).
    pub fn observe(&mut self, partition: i32, offset: i64, line: ClaimLine) {
        let next = self.next.entry(partition).or_insert(0);
        *next = (*next).max(offset + 1);
        if line.frequency() == Frequency::Void {
            return;
        }
        if offset >= self.trained_through.get(&partition).copied().unwrap_or(0) {
            self.new_lines += 1;
        }
        let open = self.open.entry(partition).or_default();
        if open.first().is_some_and(|l| l.claim_id != line.claim_id) {
            let claim = std::mem::take(open);
            self.close(claim);
        }
        self.open.entry(partition).or_default().push(line);
    }

    /// A claim is complete: its lines are offered to the sample (algorithm R).
    fn close(&mut self, claim: Vec<ClaimLine>) {
        let size = claim.len() as u32;
        for line in claim {
            self.seen += 1;
            let date = &line.service_date;
            if self.first_date.as_ref().is_none_or(|d| date < d) {
                self.first_date = Some(date.clone());
            }
            if self.last_date.as_ref().is_none_or(|d| date > d) {
                self.last_date = Some(date.clone());
            }
            if self.sample.len() < self.cfg.reservoir {
                self.sample.push((line, size));
            } else {
                let j = self.random() % self.seen;
                if let Some(slot) = usize::try_from(j).ok().and_then(|j| self.sample.get_mut(j)) {
                    *slot = (line, size);
                }
            }
        }
    }

    fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Lines observed since the last model (voids excluded).
    pub fn new_lines(&self) -> u64 {
        self.new_lines
    }

    /// Lines in the sample (claims still open on a partition are not in it yet).
    pub fn sampled(&self) -> usize {
        self.sample.len()
    }

    /// Enough new claim lines for a new model.
    pub fn due(&self) -> bool {
        self.new_lines >= self.cfg.min_new_claims.max(1)
    }

    /// The sample's feature rows against the current benchmarks.
    pub fn rows(&self) -> Vec<[f64; D]> {
        self.sample.iter().map(|(l, n)| features(&self.index.claim_facts(l, *n))).collect()
    }

    /// Trains on the sample (closing the open claims first) with the data range observed so
    /// far; on success what was observed is no longer new.
    pub fn train(&mut self, now_ms: i64) -> Result<Model, AnomalyError> {
        for claim in std::mem::take(&mut self.open).into_values() {
            self.close(claim);
        }
        let meta = ModelMeta {
            trained_at: now_ms,
            population: self.seen,
            data_from: self.first_date.clone().unwrap_or_default(),
            data_to: self.last_date.clone().unwrap_or_default(),
            offsets: self.next.clone(),
            ..ModelMeta::default()
        };
        let model = train(&self.rows(), &self.cfg.params, meta, &self.index)?;
        self.trained_through = self.next.clone();
        self.new_lines = 0;
        Ok(model)
    }
}

fn store_err(e: ModelStoreError) -> DataflowError {
    match e {
        ModelStoreError::Store(e) => DataflowError::Connector(e),
        other => DataflowError::Config(other.to_string()),
    }
}

fn all_partitions(cfg: &WorkerConfig, group: &str, topic: &str) -> Result<PartitionReader> {
    let n = partition_count(&cfg.kafka, topic, Duration::from_secs(30))?;
    Ok(PartitionReader::assign(&cfg.kafka, group, topic, &(0..n).map(|p| (p, 0)).collect())?)
}

/// Runs the retrainer until `stop` is set: one instance per deployment (it reads every
/// partition). Kafka and the store come from the worker configuration.
pub fn run_retrainer(cfg: &WorkerConfig, rc: &RetrainConfig, stop: Arc<AtomicBool>) -> Result<()> {
    let rt = io_runtime()?;
    let store = Store::open(&cfg.store)?;
    let last = rt.block_on(models::latest(&store, &rc.model)).map_err(store_err)?;
    let mut core = Retrainer::new(rc.clone(), last.as_ref().map(|m| &m.meta));
    let claims = all_partitions(cfg, &rc.group, CLAIMS_LINES)?;
    let benchmarks = all_partitions(cfg, &rc.group, BENCHMARKS)?;
    let committer = OffsetCommitter::new(&cfg.kafka, &rc.group)?;
    // Benchmarks present at start: read them all before the first training.
    let mut bench_target: BTreeMap<i32, i64> = group_lag(&cfg.kafka, &rc.group, BENCHMARKS, Duration::from_secs(30))?
        .into_iter()
        .filter(|l| l.high_watermark > 0)
        .map(|l| (l.partition, l.high_watermark))
        .collect();
    tracing::info!(
        last_version = last.as_ref().map(|m| m.meta.version),
        min_new_claims = rc.min_new_claims,
        "anomaly retrainer started"
    );
    let mut batch: Vec<SourceRecord> = Vec::with_capacity(10_000);
    while !stop.load(Ordering::Relaxed) {
        benchmarks.poll_batch(10_000, Duration::ZERO, &mut batch)?;
        for rec in batch.drain(..) {
            match schemas::decode::<Benchmark>(&rec.payload) {
                Ok(b) => core.benchmark(&b),
                Err(e) => tracing::debug!(offset = rec.offset, error = %e, "benchmark skipped"),
            }
        }
        if !bench_target.is_empty() {
            for (p, pos) in benchmarks.positions()? {
                if pos.zip(bench_target.get(&p)).is_some_and(|(pos, t)| pos >= *t) {
                    bench_target.remove(&p);
                }
            }
        }
        claims.poll_batch(10_000, Duration::from_millis(100), &mut batch)?;
        for rec in batch.drain(..) {
            // Bad records are the benchmarks stage's dead letters already; here they are skipped.
            match schemas::decode::<ClaimLine>(&rec.payload) {
                Ok(line) => core.observe(rec.partition, rec.offset, line),
                Err(e) => tracing::debug!(partition = rec.partition, offset = rec.offset, error = %e, "claim skipped"),
            }
        }
        if core.due() && bench_target.is_empty() {
            match core.train(crate::runtime::now_ms() as i64) {
                Ok(mut model) => {
                    let version = rt.block_on(models::save(&store, &rc.model, &mut model)).map_err(store_err)?;
                    committer.commit(CLAIMS_LINES, &model.meta.offsets)?;
                    tracing::info!(
                        version,
                        rows = model.meta.rows,
                        population = model.meta.population,
                        from = %model.meta.data_from,
                        to = %model.meta.data_to,
                        threshold = model.meta.threshold,
                        "anomaly model trained"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "anomaly model not trained"),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::anomaly as synthetic;

    fn cfg(min_new: u64, reservoir: usize) -> RetrainConfig {
        RetrainConfig { min_new_claims: min_new, reservoir, ..RetrainConfig::default() }
    }

    #[test]
    fn trains_when_enough_new_lines_arrived_with_its_data_range() {
        let lines = testkit::generate::claim_lines(4, 3_000);
        let mut r = Retrainer::new(cfg(2_000, 1_000), None);
        for b in synthetic::benchmarks_of(&lines) {
            r.benchmark(&b);
        }
        for (i, l) in lines.iter().take(1_999).enumerate() {
            r.observe((i % 2) as i32, i as i64, l.clone());
        }
        assert!(!r.due());
        r.observe(0, 5_000, lines[1_999].clone());
        assert!(r.due());
        assert_eq!(r.sampled(), 1_000, "bounded sample");
        let m = r.train(42).unwrap();
        assert_eq!((m.meta.rows, m.meta.trained_at), (1_000, 42));
        assert_eq!(m.meta.population, 2_000);
        assert_eq!(m.meta.offsets, BTreeMap::from([(0, 5_001), (1, 1_998)]));
        let dates: Vec<&str> = lines[..2_000].iter().map(|l| l.service_date.as_str()).collect();
        assert_eq!(m.meta.data_from, *dates.iter().min().unwrap());
        assert_eq!(m.meta.data_to, *dates.iter().max().unwrap());
        assert!(m.meta.threshold > 0.0);
        // Features were computed with the benchmarks: no unknown Medicare amounts for known codes.
        assert!(r.rows().iter().all(|x| x[0].is_finite() && x[1].is_finite()));
        // ... and the model carries that benchmark summary for scoring.
        assert_eq!(m.reference(), &r.index.snapshot());
        assert_eq!(m.reference().total(), 3_000);
        assert!(!r.due() && r.new_lines() == 0);
    }

    #[test]
    fn restart_counts_only_lines_beyond_the_last_model_and_skips_voids() {
        let lines = testkit::generate::claim_lines(5, 400);
        let last = ModelMeta { offsets: BTreeMap::from([(0, 300)]), ..ModelMeta::default() };
        let mut r = Retrainer::new(cfg(100, 10_000), Some(&last));
        for (i, l) in lines.iter().enumerate() {
            r.observe(0, i as i64, l.clone());
        }
        assert_eq!(r.new_lines(), 100);
        assert!(r.due());
        let mut void = lines[0].clone();
        void.frequency_code = "8".into();
        r.observe(0, 400, void);
        assert_eq!(r.new_lines(), 100, "a void is not a new line");
        // Without benchmarks the charge features are unknown, and training still works.
        let m = r.train(1).unwrap();
        assert_eq!(m.meta.rows, 400);
        assert!(r.rows().iter().all(|x| x[0].is_nan()));
    }

    #[test]
    fn claim_sizes_come_from_consecutive_lines_per_partition() {
        let lines = testkit::generate::claim_lines(6, 200);
        let sizes = synthetic::claim_sizes(&lines);
        let mut r = Retrainer::new(cfg(1, 10_000), None);
        for (i, l) in lines.iter().enumerate() {
            r.observe(0, i as i64, l.clone());
        }
        r.train(0).unwrap();
        let got: Vec<u32> = r.sample.iter().map(|(_, n)| *n).collect();
        assert_eq!(got, sizes);
    }

    #[test]
    fn the_sample_is_reproducible() {
        let lines = testkit::generate::claim_lines(7, 5_000);
        let run = || {
            let mut r = Retrainer::new(cfg(1, 500), None);
            for (i, l) in lines.iter().enumerate() {
                r.observe(0, i as i64, l.clone());
            }
            r.train(0).unwrap();
            r.sample.iter().map(|(l, _)| (l.claim_id.clone(), l.line_no)).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
