//! `price_outlier`: a line's charge far above a benchmark for its code. The dataflow joins bill
//! lines with `benchmarks` on the code; this decides, for one matched benchmark, whether the
//! charge is an outlier and says against what:
//! - the hospital's own published gross charge (`hospital:*`, kind `gross`): any charge above it
//!   is more than the hospital says it charges (error, the excess at issue);
//! - Medicare's allowed amount (`locality:*` or `national`): above `MEDICARE_MULTIPLE` times it
//!   (warning, the part above that multiple at issue);
//! - what claims for the code observed (`observed`, 5 or more claims): above the 90th percentile
//!   (info: worth asking about, nothing claimed at issue).
use super::{cents, dollars, evidence, finding};
use rust_decimal::Decimal;
use schemas::records::BillLine;
use schemas::{Benchmark, Finding};

/// Charges above this multiple of the Medicare amount are flagged (hospital charges commonly run
/// two to three times Medicare's rates).
pub const MEDICARE_MULTIPLE: i64 = 3;
/// Observed percentiles need this many claims to mean anything.
pub const MIN_OBSERVED: i64 = 5;

pub fn check(doc_id: &str, line: &BillLine, bench: &Benchmark) -> Option<Finding> {
    if line.code.as_deref() != Some(bench.code.as_str()) || line.units <= 0 {
        return None;
    }
    // Compare per unit: benchmarks are per unit of service.
    let per_unit = line.charge / Decimal::from(line.units);
    let (severity, threshold, against) = match (bench.scope.as_str(), bench.kind.as_str()) {
        (s, "gross") if s.starts_with("hospital:") => {
            ("error", bench.max, format!("the hospital's own published gross charge ({})", &s["hospital:".len()..]))
        }
        (s, k) if (s.starts_with("locality:") || s == "national") && k.starts_with("allowed") => (
            "warning",
            bench.median * Decimal::from(MEDICARE_MULTIPLE),
            format!("{MEDICARE_MULTIPLE} times what Medicare allows ({} for {s})", dollars(bench.median)),
        ),
        ("observed", "charge") if bench.count >= MIN_OBSERVED => (
            "info",
            bench.p90,
            format!("the 90th percentile of {} claims for this code ({})", bench.count, dollars(bench.p90)),
        ),
        _ => return None,
    };
    if threshold <= Decimal::ZERO || cents(per_unit) <= cents(threshold) {
        return None;
    }
    let excess = (per_unit - threshold) * Decimal::from(line.units);
    let at_issue = if severity == "info" { Decimal::ZERO } else { excess };
    let code = &bench.code;
    Some(finding(
        doc_id,
        "price_outlier",
        severity,
        vec![line.line_no],
        at_issue,
        format!(
            "Line {} charges {} per unit for {code}, above {against}: {} more per unit. Ask the provider why, \
             or whether a lower rate applies to you.",
            line.line_no,
            dollars(per_unit),
            dollars(per_unit - threshold)
        ),
        vec![evidence(
            &match (&bench.source_file, &bench.effective_from) {
                (Some(f), Some(e)) => format!("{} {f} (effective {e})", bench.source),
                _ => format!("{} ({})", bench.source, bench.scope),
            },
            format!(
                "{code} {} {}: count {}, median {}, p90 {}, max {}",
                bench.scope, bench.kind, bench.count, bench.median, bench.p90, bench.max
            ),
        )],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    fn bench(scope: &str, kind: &str, count: i64, median: &str, p90: &str, max: &str) -> Benchmark {
        Benchmark {
            code: "70551".into(),
            modifier: String::new(),
            place_of_service: String::new(),
            scope: scope.into(),
            kind: kind.into(),
            source: "MRF".into(),
            count,
            min: d(median),
            median: d(median),
            p90: d(p90),
            max: d(max),
            mean: d(median),
            effective_from: Some("2026-04-01".into()),
            source_file: Some("westmercy_standardcharges.csv".into()),
            as_of: 0,
        }
    }

    #[test]
    fn against_the_hospital_medicare_and_observed_claims() {
        let mri = line(1, "2026-03-14", "70551", 1, None, "1500.00");
        let f = check("doc", &mri, &bench("hospital:West Mercy Hospital", "gross", 1, "1200", "1200", "1200")).unwrap();
        assert_eq!((f.severity.as_str(), f.amount_at_issue), ("error", d("300.00")));
        assert!(f.explanation.contains("own published gross charge (West Mercy Hospital)"));
        assert!(f.evidence[0].source.contains("westmercy_standardcharges.csv"));

        let medicare = bench("locality:01112-05", "allowed_nonfacility", 1, "230.00", "230.00", "230.00");
        let f = check("doc", &mri, &medicare).unwrap();
        assert_eq!((f.severity.as_str(), f.amount_at_issue), ("warning", d("810.00")));
        let cheap = line(1, "2026-03-14", "70551", 1, None, "690.00");
        assert!(check("doc", &cheap, &medicare).is_none(), "exactly 3× is not above it");

        let observed = bench("observed", "charge", 40, "900", "1400", "2000");
        let f = check("doc", &mri, &observed).unwrap();
        assert_eq!((f.severity.as_str(), f.amount_at_issue), ("info", d("0")));
        assert!(check("doc", &mri, &bench("observed", "charge", 3, "900", "1400", "2000")).is_none());
    }

    #[test]
    fn per_unit_and_only_for_its_own_code() {
        let two = line(1, "2026-03-14", "70551", 2, None, "2400.00");
        assert!(check("doc", &two, &bench("hospital:H", "gross", 1, "1200", "1200", "1200")).is_none());
        let other = line(1, "2026-03-14", "70553", 1, None, "5000.00");
        assert!(check("doc", &other, &bench("hospital:H", "gross", 1, "1200", "1200", "1200")).is_none());
    }
}
