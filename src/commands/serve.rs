//! The axum server (also started by `up` and by `worker --http`).
use anyhow::{Context, Result};
use api::server::{router, AppState};
use connectors::kafka::sink::Sink;
use connectors::objstore::Store;
use std::sync::Arc;

pub async fn serve(
    cfg: &crate::config::Config,
    listen: &str,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let state = AppState {
        store: Store::open(&cfg.store)?,
        kafka: cfg.kafka(),
        producer: Arc::new(Sink::new(&cfg.kafka())?),
        watched: cfg.watched(),
        max_upload_bytes: cfg.api.max_upload_bytes,
        max_feed_bytes: cfg.api.max_feed_bytes,
    };
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
