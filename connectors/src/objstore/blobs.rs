//! Content-addressed document blobs: the key is the SHA-256 of the bytes, so an upload repeated
//! after a failure stores nothing new.
use super::Store;
use crate::error::Result;
use bytes::Bytes;
use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Stores `bytes` under `documents/sha256/<hex>`; returns (object key, sha256 hex).
pub async fn put_document(store: &Store, bytes: Bytes) -> Result<(String, String)> {
    let sha = sha256_hex(&bytes);
    let key = format!("documents/sha256/{sha}");
    if !store.exists(&key).await? {
        store.put(&key, bytes).await?;
    }
    Ok((key, sha))
}
