//! A bill line's anomaly score as a finding.
//!
//! Severity: `info` above the model's threshold (the top `contamination` share of the claims
//! population, 0.5% by default), `warning` above the stricter `warn_threshold` (0.1%). Never
//! `error`: a statistical flag says a line is unusual, not that it is wrong. For the same reason
//! `amount_at_issue` is 0 — the model cannot say how much of the charge is unjustified; the price,
//! unit and coding rules claim money when they have a reason.
use super::features::{D, PHRASES};
use super::model::Model;
use crate::rules::{dollars, evidence, finding};
use rust_decimal::Decimal;
use schemas::records::BillLine;
use schemas::Finding;

/// Features named in an explanation at most.
const TOP: usize = 2;

/// A finding when `model` scores `x` (the features of `line`) above its threshold.
pub fn check(doc_id: &str, line: &BillLine, x: &[f64; D], model: &Model) -> Option<Finding> {
    let score = model.score(x);
    let meta = &model.meta;
    if !score.is_finite() || score <= meta.threshold {
        return None;
    }
    let severity = if score > meta.warn_threshold { "warning" } else { "info" };
    let drivers: Vec<(usize, f64)> = model
        .explain(x)
        .into_iter()
        .filter(|(_, c)| *c > 0.0)
        .filter_map(|(name, c)| super::FEATURES.iter().position(|n| *n == name).map(|i| (i, c)))
        .take(TOP)
        .collect();
    let usual = model.usual();
    let reasons: Vec<&str> = drivers
        .iter()
        .map(|(i, _)| {
            let value = if x[*i].is_finite() { x[*i] } else { usual[*i] };
            if value >= usual[*i] {
                PHRASES[*i].0
            } else {
                PHRASES[*i].1
            }
        })
        .collect();
    let why = match reasons.as_slice() {
        [] => "the combination of its code, units and price is rare".to_string(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first}, and {}", rest.join(", and ")),
    };
    let what = line.code.as_deref().map(|c| format!(" ({c}, {})", dollars(line.charge))).unwrap_or_default();
    let range = if meta.data_from.is_empty() {
        String::new()
    } else {
        format!(" with service dates {} to {}", meta.data_from, meta.data_to)
    };
    let explanation = format!(
        "Line {}{what} looks unusual compared with {} claim lines{range}: {why}. This alone does not mean the \
         charge is wrong; it is worth asking the provider for an itemized explanation of this line.",
        line.line_no,
        meta.population.max(meta.rows),
    );
    let drove =
        drivers.iter().map(|(i, c)| format!("{} {:+.3}", super::FEATURES[*i], c)).collect::<Vec<_>>().join(", ");
    let values = (0..D).map(|i| format!("{:.3}", x[i])).collect::<Vec<_>>().join(", ");
    Some(finding(
        doc_id,
        "anomaly",
        severity,
        vec![line.line_no],
        Decimal::ZERO,
        explanation,
        vec![evidence(
            &format!(
                "anomaly model v{} (extended isolation forest, {} training rows from {} claim lines{range})",
                meta.version, meta.rows, meta.population
            ),
            format!(
                "score {score:.4} (info above {:.4}, warning above {:.4}); drivers: {}; features: [{values}]",
                meta.threshold,
                meta.warn_threshold,
                if drove.is_empty() { "none alone".to_string() } else { drove }
            ),
        )],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::auc;
    use crate::anomaly::features::{features, BenchIndex, FEATURES};
    use crate::anomaly::model::{train, ModelMeta, Params};
    use crate::rules::testing::{d, line};
    use testkit::anomaly::{self as synthetic, Kind};

    /// The labeled set comes from testkit, which links its own build of this crate: only its
    /// plain data is used here, the index is rebuilt locally from its benchmarks.
    fn model() -> (Model, synthetic::Split) {
        let set = synthetic::split(11, 20_000, 4_000);
        let meta = ModelMeta {
            version: 3,
            population: 20_000,
            data_from: "2026-01-01".into(),
            data_to: "2026-12-28".into(),
            ..ModelMeta::default()
        };
        (train(&set.train.rows, &Params::default(), meta, &BenchIndex::from_benchmarks(&set.benchmarks)).unwrap(), set)
    }

    #[test]
    fn fires_only_above_threshold_and_names_the_driver() {
        let (m, set) = model();
        let scored: Vec<(f64, bool)> =
            set.test.rows.iter().zip(set.test.labels()).map(|(x, l)| (m.score(x), l)).collect();
        let a = auc(&scored);
        assert!(a > 0.9, "AUC {a}");

        for (x, k) in set.test.rows.iter().zip(&set.test.kinds).take(2_000) {
            let bill = line(1, "2026-03-14", "99213", 1, None, "100.00");
            let f = check("doc", &bill, x, &m);
            assert_eq!(f.is_some(), m.score(x) > m.meta.threshold, "{k:?}");
        }

        // A typical line: no finding. The same line at 80 times its usual price: a finding naming a
        // charge feature, with the model version in the evidence and nothing claimed.
        let typical = set.test.lines.iter().zip(&set.test.kinds).find(|(_, k)| k.is_none()).unwrap().0;
        let mut bill = line(4, &typical.service_date, &typical.code, 1, None, "0");
        let median = set.benchmarks.iter().find(|b| b.code == typical.code && b.scope == "national").unwrap().median;
        bill.charge = (median * d("2.5")).round_dp(2);
        let x = features(&m.bill_facts(&bill, 3));
        assert!(check("doc", &bill, &x, &m).is_none(), "score {} > {}", m.score(&x), m.meta.threshold);
        bill.charge = (median * d("200")).round_dp(2);
        let x = features(&m.bill_facts(&bill, 3));
        let f = check("doc", &bill, &x, &m)
            .unwrap_or_else(|| panic!("{} <= {} {x:?} {:?}", m.score(&x), m.meta.threshold, m.usual()));
        assert_eq!((f.kind.as_str(), f.lines.as_slice(), f.amount_at_issue), ("anomaly", &[4][..], d("0")));
        let top = m.explain(&x)[0].0;
        assert!(top == FEATURES[0] || top == FEATURES[1], "{:?}", m.explain(&x));
        assert!(f.explanation.starts_with("Line 4 ("), "{}", f.explanation);
        assert!(f.explanation.contains("far above what"), "{}", f.explanation);
        assert!(f.evidence[0].source.contains("v3") && f.evidence[0].source.contains("2026-01-01 to 2026-12-28"));
        assert!(["info", "warning"].contains(&f.severity.as_str()));
    }

    #[test]
    fn explanation_names_the_injected_feature() {
        let (m, set) = model();
        let mut right = [0usize; 2];
        for (x, k) in set.test.rows.iter().zip(&set.test.kinds) {
            let expect: &[usize] = match k {
                Some(Kind::Overcharge) => &[0, 1],
                Some(Kind::AbsurdUnits) => &[2],
                Some(Kind::UnusualPlace) => &[3],
                _ => continue,
            };
            let top = m.explain(x)[0].0;
            right[usize::from(expect.iter().any(|i| FEATURES[*i] == top))] += 1;
        }
        // The attribution names the injected feature for the large majority of these anomalies.
        assert!(right[1] >= 9 * right[0], "right {} wrong {}", right[1], right[0]);
    }
}
