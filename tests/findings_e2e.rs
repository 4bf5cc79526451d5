//! The findings stage end to end through a real broker (tansu) and the real binary: edits loaded
//! with `billstream ingest`, documents and bill lines on the log, findings on the `findings`
//! topic and in the `findings` table; then a patient's correction retracts exactly the finding
//! it resolves.
mod common;
use common::*;
use rust_decimal::Decimal;
use schemas::records::{BillLine, DocumentKind, DocumentUploaded};
use schemas::Finding;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn line(doc: &str, kind: DocumentKind, no: i32, code: &str, units: i32, charge: &str) -> BillLine {
    BillLine {
        doc_id: doc.into(),
        kind,
        line_no: no,
        page: 1,
        service_date: Some("2026-05-04".into()),
        code: Some(code.into()),
        code_system: "CPT".into(),
        revenue_code: None,
        cdm_code: None,
        modifiers: vec![],
        description: String::new(),
        units,
        unit_price: None,
        charge: charge.parse().unwrap(),
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

fn uploaded(doc: &str, case: &str, kind: DocumentKind) -> DocumentUploaded {
    DocumentUploaded {
        doc_id: doc.into(),
        case_id: case.into(),
        owner: "patient".into(),
        object_key: format!("documents/sha256/{doc}"),
        sha256: doc.into(),
        mime: "application/pdf".into(),
        kind,
        filename: None,
        size: 1,
        uploaded_at: 1,
        provider: None,
    }
}

type Current = BTreeMap<(String, String, Vec<i32>), Decimal>;

/// The findings topic folded: every +1/−1 applied in order.
fn findings_topic(b: &Broker) -> (Current, Vec<Finding>) {
    let all: Vec<Finding> =
        b.read_topic("findings").into_iter().map(|(_, v)| schemas::decode(&v.unwrap()).unwrap()).collect();
    let mut n: BTreeMap<(String, String, Vec<i32>, Decimal), i32> = BTreeMap::new();
    for f in &all {
        *n.entry((f.doc_id.clone(), f.kind.clone(), f.lines.clone(), f.amount_at_issue)).or_default() += f.diff;
    }
    let current = n.into_iter().filter(|(_, c)| *c > 0).map(|((d, k, l, a), _)| ((d, k, l), a)).collect();
    (current, all)
}

fn findings_table(env: &[(String, String)]) -> Current {
    sql_json(env, "SELECT doc_id, kind, lines, amount_at_issue FROM findings")
        .into_iter()
        .map(|r| {
            let lines = r["lines"].as_str().unwrap().split(',').map(|n| n.parse().unwrap()).collect();
            let amount: Decimal = r["amount_at_issue"].as_str().unwrap().parse().unwrap();
            ((r["doc_id"].as_str().unwrap().into(), r["kind"].as_str().unwrap().into(), lines), amount.normalize())
        })
        .collect()
}

/// Waits until the findings group has committed every record of `topic` (`records` in all).
fn wait_committed(w: &Worker, topic: &str, records: i64) {
    let start = Instant::now();
    loop {
        let m = w.metrics();
        let (lag, n) = topic_lag_from_metrics(&m, "billstream-findings", topic);
        let high: i64 = m
            .lines()
            .filter(|l| {
                l.starts_with("kafka_topic_partition_current_offset{") && l.contains(&format!("topic=\"{topic}\""))
            })
            .map(|l| l.rsplit(' ').next().unwrap().parse::<i64>().unwrap())
            .sum();
        if n == 4 && lag == 0 && high == records {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "{topic}: lag {lag} on {n} partitions, high {high}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn findings_from_the_log_then_a_correction() {
    let b = Broker::start();
    let store = b.dir.path().join("store");
    let env = worker_env(&b, store.to_str().unwrap(), "findings-e2e");
    let envs: Vec<(&str, &str)> = env.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    b.cli(&envs, &["ingest", "edits", "deploy/demo/reference/hbc_mue_practitioner_2026Q2_MAI3only.json"]);

    let mut sink = connectors::kafka::sink::Sink::new(&b.kafka()).unwrap();
    for u in [
        uploaded("bill-1", "case-1", DocumentKind::Bill),
        uploaded("eob-1", "case-1", DocumentKind::Eob),
        uploaded("bill-2", "case-2", DocumentKind::Bill),
    ] {
        sink.send("documents.uploaded", u.doc_id.as_bytes(), Some(&schemas::encode(&u).unwrap())).unwrap();
    }
    use DocumentKind::{Bill, Eob};
    // bill-1: a comprehensive metabolic panel (80053) billed with its own glucose test (82947),
    // and a balance of $235.00 where the EOB says the patient owes $40.00.
    let mut bill1 = [
        line("bill-1", Bill, 1, "99213", 1, "150.00"),
        line("bill-1", Bill, 2, "80053", 1, "60.00"),
        line("bill-1", Bill, 3, "82947", 1, "25.00"),
    ];
    for l in bill1.iter_mut() {
        l.balance_due = Some("235.00".parse().unwrap());
    }
    let mut eob = line("eob-1", Eob, 1, "99213", 1, "150.00");
    eob.patient_responsibility = Some("40.00".parse().unwrap());
    // bill-2: the same blood count twice.
    let bill2 = [line("bill-2", Bill, 1, "85025", 1, "30.00"), line("bill-2", Bill, 2, "85025", 1, "30.00")];
    for l in bill1.iter().chain([&eob]).chain(bill2.iter()) {
        sink.send("bill.lines", l.doc_id.as_bytes(), Some(&schemas::encode(l).unwrap())).unwrap();
    }
    sink.send("bill.lines", b"bill-3", Some(b"not avro")).unwrap();
    sink.flush(Duration::from_secs(30)).unwrap();

    let w = Worker::spawn(&env, &["--threads", "2", "--dataflow", "findings"], &b.dir.path().join("worker.log"));
    wait_committed(&w, "bill.lines", 7);
    let k = |d: &str, kind: &str, lines: Vec<i32>| (d.to_string(), kind.to_string(), lines);
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    let expect: Current = [
        (k("bill-1", "eob_mismatch", vec![1, 2, 3]), d("195")),
        (k("bill-1", "unbundled_pair", vec![2, 3]), d("25")),
        (k("bill-2", "duplicate_charge", vec![1, 2]), d("30")),
    ]
    .into();
    let (topic, before) = findings_topic(&b);
    let norm = |c: Current| c.into_iter().map(|(k, v)| (k, v.normalize())).collect::<Current>();
    assert_eq!(norm(topic), expect, "findings topic");
    assert_eq!(findings_table(&env), expect, "findings table");
    let dlq: Vec<schemas::DeadLetter> =
        b.read_topic("dlq").into_iter().map(|(_, v)| schemas::decode(&v.unwrap()).unwrap()).collect();
    assert!(
        dlq.iter().any(|d| d.stage == "findings.decode" && d.source_topic == "bill.lines" && d.payload == b"not avro"),
        "{dlq:?}"
    );

    // Bad corrections are refused before they reach the log.
    let url = format!("http://{}/v1/documents/bill-1/lines/3", w.http);
    assert_eq!(put(&url, r#"{"units": 1}"#).0, 400, "no charge");
    assert_eq!(put(&url, r#"{"units": 1, "charge": "25.00", "service_date": "05/04/2026"}"#).0, 400);
    assert_eq!(put(&format!("http://{}/v1/documents/bill-1/lines/0", w.http), r#"{"units": 1, "charge": "1"}"#).0, 400);
    // The patient corrects line 3 of bill-1: it was a blood count (85025), not a glucose test.
    let (status, body) = put(&url, r#"{"service_date": "2026-05-04", "code": "85025", "units": 1, "charge": "25.00"}"#);
    assert_eq!(status, 202, "{body}");
    wait_committed(&w, "bill.corrections", 1);
    let (topic, after) = findings_topic(&b);
    let new: Vec<(String, String, Vec<i32>, i32)> =
        after[before.len()..].iter().map(|f| (f.doc_id.clone(), f.kind.clone(), f.lines.clone(), f.diff)).collect();
    assert_eq!(
        new,
        vec![("bill-1".to_string(), "unbundled_pair".to_string(), vec![2, 3], -1)],
        "exactly one retraction"
    );
    let mut expect2 = expect.clone();
    expect2.remove(&k("bill-1", "unbundled_pair", vec![2, 3]));
    assert_eq!(norm(topic), expect2);
    assert_eq!(findings_table(&env), expect2, "findings table after the correction");
    // What the patient's page reads: the document's current findings.
    let mine: serde_json::Value =
        serde_json::from_str(&reqwest_blocking(&format!("http://{}/v1/documents/bill-1/findings", w.http))).unwrap();
    let kinds: Vec<&str> = mine.as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["eob_mismatch"]);
    assert!(mine[0]["explanation"].as_str().unwrap().contains("$40.00"), "{mine}");
}

fn put(url: &str, body: &str) -> (u16, serde_json::Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new()
            .put(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    })
}
