//! Process-wide Prometheus metrics of the dataflow stages (rendered by the api's `/metrics`).
use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use std::sync::OnceLock;

pub struct Metrics {
    pub registry: Registry,
    /// Records into and out of each stage.
    pub records: IntCounterVec,
    /// Records sent to the dead-letter topic, per stage.
    pub dead_letters: IntCounterVec,
    /// How far (ms) the output frontier trails the input time, per dataflow.
    pub frontier_lag_ms: IntGaugeVec,
    /// 1 while a worker's partitions are paused for backpressure.
    pub paused: IntGaugeVec,
}

pub fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let registry = Registry::new();
        // Names and labels are constants: creation and registration cannot fail.
        #[allow(clippy::expect_used)]
        let m = Metrics {
            records: IntCounterVec::new(
                Opts::new("billstream_stage_records_total", "Records into and out of each dataflow stage"),
                &["stage", "direction"],
            )
            .expect("metric"),
            dead_letters: IntCounterVec::new(
                Opts::new("billstream_dlq_records_total", "Records sent to the dead-letter topic"),
                &["stage"],
            )
            .expect("metric"),
            frontier_lag_ms: IntGaugeVec::new(
                Opts::new("billstream_dataflow_frontier_lag_ms", "Input time minus output frontier"),
                &["dataflow"],
            )
            .expect("metric"),
            paused: IntGaugeVec::new(
                Opts::new("billstream_source_paused", "1 while a worker's partitions are paused (backpressure)"),
                &["worker"],
            )
            .expect("metric"),
            registry,
        };
        #[allow(clippy::expect_used)]
        {
            m.registry.register(Box::new(m.records.clone())).expect("register");
            m.registry.register(Box::new(m.dead_letters.clone())).expect("register");
            m.registry.register(Box::new(m.frontier_lag_ms.clone())).expect("register");
            m.registry.register(Box::new(m.paused.clone())).expect("register");
        }
        m
    })
}
