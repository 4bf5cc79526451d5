//! Rust types of the records the dataflows read and write. Field names and types follow
//! `avro/*.avsc`; `tests::avsc_round_trip` checks each type against its schema.
use crate::wire::SchemaError;
use apache_avro::Schema;
use rust_decimal::Decimal;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::sync::OnceLock;

/// A record type with its Avro schema and the schema id it is framed with.
pub trait Record: Serialize + DeserializeOwned {
    const NAME: &'static str;
    const SCHEMA_ID: u32;
    fn schema() -> &'static Schema;
    /// Checks beyond the Avro types (shapes, signs); a failure sends the record to the DLQ.
    fn validate(&self) -> Result<(), SchemaError> {
        Ok(())
    }
}

macro_rules! record {
    ($ty:ty, $name:literal, $id:literal, $file:literal) => {
        impl $ty {
            pub const AVSC: &'static str = include_str!(concat!("../avro/", $file));
        }
        impl Record for $ty {
            const NAME: &'static str = $name;
            const SCHEMA_ID: u32 = $id;
            fn schema() -> &'static Schema {
                static SCHEMA: OnceLock<Schema> = OnceLock::new();
                // The .avsc is compiled in and parsed by a unit test, so failure here is a build defect.
                #[allow(clippy::expect_used)]
                SCHEMA.get_or_init(|| Schema::parse_str(<$ty>::AVSC).expect(concat!($file, " parses")))
            }
            fn validate(&self) -> Result<(), SchemaError> {
                self.check()
            }
        }
    };
}

/// One service line of a claim (see `avro/claim_line.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClaimLine {
    pub claim_id: String,
    pub line_no: i32,
    pub frequency_code: String,
    pub provider_npi: String,
    pub payer: Option<String>,
    pub place_of_service: String,
    pub code: String,
    pub modifier: Option<String>,
    pub service_date: String,
    pub units: i32,
    pub charge: Decimal,
    pub allowed: Option<Decimal>,
    pub paid: Option<Decimal>,
    pub patient_responsibility: Option<Decimal>,
    #[serde(default)]
    pub carc: Vec<String>,
    #[serde(default)]
    pub rarc: Vec<String>,
}
record!(ClaimLine, "ClaimLine", 5, "claim_line.avsc");

/// What a claim line's frequency code does to earlier versions of the same claim line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Original,
    Replacement,
    Void,
}

impl ClaimLine {
    pub fn frequency(&self) -> Frequency {
        match self.frequency_code.as_str() {
            "7" => Frequency::Replacement,
            "8" => Frequency::Void,
            _ => Frequency::Original,
        }
    }

    fn check(&self) -> Result<(), SchemaError> {
        let bad = |field, reason: String| Err(SchemaError::Invalid { record: "ClaimLine", field, reason });
        if self.claim_id.is_empty() {
            return bad("claim_id", "empty".into());
        }
        if !matches!(self.frequency_code.as_str(), "1" | "7" | "8") {
            return bad(
                "frequency_code",
                format!("{:?} is not 1 (original), 7 (replacement) or 8 (void)", self.frequency_code),
            );
        }
        let code_ok = self.code.len() == 5 && self.code.chars().all(|c| c.is_ascii_alphanumeric());
        if !code_ok {
            return bad("code", format!("{:?} is not a 5-character CPT/HCPCS code", self.code));
        }
        if let Some(m) = &self.modifier {
            if m.len() != 2 || !m.chars().all(|c| c.is_ascii_alphanumeric()) {
                return bad("modifier", format!("{m:?} is not a 2-character modifier"));
            }
        }
        // Empty when the feed has none (institutional claims, remittances).
        let pos_ok = self.place_of_service.is_empty()
            || (self.place_of_service.len() == 2 && self.place_of_service.chars().all(|c| c.is_ascii_digit()));
        if !pos_ok {
            return bad(
                "place_of_service",
                format!("{:?} is not a 2-digit place of service code", self.place_of_service),
            );
        }
        if self.units <= 0 {
            return bad("units", format!("{} is not a positive number of units", self.units));
        }
        if self.charge.is_sign_negative() {
            return bad("charge", format!("{} is negative", self.charge));
        }
        if self.charge.normalize().scale() > 4 {
            return bad("charge", format!("{} has more than 4 decimal places", self.charge));
        }
        if !is_iso_date(&self.service_date) {
            return bad("service_date", format!("{:?} is not YYYY-MM-DD", self.service_date));
        }
        Ok(())
    }
}

/// Observed price statistics for one code and scope (see `avro/benchmark.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Benchmark {
    pub code: String,
    pub modifier: String,
    pub place_of_service: String,
    pub scope: String,
    #[serde(default = "charge_kind")]
    pub kind: String,
    #[serde(default = "claims_source")]
    pub source: String,
    pub count: i64,
    pub min: Decimal,
    pub median: Decimal,
    pub p90: Decimal,
    pub max: Decimal,
    pub mean: Decimal,
    #[serde(default)]
    pub effective_from: Option<String>,
    #[serde(default)]
    pub source_file: Option<String>,
    pub as_of: i64,
}
record!(Benchmark, "Benchmark", 8, "benchmark.avsc");

fn charge_kind() -> String {
    "charge".into()
}
fn claims_source() -> String {
    "claims".into()
}

impl Benchmark {
    /// The topic key: one compacted entry per code, scope and kind of amount.
    pub fn key(&self) -> String {
        format!("{}|{}|{}|{}|{}", self.code, self.modifier, self.place_of_service, self.scope, self.kind)
    }
    fn check(&self) -> Result<(), SchemaError> {
        Ok(())
    }
}

/// One published reference price (see `avro/ref_price.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RefPrice {
    pub source: String,
    pub code: String,
    pub code_type: String,
    pub modifier: Option<String>,
    pub scope: String,
    pub payer: Option<String>,
    pub setting: Option<String>,
    pub amount_kind: String,
    pub amount: Decimal,
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub source_file: String,
}
record!(RefPrice, "RefPrice", 6, "ref_price.avsc");

impl RefPrice {
    /// The topic key: prices of one code land on one partition, in file order.
    pub fn key(&self) -> &str {
        &self.code
    }
    fn check(&self) -> Result<(), SchemaError> {
        let bad = |field, reason: String| Err(SchemaError::Invalid { record: "RefPrice", field, reason });
        if self.code.trim().is_empty() {
            return bad("code", "empty".into());
        }
        if self.scope.is_empty() {
            return bad("scope", "empty".into());
        }
        if self.amount.is_sign_negative() {
            return bad("amount", format!("{} is negative", self.amount));
        }
        check_dates("RefPrice", &self.effective_from, self.effective_to.as_deref())
    }
}

/// A coding edit: NCCI PTP pair, MUE limit or a valid code (see `avro/ref_edit.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RefEdit {
    pub kind: String,
    pub code: String,
    pub code2: Option<String>,
    pub modifier_indicator: Option<String>,
    pub mue_limit: Option<i32>,
    pub mue_adjudication: Option<String>,
    pub description: Option<String>,
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub source_file: String,
}
record!(RefEdit, "RefEdit", 7, "ref_edit.avsc");

impl RefEdit {
    /// The topic key: the code pair for PTP edits, the code otherwise.
    pub fn key(&self) -> String {
        match &self.code2 {
            Some(c2) => format!("{}|{}", self.code, c2),
            None => self.code.clone(),
        }
    }
    fn check(&self) -> Result<(), SchemaError> {
        let bad = |field, reason: String| Err(SchemaError::Invalid { record: "RefEdit", field, reason });
        match self.kind.as_str() {
            "ptp" => {
                if self.code2.is_none() {
                    return bad("code2", "a PTP edit needs its column two code".into());
                }
                if !matches!(self.modifier_indicator.as_deref(), Some("0" | "1" | "9")) {
                    return bad("modifier_indicator", format!("{:?} is not 0, 1 or 9", self.modifier_indicator));
                }
            }
            "mue" => match self.mue_limit {
                Some(n) if n >= 0 => {}
                other => return bad("mue_limit", format!("{other:?} is not a limit of units")),
            },
            "code" => {}
            other => return bad("kind", format!("{other:?} is not ptp, mue or code")),
        }
        if self.code.trim().is_empty() {
            return bad("code", "empty".into());
        }
        check_dates("RefEdit", &self.effective_from, self.effective_to.as_deref())
    }
}

/// Effective dates of reference records: `from` required, `to` optional, both `YYYY-MM-DD`.
fn check_dates(record: &'static str, from: &str, to: Option<&str>) -> Result<(), SchemaError> {
    if !is_iso_date(from) {
        let reason = format!("{from:?} is not YYYY-MM-DD");
        return Err(SchemaError::Invalid { record, field: "effective_from", reason });
    }
    match to {
        Some(to) if !is_iso_date(to) => {
            let reason = format!("{to:?} is not YYYY-MM-DD");
            Err(SchemaError::Invalid { record, field: "effective_to", reason })
        }
        _ => Ok(()),
    }
}

/// `YYYY-MM-DD` by shape (digits and dashes in place).
pub fn is_iso_date(s: &str) -> bool {
    let d = s.as_bytes();
    d.len() == 10
        && d[4] == b'-'
        && d[7] == b'-'
        && d.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// What a finding rests on: a rule or price source and the detail a reader can check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    pub source: String,
    pub detail: String,
}

/// A problem found on a bill (see `avro/finding.avsc` and the kinds in DESIGN.md); `diff` is +1
/// when the finding is asserted and −1 when a later change retracts it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    pub doc_id: String,
    pub kind: String,
    pub severity: String,
    pub lines: Vec<i32>,
    pub amount_at_issue: Decimal,
    pub explanation: String,
    pub evidence: Vec<Evidence>,
    pub diff: i32,
}
record!(Finding, "Finding", 9, "finding.avsc");

impl Finding {
    fn check(&self) -> Result<(), SchemaError> {
        let bad = |field, reason: String| Err(SchemaError::Invalid { record: "Finding", field, reason });
        if !matches!(self.severity.as_str(), "error" | "warning" | "info") {
            return bad("severity", format!("{:?} is not error, warning or info", self.severity));
        }
        if self.amount_at_issue.is_sign_negative() {
            return bad("amount_at_issue", format!("{} is negative", self.amount_at_issue));
        }
        if !matches!(self.diff, 1 | -1) {
            return bad("diff", format!("{} is not +1 or -1", self.diff));
        }
        Ok(())
    }
}

/// A record or bytes that could not be processed (see `avro/dead_letter.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeadLetter {
    pub stage: String,
    pub error: String,
    pub source_topic: String,
    pub source_partition: i32,
    pub source_offset: i64,
    #[serde(with = "apache_avro::serde_avro_bytes_opt", default)]
    pub key: Option<Vec<u8>>,
    #[serde(with = "apache_avro::serde_avro_bytes")]
    pub payload: Vec<u8>,
    pub at: i64,
}
record!(DeadLetter, "DeadLetter", 13, "dead_letter.avsc");

impl DeadLetter {
    fn check(&self) -> Result<(), SchemaError> {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    Bill,
    Eob,
    Gfe,
}

impl std::str::FromStr for DocumentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bill" => Ok(Self::Bill),
            "eob" => Ok(Self::Eob),
            "gfe" => Ok(Self::Gfe),
            other => Err(format!("kind {other:?} is not bill, eob or gfe")),
        }
    }
}

/// An uploaded document stored in the object store (see `avro/document_uploaded.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentUploaded {
    pub doc_id: String,
    pub case_id: String,
    pub owner: String,
    pub object_key: String,
    pub sha256: String,
    pub mime: String,
    pub kind: DocumentKind,
    pub filename: Option<String>,
    pub size: i64,
    pub uploaded_at: i64,
    /// Who sent the document, as its price file names the hospital (benchmark scope
    /// `hospital:<name>`): its bill is compared with that hospital's own published prices.
    #[serde(default)]
    pub provider: Option<String>,
}
record!(DocumentUploaded, "DocumentUploaded", 1, "document_uploaded.avsc");

impl DocumentUploaded {
    fn check(&self) -> Result<(), SchemaError> {
        Ok(())
    }
}

/// How the words of a document were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OcrMethod {
    TextLayer,
    Ocr,
}

/// One word with its box (page units, origin top-left) and confidence in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrWord {
    pub text: String,
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub confidence: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrPage {
    pub page_no: i32,
    pub width: f32,
    pub height: f32,
    pub words: Vec<OcrWord>,
}

/// The words of one document (see `avro/ocr_result.avsc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrResult {
    pub doc_id: String,
    pub kind: DocumentKind,
    #[serde(default)]
    pub uploaded_at: i64,
    pub method: OcrMethod,
    pub pages: Vec<OcrPage>,
}
record!(OcrResult, "OcrResult", 2, "ocr_result.avsc");

impl OcrResult {
    fn check(&self) -> Result<(), SchemaError> {
        Ok(())
    }
}

/// One line item of a bill, EOB or GFE (see `avro/bill_line.avsc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillLine {
    pub doc_id: String,
    pub kind: DocumentKind,
    pub line_no: i32,
    pub page: i32,
    pub service_date: Option<String>,
    pub code: Option<String>,
    pub code_system: String,
    pub revenue_code: Option<String>,
    /// The hospital's charge-master item number, kept apart from `code` (never a CPT/HCPCS code).
    #[serde(default)]
    pub cdm_code: Option<String>,
    #[serde(default)]
    pub modifiers: Vec<String>,
    pub description: String,
    pub units: i32,
    pub unit_price: Option<Decimal>,
    pub charge: Decimal,
    pub allowed: Option<Decimal>,
    pub plan_paid: Option<Decimal>,
    pub patient_responsibility: Option<Decimal>,
    pub confidence: f32,
    pub flagged: bool,
    pub total_charges: Option<Decimal>,
    pub payments: Option<Decimal>,
    pub adjustments: Option<Decimal>,
    pub balance_due: Option<Decimal>,
}
record!(BillLine, "BillLine", 3, "bill_line.avsc");

impl BillLine {
    fn check(&self) -> Result<(), SchemaError> {
        Ok(())
    }
}

/// A patient's edit of one line of a document (see `avro/bill_correction.avsc`): `line` replaces
/// line `line_no`, or deletes it when `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillCorrection {
    pub doc_id: String,
    pub line_no: i32,
    pub by: String,
    pub line: Option<BillLine>,
    pub at: i64,
}

impl BillCorrection {
    /// As written: the line's type is a reference to `billstream.BillLine`.
    pub const AVSC: &'static str = include_str!("../avro/bill_correction.avsc");
}

impl Record for BillCorrection {
    const NAME: &'static str = "BillCorrection";
    const SCHEMA_ID: u32 = 4;
    fn schema() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        // The reference is written out with BillLine's schema so the record encodes on its own
        // (both files are compiled in and parsed by unit tests, so failure is a build defect).
        #[allow(clippy::expect_used)]
        SCHEMA.get_or_init(|| {
            let inline = Self::AVSC.replacen("\"billstream.BillLine\"", BillLine::AVSC, 1);
            Schema::parse_str(&inline).expect("bill_correction.avsc parses")
        })
    }
    fn validate(&self) -> Result<(), SchemaError> {
        self.check()
    }
}

impl BillCorrection {
    fn check(&self) -> Result<(), SchemaError> {
        let bad = |field, reason: String| Err(SchemaError::Invalid { record: "BillCorrection", field, reason });
        if let Some(l) = &self.line {
            if l.doc_id != self.doc_id || l.line_no != self.line_no {
                return bad(
                    "line",
                    format!(
                        "line {}/{} does not match the corrected {}/{}",
                        l.doc_id, l.line_no, self.doc_id, self.line_no
                    ),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{decode, encode};
    use std::str::FromStr;

    fn line() -> ClaimLine {
        ClaimLine {
            claim_id: "C1".into(),
            line_no: 1,
            frequency_code: "1".into(),
            provider_npi: "1234567893".into(),
            payer: Some("MEDICARE".into()),
            place_of_service: "11".into(),
            code: "99213".into(),
            modifier: None,
            service_date: "2026-03-14".into(),
            units: 1,
            charge: Decimal::from_str("250.10").unwrap(),
            allowed: None,
            paid: Some(Decimal::from_str("80.00").unwrap()),
            patient_responsibility: None,
            carc: vec!["45".into()],
            rarc: vec![],
        }
    }

    #[test]
    fn avsc_round_trip() {
        let l = line();
        assert_eq!(decode::<ClaimLine>(&encode(&l).unwrap()).unwrap(), l);
        let b = Benchmark {
            code: "99213".into(),
            modifier: String::new(),
            place_of_service: "11".into(),
            scope: "observed".into(),
            kind: "charge".into(),
            source: "claims".into(),
            count: 3,
            min: Decimal::ONE,
            median: Decimal::TWO,
            p90: Decimal::TEN,
            max: Decimal::TEN,
            mean: Decimal::from_str("4.3333").unwrap(),
            effective_from: None,
            source_file: None,
            as_of: 17,
        };
        assert_eq!(decode::<Benchmark>(&encode(&b).unwrap()).unwrap(), b);
        let p = RefPrice {
            source: "MRF".into(),
            code: "99213".into(),
            code_type: "CPT".into(),
            modifier: None,
            scope: "hospital:General".into(),
            payer: Some("Acme | PPO".into()),
            setting: Some("outpatient".into()),
            amount_kind: "negotiated".into(),
            amount: Decimal::from_str("112.50").unwrap(),
            effective_from: "2026-01-01".into(),
            effective_to: None,
            source_file: "mrf.csv".into(),
        };
        assert_eq!(decode::<RefPrice>(&encode(&p).unwrap()).unwrap(), p);
        let e = RefEdit {
            kind: "ptp".into(),
            code: "80053".into(),
            code2: Some("82947".into()),
            modifier_indicator: Some("0".into()),
            mue_limit: None,
            mue_adjudication: None,
            description: None,
            effective_from: "1996-01-01".into(),
            effective_to: None,
            source_file: "ptp.txt".into(),
        };
        assert_eq!(decode::<RefEdit>(&encode(&e).unwrap()).unwrap(), e);
        let f = Finding {
            doc_id: "d1".into(),
            kind: "duplicate_charge".into(),
            severity: "error".into(),
            lines: vec![3, 4],
            amount_at_issue: Decimal::from_str("250.00").unwrap(),
            explanation: "billed twice".into(),
            evidence: vec![Evidence { source: "bill".into(), detail: "lines 3 and 4".into() }],
            diff: 1,
        };
        assert_eq!(decode::<Finding>(&encode(&f).unwrap()).unwrap(), f);
        let mut bad = e.clone();
        bad.modifier_indicator = Some("3".into());
        assert!(bad.validate().unwrap_err().to_string().contains("modifier_indicator"));
        let mut bad = p.clone();
        bad.effective_from = "1/1/2026".into();
        assert!(bad.validate().unwrap_err().to_string().contains("effective_from"));
        let d = DeadLetter {
            stage: "decode".into(),
            error: "bad".into(),
            source_topic: "claims.lines".into(),
            source_partition: 2,
            source_offset: 9,
            key: Some(b"k".to_vec()),
            payload: vec![0xff, 0, 1],
            at: 5,
        };
        assert_eq!(decode::<DeadLetter>(&encode(&d).unwrap()).unwrap(), d);
        let u = DocumentUploaded {
            doc_id: "d".into(),
            case_id: "c".into(),
            owner: "o".into(),
            object_key: "documents/sha256/ab".into(),
            sha256: "ab".into(),
            mime: "application/pdf".into(),
            kind: DocumentKind::Eob,
            filename: None,
            size: 3,
            uploaded_at: 1,
            provider: Some("General Hospital".into()),
        };
        assert_eq!(decode::<DocumentUploaded>(&encode(&u).unwrap()).unwrap(), u);
        let l = BillLine {
            doc_id: "d".into(),
            kind: DocumentKind::Bill,
            line_no: 2,
            page: 1,
            service_date: Some("2026-03-14".into()),
            code: Some("85025".into()),
            code_system: "CPT".into(),
            revenue_code: None,
            cdm_code: Some("2500000004".into()),
            modifiers: vec!["59".into()],
            description: "blood count".into(),
            units: 1,
            unit_price: None,
            charge: Decimal::from_str("25.00").unwrap(),
            allowed: None,
            plan_paid: None,
            patient_responsibility: None,
            confidence: 1.0,
            flagged: false,
            total_charges: Some(Decimal::from_str("125.00").unwrap()),
            payments: None,
            adjustments: None,
            balance_due: None,
        };
        let c = BillCorrection { doc_id: "d".into(), line_no: 2, by: "patient".into(), line: Some(l.clone()), at: 9 };
        assert_eq!(decode::<BillCorrection>(&encode(&c).unwrap()).unwrap(), c);
        let delete = BillCorrection { line: None, ..c.clone() };
        assert_eq!(decode::<BillCorrection>(&encode(&delete).unwrap()).unwrap(), delete);
        let other = BillCorrection { line_no: 3, ..c };
        assert!(other.validate().unwrap_err().to_string().contains("does not match"));
    }

    #[test]
    fn every_avsc_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/avro");
        let mut texts = vec![];
        for entry in std::fs::read_dir(dir).unwrap() {
            texts.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        let schemas = Schema::parse_list(refs).unwrap();
        assert_eq!(schemas.len(), texts.len());
        // Every subject names a schema file that exists.
        for (subject, def) in crate::topics::subject_defs().unwrap() {
            assert!(std::path::Path::new(dir).join(&def.schema).exists(), "{subject}: {}", def.schema);
        }
        let ids: std::collections::BTreeSet<u32> =
            crate::topics::subject_defs().unwrap().values().map(|d| d.id).collect();
        assert_eq!(ids.len(), crate::topics::subject_defs().unwrap().len(), "schema ids are unique");
        assert_eq!(crate::topics::subject_defs().unwrap()["claims.lines-value"].id, ClaimLine::SCHEMA_ID);
        assert_eq!(crate::topics::subject_defs().unwrap()["benchmarks-value"].id, Benchmark::SCHEMA_ID);
        assert_eq!(crate::topics::subject_defs().unwrap()["dlq-value"].id, DeadLetter::SCHEMA_ID);
    }

    #[test]
    fn rejects_bad_bytes_with_reasons() {
        assert!(matches!(decode::<ClaimLine>(b"\x00\x00"), Err(SchemaError::TooShort(2))));
        assert!(matches!(decode::<ClaimLine>(b"garbage bytes"), Err(SchemaError::BadMagic(b'g'))));
        let b = encode(&DeadLetter {
            stage: String::new(),
            error: String::new(),
            source_topic: String::new(),
            source_partition: 0,
            source_offset: 0,
            key: None,
            payload: vec![],
            at: 0,
        })
        .unwrap();
        assert!(matches!(decode::<ClaimLine>(&b), Err(SchemaError::WrongSchema { found: 13, expected: 5, .. })));
        let mut l = line();
        l.units = -2;
        let err = decode::<ClaimLine>(&encode(&l).unwrap()).unwrap_err().to_string();
        assert!(err.contains("units"), "{err}");
        // A ClaimLine header in front of a datum that is not a ClaimLine.
        let mut framed = vec![0, 0, 0, 0, 5];
        framed.extend_from_slice(&[0x02, 0x41]);
        assert!(matches!(decode::<ClaimLine>(&framed), Err(SchemaError::Avro { .. })));
    }
}
