//! A patient's corrections of a document's lines, and its findings.
//!
//! `PUT /v1/documents/{doc_id}/lines/{line_no}` (JSON: the line as `billstream extract --json`
//! prints one, `line_no` and confidence not needed) replaces a line; `DELETE` on the same path
//! removes it. Either produces a `BillCorrection` to `bill.corrections`, keyed by the document so
//! it reaches the worker that holds the document's lines; the findings stage retracts and
//! re-derives exactly the findings the change touches. `GET /v1/documents/{doc_id}/findings`
//! reads the document's current findings from the `findings` table.
use crate::server::AppState;
use crate::sql::SqlEngine;
use crate::{ApiError, Result};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use rust_decimal::Decimal;
use schemas::records::{BillCorrection, BillLine, DocumentKind};
use schemas::topics::BILL_CORRECTIONS;
use serde::Deserialize;

/// The corrected line. Money is a decimal string or number; never a float inside.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectedLine {
    #[serde(default)]
    pub kind: Option<DocumentKind>,
    #[serde(default)]
    pub service_date: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub revenue_code: Option<String>,
    #[serde(default)]
    pub cdm_code: Option<String>,
    #[serde(default)]
    pub modifiers: Vec<String>,
    #[serde(default)]
    pub description: String,
    pub units: i32,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub unit_price: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub charge: Decimal,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub allowed: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub plan_paid: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub patient_responsibility: Option<Decimal>,
}

fn check_id(doc_id: &str) -> Result<()> {
    let ok = !doc_id.is_empty()
        && doc_id.len() <= 128
        && doc_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!("{doc_id:?} is not a document id")))
    }
}

fn check_line(line_no: i32) -> Result<()> {
    if line_no < 1 {
        return Err(ApiError::BadRequest(format!("line {line_no}: lines are numbered from 1")));
    }
    Ok(())
}

async fn produce(s: &AppState, c: BillCorrection) -> Result<(StatusCode, Json<serde_json::Value>)> {
    let payload = schemas::encode(&c).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let (partition, offset) = s.producer.send_now(BILL_CORRECTIONS, c.doc_id.as_bytes(), &payload).await?;
    tracing::info!(doc_id = %c.doc_id, line_no = c.line_no, partition, offset, "line corrected");
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"doc_id": c.doc_id, "line_no": c.line_no, "deleted": c.line.is_none(),
            "partition": partition, "offset": offset})),
    ))
}

pub async fn put_line(
    State(s): State<AppState>,
    Path((doc_id, line_no)): Path<(String, i32)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>)> {
    check_id(&doc_id)?;
    check_line(line_no)?;
    let l: CorrectedLine =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("the corrected line: {e}")))?;
    if let Some(d) = l.service_date.as_deref() {
        if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
            return Err(ApiError::BadRequest(format!("service_date {d:?} is not YYYY-MM-DD")));
        }
    }
    let code_system = match (&l.code, &l.cdm_code) {
        (Some(c), _) => udfs::codes::classify(c),
        (None, Some(_)) => udfs::codes::CodeSystem::Cdm,
        (None, None) => udfs::codes::CodeSystem::Unknown,
    };
    let line = BillLine {
        doc_id: doc_id.clone(),
        kind: l.kind.unwrap_or(DocumentKind::Bill),
        line_no,
        page: 1,
        service_date: l.service_date,
        code: l.code,
        code_system: code_system.as_str().into(),
        revenue_code: l.revenue_code,
        cdm_code: l.cdm_code,
        modifiers: l.modifiers,
        description: l.description,
        units: l.units,
        unit_price: l.unit_price,
        charge: l.charge,
        allowed: l.allowed,
        plan_paid: l.plan_paid,
        patient_responsibility: l.patient_responsibility,
        // Entered by the patient: as sure as the paper in front of them.
        confidence: 1.0,
        flagged: false,
        total_charges: None,
        payments: None,
        adjustments: None,
        balance_due: None,
    };
    let at = dataflows::runtime::now_ms() as i64;
    produce(&s, BillCorrection { doc_id, line_no, by: "anonymous".into(), line: Some(line), at }).await
}

pub async fn delete_line(
    State(s): State<AppState>,
    Path((doc_id, line_no)): Path<(String, i32)>,
) -> Result<(StatusCode, Json<serde_json::Value>)> {
    check_id(&doc_id)?;
    check_line(line_no)?;
    let at = dataflows::runtime::now_ms() as i64;
    produce(&s, BillCorrection { doc_id, line_no, by: "anonymous".into(), line: None, at }).await
}

pub async fn findings(State(s): State<AppState>, Path(doc_id): Path<String>) -> Result<Json<serde_json::Value>> {
    check_id(&doc_id)?;
    let engine = SqlEngine::open(&s.store).await?;
    if !engine.tables().iter().any(|t| t == "findings") {
        return Ok(Json(serde_json::json!([])));
    }
    // The id was checked to be [A-Za-z0-9_-], so it is safe inside the literal.
    let q = format!(
        "SELECT kind, severity, lines, amount_at_issue, explanation, evidence FROM findings \
         WHERE doc_id = '{doc_id}' ORDER BY kind, lines"
    );
    let batches = engine.query(&q).await?;
    Ok(Json(serde_json::Value::Array(crate::format::to_json_rows(&batches)?)))
}
