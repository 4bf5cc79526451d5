//! DataFusion over the Parquet tables under `tables/` in the object store.
//!
//! Each directory `tables/<name>/` (hive-partitioned by `dt=`) is a listing table. Changelog
//! tables (rows with a `diff` column) are registered as `<name>_changes`, and `<name>` is a view
//! of their current state: rows whose diffs sum above zero.
use crate::Result;
use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use connectors::objstore::Store;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::prelude::SessionContext;
use std::sync::Arc;

/// The current-state view of the benchmarks changelog.
pub const BENCHMARKS_VIEW: &str = "CREATE VIEW benchmarks AS \
    SELECT code, modifier, place_of_service, scope, kind, source, count, min, median, p90, max, mean, \
    effective_from, source_file, MAX(time) AS as_of \
    FROM benchmarks_changes \
    GROUP BY code, modifier, place_of_service, scope, kind, source, count, min, median, p90, max, mean, \
    effective_from, source_file \
    HAVING SUM(diff) > 0";

/// The current findings: versions asserted and not retracted since.
pub const FINDINGS_VIEW: &str = "CREATE VIEW findings AS \
    SELECT doc_id, kind, severity, lines, amount_at_issue, explanation, evidence, MAX(time) AS as_of \
    FROM findings_changes \
    GROUP BY doc_id, kind, severity, lines, amount_at_issue, explanation, evidence \
    HAVING SUM(diff) > 0";

/// Changelog tables and the view that turns each into its current state.
const CHANGELOGS: &[(&str, &str)] = &[("benchmarks", BENCHMARKS_VIEW), ("findings", FINDINGS_VIEW)];

pub struct SqlEngine {
    ctx: SessionContext,
    tables: Vec<String>,
}

impl SqlEngine {
    /// Registers every table found in `store`.
    pub async fn open(store: &Store) -> Result<Self> {
        let ctx = SessionContext::new();
        ctx.register_object_store(&store.root_url, store.root.clone());
        let mut tables = vec![];
        for name in store.subdirs("tables").await? {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let files = store.list(&format!("tables/{name}")).await?;
            if !files.iter().any(|f| f.ends_with(".parquet")) {
                continue;
            }
            let opts = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet")
                .with_table_partition_cols(vec![("dt".to_string(), DataType::Utf8)]);
            let changelog = CHANGELOGS.iter().find(|(n, _)| *n == name);
            let table = if changelog.is_some() { format!("{name}_changes") } else { name.clone() };
            ctx.register_listing_table(&table, store.dir_url(&format!("tables/{name}")), opts, None, None).await?;
            tables.push(table);
            if let Some((_, view)) = changelog {
                ctx.sql(view).await?;
                tables.push(name.clone());
            }
        }
        tables.sort();
        Ok(Self { ctx, tables })
    }

    pub fn tables(&self) -> &[String] {
        &self.tables
    }

    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        let df = self.ctx.sql(sql).await.map_err(|e| self.explain_missing(e))?;
        Ok(df.collect().await?)
    }

    /// A query naming a table that does not exist yet gets the list of tables that do.
    fn explain_missing(&self, e: datafusion::error::DataFusionError) -> crate::ApiError {
        let msg = e.to_string();
        if msg.contains("not found") {
            let have = if self.tables.is_empty() {
                "none yet (no Parquet files under tables/)".to_string()
            } else {
                self.tables.join(", ")
            };
            return crate::ApiError::BadRequest(format!("{msg}; tables: {have}"));
        }
        e.into()
    }
}
