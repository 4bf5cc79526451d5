//! The findings engine against the committed, labeled evaluation set (tests/eval/findings) over
//! the demo reference data (deploy/demo/reference): the same run as `billstream bench findings`.
//! Quality thresholds, not timing: per kind precision and recall ≥ 0.95, ≥ 95% of the clean bills
//! without an error-severity finding, and every contradictory input warned about with no finding.
use dataflows::findings::{eval, oneshot, reference};
use std::path::Path;

#[test]
fn findings_meet_the_quality_targets_on_the_evaluation_set() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut refs, files) = reference::load_dir(&root.join("deploy/demo/reference"), None).unwrap();
    assert!(files.iter().all(|f| !f.contains("rejected")), "{files:#?}");
    let (cases, observed) = eval::load_set(&root.join("tests/eval/findings")).unwrap();
    assert!(cases.len() >= 600, "{} cases", cases.len());
    refs.benchmarks.extend(observed);
    let audited = oneshot::audit(&refs, eval::inputs(&cases), 2).unwrap();
    let report = eval::score(&cases, &audited);
    let shown = |r: &eval::Report| format!("{:#?}", r.disagreements.iter().take(20).collect::<Vec<_>>());

    assert_eq!(report.kinds.iter().filter(|k| k.support > 0).count(), udfs::evalset::KINDS.len());
    for k in &report.kinds {
        assert!(
            k.precision >= 0.95 && k.recall >= 0.95,
            "{}: precision {:.3}, recall {:.3} (TP {}, FP {}, FN {})\n{}",
            k.kind,
            k.precision,
            k.recall,
            k.tp,
            k.fp,
            k.fn_,
            shown(&report)
        );
    }
    assert!(report.clean_cases >= 150, "{} clean cases", report.clean_cases);
    assert!(report.clean_error_free_rate >= 0.95, "{:.3}\n{}", report.clean_error_free_rate, shown(&report));

    // Contradictory inputs: a warning on each, and no finding at all (whatever its severity).
    let contradictory: Vec<_> = cases.iter().filter(|c| c.expect_warnings).collect();
    assert!(contradictory.len() >= 30);
    for c in contradictory {
        let docs: Vec<&str> = c.lines.iter().map(|l| l.doc_id.as_str()).collect();
        let warned = audited.warnings.iter().any(|w| docs.contains(&w.doc_id.as_str()));
        let found: Vec<_> =
            audited.findings.iter().filter(|f| f.kind != "anomaly" && docs.contains(&f.doc_id.as_str())).collect();
        assert!(warned, "{} ({}): no warning", c.case_id, c.note);
        assert!(found.is_empty(), "{} ({}): {found:#?}", c.case_id, c.note);
    }
}
