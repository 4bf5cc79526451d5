//! `billstream up`: embedded broker, topics, demo data, workers and API in one command; Ctrl-C
//! stops all of it.
mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn up_serves_demo_benchmarks_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (broker_port, api_port) = (free_port(), free_port());
    let api = format!("127.0.0.1:{api_port}");
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env("BILLSTREAM__EMBEDDED__BROKER_PORT", broker_port.to_string())
        .env("BILLSTREAM__EMBEDDED__DEMO_LINES", "5000")
        .env("BILLSTREAM__ANOMALY__MIN_NEW_CLAIMS", "2000")
        .env("BILLSTREAM__FINDINGS__REFERENCE_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/demo/reference"))
        .args(["up", "--listen", &api])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let group = "billstream-benchmarks";
    loop {
        assert!(child.try_wait().unwrap().is_none(), "up exited early");
        assert!(start.elapsed() < Duration::from_secs(120), "up did not get ready");
        if std::net::TcpStream::connect(("127.0.0.1", api_port)).is_ok() {
            let m = reqwest_blocking(&format!("http://{api}/metrics"));
            let (lag, n) = lag_from_metrics(&m, group);
            if n == 4
                && lag == 0
                && m.contains("kafka_topic_partition_current_offset")
                && !m.contains("partition_current_offset{partition=\"0\",topic=\"claims.lines\"} 0")
            {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(reqwest_blocking(&format!("http://{api}/readyz")), "ready");
    // The demo data is queryable with SQL over the local store `up` created.
    let store = dir.path().join(".billstream/store");
    let env = vec![("BILLSTREAM__STORE__URL".to_string(), store.to_str().unwrap().to_string())];
    let rows = sql_json(&env, "SELECT SUM(count) AS lines FROM benchmarks WHERE scope = 'observed'");
    let lines = rows[0]["lines"].as_i64().unwrap();
    assert!(lines > 4_900 && lines <= 5_000, "demo lines in benchmarks: {lines}");
    // The shipped CMS reference files are on the log and the findings stage has read them.
    let t = Instant::now();
    loop {
        let m = reqwest_blocking(&format!("http://{api}/metrics"));
        let (lag, n) = topic_lag_from_metrics(&m, "billstream-findings", "reference.edits");
        let loaded = m.lines().any(|l| {
            l.starts_with("kafka_topic_partition_current_offset{")
                && l.contains("topic=\"reference.edits\"")
                && !l.ends_with(" 0")
        });
        if n == 4 && lag == 0 && loaded {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "findings stage did not read the demo edits: lag {lag} on {n}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let t = Instant::now();
    loop {
        let rows =
            sql_json(&env, "SELECT COUNT(*) AS n FROM benchmarks WHERE code = '99213' AND scope = 'locality:01112-05'");
        if rows.first().and_then(|r| r["n"].as_i64()).unwrap_or(0) == 2 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "no Medicare benchmarks from the demo PFS files: {rows:?}");
        std::thread::sleep(Duration::from_millis(300));
    }

    // The retrainer saw more than 2,000 new claim lines: a first anomaly model is in the store,
    // with its training data range.
    let t = Instant::now();
    let current = store.join("models/anomaly/current.json");
    while !current.exists() {
        assert!(t.elapsed() < Duration::from_secs(120), "no anomaly model trained");
        std::thread::sleep(Duration::from_millis(300));
    }
    let pointer: serde_json::Value = serde_json::from_slice(&std::fs::read(&current).unwrap()).unwrap();
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join(pointer["key"].as_str().unwrap())).unwrap()).unwrap();
    assert_eq!(model["meta"]["version"], 1);
    assert!(model["meta"]["population"].as_u64().unwrap() >= 2_000, "{}", model["meta"]);
    assert!(!model["meta"]["data_from"].as_str().unwrap().is_empty());
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "up did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "up exited with {status}");
    let out = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    assert!(out.contains(&format!("http://{api}/metrics")), "prints its URLs: {out}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", broker_port)).is_err(), "the embedded broker stopped");
}
