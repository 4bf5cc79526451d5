//! `billstream sql "SELECT ..."`.
use anyhow::Result;
use api::format::{render, Format};
use api::sql::SqlEngine;
use connectors::objstore::Store;

pub async fn run(cfg: &crate::config::Config, query: &str, format: Format) -> Result<()> {
    let store = Store::open(&cfg.store)?;
    let engine = SqlEngine::open(&store).await?;
    let batches = engine.query(query).await?;
    println!("{}", render(&batches, format)?);
    Ok(())
}
