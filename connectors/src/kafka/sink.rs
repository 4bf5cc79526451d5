//! Idempotent producer. Sends are queued; `flush` returns only when every queued record is
//! acknowledged by the broker, or an error naming how many were not — so the caller may commit
//! source offsets after a successful flush and never before.
use super::KafkaConfig;
use crate::error::{ConnectorError, Result};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use std::time::Duration;

pub struct Sink {
    producer: FutureProducer,
    pending: Vec<rdkafka::producer::DeliveryFuture>,
}

impl Sink {
    pub fn new(cfg: &KafkaConfig) -> Result<Self> {
        let producer: FutureProducer = cfg
            .client()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("compression.type", "lz4")
            .set("message.timeout.ms", "60000")
            .create()?;
        Ok(Self { producer, pending: vec![] })
    }

    /// Queues a record; `None` as payload is a tombstone (deletes the key in a compacted topic).
    pub fn send(&mut self, topic: &str, key: &[u8], payload: Option<&[u8]>) -> Result<()> {
        let mut record = FutureRecord::<[u8], [u8]>::to(topic).key(key);
        if let Some(p) = payload {
            record = record.payload(p);
        }
        loop {
            match self.producer.send_result(record) {
                Ok(f) => {
                    self.pending.push(f);
                    return Ok(());
                }
                // The local queue is full: wait for deliveries to make room, then retry.
                Err((
                    rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                    r,
                )) => {
                    self.producer.poll(Duration::from_millis(10));
                    record = r;
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
    }

    /// Waits until everything sent so far is durable on the broker.
    pub fn flush(&mut self, timeout: Duration) -> Result<()> {
        self.producer.flush(Timeout::After(timeout))?;
        let mut failed = 0u64;
        let mut last = String::new();
        for f in self.pending.drain(..) {
            match futures::FutureExt::now_or_never(f) {
                Some(Ok(Ok(_))) => {}
                Some(Ok(Err((e, _)))) => {
                    failed += 1;
                    last = e.to_string();
                }
                Some(Err(_)) | None => {
                    failed += 1;
                    last = "delivery outcome unknown after flush".into();
                }
            }
        }
        if failed > 0 {
            return Err(ConnectorError::Delivery(failed, last));
        }
        Ok(())
    }

    /// Sends one record and waits for it (for request/response paths such as uploads).
    pub async fn send_now(&self, topic: &str, key: &[u8], payload: &[u8]) -> Result<(i32, i64)> {
        let record = FutureRecord::<[u8], [u8]>::to(topic).key(key).payload(payload);
        let delivery = self.producer.send(record, Timeout::After(Duration::from_secs(30))).await;
        delivery.map(|d| (d.partition, d.offset)).map_err(|(e, _)| e.into())
    }
}
