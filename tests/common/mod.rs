//! Test harness: a real tansu broker and a real s3s-fs server on free ports, the `billstream`
//! binary as a child process, and an independent recomputation of the benchmarks.
#![allow(dead_code)]
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use rust_decimal::{Decimal, RoundingStrategy};
use schemas::records::ClaimLine;
use std::collections::{BTreeMap, HashMap};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A record's key and value (`None` value: tombstone).
pub type KeyValue = (Option<Vec<u8>>, Option<Vec<u8>>);

pub const BIN: &str = env!("CARGO_BIN_EXE_billstream");

/// A file of the public test data: `../shared/data` next to the repository, or
/// `BILLSTREAM_SHARED_DATA` when the checkout lives elsewhere.
pub fn shared(rel: &str) -> PathBuf {
    let root = std::env::var_os("BILLSTREAM_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    assert!(root.is_dir(), "the public test data is not at {} (set BILLSTREAM_SHARED_DATA)", root.display());
    root.join(rel)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn tool(name: &str) -> PathBuf {
    let dir =
        std::env::var_os("BILLSTREAM_TOOLS").map(PathBuf::from).unwrap_or_else(|| "/var/cache/billstream/tools".into());
    let p = dir.join("bin").join(name);
    assert!(p.exists(), "{} is missing: run scripts/setup.sh (installs tansu and s3s-fs)", p.display());
    p
}

fn wait_port(port: u16, child: &mut Child, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(s)) = child.try_wait() {
            panic!("{what} exited early: {s}");
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed (SIGKILL) when dropped.
pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Broker {
    pub brokers: String,
    _proc: Proc,
    pub dir: tempfile::TempDir,
}

impl Broker {
    /// tansu with sqlite storage in a temp dir, topics created from deploy/redpanda.
    pub fn start() -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("broker.log")).unwrap();
        let mut child = Command::new(tool("tansu"))
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "sqlite://broker.db",
            ])
            .current_dir(dir.path())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        wait_port(port, &mut child, "tansu");
        let b = Broker { brokers: format!("127.0.0.1:{port}"), _proc: Proc(child), dir };
        let out = b.cli(&[], &["topics", "create"]);
        assert!(out.contains("created 13 topic(s)"), "{out}");
        b
    }

    /// Runs the CLI to completion against this broker: (exit code, stdout, stderr).
    pub fn cli_status(&self, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
        let out = Command::new(BIN)
            .env("BILLSTREAM__KAFKA__BROKERS", &self.brokers)
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the CLI to completion against this broker; returns stdout, panics on failure.
    pub fn cli(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        let out = Command::new(BIN)
            .env("BILLSTREAM__KAFKA__BROKERS", &self.brokers)
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "billstream {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn kafka(&self) -> connectors::kafka::KafkaConfig {
        connectors::kafka::KafkaConfig::new(self.brokers.clone())
    }

    /// Produces lines keyed by claim id and waits until durable.
    pub fn produce_lines(&self, lines: &[ClaimLine]) {
        let mut sink = connectors::kafka::sink::Sink::new(&self.kafka()).unwrap();
        for l in lines {
            sink.send("claims.lines", l.claim_id.as_bytes(), Some(&schemas::encode(l).unwrap())).unwrap();
        }
        sink.flush(Duration::from_secs(120)).unwrap();
    }

    pub fn produce_raw(&self, topic: &str, key: &[u8], payload: &[u8]) {
        let mut sink = connectors::kafka::sink::Sink::new(&self.kafka()).unwrap();
        sink.send(topic, key, Some(payload)).unwrap();
        sink.flush(Duration::from_secs(30)).unwrap();
    }

    /// Every record of `topic` from the beginning to the current high watermarks.
    pub fn read_topic(&self, topic: &str) -> Vec<KeyValue> {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", "test-reader")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let md = c.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
        let parts = md.topics()[0].partitions().len() as i32;
        let mut tpl = TopicPartitionList::new();
        let mut ends = HashMap::new();
        for p in 0..parts {
            let (_, high) = c.fetch_watermarks(topic, p, Duration::from_secs(10)).unwrap();
            if high > 0 {
                ends.insert(p, high);
                tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
            }
        }
        let mut out = vec![];
        if ends.is_empty() {
            return out;
        }
        c.assign(&tpl).unwrap();
        let mut done: HashMap<i32, bool> = HashMap::new();
        let start = Instant::now();
        while done.len() < ends.len() {
            assert!(start.elapsed() < Duration::from_secs(60), "reading {topic} timed out");
            if let Some(m) = c.poll(Duration::from_millis(100)) {
                let m = m.unwrap();
                out.push((m.key().map(<[u8]>::to_vec), m.payload().map(<[u8]>::to_vec)));
                if m.offset() + 1 >= ends[&m.partition()] {
                    done.insert(m.partition(), true);
                }
            }
        }
        out
    }

    /// The benchmarks topic read as a compacted table: latest value per key, tombstones delete.
    pub fn benchmarks_topic(&self) -> BTreeMap<Key, Stats> {
        let mut latest: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for (k, v) in self.read_topic("benchmarks") {
            latest.insert(k.unwrap(), v);
        }
        latest
            .into_values()
            .flatten()
            .map(|v| {
                let b: schemas::Benchmark = schemas::decode(&v).unwrap();
                (
                    (b.code, b.modifier, b.place_of_service),
                    Stats { count: b.count, min: b.min, median: b.median, p90: b.p90, max: b.max, mean: b.mean },
                )
            })
            .collect()
    }
}

/// `billstream worker` as a child process, with its API on a free port.
pub struct Worker {
    pub proc: Proc,
    pub http: String,
}

pub fn worker_env<'a>(broker: &'a Broker, store: &'a str, group: &'a str) -> Vec<(String, String)> {
    vec![
        ("BILLSTREAM__KAFKA__BROKERS".into(), broker.brokers.clone()),
        ("BILLSTREAM__STORE__URL".into(), store.into()),
        ("BILLSTREAM__WORKER__GROUP".into(), group.into()),
        ("BILLSTREAM__WORKER__ROLL_INTERVAL_MS".into(), "300".into()),
    ]
}

impl Worker {
    pub fn spawn(env: &[(String, String)], args: &[&str], log: &Path) -> Worker {
        let port = free_port();
        let http = format!("127.0.0.1:{port}");
        let logf = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let mut child = Command::new(BIN)
            .envs(env.iter().map(|(a, b)| (a.as_str(), b.as_str())))
            .args(["worker", "--http", &http])
            .args(args)
            .stdout(Stdio::from(logf.try_clone().unwrap()))
            .stderr(Stdio::from(logf))
            .spawn()
            .unwrap();
        wait_port(port, &mut child, "billstream worker");
        Worker { proc: Proc(child), http }
    }

    pub fn spawn_plain(env: &[(String, String)], args: &[&str], log: &Path) -> Proc {
        let logf = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        Proc(
            Command::new(BIN)
                .envs(env.iter().map(|(a, b)| (a.as_str(), b.as_str())))
                .arg("worker")
                .args(args)
                .stdout(Stdio::from(logf.try_clone().unwrap()))
                .stderr(Stdio::from(logf))
                .spawn()
                .unwrap(),
        )
    }

    pub fn metrics(&self) -> String {
        reqwest_blocking(&format!("http://{}/metrics", self.http))
    }
}

/// A multipart POST; the status and the JSON body (null when the body is not JSON).
pub fn post(url: &str, form: reqwest::multipart::Form) -> (u16, serde_json::Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new().post(url).multipart(form).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    })
}

pub fn reqwest_blocking(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

/// Sum of `kafka_consumergroup_lag` for `group` on `claims.lines` and the number of partitions
/// reported.
pub fn lag_from_metrics(text: &str, group: &str) -> (i64, usize) {
    topic_lag_from_metrics(text, group, "claims.lines")
}

/// Sum of `kafka_consumergroup_lag` for `group` on `topic` and the number of partitions reported.
pub fn topic_lag_from_metrics(text: &str, group: &str, topic: &str) -> (i64, usize) {
    let mut sum = 0;
    let mut n = 0;
    for line in text.lines().filter(|l| {
        l.starts_with("kafka_consumergroup_lag{")
            && l.contains(&format!("consumergroup=\"{group}\""))
            && l.contains(&format!("topic=\"{topic}\""))
    }) {
        sum += line.rsplit(' ').next().unwrap().parse::<i64>().unwrap();
        n += 1;
    }
    (sum, n)
}

/// Waits until the worker's `/metrics` shows lag 0 on all 4 partitions of claims.lines, with
/// the high watermarks summing to `records`.
pub fn wait_caught_up(w: &Worker, group: &str, records: i64) {
    let start = Instant::now();
    loop {
        let m = w.metrics();
        let (lag, n) = lag_from_metrics(&m, group);
        let high: i64 = m
            .lines()
            .filter(|l| l.starts_with("kafka_topic_partition_current_offset{") && l.contains("topic=\"claims.lines\""))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<i64>().unwrap())
            .sum();
        if n == 4 && lag == 0 && high == records {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "not caught up after 300 s: lag {lag} on {n} partitions, high {high} of {records}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub type Key = (String, String, String);

/// The statistics the dataflow computes, as the recomputation below fills them in.
pub type Stats = udfs::stats::ChargeStats;

/// Direct recomputation: keep the last version of each (claim, line) in log order per claim
/// (claims are keyed so their versions share a partition), drop voids, then sort each group and
/// interpolate quantiles at q·(n−1).
pub fn recompute(batches: &[&[ClaimLine]]) -> BTreeMap<Key, Stats> {
    let mut latest: HashMap<(String, i32), &ClaimLine> = HashMap::new();
    for l in batches.iter().flat_map(|b| b.iter()) {
        latest.insert((l.claim_id.clone(), l.line_no), l);
    }
    let mut groups: BTreeMap<Key, Vec<Decimal>> = BTreeMap::new();
    for l in latest.values().filter(|l| l.frequency_code != "8") {
        groups
            .entry((l.code.clone(), l.modifier.clone().unwrap_or_default(), l.place_of_service.clone()))
            .or_default()
            .push(l.charge);
    }
    let r = |d: Decimal| d.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
    groups
        .into_iter()
        .map(|(k, mut v)| {
            v.sort();
            let n = v.len();
            let q = |num: i64| {
                // position = num/10 · (n − 1), split into whole and fractional parts exactly.
                let scaled = num * (n as i64 - 1);
                let (i, rem) = ((scaled / 10) as usize, scaled % 10);
                let lo = v[i];
                let hi = v[(i + 1).min(n - 1)];
                r(lo + (hi - lo) * Decimal::new(rem, 1))
            };
            let sum: Decimal = v.iter().sum();
            (
                k,
                Stats {
                    count: n as i64,
                    min: v[0],
                    median: q(5),
                    p90: q(9),
                    max: v[n - 1],
                    mean: r(sum / Decimal::from(n as i64)),
                },
            )
        })
        .collect()
}

/// Runs `billstream sql --format json` and returns the rows.
pub fn sql_json(env: &[(String, String)], query: &str) -> Vec<serde_json::Value> {
    let out = Command::new(BIN)
        .envs(env.iter().map(|(a, b)| (a.as_str(), b.as_str())))
        .args(["sql", query, "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "sql failed: {}", String::from_utf8_lossy(&out.stderr));
    match serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap() {
        serde_json::Value::Array(rows) => rows,
        other => panic!("not an array: {other}"),
    }
}

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str().unwrap().parse::<Decimal>().unwrap().normalize()
}

/// The current `benchmarks` table through SQL.
pub fn benchmarks_table(env: &[(String, String)]) -> BTreeMap<Key, Stats> {
    let rows =
        sql_json(env, "SELECT code, modifier, place_of_service, count, min, median, p90, max, mean FROM benchmarks");
    let mut out = BTreeMap::new();
    for r in rows {
        let k = (
            r["code"].as_str().unwrap().to_string(),
            r["modifier"].as_str().unwrap().to_string(),
            r["place_of_service"].as_str().unwrap().to_string(),
        );
        let s = Stats {
            count: r["count"].as_i64().unwrap(),
            min: dec(&r["min"]),
            median: dec(&r["median"]),
            p90: dec(&r["p90"]),
            max: dec(&r["max"]),
            mean: dec(&r["mean"]),
        };
        assert!(out.insert(k.clone(), s).is_none(), "key {k:?} appears twice in the benchmarks view");
    }
    out
}

/// Rows of the Parquet changelog that occur more than once (must be none).
/// Identical rows, or keys whose diffs do not sum to 0 or 1 (a version written twice, e.g. by a
/// replay that re-emitted durable output).
pub fn duplicate_rows(env: &[(String, String)]) -> Vec<serde_json::Value> {
    let mut bad = sql_json(env, "SELECT code, modifier, place_of_service, time, diff, COUNT(*) AS n FROM benchmarks_changes GROUP BY code, modifier, place_of_service, time, diff HAVING COUNT(*) > 1");
    bad.extend(sql_json(env, "SELECT code, modifier, place_of_service, SUM(diff) AS s FROM benchmarks_changes GROUP BY code, modifier, place_of_service HAVING SUM(diff) NOT IN (0, 1)"));
    bad.extend(sql_json(env, "SELECT code, modifier, place_of_service, count, median, SUM(diff) AS s FROM benchmarks_changes GROUP BY code, modifier, place_of_service, count, min, median, p90, max, mean HAVING SUM(diff) NOT IN (0, 1)"));
    bad
}

pub fn normalize(m: BTreeMap<Key, Stats>) -> BTreeMap<Key, Stats> {
    m.into_iter()
        .map(|(k, s)| {
            (
                k,
                Stats {
                    count: s.count,
                    min: s.min.normalize(),
                    median: s.median.normalize(),
                    p90: s.p90.normalize(),
                    max: s.max.normalize(),
                    mean: s.mean.normalize(),
                },
            )
        })
        .collect()
}
