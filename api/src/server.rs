//! The axum router.
use crate::format::to_json_rows;
use crate::sql::SqlEngine;
use crate::{ApiError, Result};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use connectors::kafka::sink::Sink;
use connectors::kafka::KafkaConfig;
use connectors::objstore::{blobs, Store};
use schemas::topics::DOCUMENTS_UPLOADED;
use schemas::{DocumentKind, DocumentUploaded};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub kafka: KafkaConfig,
    pub producer: Arc<Sink>,
    /// (consumer group, topic) pairs whose lag `/metrics` reports.
    pub watched: Vec<(String, String)>,
    pub max_upload_bytes: usize,
    /// Largest feed file `POST /v1/feeds/...` accepts (spooled to disk, not memory).
    pub max_feed_bytes: usize,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(serde_json::json!({"error": self.to_string(), "retryable": self.is_retryable()}))).into_response()
    }
}

pub fn router(state: AppState) -> Router {
    let limit = state.max_upload_bytes + 64 * 1024;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/documents", post(upload).layer(DefaultBodyLimit::max(limit)))
        .route("/v1/sql", post(sql))
        .route(
            "/v1/documents/{doc_id}/lines/{line_no}",
            put(crate::corrections::put_line).delete(crate::corrections::delete_line),
        )
        .route("/v1/documents/{doc_id}/findings", get(crate::corrections::findings))
        .route("/v1/feeds/{feed}", post(crate::feeds::post_feed).layer(DefaultBodyLimit::disable()))
        .with_state(state)
}

async fn readyz(State(s): State<AppState>) -> Result<&'static str> {
    s.store.subdirs("").await.map_err(|e| ApiError::Unavailable(format!("object store: {e}")))?;
    let k = s.kafka.clone();
    tokio::task::spawn_blocking(move || {
        connectors::kafka::admin::partition_count(&k, DOCUMENTS_UPLOADED, std::time::Duration::from_secs(3))
    })
    .await
    .map_err(|e| ApiError::Unavailable(e.to_string()))?
    .map_err(|e| ApiError::Unavailable(format!("broker: {e}")))?;
    Ok("ready")
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let body = tokio::task::spawn_blocking(move || crate::metrics::render(Some(&s.kafka), &s.watched))
        .await
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

async fn sql(State(s): State<AppState>, body: String) -> Result<Json<serde_json::Value>> {
    let engine = SqlEngine::open(&s.store).await?;
    let batches = engine.query(&body).await?;
    Ok(Json(serde_json::Value::Array(to_json_rows(&batches)?)))
}

/// `POST /v1/documents` (multipart: `file`, optional `kind` bill|eob|gfe, optional `case_id`,
/// optional `provider`: the hospital as its price file names it):
/// stores the bytes content-addressed, then produces `DocumentUploaded`.
async fn upload(State(s): State<AppState>, mut form: Multipart) -> Result<(StatusCode, Json<serde_json::Value>)> {
    let mut file: Option<(Bytes, Option<String>)> = None;
    let mut kind = DocumentKind::Bill;
    let mut case_id: Option<String> = None;
    let mut provider: Option<String> = None;
    while let Some(field) = form.next_field().await.map_err(|e| ApiError::BadRequest(format!("multipart: {e}")))? {
        match field.name().unwrap_or("") {
            "file" => {
                let name = field.file_name().map(String::from);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::TooLarge(format!("file: {e} (limit {} bytes)", s.max_upload_bytes)))?;
                file = Some((bytes, name));
            }
            "kind" => {
                kind = field
                    .text()
                    .await
                    .map_err(|e| ApiError::BadRequest(e.to_string()))?
                    .trim()
                    .parse()
                    .map_err(ApiError::BadRequest)?
            }
            "case_id" => {
                case_id = Some(field.text().await.map_err(|e| ApiError::BadRequest(e.to_string()))?.trim().to_string())
            }
            "provider" => {
                let p = field.text().await.map_err(|e| ApiError::BadRequest(e.to_string()))?.trim().to_string();
                provider = Some(p).filter(|p| !p.is_empty());
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown form field {other:?} (expected file, kind, case_id, provider)"
                )))
            }
        }
    }
    let (bytes, filename) = file.ok_or_else(|| ApiError::BadRequest("no `file` field in the form".into()))?;
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("the file is empty (0 bytes)".into()));
    }
    if bytes.len() > s.max_upload_bytes {
        return Err(ApiError::TooLarge(format!(
            "the file is {} bytes; the limit is {}",
            bytes.len(),
            s.max_upload_bytes
        )));
    }
    let e = store_document(&s.store, &s.producer, bytes, kind, case_id, filename, provider).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "doc_id": e.doc_id, "case_id": e.case_id, "object_key": e.object_key, "sha256": e.sha256,
            "mime": e.mime, "size": e.size, "provider": e.provider,
        })),
    ))
}

/// Stores a document content-addressed and announces it on `documents.uploaded` (the upload
/// route, and `billstream up`'s demo documents). The type is sniffed from the bytes.
pub async fn store_document(
    store: &connectors::objstore::Store,
    producer: &connectors::kafka::sink::Sink,
    bytes: Bytes,
    kind: DocumentKind,
    case_id: Option<String>,
    filename: Option<String>,
    provider: Option<String>,
) -> Result<DocumentUploaded> {
    let mime = udfs::ocr::sniff_mime(&bytes)
        .ok_or_else(|| ApiError::BadRequest("not a PDF, PNG, JPEG, TIFF or plain-text file".into()))?;
    let size = bytes.len() as i64;
    let (object_key, sha) = blobs::put_document(store, bytes).await?;
    let case_id = case_id.filter(|c| !c.is_empty()).unwrap_or_else(|| format!("case-{}", &sha[..16]));
    let doc_id = blobs::sha256_hex(format!("{case_id}/{sha}").as_bytes())[..32].to_string();
    let event = DocumentUploaded {
        doc_id: doc_id.clone(),
        case_id,
        owner: "anonymous".into(),
        object_key: object_key.clone(),
        sha256: sha,
        mime: mime.into(),
        kind,
        filename,
        size,
        uploaded_at: dataflows::runtime::now_ms() as i64,
        provider,
    };
    let payload = schemas::encode(&event).map_err(connectors::ConnectorError::from)?;
    let (partition, offset) = producer.send_now(DOCUMENTS_UPLOADED, doc_id.as_bytes(), &payload).await?;
    tracing::info!(%doc_id, %object_key, partition, offset, "document uploaded");
    Ok(event)
}
