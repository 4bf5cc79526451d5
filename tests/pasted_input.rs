//! Bills given as pasted text (a file or standard input) and as JSON line items, through the
//! installed binary run from a directory with nothing of the project in it.
mod common;
use common::BIN;
use std::io::Write;
use std::process::{Command, Stdio};

/// What a patient copies out of a portal's itemized view: columns apart by runs of spaces or tabs.
const PASTED: &str = "\
General Hospital                         Statement Date: 04/02/2026
Account 12345

Date of Service\tCode\tDescription\tQty\tCharges
03/14/2026\t99285\tEMERGENCY DEPT VISIT\t1\t$2,400.00
03/14/2026\t80053\tCOMPREHENSIVE METABOLIC PANEL\t1\t$185.00
03/14/2026\t80048\tBASIC METABOLIC PANEL\t1\t$120.00
03/14/2026\t36415\tVENIPUNCTURE\t1\t$35.00
\t\tInsurance Payment\t\t-$1,500.00
Total Charges\t\t\t\t$2,740.00
";

fn lines(v: &serde_json::Value) -> Vec<(String, String, i64, String)> {
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["service_date"].as_str().unwrap_or_default().to_string(),
                l["code"].as_str().unwrap_or_default().to_string(),
                l["units"].as_i64().unwrap(),
                l["charge"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn want() -> Vec<(String, String, i64, String)> {
    [("99285", "2400.00"), ("80053", "185.00"), ("80048", "120.00"), ("36415", "35.00")]
        .iter()
        .map(|(c, a)| ("2026-03-14".to_string(), c.to_string(), 1, a.to_string()))
        .collect()
}

fn run_in(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn pasted_text_from_a_file_and_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bill.txt"), PASTED).unwrap();
    let (ok, out, err) = run_in(dir.path(), &["extract", "bill.txt", "--json"], None);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(lines(&v), want(), "the insurance payment is not a line");
    assert_eq!(v["totals"]["total_charges"], "2740.00");
    assert_eq!(v["method"], "text");

    let (ok, out, err) = run_in(dir.path(), &["extract", "-", "--json"], Some(PASTED));
    assert!(ok, "{err}");
    assert_eq!(lines(&serde_json::from_str(&out).unwrap()), want());
}

#[test]
fn audit_of_pasted_text_works_from_any_directory() {
    // Nothing of the project here: the reference data compiled into the binary is used.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bill.txt"), PASTED).unwrap();
    let (ok, out, err) = run_in(dir.path(), &["audit", "bill.txt", "--json"], None);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(lines(&v), want());
    // The shipped reference data was found: the lines are compared with Medicare's prices, and
    // every finding points at lines of this bill.
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{v}");
    for f in findings {
        let evidence = f["evidence"].as_array().unwrap();
        assert!(
            evidence.iter().any(|e| e["source"]
                .as_str()
                .is_some_and(|s| s.contains(".csv") || s.contains(".txt") || s.contains(".json"))),
            "{f}"
        );
        assert!(f["lines"].as_array().unwrap().iter().all(|n| (1..=4).contains(&n.as_i64().unwrap())), "{f}");
    }
    // The plain report too.
    let (ok, out, err) = run_in(dir.path(), &["audit", "bill.txt"], None);
    assert!(ok, "{err}");
    assert!(out.contains("at issue"), "{out}");
}

#[test]
fn json_line_items_in_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let items = r#"{"lineItems": [
        {"cpt": "99285", "units": 1, "billedAmount": 2400.00, "serviceDate": "2026-03-14", "modifiers": ["25"]},
        {"cpt": "93010", "units": 1, "billedAmount": "95.00", "serviceDate": "2026-03-14"},
        {"cpt": "J0696", "units": 4, "billedAmount": 150.00, "serviceDate": "03/14/2026"}]}"#;
    std::fs::write(dir.path().join("items.json"), items).unwrap();
    let (ok, out, err) = run_in(dir.path(), &["extract", "items.json", "--json"], None);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["method"], "json");
    let got = lines(&v);
    assert_eq!(got[2], ("2026-03-14".into(), "J0696".into(), 4, "150.00".into()));
    assert_eq!(v["lines"][0]["modifiers"][0], "25");

    // What `extract --json` printed, read back by `audit` (no page numbers needed).
    let mut own = v.clone();
    for l in own["lines"].as_array_mut().unwrap() {
        l.as_object_mut().unwrap().remove("page");
    }
    std::fs::write(dir.path().join("own.json"), own.to_string()).unwrap();
    let (ok, out, err) = run_in(dir.path(), &["audit", "own.json", "--json"], None);
    assert!(ok, "{err}");
    let a: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(lines(&a), got);
}

#[test]
fn errors_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"{"lineItems":[{"cpt":"99213"}]}"#).unwrap();
    let (ok, _, err) = run_in(dir.path(), &["audit", "bad.json"], None);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("bad.json") && err.contains("line 1: no charge"), "{err}");
    assert!(!err.contains("backtrace"), "{err}");

    let (ok, _, err) = run_in(dir.path(), &["extract", "missing.pdf"], None);
    assert!(!ok);
    assert!(err.trim().lines().count() == 1 && err.contains("missing.pdf"), "{err}");
    // -v shows more.
    let (_, _, verbose) = run_in(dir.path(), &["-v", "extract", "missing.pdf"], None);
    assert!(verbose.lines().count() > 1, "{verbose}");

    std::fs::write(dir.path().join("bill.txt"), PASTED).unwrap();
    let (ok, _, err) = run_in(dir.path(), &["audit", "bill.txt", "--reference", "/nonexistent"], None);
    assert!(!ok && err.contains("/nonexistent"), "{err}");
}
