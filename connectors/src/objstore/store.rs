use crate::error::{ConnectorError, Result};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where tables and documents live: a directory path, or `s3://bucket[/prefix]` with S3 settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreConfig {
    pub url: String,
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    #[serde(default)]
    pub s3_region: Option<String>,
    #[serde(default)]
    pub s3_access_key_id: Option<String>,
    #[serde(default)]
    pub s3_secret_access_key: Option<String>,
    /// Allow plain-HTTP endpoints (a MinIO or test server on loopback).
    #[serde(default)]
    pub s3_allow_http: bool,
}

impl StoreConfig {
    pub fn local(dir: impl Into<String>) -> Self {
        Self {
            url: dir.into(),
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
        }
    }
}

/// An object store rooted at the configured prefix.
#[derive(Clone, Debug)]
pub struct Store {
    /// The store at its root (bucket or filesystem root), as DataFusion registers it.
    pub root: Arc<dyn ObjectStore>,
    /// `file:///` or `s3://bucket/` — the URL `root` answers to.
    pub root_url: url::Url,
    /// Prefix of everything this deployment writes.
    pub prefix: Path,
}

impl Store {
    pub fn open(cfg: &StoreConfig) -> Result<Self> {
        let bad = |reason: String| ConnectorError::Config { what: "store", reason };
        if let Some(rest) = cfg.url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad(format!("{}: no bucket", cfg.url)));
            }
            let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
            if let Some(e) = &cfg.s3_endpoint {
                b = b.with_endpoint(e);
            }
            b = b.with_region(cfg.s3_region.clone().unwrap_or_else(|| "us-east-1".into()));
            if let Some(k) = &cfg.s3_access_key_id {
                b = b.with_access_key_id(k);
            }
            if let Some(s) = &cfg.s3_secret_access_key {
                b = b.with_secret_access_key(s);
            }
            b = b.with_allow_http(cfg.s3_allow_http);
            let root_url = url::Url::parse(&format!("s3://{bucket}/")).map_err(|e| bad(e.to_string()))?;
            Ok(Self { root: Arc::new(b.build()?), root_url, prefix: Path::from(prefix) })
        } else {
            let dir = cfg.url.strip_prefix("file://").unwrap_or(&cfg.url);
            std::fs::create_dir_all(dir).map_err(|e| bad(format!("{dir}: {e}")))?;
            let abs = std::fs::canonicalize(dir).map_err(|e| bad(format!("{dir}: {e}")))?;
            let prefix = Path::from_filesystem_path(&abs).map_err(|e| bad(e.to_string()))?;
            let root_url = url::Url::parse("file:///").map_err(|e| bad(e.to_string()))?;
            Ok(Self { root: Arc::new(LocalFileSystem::new()), root_url, prefix })
        }
    }

    /// Absolute path of `rel` under the prefix.
    pub fn path(&self, rel: &str) -> Path {
        let base = self.prefix.parts().map(|p| p.as_ref().to_string());
        Path::from_iter(base.chain(rel.split('/').filter(|s| !s.is_empty()).map(String::from)))
    }

    /// URL of a directory under the prefix, with a trailing slash (a DataFusion table path).
    pub fn dir_url(&self, rel: &str) -> String {
        format!("{}{}/", self.root_url, self.path(rel))
    }

    pub async fn put(&self, rel: &str, bytes: Bytes) -> Result<()> {
        self.root.put(&self.path(rel), PutPayload::from(bytes)).await?;
        Ok(())
    }

    pub async fn get(&self, rel: &str) -> Result<Option<Bytes>> {
        match self.root.get(&self.path(rel)).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn exists(&self, rel: &str) -> Result<bool> {
        match self.root.head(&self.path(rel)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete(&self, rel: &str) -> Result<()> {
        match self.root.delete(&self.path(rel)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Names of the immediate sub-directories of `rel`.
    pub async fn subdirs(&self, rel: &str) -> Result<Vec<String>> {
        let listing = self.root.list_with_delimiter(Some(&self.path(rel))).await?;
        Ok(listing.common_prefixes.iter().filter_map(|p| p.filename().map(String::from)).collect())
    }

    /// Every object below `rel`, as paths relative to the prefix.
    pub async fn list(&self, rel: &str) -> Result<Vec<String>> {
        let base = self.prefix.as_ref().len();
        let metas: Vec<_> = self.root.list(Some(&self.path(rel))).try_collect().await?;
        Ok(metas.into_iter().map(|m| m.location.as_ref()[base..].trim_start_matches('/').to_string()).collect())
    }
}
