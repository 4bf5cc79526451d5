//! Bill intake end to end through the real broker: POST /v1/documents → OCR stage →
//! `documents.ocr` → extraction → `bill.lines` and the `bill_lines` Parquet table; a document
//! that cannot be read lands in the DLQ with the reason.
mod common;
use common::*;
use schemas::records::{BillLine, DocumentKind, OcrMethod, OcrResult};
use schemas::DeadLetter;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use testkit::fixtures::{fixture, Class, Layout};

fn upload(url: &str, name: &str, bytes: Vec<u8>, kind: &str) -> String {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    let (status, body) = post(url, reqwest::multipart::Form::new().part("file", part).text("kind", kind.to_string()));
    assert_eq!(status, 201, "{name}: {body}");
    body["doc_id"].as_str().unwrap().to_string()
}

/// (date, code, units, charge) of each line, in line order.
type Key = (Option<String>, Option<String>, i32, String);

fn key_of_truth(l: &udfs::extract::Line) -> Key {
    (l.service_date.clone(), l.code.clone(), l.units, l.charge.normalize().to_string())
}

fn key_of_record(l: &BillLine) -> Key {
    (l.service_date.clone(), l.code.clone(), l.units, l.charge.normalize().to_string())
}

#[test]
fn upload_to_bill_lines_and_dlq() {
    let b = Broker::start();
    let store = b.dir.path().join("store");
    let env = worker_env(&b, store.to_str().unwrap(), "intake-e2e");
    let w = Worker::spawn(&env, &["--dataflow", "intake", "--threads", "2"], &b.dir.path().join("worker.log"));
    let url = format!("http://{}/v1/documents", w.http);

    let text = fixture(11, Layout::Hospital, Class::TextPdf).unwrap();
    let eob = fixture(12, Layout::Eob, Class::TextPdf).unwrap();
    let scan = fixture(13, Layout::Physician, Class::Scan).unwrap();
    let text_id = upload(&url, "itemized.pdf", text.bytes.clone(), "bill");
    let eob_id = upload(&url, "eob.pdf", eob.bytes.clone(), "eob");
    let scan_id = upload(&url, "statement.png", scan.bytes.clone(), "bill");
    // Pass the upload check (the right magic bytes) but cannot be read: dead letters, each
    // with its reason; the worker carries on.
    let bad_id = upload(&url, "broken.pdf", b"%PDF-1.7\n\x00\x01 not really a PDF".to_vec(), "bill");
    let hostile = [
        (upload(&url, "bomb.png", testkit::fixtures::hostile::pixel_bomb_png(100_000, 100_000), "bill"), "pixel limit"),
        (upload(&url, "locked.pdf", testkit::fixtures::hostile::pdf(1, None, true), "bill"), "encrypted"),
        (upload(&url, "huge.pdf", testkit::fixtures::hostile::pdf(60, None, false), "bill"), "page limit"),
    ];

    let want = [(&text_id, &text), (&eob_id, &eob), (&scan_id, &scan)];
    let start = Instant::now();
    let mut by_doc: BTreeMap<String, Vec<BillLine>> = BTreeMap::new();
    loop {
        by_doc.clear();
        for (_, v) in b.read_topic("bill.lines") {
            let l: BillLine = schemas::decode(&v.unwrap()).unwrap();
            by_doc.entry(l.doc_id.clone()).or_default().push(l);
        }
        if want.iter().all(|(id, f)| by_doc.get(*id).map(|v| v.len()).unwrap_or(0) >= f.truth.lines.len()) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "bill.lines after 240 s: {:?}",
            by_doc.keys().collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // The text PDFs are read exactly: every line and the totals.
    for (id, f) in [(&text_id, &text), (&eob_id, &eob)] {
        let got: Vec<Key> = by_doc[id].iter().map(key_of_record).collect();
        let truth: Vec<Key> = f.truth.lines.iter().map(key_of_truth).collect();
        assert_eq!(got, truth, "{}", f.name);
        let first = &by_doc[id][0];
        assert_eq!(first.total_charges, f.truth.totals.total_charges, "{} total charges", f.name);
        assert_eq!(first.balance_due, f.truth.totals.balance_due, "{} balance", f.name);
    }
    assert!(by_doc[&eob_id].iter().all(|l| l.kind == DocumentKind::Eob && l.patient_responsibility.is_some()));
    // The scan went through tesseract; it is read well enough that most lines match exactly.
    let truth: Vec<Key> = scan.truth.lines.iter().map(key_of_truth).collect();
    let matched = by_doc[&scan_id].iter().filter(|l| truth.contains(&key_of_record(l))).count();
    assert!(matched * 10 >= truth.len() * 9, "scan: {matched} of {} lines match", truth.len());

    // documents.ocr keeps the words, with the method used.
    let ocr: BTreeMap<String, OcrResult> = b
        .read_topic("documents.ocr")
        .into_iter()
        .map(|(_, v)| schemas::decode::<OcrResult>(&v.unwrap()).unwrap())
        .map(|r| (r.doc_id.clone(), r))
        .collect();
    assert_eq!(ocr[&text_id].method, OcrMethod::TextLayer);
    assert_eq!(ocr[&scan_id].method, OcrMethod::Ocr);
    assert!(!ocr.contains_key(&bad_id));

    // The broken upload is a dead letter naming the stage and the reason.
    let start = Instant::now();
    let dead: Vec<DeadLetter> = loop {
        let dead: Vec<DeadLetter> =
            b.read_topic("dlq").into_iter().map(|(_, v)| schemas::decode(&v.unwrap()).unwrap()).collect();
        if dead.len() >= 4 || start.elapsed() > Duration::from_secs(60) {
            break dead;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let d = dead.iter().find(|d| d.stage == "intake.ocr").expect("a dead letter from the OCR stage");
    assert_eq!(d.source_topic, "documents.uploaded");
    assert!(d.error.contains("PDF cannot be read"), "{}", d.error);
    let event: schemas::DocumentUploaded = schemas::decode(&d.payload).unwrap();
    assert_eq!(event.doc_id, bad_id);
    for (id, reason) in &hostile {
        let d = dead
            .iter()
            .find(|d| {
                schemas::decode::<schemas::DocumentUploaded>(&d.payload).map(|e| &e.doc_id == id).unwrap_or(false)
            })
            .unwrap_or_else(|| panic!("no dead letter for the {reason} upload"));
        assert_eq!(d.stage, "intake.ocr");
        assert!(d.error.contains(reason), "{reason}: {}", d.error);
    }

    // The Parquet table through SQL: the same lines and amounts as the topic.
    let start = Instant::now();
    loop {
        let rows = sql_json(
            &env,
            "SELECT doc_id, count(*) AS n, sum(charge) AS total FROM bill_lines GROUP BY doc_id ORDER BY doc_id",
        );
        let got: BTreeMap<String, (i64, String)> = rows
            .iter()
            .map(|r| {
                (
                    r["doc_id"].as_str().unwrap().to_string(),
                    (r["n"].as_i64().unwrap(), r["total"].as_str().unwrap().to_string()),
                )
            })
            .collect();
        if got.len() == 3 {
            for (id, lines) in &by_doc {
                let sum: rust_decimal::Decimal = lines.iter().map(|l| l.charge).sum();
                let (n, total) = &got[id];
                assert_eq!(*n as usize, lines.len());
                assert_eq!(total.parse::<rust_decimal::Decimal>().unwrap(), sum);
            }
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "bill_lines table: {rows:?}");
        std::thread::sleep(Duration::from_millis(300));
    }

    // Both stages committed everything they read.
    let start = Instant::now();
    loop {
        let m = w.metrics();
        let (ocr_lag, ocr_parts) = topic_lag_from_metrics(&m, "billstream-intake-ocr", "documents.uploaded");
        let (ex_lag, ex_parts) = topic_lag_from_metrics(&m, "billstream-intake-extract", "documents.ocr");
        if ocr_parts > 0 && ex_parts > 0 && ocr_lag == 0 && ex_lag == 0 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "intake lag: ocr {ocr_lag}, extract {ex_lag}");
        std::thread::sleep(Duration::from_millis(300));
    }
}
