//! Feeds end to end through the real broker: `billstream ingest` and `POST /v1/feeds/...` read
//! the public CMS, X12 and FHIR files in ../shared/data onto the log, rejects land in the DLQ
//! with their reason, and the benchmarks dataflow turns reference prices into Medicare and
//! hospital benchmarks that a newer file supersedes for its own scope only.
mod common;
use common::*;
use rust_decimal::Decimal;
use schemas::{ClaimLine, DeadLetter};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn path(rel: &str) -> String {
    shared(rel).to_str().unwrap().to_string()
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Waits until the worker has committed everything on `topic` (lag 0 on all 4 partitions) and
/// `check` holds on the current benchmarks.
fn wait_for(
    w: &Worker,
    group: &str,
    env: &[(String, String)],
    what: &str,
    check: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let start = Instant::now();
    loop {
        let (lag, n) = topic_lag_from_metrics(&w.metrics(), group, "reference.prices");
        if n == 4 && lag == 0 {
            let rows = sql_json(env, "SELECT * FROM benchmarks WHERE scope <> 'observed'");
            if check(&rows) {
                return rows;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(240), "{what}: not there after 240 s (lag {lag} on {n})");
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn find<'a>(
    rows: &'a [serde_json::Value],
    code: &str,
    modifier: &str,
    scope: &str,
    kind: &str,
) -> Option<&'a serde_json::Value> {
    rows.iter().find(|r| r["code"] == code && r["modifier"] == modifier && r["scope"] == scope && r["kind"] == kind)
}

fn amount(rows: &[serde_json::Value], code: &str, modifier: &str, scope: &str, kind: &str) -> Decimal {
    let r = find(rows, code, modifier, scope, kind)
        .unwrap_or_else(|| panic!("no benchmark {code} {modifier:?} {scope} {kind}"));
    assert_eq!(r["count"], 1, "{r}");
    let m: Decimal = r["median"].as_str().unwrap().parse().unwrap();
    assert_eq!(r["min"], r["max"], "{r}");
    m.normalize()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// PFS RVU + GPCI + CLFS through `billstream ingest prices` and the dataflow: Medicare amounts per
/// locality for E/M, imaging and pathology codes, and national lab amounts, equal to the values
/// computed by hand from the same rows of the same files.
#[test]
fn medicare_benchmarks_from_pfs_gpci_and_clfs() {
    let b = Broker::start();
    let store = b.dir.path().join("store");
    let env = worker_env(&b, store.to_str().unwrap(), "ingest-medicare");
    let w = Worker::spawn(&env, &["--dataflow", "benchmarks"], &b.dir.path().join("worker.log"));
    let out = b.cli(
        &[],
        &[
            "ingest",
            "prices",
            "--json",
            "--locality",
            "10112-00",
            "--locality",
            "02102-01",
            &path("code-sets/pfs-rvu/PPRRVU23_JAN.descriptions-redacted.csv"),
            &path("code-sets/pfs-gpci/GPCI2026.csv"),
            &path("code-sets/clfs/hbc_clfs_26CLABQ2_code_rate.csv"),
        ],
    );
    let summary = json(&out);
    assert_eq!(summary["rejected"], 0, "{summary}");
    let files = summary["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    // The GPCI file is read first whatever the order on the command line.
    assert_eq!(files[0]["format"], "gpci", "{summary}");
    assert!(files.iter().all(|f| f["status"] == "loaded"), "{summary}");
    let produced = summary["produced"].as_u64().unwrap();
    let on_topic = b.read_topic("reference.prices").len() as u64;
    assert_eq!(on_topic, produced, "every produced price is on reference.prices");

    let rows = wait_for(&w, "ingest-medicare", &env, "Medicare benchmarks", |rows| {
        find(rows, "99213", "", "locality:02102-01", "allowed_nonfacility").is_some()
            && find(rows, "85025", "", "national", "allowed").is_some()
    });
    // 2023 PFS RVU file (CF 33.8872) with CY2026 GPCIs.
    // Alabama 10112-00: work 1.000, PE 0.875, MP 0.566.
    // 99213: work 1.30, non-facility PE 1.28, facility PE 0.55, MP 0.10.
    //   non-facility (1.30×1.000 + 1.28×0.875 + 0.10×0.566) × 33.8872 = 2.4766 × 33.8872 = 83.9250 → 83.93
    //   facility     (1.30×1.000 + 0.55×0.875 + 0.10×0.566) × 33.8872 = 1.83785 × 33.8872 = 62.2796 → 62.28
    let al = "locality:10112-00";
    assert_eq!(amount(&rows, "99213", "", al, "allowed_nonfacility"), d("83.93"));
    assert_eq!(amount(&rows, "99213", "", al, "allowed_facility"), d("62.28"));
    // 99214: work 1.92, non-facility PE 1.73, facility PE 0.82, MP 0.14.
    //   (1.92 + 1.73×0.875 + 0.14×0.566) × 33.8872 = 3.51299 × 33.8872 = 119.0454 → 119.05
    //   (1.92 + 0.82×0.875 + 0.14×0.566) × 33.8872 = 2.71674 × 33.8872 = 92.0627 → 92.06
    assert_eq!(amount(&rows, "99214", "", al, "allowed_nonfacility"), d("119.05"));
    assert_eq!(amount(&rows, "99214", "", al, "allowed_facility"), d("92.06"));
    // 71046 (chest X-ray, 2 views): global work 0.22, PE 0.77, MP 0.02 → 0.9051 × 33.8872 = 30.6703 → 30.67;
    //   -26 work 0.22, PE 0.08, MP 0.01 → 0.29566 × 33.8872 = 10.0191 → 10.02;
    //   -TC PE 0.69, MP 0.01 → 0.60941 × 33.8872 = 20.6512 → 20.65.
    assert_eq!(amount(&rows, "71046", "", al, "allowed_nonfacility"), d("30.67"));
    assert_eq!(amount(&rows, "71046", "26", al, "allowed_nonfacility"), d("10.02"));
    assert_eq!(amount(&rows, "71046", "TC", al, "allowed_nonfacility"), d("20.65"));
    // 88305 (surgical pathology): work 0.75, PE 1.35, MP 0.02 → 1.94259 × 33.8872 = 65.8283 → 65.83.
    assert_eq!(amount(&rows, "88305", "", al, "allowed_nonfacility"), d("65.83"));
    // Alaska 02102-01: work 1.500, PE 1.065, MP 0.551.
    //   99213 (1.95 + 1.3632 + 0.0551) × 33.8872 = 3.3683 × 33.8872 = 114.1423 → 114.14
    //         (1.95 + 0.58575 + 0.0551) × 33.8872 = 2.59085 × 33.8872 = 87.7976 → 87.80
    //   71046 (0.33 + 0.82005 + 0.01102) × 33.8872 = 1.16107 × 33.8872 = 39.3454 → 39.35
    let ak = "locality:02102-01";
    assert_eq!(amount(&rows, "99213", "", ak, "allowed_nonfacility"), d("114.14"));
    assert_eq!(amount(&rows, "99213", "", ak, "allowed_facility"), d("87.80"));
    assert_eq!(amount(&rows, "71046", "", ak, "allowed_nonfacility"), d("39.35"));
    // Only the two localities asked for.
    let scopes: BTreeSet<&str> =
        rows.iter().filter(|r| r["source"] == "PFS").map(|r| r["scope"].as_str().unwrap()).collect();
    assert_eq!(scopes, BTreeSet::from([al, ak]));
    // Labs are paid from the CLFS (2026 Q2), nationally: CBC 85025 $7.77, CMP 80053 $10.56, venipuncture 36415 $9.34.
    assert_eq!(amount(&rows, "85025", "", "national", "allowed"), d("7.77"));
    assert_eq!(amount(&rows, "80053", "", "national", "allowed"), d("10.56"));
    assert_eq!(amount(&rows, "36415", "", "national", "allowed"), d("9.34"));
    // Evidence: the file and its effective date travel with each benchmark.
    let r = find(&rows, "99213", "", al, "allowed_nonfacility").unwrap();
    assert_eq!(r["source_file"], "PPRRVU23_JAN.descriptions-redacted.csv");
    assert_eq!(r["effective_from"], "2023-01-01");
}

/// A copy of the CMS v3 tall example with another hospital name, date or gross charge.
fn mrf_variant(dir: &std::path::Path, name: &str, hospital: &str, date: &str, mri_gross: &str) -> String {
    let text = std::fs::read_to_string(shared("cms-hpt/v3.0.0/examples/V3.0.0_Tall_CSV_Format_Example.csv")).unwrap();
    assert!(text.contains("West Mercy Hospital,4/1/2026,"));
    assert!(text.contains("MRI of brain (no contrast),611,RC,70551,CPT,outpatient,,,1200,"));
    let text = text.replacen("West Mercy Hospital,4/1/2026,", &format!("{hospital},{date},"), 1).replace(
        "MRI of brain (no contrast),611,RC,70551,CPT,outpatient,,,1200,",
        &format!("MRI of brain (no contrast),611,RC,70551,CPT,outpatient,,,{mri_gross},"),
    );
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// Two hospitals' price files, then a newer file for one of them: the benchmarks that change
/// are exactly that hospital's, and its new gross charge is the one in force.
#[test]
fn second_price_file_rederives_only_that_hospital() {
    let b = Broker::start();
    let store = b.dir.path().join("store");
    let env = worker_env(&b, store.to_str().unwrap(), "ingest-mrf");
    let w = Worker::spawn(&env, &["--dataflow", "benchmarks"], &b.dir.path().join("worker.log"));
    let dir = b.dir.path();
    let west = "hospital:West Mercy Hospital";
    let east = "hospital:East Valley Hospital";
    let a1 = mrf_variant(dir, "westmercy_standardcharges_2026-04.csv", "West Mercy Hospital", "4/1/2026", "1200");
    let e1 = mrf_variant(dir, "eastvalley_standardcharges_2026-04.csv", "East Valley Hospital", "4/1/2026", "1500");
    b.cli(&[], &["ingest", "prices", &a1, &e1]);
    let first = wait_for(&w, "ingest-mrf", &env, "both hospitals", |rows| {
        find(rows, "70551", "", west, "gross").is_some() && find(rows, "70551", "", east, "gross").is_some()
    });
    assert_eq!(amount(&first, "70551", "", west, "gross"), d("1200"));
    assert_eq!(amount(&first, "70551", "", east, "gross"), d("1500"));
    let keys = |rows: &[serde_json::Value], scope: &str| -> BTreeSet<(String, String, String)> {
        rows.iter()
            .filter(|r| r["scope"] == scope)
            .map(|r| {
                (
                    r["code"].as_str().unwrap().into(),
                    r["modifier"].as_str().unwrap().into(),
                    r["kind"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let west_keys = keys(&first, west);
    let rows_of = |rows: &[serde_json::Value], scope: &str| -> BTreeSet<String> {
        rows.iter().filter(|r| r["scope"] == scope).map(|r| r.to_string()).collect()
    };
    let east_before = rows_of(&first, east);
    assert!(west_keys.len() > 5, "{west_keys:?}");
    let t1 = sql_json(&env, "SELECT MAX(time) AS t FROM benchmarks_changes")[0]["t"].as_i64().unwrap();

    // The July file of West Mercy: a later date, the MRI's gross charge up to 1300.
    let a2 = mrf_variant(dir, "westmercy_standardcharges_2026-07.csv", "West Mercy Hospital", "7/1/2026", "1300");
    b.cli(&[], &["ingest", "prices", &a2]);
    let second = wait_for(&w, "ingest-mrf", &env, "the July file in force", |rows| {
        find(rows, "70551", "", west, "gross")
            .is_some_and(|r| r["source_file"] == "westmercy_standardcharges_2026-07.csv")
    });
    assert_eq!(amount(&second, "70551", "", west, "gross"), d("1300"));
    assert_eq!(find(&second, "70551", "", west, "gross").unwrap()["effective_from"], "2026-07-01");
    let changed = sql_json(
        &env,
        &format!("SELECT DISTINCT code, modifier, scope, kind FROM benchmarks_changes WHERE time > {t1}"),
    );
    let changed_scopes: BTreeSet<&str> = changed.iter().map(|r| r["scope"].as_str().unwrap()).collect();
    assert_eq!(changed_scopes, BTreeSet::from([west]), "only West Mercy's benchmarks change: {changed:?}");
    let changed_keys: BTreeSet<(String, String, String)> = changed
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().into(),
                r["modifier"].as_str().unwrap().into(),
                r["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    // Every West Mercy benchmark now cites the July file, so each is re-derived once.
    assert_eq!(changed_keys, west_keys);
    assert!(rows_of(&second, east) == east_before, "East Valley untouched");
    // An older file loaded late does not take over: April again changes nothing in force.
    let a0 = mrf_variant(dir, "westmercy_standardcharges_2026-01.csv", "West Mercy Hospital", "1/1/2026", "999");
    b.cli(&[], &["ingest", "prices", &a0]);
    std::thread::sleep(Duration::from_secs(2));
    let third = wait_for(&w, "ingest-mrf", &env, "still July", |_| true);
    assert_eq!(amount(&third, "70551", "", west, "gross"), d("1300"));
}

/// Claims feeds: `--dry-run --json` counts without producing; a real load produces every valid
/// line to claims.lines keyed by claim id and sends the rejected file to the DLQ with its reason.
#[test]
fn ingest_claims_dry_run_load_and_dead_letters() {
    let b = Broker::start();
    let many = path("x12/imsweb-5010/837_5010/x12_many_claims.txt");
    let bad = path("x12/imsweb-5010/837_5010/x12_bad_first_line.txt");
    let tuva = path("claims-feeds/tuva-synthetic-medicare-cclf/medical_claim_seed.csv");

    let dry = json(&b.cli(&[], &["ingest", "claims", "--dry-run", "--json", &many]));
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["files"][0]["format"], "x12");
    // imsweb's x12_many_claims: 820 claims (the test set's own count).
    assert_eq!(dry["files"][0]["counts"]["claims"], 820, "{dry}");
    // Every other claim bills "HC:478331", six characters: not a CPT/HCPCS code, so that line is
    // rejected with the reason and the 410 claims billing 99211 load.
    assert_eq!(dry["produced"], 410, "{dry}");
    assert_eq!(dry["rejected"], 410, "{dry}");
    let reason = dry["files"][0]["rejects"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("478331"), "{reason}");
    assert!(b.read_topic("claims.lines").is_empty(), "a dry run produces nothing");

    let (code, out, err) = b.cli_status(&[], &["ingest", "claims", "--json", &many, &tuva, &bad]);
    assert_eq!(code, 1, "a rejected file fails the command: {err}");
    let s = json(&out);
    let files = s["files"].as_array().unwrap();
    assert_eq!(files[0]["status"], "loaded");
    assert_eq!(files[1]["format"], "csv_claims");
    assert_eq!(files[1]["status"], "loaded");
    assert_eq!(files[2]["status"], "rejected");
    let reason = files[2]["error"].as_str().unwrap();
    assert!(!reason.is_empty());
    let lines: Vec<ClaimLine> = b
        .read_topic("claims.lines")
        .into_iter()
        .map(|(k, v)| {
            let l: ClaimLine = schemas::decode(&v.unwrap()).unwrap();
            assert_eq!(k.as_deref(), Some(l.claim_id.as_bytes()), "keyed by claim id");
            l
        })
        .collect();
    assert_eq!(lines.len() as u64, s["produced"].as_u64().unwrap());
    let ids: BTreeSet<&str> = lines.iter().map(|l| l.claim_id.as_str()).collect();
    // Distinct claim ids with a produced line: the 837's 410 loaded claims all reuse the id
    // A37YH556 (`grep ^CLM | cut -d'*' -f2 | sort -u`), and 1,107 of the Tuva feed's 1,138 claims
    // have a line with a HCPCS code (python csv: distinct claim_id where hcpcs_code is set).
    assert_eq!(ids.len(), 1 + 1107);
    // Dead letters: the rejected file with its reason, plus one per rejected record.
    let dead: Vec<DeadLetter> =
        b.read_topic("dlq").into_iter().map(|(_, v)| schemas::decode(&v.unwrap()).unwrap()).collect();
    assert_eq!(dead.len() as u64, s["rejected"].as_u64().unwrap() + 1, "{dead:?}");
    let whole = dead.iter().find(|d| d.error.contains("x12_bad_first_line.txt")).expect("the bad file's dead letter");
    assert_eq!(whole.stage, "ingest.claims");
    assert_eq!(whole.source_topic, "claims.lines");
    assert!(whole.error.contains(reason.split(": ").last().unwrap()), "{} vs {reason}", whole.error);
}

/// The push endpoint runs the same loaders: a raw 835 body, a dry run, a multipart PFS pair, and
/// a file of the wrong feed.
#[test]
fn feeds_endpoint() {
    let b = Broker::start();
    let store = b.dir.path().join("store");
    let env = worker_env(&b, store.to_str().unwrap(), "ingest-feeds");
    let w = Worker::spawn(&env, &["--dataflow", "intake"], &b.dir.path().join("worker.log"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = reqwest::Client::new();
    let send = |url: String, body: reqwest::Body| -> (u16, serde_json::Value) {
        rt.block_on(async {
            let r = client.post(url).body(body).send().await.unwrap();
            (r.status().as_u16(), r.json().await.unwrap())
        })
    };
    let remit = std::fs::read(shared("x12/oopfactory/_835/_5010/ExampleFromNth.txt")).unwrap();
    let base = format!("http://{}/v1/feeds", w.http);
    let (status, dry) = send(format!("{base}/claims?dry_run=true&filename=remit.835"), remit.clone().into());
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["files"][0]["format"], "x12");
    assert!(dry["files"][0]["counts"]["payments"].as_u64().unwrap() > 0, "{dry}");
    assert!(b.read_topic("claims.lines").is_empty());
    let (status, done) = send(format!("{base}/claims?filename=remit.835"), remit.into());
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["produced"], dry["produced"]);
    assert_eq!(b.read_topic("claims.lines").len() as u64, done["produced"].as_u64().unwrap());

    // Multipart: the PFS file and its GPCI file together, one locality.
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                std::fs::read(shared("code-sets/pfs-rvu/PPRRVU23_JAN.descriptions-redacted.csv")).unwrap(),
            )
            .file_name("PPRRVU23_JAN.csv"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(std::fs::read(shared("code-sets/pfs-gpci/GPCI2026.csv")).unwrap())
                .file_name("GPCI2026.csv"),
        );
    let (status, pfs) = post(&format!("{base}/prices?dry_run=true&locality=10112-00"), form);
    assert_eq!(status, 200, "{pfs}");
    // One locality: 5,014 non-facility + 7,081 facility amounts of the 2023 file (counted
    // independently in connectors/tests/cms_reference_files.rs, there × 109 localities).
    assert_eq!(pfs["produced"], 5_014 + 7_081, "{pfs}");
    assert_eq!(pfs["files"][0]["format"], "gpci", "the GPCI file is read first: {pfs}");

    // A price file posted as claims: 422 with the reason, nothing produced.
    let clfs = std::fs::read(shared("code-sets/clfs/hbc_clfs_26CLABQ2_code_rate.csv")).unwrap();
    let (status, wrong) = send(format!("{base}/claims?filename=clfs.csv"), clfs.into());
    assert_eq!(status, 422, "{wrong}");
    assert!(wrong["files"][0]["error"].as_str().unwrap().contains("ingest prices"), "{wrong}");
    let (status, unknown) = send(format!("{base}/bills"), Vec::from(&b"x"[..]).into());
    assert_eq!(status, 400, "{unknown}");
}
