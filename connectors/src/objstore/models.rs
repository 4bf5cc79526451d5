//! Versioned anomaly models in the object store: `models/<name>/v000001.json` (the model with its
//! meta: training data range, thresholds, metrics) and `models/<name>/current.json` naming the
//! latest version. Versions are never overwritten, so a finding's evidence ("model v3") can
//! always be traced to the model that produced it.
use super::Store;
use crate::error::ConnectorError;
use serde::{Deserialize, Serialize};
use udfs::anomaly::{AnomalyError, Model};

#[derive(Debug, thiserror::Error)]
pub enum ModelStoreError {
    #[error(transparent)]
    Store(#[from] ConnectorError),
    #[error("model {path}: {source}")]
    Model { path: String, source: AnomalyError },
    #[error("{path}: {reason}")]
    Pointer { path: String, reason: String },
}

pub type Result<T, E = ModelStoreError> = std::result::Result<T, E>;

/// What `current.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Current {
    pub version: u64,
    /// Object key of that version, relative to the store's prefix.
    pub key: String,
}

pub fn version_key(name: &str, version: u64) -> String {
    format!("models/{name}/v{version:06}.json")
}

fn current_key(name: &str) -> String {
    format!("models/{name}/current.json")
}

/// Versions stored under `name`, ascending.
pub async fn versions(store: &Store, name: &str) -> Result<Vec<u64>> {
    let mut v: Vec<u64> = store
        .list(&format!("models/{name}"))
        .await?
        .iter()
        .filter_map(|k| k.rsplit('/').next()?.strip_prefix('v')?.strip_suffix(".json")?.parse().ok())
        .collect();
    v.sort_unstable();
    Ok(v)
}

/// The latest model as saved (version, JSON), for a consumer that ships it on unparsed (the
/// findings graph broadcasts the body to its workers).
pub async fn latest_body(store: &Store, name: &str) -> Result<Option<(u64, Vec<u8>)>> {
    let Some(c) = current(store, name).await? else { return Ok(None) };
    let body = store.get(&version_key(name, c.version)).await?;
    Ok(body.map(|b| (c.version, b.to_vec())))
}

/// The `current.json` pointer, if any model was saved.
pub async fn current(store: &Store, name: &str) -> Result<Option<Current>> {
    let path = current_key(name);
    match store.get(&path).await? {
        None => Ok(None),
        Some(b) => {
            serde_json::from_slice(&b).map(Some).map_err(|e| ModelStoreError::Pointer { path, reason: e.to_string() })
        }
    }
}

/// Stores `model` as the next version (its `meta.version` is set) and points `current.json` at
/// it; returns the version. The model is written before the pointer, so a reader never follows
/// the pointer to a missing file.
pub async fn save(store: &Store, name: &str, model: &mut Model) -> Result<u64> {
    let last_listed = versions(store, name).await?.last().copied().unwrap_or(0);
    let last_current = current(store, name).await?.map(|c| c.version).unwrap_or(0);
    let version = last_listed.max(last_current) + 1;
    model.meta.version = version;
    let key = version_key(name, version);
    let bytes = model.to_json().map_err(|source| ModelStoreError::Model { path: key.clone(), source })?;
    store.put(&key, bytes.into()).await?;
    let pointer = serde_json::to_vec_pretty(&Current { version, key: key.clone() })
        .map_err(|e| ModelStoreError::Pointer { path: current_key(name), reason: e.to_string() })?;
    store.put(&current_key(name), pointer.into()).await?;
    tracing::info!(name, version, rows = model.meta.rows, "model saved");
    Ok(version)
}

/// One stored version (`None`: no such version).
pub async fn load(store: &Store, name: &str, version: u64) -> Result<Option<Model>> {
    let path = version_key(name, version);
    match store.get(&path).await? {
        None => Ok(None),
        Some(b) => Model::from_json(&b).map(Some).map_err(|source| ModelStoreError::Model { path, source }),
    }
}

/// The version `current.json` names (`None`: nothing saved yet).
pub async fn latest(store: &Store, name: &str) -> Result<Option<Model>> {
    match current(store, name).await? {
        None => Ok(None),
        Some(c) => match load(store, name, c.version).await? {
            Some(m) => Ok(Some(m)),
            None => Err(ModelStoreError::Pointer {
                path: current_key(name),
                reason: format!("names version {} which is not stored", c.version),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objstore::StoreConfig;
    use testkit::anomaly as synthetic;
    use udfs::anomaly::{train, ModelMeta, Params};

    #[tokio::test]
    async fn versions_latest_and_load_on_a_local_directory() {
        let dir = std::env::temp_dir().join(format!("billstream-models-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&StoreConfig::local(dir.to_string_lossy())).unwrap();
        assert!(latest(&store, "anomaly").await.unwrap().is_none());

        let set = synthetic::split(2, 2_000, 100);
        let meta = ModelMeta { data_from: "2026-01-01".into(), data_to: "2026-06-30".into(), ..ModelMeta::default() };
        let mut first = train(&set.train.rows, &Params::default(), meta.clone(), &set.index).unwrap();
        let mut second = train(&set.train.rows, &Params { trees: 50, ..Params::default() }, meta, &set.index).unwrap();
        assert_eq!(save(&store, "anomaly", &mut first).await.unwrap(), 1);
        assert_eq!(save(&store, "anomaly", &mut second).await.unwrap(), 2);
        assert!(dir.join("models/anomaly/v000001.json").exists());
        assert_eq!(versions(&store, "anomaly").await.unwrap(), vec![1, 2]);
        assert_eq!(current(&store, "anomaly").await.unwrap().unwrap().key, "models/anomaly/v000002.json");

        let got = latest(&store, "anomaly").await.unwrap().unwrap();
        assert_eq!(got.meta, second.meta);
        assert_eq!(got.meta.version, 2);
        let old = load(&store, "anomaly", 1).await.unwrap().unwrap();
        assert_eq!((old.meta.version, old.meta.data_from.as_str()), (1, "2026-01-01"));
        let x = &set.test.rows[0];
        assert_eq!(old.score(x).to_bits(), first.score(x).to_bits());
        assert!(load(&store, "anomaly", 9).await.unwrap().is_none());
        // Another name is another history.
        assert!(latest(&store, "other").await.unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
