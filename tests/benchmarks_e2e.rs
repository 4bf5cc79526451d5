//! End to end through a real broker (tansu) and the real `billstream` binary.
mod common;
use common::*;
use std::time::{Duration, Instant};

/// 100,000 claim lines, then 1,000 replacements and voids: the benchmarks table (SQL over the
/// Parquet files) and the benchmarks topic equal a direct recomputation each time.
#[test]
fn hundred_thousand_lines_then_replacements_and_voids() {
    let b = Broker::start();
    let store = b.dir.path().join("store");
    let env = worker_env(&b, store.to_str().unwrap(), "bench-e2e");
    let base = testkit::generate::claim_lines(1, 100_000);
    b.produce_lines(&base);
    let w = Worker::spawn(&env, &["--threads", "2"], &b.dir.path().join("worker.log"));
    wait_caught_up(&w, "bench-e2e", 100_000);
    let expect = normalize(recompute(&[&base]));
    assert!(expect.len() > 1000, "workload has many keys: {}", expect.len());
    assert_eq!(normalize(benchmarks_table(&env)), expect, "table after 100,000 lines");
    assert_eq!(normalize(b.benchmarks_topic()), expect, "topic after 100,000 lines");

    let changes = testkit::generate::replacements_and_voids(1, &base, 1_000);
    b.produce_lines(&changes);
    wait_caught_up(&w, "bench-e2e", 101_000);
    let expect2 = normalize(recompute(&[&base, &changes]));
    assert_ne!(expect, expect2, "the changes must move the benchmarks");
    // The sink may lag the committed offsets by nothing: both are checked after lag 0.
    assert_eq!(normalize(benchmarks_table(&env)), expect2, "table after replacements and voids");
    assert_eq!(normalize(b.benchmarks_topic()), expect2, "topic after replacements and voids");
    assert!(duplicate_rows(&env).is_empty(), "no duplicate Parquet rows");
    // Counts reflect voids: fewer current lines than lines produced.
    let total: i64 = expect2.values().map(|s| s.count).sum();
    let voids = changes.iter().filter(|l| l.frequency_code == "8").count();
    assert!(total < 100_000 && total >= 100_000 - voids as i64, "current lines {total}");
}

/// SIGKILL the worker mid-stream, restart it: identical final results, no duplicate Parquet
/// rows, and committed offsets reach the high watermarks (lag 0 in /metrics).
#[test]
fn sigkill_mid_stream_then_restart() {
    let b = Broker::start();
    let store = b.dir.path().join("store");
    let mut env = worker_env(&b, store.to_str().unwrap(), "bench-restart");
    // Small batches and frequent rolls so the kill lands between durable points.
    env.push(("BILLSTREAM__WORKER__BATCH_MAX".into(), "500".into()));
    env.push(("BILLSTREAM__WORKER__ROLL_INTERVAL_MS".into(), "50".into()));
    let base = testkit::generate::claim_lines(2, 100_000);
    b.produce_lines(&base);
    let log = b.dir.path().join("worker.log");
    let mut w = Worker::spawn(&env, &["--threads", "2"], &log);
    // Wait for some durable progress, but not all of it.
    let start = Instant::now();
    loop {
        let (lag, n) = lag_from_metrics(&w.metrics(), "bench-restart");
        if n == 4 && lag < 100_000 {
            assert!(lag > 0, "the worker finished before it could be killed mid-stream");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    w.proc.0.kill().unwrap(); // SIGKILL
    w.proc.0.wait().unwrap();
    let files_before = std::fs::read_dir(store.join("tables/benchmarks")).map(|d| d.count()).unwrap_or(0);
    assert!(files_before > 0, "some Parquet was durable before the kill");

    let changes = testkit::generate::replacements_and_voids(2, &base, 1_000);
    b.produce_lines(&changes);
    let w = Worker::spawn(&env, &["--threads", "2"], &log);
    wait_caught_up(&w, "bench-restart", 101_000);
    let expect = normalize(recompute(&[&base, &changes]));
    assert_eq!(normalize(benchmarks_table(&env)), expect, "table after restart");
    assert_eq!(normalize(b.benchmarks_topic()), expect, "topic after restart");
    assert!(duplicate_rows(&env).is_empty(), "no duplicate Parquet rows after restart");
    let (lag, n) = lag_from_metrics(&w.metrics(), "bench-restart");
    assert_eq!((lag, n), (0, 4));
}

/// Two timely processes give the same results as one.
#[test]
fn two_processes_equal_one() {
    let b = Broker::start();
    let base = testkit::generate::claim_lines(3, 30_000);
    let changes = testkit::generate::replacements_and_voids(3, &base, 300);
    b.produce_lines(&base);
    b.produce_lines(&changes);
    let expect = normalize(recompute(&[&base, &changes]));

    let one_store = b.dir.path().join("one");
    let one_env = worker_env(&b, one_store.to_str().unwrap(), "one");
    let w = Worker::spawn(&one_env, &["--threads", "1"], &b.dir.path().join("one.log"));
    wait_caught_up(&w, "one", 30_300);
    let one = normalize(benchmarks_table(&one_env));
    drop(w);

    let two_store = b.dir.path().join("two");
    let two_env = worker_env(&b, two_store.to_str().unwrap(), "two");
    let hostfile = b.dir.path().join("hosts");
    std::fs::write(&hostfile, format!("127.0.0.1:{}\n127.0.0.1:{}\n", free_port(), free_port())).unwrap();
    let h = hostfile.to_str().unwrap();
    let p1 = Worker::spawn_plain(
        &two_env,
        &["--threads", "1", "--processes", "2", "--process", "1", "--hostfile", h],
        &b.dir.path().join("two-1.log"),
    );
    let w0 = Worker::spawn(
        &two_env,
        &["--threads", "1", "--processes", "2", "--process", "0", "--hostfile", h],
        &b.dir.path().join("two-0.log"),
    );
    wait_caught_up(&w0, "two", 30_300);
    let two = normalize(benchmarks_table(&two_env));
    drop((w0, p1));
    assert_eq!(one, expect, "one process");
    assert_eq!(two, one, "two processes equal one");
}

/// Garbage bytes and a schema-violating record land in `dlq` with the reason; the good
/// records around them are all processed.
#[test]
fn bad_records_go_to_the_dead_letter_topic() {
    let b = Broker::start();
    let store = b.dir.path().join("store");
    let env = worker_env(&b, store.to_str().unwrap(), "bench-dlq");
    let good = testkit::generate::claim_lines(4, 2_000);
    b.produce_lines(&good[..1_000]);
    b.produce_raw("claims.lines", b"garbage", b"\xde\xad\xbe\xef not avro at all");
    let mut bad = good[0].clone();
    bad.claim_id = "BAD-UNITS".into();
    bad.units = -3;
    b.produce_raw("claims.lines", b"BAD-UNITS", &schemas::encode(&bad).unwrap());
    let wrong_schema = schemas::encode(&schemas::DeadLetter {
        stage: "x".into(),
        error: "y".into(),
        source_topic: "z".into(),
        source_partition: 0,
        source_offset: 0,
        key: None,
        payload: vec![],
        at: 0,
    })
    .unwrap();
    b.produce_raw("claims.lines", b"WRONG-SCHEMA", &wrong_schema);
    let mut misrouted = good[1].clone();
    misrouted.claim_id = "MISKEYED".into();
    b.produce_raw("claims.lines", b"not-the-claim-id", &schemas::encode(&misrouted).unwrap());
    b.produce_lines(&good[1_000..]);
    let w = Worker::spawn(&env, &[], &b.dir.path().join("worker.log"));
    wait_caught_up(&w, "bench-dlq", 2_004);
    assert_eq!(normalize(benchmarks_table(&env)), normalize(recompute(&[&good])), "all good records processed");
    let dead: Vec<schemas::DeadLetter> =
        b.read_topic("dlq").into_iter().map(|(_, v)| schemas::decode(&v.unwrap()).unwrap()).collect();
    assert_eq!(dead.len(), 4, "{dead:#?}");
    let find = |payload_key: &[u8]| {
        dead.iter()
            .find(|d| d.key.as_deref() == Some(payload_key))
            .unwrap_or_else(|| panic!("no dead letter for {:?}", String::from_utf8_lossy(payload_key)))
    };
    let g = find(b"garbage");
    assert!(g.error.contains("magic byte"), "{}", g.error);
    assert_eq!(g.payload, b"\xde\xad\xbe\xef not avro at all");
    assert_eq!((g.stage.as_str(), g.source_topic.as_str()), ("claims.decode", "claims.lines"));
    let u = find(b"BAD-UNITS");
    assert!(u.error.contains("units") && u.error.contains("-3"), "{}", u.error);
    let s = find(b"WRONG-SCHEMA");
    assert!(s.error.contains("schema id 13"), "{}", s.error);
    let k = find(b"not-the-claim-id");
    assert!(k.error.contains("is not the claim id"), "{}", k.error);
    assert!(w.metrics().contains("billstream_dlq_records_total{stage=\"claims.decode\"} 4"));
}
