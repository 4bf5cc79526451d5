//! Scores an audit of the evaluation set (`udfs::evalset`, committed in `tests/eval/findings/`)
//! against its labels: per finding kind true and false positives, misses, precision and recall;
//! the share of clean bills without an error-severity finding; expected and unexpected warnings.
//!
//! Matching: a finding matches a label when both name the same document and kind and their
//! lines intersect; for the document-level kinds (`udfs::evalset::DOCUMENT_KINDS`: totals, EOB,
//! balance billing, GFE) document and kind suffice. A label is found when some finding matches
//! it (TP), missed otherwise (FN); a finding that matches no label is a false positive (FP).
//! Precision = matching findings / findings of the kind (1 when there are none), recall = found
//! labels / labels (1 when there are none). `anomaly` findings (isolation-forest scores) have no
//! labels here: they are scored by their own AUC bench and left out.
use super::{Audited, CaseInput};
use crate::{DataflowError, Result};
use schemas::{Benchmark, Finding};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use udfs::evalset::{EvalCase, Label, DOCUMENT_KINDS, KINDS};

/// The file of cases in a set directory, one JSON `EvalCase` per line.
pub const CASES_FILE: &str = "cases.jsonl";
/// Observed-charge benchmarks the cases were priced against, one JSON `Benchmark` per line.
pub const OBSERVED_FILE: &str = "observed_benchmarks.jsonl";

/// One kind's score.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KindScore {
    pub kind: String,
    /// Labels of the kind.
    pub support: usize,
    /// Labels found.
    pub tp: usize,
    /// Findings that match no label.
    pub fp: usize,
    /// Labels missed.
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub precision: f64,
    pub recall: f64,
}

/// A place where the engine and the labels disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disagreement {
    pub case_id: String,
    pub note: String,
    pub kind: String,
    pub doc_id: String,
    pub lines: Vec<i32>,
    /// `missed` (a label no finding matched) or `unexpected <severity>` (a finding no label
    /// matched), or `no warning` / `unexpected warning`.
    pub what: String,
    pub explanation: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub cases: usize,
    pub labels: usize,
    pub kinds: Vec<KindScore>,
    /// Cases without labels and without expected warnings (clean bills and hard negatives).
    pub clean_cases: usize,
    /// Of those, the ones with no error-severity finding.
    pub clean_error_free: usize,
    pub clean_error_free_rate: f64,
    pub warnings_expected: usize,
    /// Cases expecting a warning that got one.
    pub warnings_seen: usize,
    /// Cases not expecting a warning that got one.
    pub unexpected_warnings: usize,
    pub disagreements: Vec<Disagreement>,
}

fn matches(l: &Label, f: &Finding) -> bool {
    l.kind == f.kind
        && l.doc_id == f.doc_id
        && (DOCUMENT_KINDS.contains(&l.kind.as_str()) || l.lines.iter().any(|n| f.lines.contains(n)))
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

/// Scores `audited` (an audit of exactly `cases`) against the cases' labels.
pub fn score(cases: &[EvalCase], audited: &Audited) -> Report {
    // Which case each document belongs to.
    let mut case_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        for l in &c.lines {
            case_of.insert(l.doc_id.as_str(), i);
        }
    }
    let findings: Vec<&Finding> = audited.findings.iter().filter(|f| f.kind != "anomaly").collect();
    let mut by_case: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for f in &findings {
        if let Some(i) = case_of.get(f.doc_id.as_str()) {
            by_case.entry(*i).or_default().push(f);
        }
    }
    let mut warned: BTreeMap<usize, usize> = BTreeMap::new();
    for w in &audited.warnings {
        if let Some(i) = case_of.get(w.doc_id.as_str()) {
            *warned.entry(*i).or_default() += 1;
        }
    }
    let mut kinds: BTreeMap<String, KindScore> =
        KINDS.iter().map(|k| (k.to_string(), KindScore { kind: k.to_string(), ..KindScore::default() })).collect();
    let mut matched_findings: BTreeMap<String, usize> = BTreeMap::new();
    let mut r = Report { cases: cases.len(), ..Report::default() };
    for (i, c) in cases.iter().enumerate() {
        let fs = by_case.get(&i).map(Vec::as_slice).unwrap_or_default();
        let mut disagree = |kind: &str, doc: &str, lines: &[i32], what: String, explanation: String| {
            r.disagreements.push(Disagreement {
                case_id: c.case_id.clone(),
                note: c.note.clone(),
                kind: kind.into(),
                doc_id: doc.into(),
                lines: lines.to_vec(),
                what,
                explanation,
            })
        };
        for l in &c.labels {
            r.labels += 1;
            let s = kinds
                .entry(l.kind.clone())
                .or_insert_with(|| KindScore { kind: l.kind.clone(), ..KindScore::default() });
            s.support += 1;
            if fs.iter().any(|f| matches(l, f)) {
                s.tp += 1;
            } else {
                s.fn_ += 1;
                disagree(&l.kind, &l.doc_id, &l.lines, "missed".into(), String::new());
            }
        }
        for f in fs {
            let s = kinds
                .entry(f.kind.clone())
                .or_insert_with(|| KindScore { kind: f.kind.clone(), ..KindScore::default() });
            if c.labels.iter().any(|l| matches(l, f)) {
                *matched_findings.entry(f.kind.clone()).or_default() += 1;
            } else {
                s.fp += 1;
                disagree(&f.kind, &f.doc_id, &f.lines, format!("unexpected {}", f.severity), f.explanation.clone());
            }
        }
        let got_warning = warned.contains_key(&i);
        if c.expect_warnings {
            r.warnings_expected += 1;
            if got_warning {
                r.warnings_seen += 1;
            } else {
                disagree("warning", "", &[], "no warning".into(), String::new());
            }
        } else if got_warning {
            r.unexpected_warnings += 1;
            let messages: Vec<&str> = audited
                .warnings
                .iter()
                .filter(|w| case_of.get(w.doc_id.as_str()) == Some(&i))
                .map(|w| w.message.as_str())
                .collect();
            disagree("warning", "", &[], "unexpected warning".into(), messages.join(" | "));
        }
        if c.labels.is_empty() && !c.expect_warnings {
            r.clean_cases += 1;
            if !fs.iter().any(|f| f.severity == "error") {
                r.clean_error_free += 1;
            }
        }
    }
    r.clean_error_free_rate = ratio(r.clean_error_free, r.clean_cases);
    r.kinds = kinds
        .into_values()
        .map(|mut s| {
            let matched = matched_findings.get(&s.kind).copied().unwrap_or(0);
            s.precision = ratio(matched, matched + s.fp);
            s.recall = ratio(s.tp, s.support);
            s
        })
        .collect();
    // In the order of DESIGN.md's kinds, then any other kind the engine produced.
    r.kinds.sort_by_key(|s| (KINDS.iter().position(|k| *k == s.kind).unwrap_or(KINDS.len()), s.kind.clone()));
    r
}

/// The cases as the audit takes them.
pub fn inputs(cases: &[EvalCase]) -> Vec<CaseInput> {
    cases.iter().map(|c| CaseInput { case_id: c.case_id.clone(), lines: c.lines.clone(), provider: None }).collect()
}

/// Reads a set directory: `cases.jsonl` and, when present, `observed_benchmarks.jsonl`. Blank
/// lines and lines starting with `//` are skipped (notes in hand-written additions).
pub fn load_set(dir: &Path) -> Result<(Vec<EvalCase>, Vec<Benchmark>)> {
    let cases = read_jsonl(&dir.join(CASES_FILE))?;
    let observed_path = dir.join(OBSERVED_FILE);
    let observed = if observed_path.exists() { read_jsonl(&observed_path)? } else { vec![] };
    Ok((cases, observed))
}

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let bad = |what: String| DataflowError::Config(format!("{}: {what}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut out = vec![];
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| bad(e.to_string()))?;
        let text = line.trim();
        if text.is_empty() || text.starts_with("//") {
            continue;
        }
        out.push(serde_json::from_str(text).map_err(|e| bad(format!("line {}: {e}", n + 1)))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Warning;
    use rust_decimal::Decimal;
    use schemas::records::{BillLine, DocumentKind};

    fn line(doc: &str, no: i32) -> BillLine {
        BillLine {
            doc_id: doc.into(),
            kind: DocumentKind::Bill,
            line_no: no,
            page: 1,
            service_date: Some("2026-07-06".into()),
            code: Some("99213".into()),
            code_system: "CPT".into(),
            revenue_code: None,
            cdm_code: None,
            modifiers: vec![],
            description: "Office visit".into(),
            units: 1,
            unit_price: None,
            charge: Decimal::from(100),
            allowed: None,
            plan_paid: None,
            patient_responsibility: None,
            confidence: 0.99,
            flagged: false,
            total_charges: None,
            payments: None,
            adjustments: None,
            balance_due: None,
        }
    }

    fn case(id: &str, labels: Vec<Label>, warn: bool) -> EvalCase {
        let doc = format!("{id}-bill");
        EvalCase {
            case_id: id.into(),
            note: String::new(),
            expect_warnings: warn,
            labels,
            lines: vec![line(&doc, 1), line(&doc, 2), line(&doc, 3)],
        }
    }

    fn label(kind: &str, doc: &str, lines: Vec<i32>) -> Label {
        Label { kind: kind.into(), doc_id: doc.into(), lines }
    }

    fn finding(kind: &str, severity: &str, doc: &str, lines: Vec<i32>) -> Finding {
        Finding {
            doc_id: doc.into(),
            kind: kind.into(),
            severity: severity.into(),
            lines,
            amount_at_issue: Decimal::ZERO,
            explanation: String::new(),
            evidence: vec![],
            diff: 1,
        }
    }

    #[test]
    fn lines_must_intersect_except_for_document_kinds() {
        let cases = vec![
            case("A", vec![label("duplicate_charge", "A-bill", vec![1, 2])], false),
            case("B", vec![label("price_outlier", "B-bill", vec![3])], false),
            case("C", vec![label("total_mismatch", "C-bill", vec![1, 2, 3])], false),
            case("D", vec![], false),
            case("E", vec![], true),
            case("F", vec![], false),
        ];
        let audited = Audited {
            findings: vec![
                finding("duplicate_charge", "warning", "A-bill", vec![2, 3]),
                finding("price_outlier", "warning", "B-bill", vec![1]),
                finding("total_mismatch", "error", "C-bill", vec![]),
                finding("arithmetic_error", "error", "D-bill", vec![1]),
                finding("anomaly", "error", "F-bill", vec![1]),
            ],
            warnings: vec![Warning { doc_id: "E-bill".into(), lines: vec![], message: "m".into() }],
        };
        let r = score(&cases, &audited);
        let k = |kind: &str| r.kinds.iter().find(|s| s.kind == kind).unwrap().clone();
        assert_eq!((k("duplicate_charge").tp, k("duplicate_charge").precision), (1, 1.0));
        let p = k("price_outlier");
        assert_eq!((p.tp, p.fp, p.fn_, p.precision, p.recall), (0, 1, 1, 0.0, 0.0));
        assert_eq!(k("total_mismatch").recall, 1.0);
        let a = k("arithmetic_error");
        assert_eq!((a.support, a.fp, a.precision, a.recall), (0, 1, 0.0, 1.0));
        assert!(r.kinds.iter().all(|s| s.kind != "anomaly"), "anomaly is scored elsewhere");
        // D (an error finding) and F (only an anomaly) are the clean cases.
        assert_eq!((r.clean_cases, r.clean_error_free), (2, 1));
        assert_eq!((r.warnings_expected, r.warnings_seen, r.unexpected_warnings), (1, 1, 0));
        assert_eq!(r.disagreements.len(), 3, "{:#?}", r.disagreements);
        assert_eq!(r.kinds[0].kind, "duplicate_charge");
    }
}
