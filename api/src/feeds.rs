//! `POST /v1/feeds/{claims|prices|edits}`: upstream systems push feed files through the same
//! loaders as `billstream ingest`. The body is one file (any content type) or a multipart form
//! of several (`file` fields; a PFS RVU file needs its GPCI file in the same form). Query:
//! `dry_run=true`, `format=...`, `scope=...`, `locality=MAC-locality,...`, `filename=...`.
//!
//! The body is spooled to a temporary file as it arrives (bounded memory for large MRFs), then
//! loaded on a blocking thread; the response is the ingest summary as JSON: 200 when every file
//! loaded, 422 when a file was rejected as a whole, 503 when the broker failed.
use crate::server::AppState;
use crate::{ApiError, Result};
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use connectors::ingest::{Feed, Format, Ingest, Options};
use futures::StreamExt;
use serde::Deserialize;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

#[derive(Debug, Default, Deserialize)]
pub struct FeedQuery {
    #[serde(default)]
    dry_run: bool,
    format: Option<String>,
    scope: Option<String>,
    /// Comma-separated.
    locality: Option<String>,
    filename: Option<String>,
}

pub async fn post_feed(
    State(s): State<AppState>,
    Path(feed): Path<String>,
    Query(q): Query<FeedQuery>,
    req: Request,
) -> Result<(StatusCode, Json<serde_json::Value>)> {
    let feed: Feed = feed.parse().map_err(ApiError::BadRequest)?;
    let format = match q.format.as_deref() {
        None => None,
        Some(f) => Some(Format::from_name(f).ok_or_else(|| ApiError::BadRequest(format!("unknown format {f:?}")))?),
    };
    let dir = tempfile::tempdir().map_err(|e| ApiError::Unavailable(format!("temporary directory: {e}")))?;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let limit = s.max_feed_bytes;
    let mut files: Vec<PathBuf> = vec![];
    if is_form {
        let mut form = Multipart::from_request(req, &s).await.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        while let Some(mut field) =
            form.next_field().await.map_err(|e| ApiError::BadRequest(format!("multipart: {e}")))?
        {
            if field.name() != Some("file") {
                return Err(ApiError::BadRequest(format!("unknown form field {:?} (expected file)", field.name())));
            }
            let name = safe_name(field.file_name().unwrap_or("feed"), files.len());
            let path = dir.path().join(&name);
            spool(&mut field, &path, limit).await?;
            files.push(path);
        }
    } else {
        let name = safe_name(q.filename.as_deref().unwrap_or("feed"), 0);
        let path = dir.path().join(&name);
        spool(&mut Body::into_data_stream(req.into_body()), &path, limit).await?;
        files.push(path);
    }
    if files.is_empty() {
        return Err(ApiError::BadRequest("no file in the request".into()));
    }
    let opts = Options {
        dry_run: q.dry_run,
        format,
        scope: q.scope.clone(),
        localities: q
            .locality
            .as_deref()
            .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default(),
    };
    let kafka = s.kafka.clone();
    let summaries = tokio::task::spawn_blocking(move || -> Result<Vec<connectors::ingest::FileSummary>> {
        let mut ingest = Ingest::new(feed, opts, Some(&kafka))?;
        Ingest::order(&mut files);
        let out = files.iter().map(|f| ingest.file(f, &mut |_| {})).collect();
        ingest.finish()?;
        drop(dir);
        Ok(out)
    })
    .await
    .map_err(|e| ApiError::Unavailable(e.to_string()))??;
    let status = if summaries.iter().any(|s| s.status == "failed") {
        StatusCode::SERVICE_UNAVAILABLE
    } else if summaries.iter().any(|s| s.status == "rejected") {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let produced: u64 = summaries.iter().map(|s| s.tally.produced).sum();
    let rejected: u64 = summaries.iter().map(|s| s.tally.rejected).sum();
    Ok((
        status,
        Json(serde_json::json!({
            "feed": feed, "topic": feed.topic(), "dry_run": q.dry_run,
            "produced": produced, "rejected": rejected, "files": summaries,
        })),
    ))
}

/// A file name without directories (the loaders cite it as evidence), unique in the spool.
fn safe_name(name: &str, i: usize) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("feed");
    let base: String = base.chars().filter(|c| !c.is_control()).collect();
    if base.is_empty() || base == "." || base == ".." {
        format!("feed-{i}")
    } else if i == 0 {
        base
    } else {
        // Several form files may share a name; keep them apart without changing the cited name much.
        format!("{i}-{base}")
    }
}

/// Writes a body or form field to `path` as it arrives, refusing more than `limit` bytes.
async fn spool<E: std::fmt::Display>(
    stream: &mut (impl futures::Stream<Item = std::result::Result<bytes::Bytes, E>> + Unpin),
    path: &std::path::Path,
    limit: usize,
) -> Result<()> {
    let mut out = tokio::fs::File::create(path).await.map_err(spool_error)?;
    let mut size = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("body: {e}")))?;
        size += chunk.len();
        if size > limit {
            return Err(too_large(limit));
        }
        out.write_all(&chunk).await.map_err(spool_error)?;
    }
    out.flush().await.map_err(spool_error)?;
    Ok(())
}

fn spool_error(e: std::io::Error) -> ApiError {
    ApiError::Unavailable(format!("spooling the body: {e}"))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::TooLarge(format!("the feed is larger than {limit} bytes (api.max_feed_bytes)"))
}
