//! Object storage transport: a local directory (single machine) or any S3 API (MinIO in
//! production), both through `object_store`, so the code path is the same.
pub mod blobs;
pub mod models;
pub mod parquet;
pub mod progress;
pub mod store;

pub use store::{Store, StoreConfig};
