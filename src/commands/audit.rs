//! `billstream audit FILE [--eob FILE] [--gfe FILE] [--json]`: line items and findings of one
//! bill, in process. The documents go through the intake graph (or are read from the JSON that
//! `billstream extract --json` prints), then through the findings graph with the reference
//! files of `findings.reference_dir` — the same graphs the deployment runs over Kafka.
use crate::config::Config;
use anyhow::{anyhow, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use dataflows::findings::{oneshot, reference, Audited, CaseInput};
use dataflows::intake::lines::bill_lines;
use dataflows::intake::{read_files, InputFile};
use schemas::records::{BillLine, DocumentKind, OcrMethod};
use schemas::Finding;
use std::path::PathBuf;
use std::sync::Arc;
use udfs::extract::Extraction;
use udfs::ocr::Limits;
use udfs::rules::{dollars, total_at_issue};

pub struct Args {
    pub bill: PathBuf,
    pub eob: Option<PathBuf>,
    pub gfe: Option<PathBuf>,
    pub reference: Option<PathBuf>,
    pub locality: Option<String>,
    /// The hospital that sent the bill, as its price file names it.
    pub hospital: Option<String>,
    pub threads: usize,
    pub json: bool,
}

/// One document as read: its extraction and how it was read.
struct Doc {
    name: String,
    kind: DocumentKind,
    pages: usize,
    method: &'static str,
    ex: Extraction,
}

pub fn run(cfg: &Config, a: Args) -> Result<()> {
    let files: Vec<(PathBuf, DocumentKind)> = std::iter::once((a.bill.clone(), DocumentKind::Bill))
        .chain(a.eob.clone().map(|p| (p, DocumentKind::Eob)))
        .chain(a.gfe.clone().map(|p| (p, DocumentKind::Gfe)))
        .collect();
    let docs = read_documents(&files, a.threads)?;

    let dir = crate::shipped::reference_dir(a.reference.as_deref().unwrap_or(&cfg.findings.reference_dir))?;
    let locality = a.locality.as_deref().or(cfg.findings.locality.as_deref());
    let (mut refdata, notes) = reference::load_dir(&dir, locality).map_err(|e| anyhow!("{e}"))?;
    refdata.model = anomaly_model(cfg);
    for n in &notes {
        tracing::debug!(target: "billstream::audit", "reference {n}");
    }

    let mut lines: Vec<BillLine> = vec![];
    for d in &docs {
        lines.extend(bill_lines(doc_id(d.kind), d.kind, &d.ex));
    }
    let audited = oneshot::audit(
        &refdata,
        vec![CaseInput { case_id: "audit".into(), lines, provider: a.hospital.clone() }],
        a.threads,
    )
    .map_err(|e| anyhow!("{e}"))?;
    let bill = &docs[0];
    if a.json {
        println!("{}", serde_json::to_string_pretty(&to_json(bill, &docs, &audited))?);
    } else {
        print_report(bill, &docs, &audited);
    }
    Ok(())
}

/// The latest anomaly model in the configured object store, if the stack has trained one
/// (`billstream up` / the retrainer); without it the audit has no anomaly scores.
fn anomaly_model(cfg: &Config) -> Option<(u64, Vec<u8>)> {
    let store = connectors::objstore::Store::open(&cfg.store).ok()?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    match rt.block_on(connectors::objstore::models::latest_body(&store, dataflows::findings::runtime::MODEL)) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "no anomaly model: the audit goes on without anomaly scores");
            None
        }
    }
}

fn read_documents(files: &[(PathBuf, DocumentKind)], threads: usize) -> Result<Vec<Doc>> {
    let mut docs: Vec<Option<Doc>> = Vec::new();
    let mut to_read = Vec::new();
    for (path, kind) in files {
        let input = super::input::read(path)?;
        if input.is_json() {
            let ex = input.json_items(*kind)?;
            docs.push(Some(Doc { name: input.name, kind: *kind, pages: 0, method: "json", ex }));
        } else {
            to_read.push((docs.len(), InputFile { name: input.name, bytes: Arc::new(input.bytes), kind: Some(*kind) }));
            docs.push(None);
        }
    }
    let inputs: Vec<InputFile> = to_read.iter().map(|(_, f)| f.clone()).collect();
    let results = if inputs.is_empty() {
        vec![]
    } else {
        read_files(inputs, threads, Limits::default()).map_err(|e| anyhow!(e))?
    };
    for ((slot, f), r) in to_read.into_iter().zip(results) {
        let (ocr, ex) = r.result.map_err(|e| anyhow!("{}: {e}", r.name))?;
        let method = match ocr.method {
            OcrMethod::TextLayer => "text",
            OcrMethod::Ocr => "ocr",
        };
        let kind = f.kind.unwrap_or(DocumentKind::Bill);
        docs[slot] = Some(Doc { name: f.name, kind, pages: ocr.pages.len(), method, ex });
    }
    docs.into_iter().map(|d| d.ok_or_else(|| anyhow!("a document was not read"))).collect()
}

/// The document ids of the one case an audit runs.
fn doc_id(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Bill => "bill",
        DocumentKind::Eob => "eob",
        DocumentKind::Gfe => "gfe",
    }
}

/// The bill's findings (the EOB and GFE documents have none of their own).
fn of_bill(audited: &Audited, bill: &Doc) -> Vec<Finding> {
    audited.findings.iter().filter(|f| f.doc_id == doc_id(bill.kind)).cloned().collect()
}

/// DESIGN.md's `--json` shape: the bill's lines and totals, its findings, and every warning
/// (extraction's and the rules').
fn to_json(bill: &Doc, docs: &[Doc], audited: &Audited) -> serde_json::Value {
    let mine = of_bill(audited, bill);
    let findings: Vec<serde_json::Value> = mine
        .iter()
        .map(|f| {
            serde_json::json!({
                "kind": f.kind, "severity": f.severity, "lines": f.lines,
                "amount_at_issue": f.amount_at_issue.to_string(), "explanation": f.explanation,
                "evidence": f.evidence,
            })
        })
        .collect();
    let total = total_at_issue(&mine);
    serde_json::json!({
        "source": bill.name,
        "pages": bill.pages,
        "method": bill.method,
        "lines": bill.ex.lines,
        "totals": bill.ex.totals,
        "findings": findings,
        "amount_at_issue": total.to_string(),
        "warnings": warnings(docs, audited),
    })
}

fn warnings(docs: &[Doc], audited: &Audited) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for d in docs {
        out.extend(d.ex.warnings.iter().map(|w| format!("{}: {w}", d.name)));
    }
    out.extend(audited.warnings.iter().map(|w| w.message.clone()));
    out
}

fn print_report(bill: &Doc, docs: &[Doc], audited: &Audited) {
    println!("{} — {} line(s)", bill.name, bill.ex.lines.len());
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["#", "Date", "Code", "Mod", "Units", "Charge"]);
    for l in &bill.ex.lines {
        t.add_row(vec![
            Cell::new(l.line_no),
            Cell::new(l.service_date.clone().unwrap_or_default()),
            Cell::new(l.code.clone().unwrap_or_default()),
            Cell::new(l.modifiers.join(",")),
            Cell::new(l.units).set_alignment(CellAlignment::Right),
            Cell::new(dollars(l.charge)).set_alignment(CellAlignment::Right),
        ]);
    }
    println!("{t}\n");
    let findings = of_bill(audited, bill);
    for (i, f) in findings.iter().enumerate() {
        let lines = f.lines.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
        println!("{}. {} ({}) — line(s) {lines} — {} at issue", i + 1, f.kind, f.severity, dollars(f.amount_at_issue));
        println!("   {}", f.explanation);
        for e in &f.evidence {
            println!("   source: {} — {}", e.source, e.detail);
        }
        println!();
    }
    for w in warnings(docs, audited) {
        println!("warning: {w}");
    }
    let n = findings.len();
    println!("{n} problem{}, {} at issue", if n == 1 { "" } else { "s" }, dollars(total_at_issue(&findings)));
}
