//! Line items from word boxes: rows from words, the table from its header, fields from columns,
//! the totals block. Pure: the same words always give the same lines.
use crate::codes::CodeSystem;
use rust_decimal::Decimal;
use schemas::records::DocumentKind;
use serde::{Deserialize, Serialize};

mod fields;
mod header;
pub mod items;
pub mod pasted;
mod rows;
pub mod score;
mod table;

pub use table::extract;

/// One line item as read from a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Table rows counted from 1 in page order.
    pub line_no: u32,
    pub page: u32,
    /// `YYYY-MM-DD`.
    pub service_date: Option<String>,
    pub code: Option<String>,
    pub code_system: CodeSystem,
    pub revenue_code: Option<String>,
    /// The hospital's charge-master item number, in its own field: never a CPT/HCPCS code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdm_code: Option<String>,
    pub modifiers: Vec<String>,
    pub description: String,
    pub units: i32,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub unit_price: Option<Decimal>,
    /// Billed amount; the estimated amount on a Good Faith Estimate.
    #[serde(with = "rust_decimal::serde::str")]
    pub charge: Decimal,
    #[serde(with = "rust_decimal::serde::str_option", default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default, skip_serializing_if = "Option::is_none")]
    pub plan_paid: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default, skip_serializing_if = "Option::is_none")]
    pub patient_responsibility: Option<Decimal>,
    /// In [0, 1]: the weakest of the OCR confidence of the line's words and the parse checks.
    pub confidence: f32,
    /// Set when confidence is below the review threshold or a check failed: shown, not trusted.
    #[serde(default)]
    pub flagged: bool,
}

/// The totals block of a document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    #[serde(with = "rust_decimal::serde::str_option", default, skip_serializing_if = "Option::is_none")]
    pub total_charges: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default, skip_serializing_if = "Option::is_none")]
    pub payments: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default, skip_serializing_if = "Option::is_none")]
    pub adjustments: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default, skip_serializing_if = "Option::is_none")]
    pub balance_due: Option<Decimal>,
}

/// What a document says: its line items and totals, with warnings for what could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    pub kind: DocumentKind,
    pub lines: Vec<Line>,
    pub totals: Totals,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Lines below this confidence are flagged for review.
pub const REVIEW_THRESHOLD: f32 = 0.80;
