//! The S3 path against a real S3 API server (s3s-fs), and the HTTP API.
mod common;
use common::*;
use std::process::{Command, Stdio};

struct S3 {
    endpoint: String,
    root: tempfile::TempDir,
    _proc: Proc,
}

fn start_s3(bucket: &str) -> S3 {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join(bucket)).unwrap();
    let port = free_port();
    let mut child = Command::new(tool("s3s-fs"))
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            "billstream",
            "--secret-key",
            "billstream-secret",
        ])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "s3s-fs exited");
        assert!(start.elapsed().as_secs() < 30, "s3s-fs did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    S3 { endpoint: format!("http://127.0.0.1:{port}"), root, _proc: Proc(child) }
}

fn s3_env(b: &Broker, s3: &S3, group: &str) -> Vec<(String, String)> {
    let mut env = worker_env(b, "s3://billstream/site-a", group);
    env.push(("BILLSTREAM__STORE__S3_ENDPOINT".into(), s3.endpoint.clone()));
    env.push(("BILLSTREAM__STORE__S3_ALLOW_HTTP".into(), "true".into()));
    env.push(("BILLSTREAM__STORE__S3_ACCESS_KEY_ID".into(), "billstream".into()));
    env.push(("BILLSTREAM__STORE__S3_SECRET_ACCESS_KEY".into(), "billstream-secret".into()));
    env
}

/// The worker writes its table to S3 and `billstream sql` answers over S3 — the same code path
/// as the local directory, only configuration differs.
#[test]
fn sql_over_s3_equals_recomputation() {
    let b = Broker::start();
    let s3 = start_s3("billstream");
    let env = s3_env(&b, &s3, "bench-s3");
    let lines = testkit::generate::claim_lines(5, 20_000);
    let changes = testkit::generate::replacements_and_voids(5, &lines, 200);
    b.produce_lines(&lines);
    b.produce_lines(&changes);
    let w = Worker::spawn(&env, &[], &b.dir.path().join("worker.log"));
    wait_caught_up(&w, "bench-s3", 20_200);
    assert_eq!(normalize(benchmarks_table(&env)), normalize(recompute(&[&lines, &changes])));
    // The files really are in the S3 server's storage, under the configured prefix.
    let dir = s3.root.path().join("billstream/site-a/tables/benchmarks");
    assert!(std::fs::read_dir(&dir).unwrap().count() > 0, "{}", dir.display());
    // Readable table output and CSV.
    let table = b.cli(
        &env.iter().map(|(a, c)| (a.as_str(), c.as_str())).collect::<Vec<_>>(),
        &["sql", "SELECT COUNT(*) AS keys FROM benchmarks"],
    );
    assert!(table.contains("| keys"), "{table}");
    let csv = b.cli(
        &env.iter().map(|(a, c)| (a.as_str(), c.as_str())).collect::<Vec<_>>(),
        &["sql", "SELECT code, count FROM benchmarks ORDER BY code LIMIT 2", "--format", "csv"],
    );
    assert!(csv.starts_with("code,count\n"), "{csv}");
    // A query on a table that does not exist says which tables do.
    let out = Command::new(BIN)
        .envs(env.iter().map(|(a, c)| (a.as_str(), c.as_str())))
        .args(["sql", "SELECT * FROM nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("benchmarks_changes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `POST /v1/documents` stores the upload content-addressed in the object store (S3 here) and
/// produces `DocumentUploaded`; bad uploads get a clear 4xx.
#[test]
fn upload_stores_document_and_produces_event() {
    let b = Broker::start();
    let s3 = start_s3("billstream");
    let mut env = s3_env(&b, &s3, "api");
    env.push(("BILLSTREAM__API__MAX_UPLOAD_BYTES".into(), "4096".into()));
    let w = Worker::spawn(&env, &[], &b.dir.path().join("worker.log"));
    let url = format!("http://{}/v1/documents", w.http);
    assert_eq!(reqwest_blocking(&format!("http://{}/healthz", w.http)), "ok");
    assert_eq!(reqwest_blocking(&format!("http://{}/readyz", w.http)), "ready");

    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let part =
        || reqwest::multipart::Part::bytes(pdf.clone()).file_name("bill.pdf").mime_str("application/pdf").unwrap();
    let (status, body) =
        post(&url, reqwest::multipart::Form::new().part("file", part()).text("kind", "eob").text("case_id", "case-7"));
    assert_eq!(status, 201, "{body}");
    let sha = connectors::objstore::blobs::sha256_hex(&pdf);
    assert_eq!(body["sha256"], sha.as_str());
    let stored = s3.root.path().join("billstream/site-a/documents/sha256").join(&sha);
    assert_eq!(std::fs::read(&stored).unwrap(), pdf, "content-addressed blob in S3");

    let events: Vec<schemas::DocumentUploaded> =
        b.read_topic("documents.uploaded").into_iter().map(|(_, v)| schemas::decode(&v.unwrap()).unwrap()).collect();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.doc_id.as_str(), e.case_id.as_str(), e.kind, e.mime.as_str(), e.size),
        (body["doc_id"].as_str().unwrap(), "case-7", schemas::DocumentKind::Eob, "application/pdf", pdf.len() as i64)
    );
    assert_eq!(e.object_key, format!("documents/sha256/{sha}"));

    let (s, body) = post(
        &url,
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(vec![]).file_name("empty.pdf")),
    );
    assert_eq!(s, 400, "zero bytes: {body}");
    assert!(body["error"].as_str().unwrap().contains("empty"));
    let (s, body) = post(
        &url,
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"PK\x03\x04\x14\x00 a zip archive".to_vec()).file_name("x.pdf"),
        ),
    );
    assert_eq!(s, 400, "wrong type: {body}");
    // Plain text is a pasted bill: stored, and announced as text.
    let (s, body) = post(
        &url,
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"03/14/2026  99213  $250.00\n".to_vec()).file_name("bill.txt"),
        ),
    );
    assert_eq!((s, body["mime"].as_str()), (201, Some("text/plain")), "pasted text: {body}");
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(10_000, b' ');
    let (s, body) = post(
        &url,
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(big).file_name("big.pdf")),
    );
    assert_eq!(s, 413, "too large: {body}");
    let (s, _) = post(&url, reqwest::multipart::Form::new().part("file", part()).text("kind", "receipt"));
    assert_eq!(s, 400, "unknown kind");
    // Nothing but the two good uploads (the PDF and the pasted text) reached the topic.
    assert_eq!(b.read_topic("documents.uploaded").len(), 2);
}
