//! `billstream extract FILE... [--json]`: OCR and line items through the intake graph in
//! process (no broker, no store), printed as a table or as the JSON of the CLI contract.
use super::input;
use anyhow::{anyhow, bail, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use dataflows::intake::{read_files, FileResult, InputFile};
use schemas::records::{DocumentKind, OcrMethod, OcrResult};
use std::path::PathBuf;
use std::sync::Arc;
use udfs::ocr::Limits;

pub fn run(files: &[PathBuf], kind: Option<DocumentKind>, threads: usize, json: bool) -> Result<()> {
    // JSON line items are taken as they are; documents (PDF, image, pasted text) go through
    // the intake graph. Results keep the order the files were named in.
    let mut slots: Vec<Option<FileResult>> = Vec::new();
    let mut inputs = Vec::new();
    let mut at = Vec::new();
    for f in files {
        let input = input::read(f)?;
        if input.is_json() {
            let ex = input.json_items(kind.unwrap_or(DocumentKind::Bill))?;
            let ocr = OcrResult {
                doc_id: String::new(),
                kind: ex.kind,
                uploaded_at: 0,
                method: OcrMethod::TextLayer,
                pages: vec![],
            };
            slots.push(Some(FileResult { name: input.name, result: Ok((ocr, ex)) }));
        } else {
            at.push(slots.len());
            slots.push(None);
            inputs.push(InputFile { name: input.name, bytes: Arc::new(input.bytes), kind });
        }
    }
    if !inputs.is_empty() {
        let read = read_files(inputs, threads, Limits::default()).map_err(|e| anyhow!(e))?;
        for (i, r) in at.into_iter().zip(read) {
            slots[i] = Some(r);
        }
    }
    let results: Vec<FileResult> = slots.into_iter().flatten().collect();
    let failed = results.iter().filter(|r| r.result.is_err()).count();
    if json {
        let docs: Vec<serde_json::Value> = results.iter().map(to_json).collect();
        let out = if docs.len() == 1 { docs[0].clone() } else { serde_json::Value::Array(docs) };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for r in &results {
            print_table(r);
        }
    }
    match (failed, results.as_slice()) {
        (0, _) => Ok(()),
        (1, [one]) => {
            Err(anyhow!("{}: {}", one.name, one.result.as_ref().err().map(String::as_str).unwrap_or_default()))
        }
        _ => bail!("{failed} of {} files could not be read (each is named above)", results.len()),
    }
}

/// The `--json` shape of DESIGN.md's CLI contract (money as decimal strings).
pub fn to_json(r: &FileResult) -> serde_json::Value {
    match &r.result {
        Err(e) => serde_json::json!({"source": r.name, "error": e}),
        Ok((ocr, ex)) => serde_json::json!({
            "source": r.name,
            "kind": ex.kind,
            "pages": ocr.pages.len(),
            "method": method(ocr),
            "lines": ex.lines,
            "totals": ex.totals,
            "warnings": ex.warnings,
        }),
    }
}

/// How a document was read; JSON line items have no pages.
fn method(ocr: &OcrResult) -> &'static str {
    match ocr.method {
        _ if ocr.pages.is_empty() => "json",
        OcrMethod::TextLayer => "text",
        OcrMethod::Ocr => "ocr",
    }
}

fn print_table(r: &FileResult) {
    let (ocr, ex) = match &r.result {
        Err(e) => {
            eprintln!("{}: {e}", r.name);
            return;
        }
        Ok(v) => v,
    };
    let method = match method(ocr) {
        "json" => "JSON line items",
        "text" => "text layer",
        _ => "OCR",
    };
    println!("{} — {} page(s), read by {method}, {} line(s)", r.name, ocr.pages.len(), ex.lines.len());
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["#", "Date", "Code", "Mod", "Rev", "Description", "Units", "Unit price", "Charge", "Conf"]);
    for l in &ex.lines {
        let money = |d: Option<rust_decimal::Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
        let conf = format!("{:.2}{}", l.confidence, if l.flagged { " check" } else { "" });
        t.add_row(vec![
            Cell::new(l.line_no),
            Cell::new(l.service_date.clone().unwrap_or_default()),
            Cell::new(l.code.clone().unwrap_or_default()),
            Cell::new(l.modifiers.join(",")),
            Cell::new(l.revenue_code.clone().unwrap_or_default()),
            Cell::new(&l.description),
            Cell::new(l.units).set_alignment(CellAlignment::Right),
            Cell::new(money(l.unit_price)).set_alignment(CellAlignment::Right),
            Cell::new(l.charge).set_alignment(CellAlignment::Right),
            Cell::new(conf),
        ]);
    }
    println!("{t}");
    let tot = &ex.totals;
    for (label, v) in [
        ("Total charges", tot.total_charges),
        ("Payments", tot.payments),
        ("Adjustments", tot.adjustments),
        ("Balance due", tot.balance_due),
    ] {
        if let Some(v) = v {
            println!("{label:>14}: {v}");
        }
    }
    for w in &ex.warnings {
        println!("warning: {w}");
    }
    println!();
}
