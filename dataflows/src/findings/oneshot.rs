//! The findings graph fed from memory: `billstream audit`, the evaluation bench, the correction
//! test and the correction-latency bench. Same graph as the Kafka runtime; the source is a
//! closure that hands each worker its share of each round, the sink the return value.
use super::graph::{build, CaseId, DocId};
use super::line::Ln;
use super::{Audited, CaseInput, Reference, Warning};
use crate::benchmarks::Time;
use crate::{DataflowError, Result};
use schemas::records::BillLine;
use schemas::{Benchmark, Finding, RefEdit};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One change to the graph's inputs.
#[derive(Debug, Clone)]
pub enum Change {
    /// A line asserted (+1) or retracted (−1).
    Line(BillLine, isize),
    /// A document joins (+1) or leaves (−1) a case.
    Case(DocId, CaseId, isize),
    /// Who sent a document.
    Provider(DocId, String, isize),
    Edit(RefEdit, isize),
    Benchmark(Benchmark, isize),
    /// An anomaly model (version, JSON) comes into (+1) or out of (−1) force.
    Model(u64, Vec<u8>, isize),
}

/// Which worker feeds a document's changes: any rule is fine for correctness (the graph
/// exchanges by key); dealing by document spreads the conversion work.
pub fn worker_of(doc: &str, peers: usize) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    doc.hash(&mut h);
    (h.finish() % peers.max(1) as u64) as usize
}

/// What one round changed in the output, and how long it took on worker 0.
#[derive(Debug, Default, Clone)]
pub struct RoundResult {
    pub elapsed: Duration,
    pub findings: Vec<(Finding, isize)>,
    pub warnings: Vec<(Warning, isize)>,
}

/// Feeds `rounds` rounds: `feed(round, worker, peers, emit)` emits the changes worker `worker`
/// inserts in that round; each round is its own time and completes before the next starts.
/// Conversion errors of a line become warnings of its document.
pub fn run_rounds<F>(rounds: usize, workers: usize, feed: F) -> Result<Vec<RoundResult>>
where
    F: Fn(usize, usize, usize, &mut dyn FnMut(Change)) + Send + Sync + 'static,
{
    let feed = Arc::new(feed);
    let results: Arc<Mutex<Vec<RoundResult>>> = Arc::default();
    let res = results.clone();
    let guards = timely::execute(timely::Config::process(workers.max(1)), move |worker| {
        let index = worker.index();
        let peers = worker.peers();
        let mut g = build(worker);
        let mut bad: Vec<(Warning, isize)> = vec![];
        for round in 0..rounds {
            let t = round as Time + 1;
            let start = Instant::now();
            feed(round, index, peers, &mut |c| match c {
                Change::Line(l, d) => match Ln::from_bill(&l) {
                    Ok(ln) => g.lines.update((l.doc_id.clone(), ln), d),
                    Err(e) => bad.push((Warning { doc_id: l.doc_id.clone(), lines: vec![l.line_no], message: e }, d)),
                },
                Change::Case(doc, case, d) => g.cases.update((doc, case), d),
                Change::Provider(doc, p, d) => g.providers.update((doc, p), d),
                Change::Edit(e, d) => g.edits.update(e, d),
                Change::Benchmark(mut b, d) => {
                    b.as_of = 0;
                    g.benchmarks.update(b, d)
                }
                Change::Model(v, body, d) => g.models.update((v, body), d),
            });
            g.advance_to(t + 1);
            g.flush();
            while g.probe.less_than(&(t + 1)) {
                worker.step();
            }
            let elapsed = start.elapsed();
            let mut out = g.outputs.borrow_mut();
            let mut r = RoundResult {
                elapsed,
                findings: out.findings.drain(..).map(|(f, _, d)| (f, d)).collect(),
                warnings: out.warnings.drain(..).map(|(w, _, d)| (w, d)).collect(),
            };
            r.warnings.append(&mut bad);
            if let Ok(mut all) = res.lock() {
                match all.get_mut(round) {
                    Some(acc) => {
                        acc.findings.append(&mut r.findings);
                        acc.warnings.append(&mut r.warnings);
                        if index == 0 {
                            acc.elapsed = r.elapsed;
                        }
                    }
                    None => all.push(r),
                }
            }
        }
    })
    .map_err(DataflowError::Timely)?;
    for r in guards.join() {
        r.map_err(DataflowError::Timely)?;
    }
    let out = results.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
    Ok(out)
}

/// Sums diffs and keeps what is present once every round is in.
pub fn current<T: Ord + Clone>(updates: impl IntoIterator<Item = (T, isize)>) -> Vec<T> {
    let mut acc: BTreeMap<T, isize> = BTreeMap::new();
    for (x, d) in updates {
        *acc.entry(x).or_default() += d;
    }
    acc.into_iter().filter(|(_, n)| *n > 0).map(|(x, _)| x).collect()
}

/// The reference data as changes, dealt over the workers.
pub fn reference_changes(reference: &Reference, worker: usize, peers: usize, emit: &mut dyn FnMut(Change)) {
    for (i, e) in reference.edits.iter().enumerate() {
        if i % peers == worker {
            emit(Change::Edit(e.clone(), 1));
        }
    }
    for (i, b) in reference.benchmarks.iter().enumerate() {
        if i % peers == worker {
            emit(Change::Benchmark(b.clone(), 1));
        }
    }
    if let (0, Some((v, body))) = (worker, &reference.model) {
        emit(Change::Model(*v, body.clone(), 1));
    }
}

/// Every case's findings in one run of the graph (all inputs at one time).
pub fn audit(reference: &Reference, cases: Vec<CaseInput>, workers: usize) -> Result<Audited> {
    let reference = Arc::new(reference.clone());
    let cases = Arc::new(cases);
    let rounds = run_rounds(1, workers, move |_, worker, peers, emit| {
        reference_changes(&reference, worker, peers, emit);
        for c in cases.iter() {
            if worker_of(&c.case_id, peers) != worker {
                continue;
            }
            let mut docs: Vec<&str> = c.lines.iter().map(|l| l.doc_id.as_str()).collect();
            docs.sort_unstable();
            docs.dedup();
            for d in docs {
                emit(Change::Case(d.to_string(), c.case_id.clone(), 1));
                if let Some(p) = &c.provider {
                    emit(Change::Provider(d.to_string(), p.clone(), 1));
                }
            }
            for l in &c.lines {
                emit(Change::Line(l.clone(), 1));
            }
        }
    })?;
    let round = rounds.into_iter().next().unwrap_or_default();
    let mut findings = current(round.findings);
    findings.sort_by(|a, b| (&a.doc_id, &a.kind, &a.lines).cmp(&(&b.doc_id, &b.kind, &b.lines)));
    Ok(Audited { findings, warnings: current(round.warnings) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use schemas::records::DocumentKind;
    use udfs::anomaly::Model;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn line(doc: &str, no: i32, code: &str, units: i32, charge: &str) -> BillLine {
        BillLine {
            doc_id: doc.into(),
            kind: DocumentKind::Bill,
            line_no: no,
            page: 1,
            service_date: Some("2026-03-14".into()),
            code: Some(code.into()),
            code_system: "CPT".into(),
            revenue_code: None,
            cdm_code: None,
            modifiers: vec![],
            description: String::new(),
            units,
            unit_price: None,
            charge: d(charge),
            allowed: None,
            plan_paid: None,
            patient_responsibility: None,
            confidence: 1.0,
            flagged: false,
            total_charges: None,
            payments: None,
            adjustments: None,
            balance_due: None,
        }
    }

    fn edit(kind: &str, code: &str, code2: Option<&str>, limit: Option<i32>) -> RefEdit {
        RefEdit {
            kind: kind.into(),
            code: code.into(),
            code2: code2.map(Into::into),
            modifier_indicator: code2.map(|_| "0".into()),
            mue_limit: limit,
            mue_adjudication: limit.map(|_| "2 Date of Service Edit: Policy".into()),
            description: None,
            effective_from: "2026-01-01".into(),
            effective_to: None,
            source_file: "test".into(),
        }
    }

    fn reference() -> Reference {
        Reference {
            edits: vec![
                edit("ptp", "80053", Some("82947"), None),
                edit("mue", "36415", None, Some(1)),
                edit("code", "J1885", None, None),
            ],
            benchmarks: vec![],
            model: None,
        }
    }

    fn kinds(fs: &[(Finding, isize)]) -> Vec<(String, String, Vec<i32>, isize)> {
        let mut v: Vec<_> = fs.iter().map(|(f, n)| (f.doc_id.clone(), f.kind.clone(), f.lines.clone(), *n)).collect();
        v.sort();
        v
    }

    #[test]
    fn a_correction_retracts_and_rederives_exactly_the_affected_findings() {
        let a = vec![
            line("A", 1, "99213", 1, "120.00"),
            line("A", 2, "80053", 1, "50.00"),
            line("A", 3, "82947", 1, "20.00"),
            line("A", 4, "36415", 3, "30.00"),
            line("A", 5, "J9999", 1, "10.00"),
        ];
        let b = vec![line("B", 1, "99213", 1, "120.00"), line("B", 2, "85025", 1, "25.00")];
        let reference = reference();
        let (a2, b2) = (a.clone(), b.clone());
        let rounds = run_rounds(3, 2, move |round, worker, peers, emit| match round {
            0 => {
                reference_changes(&reference, worker, peers, emit);
                for l in a2.iter().chain(b2.iter()).filter(|l| worker_of(&l.doc_id, peers) == worker) {
                    emit(Change::Line(l.clone(), 1));
                }
            }
            // The patient corrects line 3 of A: it was 85025, not 82947.
            1 if worker == 0 => {
                emit(Change::Line(a2[2].clone(), -1));
                emit(Change::Line(BillLine { code: Some("85025".into()), ..a2[2].clone() }, 1));
            }
            // And line 2 of B was billed twice: a new line 3 repeats it.
            2 if worker == 0 => emit(Change::Line(BillLine { line_no: 3, ..b2[1].clone() }, 1)),
            _ => {}
        })
        .unwrap();
        let s = |x: &str| x.to_string();
        assert_eq!(
            kinds(&rounds[0].findings),
            vec![
                (s("A"), s("invalid_code"), vec![5], 1),
                (s("A"), s("unbundled_pair"), vec![2, 3], 1),
                (s("A"), s("units_exceed_mue"), vec![4], 1),
            ]
        );
        assert_eq!(kinds(&rounds[1].findings), vec![(s("A"), s("unbundled_pair"), vec![2, 3], -1)]);
        assert_eq!(kinds(&rounds[2].findings), vec![(s("B"), s("duplicate_charge"), vec![2, 3], 1)]);
        // The retraction is the very finding asserted before.
        assert_eq!(
            rounds[1].findings[0].0,
            rounds[0].findings.iter().find(|(f, _)| f.kind == "unbundled_pair").unwrap().0
        );
    }

    fn bench(scope: &str, kind: &str, amount: &str) -> Benchmark {
        Benchmark {
            code: "99213".into(),
            modifier: String::new(),
            place_of_service: String::new(),
            scope: scope.into(),
            kind: kind.into(),
            source: "test".into(),
            count: 1,
            min: d(amount),
            median: d(amount),
            p90: d(amount),
            max: d(amount),
            mean: d(amount),
            effective_from: Some("2026-01-01".into()),
            source_file: Some("test.csv".into()),
            as_of: 0,
        }
    }

    /// A charge is compared with the sending hospital's own gross charge, never another's, and
    /// the strongest comparison per line is the one reported.
    #[test]
    fn the_senders_own_published_price_and_only_its() {
        let reference = Reference {
            edits: vec![],
            benchmarks: vec![
                bench("hospital:General", "gross", "140.00"),
                bench("hospital:Other", "gross", "90.00"),
                bench("locality:01112-05", "allowed_nonfacility", "45.00"),
            ],
            model: None,
        };
        let run = |provider: Option<&str>, charge: &str| {
            let lines = vec![line("b", 1, "99213", 1, charge)];
            let case = CaseInput { case_id: "c".into(), lines, provider: provider.map(Into::into) };
            let out = audit(&reference, vec![case], 2).unwrap();
            out.findings
                .into_iter()
                .map(|f| (f.severity, f.amount_at_issue, f.evidence[0].source.clone()))
                .collect::<Vec<_>>()
        };
        // Above General's own $140 gross: an error for the excess.
        let f = run(Some("General"), "150.00");
        assert_eq!((f.len(), f[0].0.as_str(), f[0].1), (1, "error", d("10.00")), "{f:?}");
        // Unknown sender: only the Medicare comparison ($150 > 3 × $45), a warning.
        let f = run(None, "150.00");
        assert_eq!((f.len(), f[0].0.as_str(), f[0].1), (1, "warning", d("15.00")), "{f:?}");
        // Another hospital's lower gross never applies.
        assert!(run(Some("General"), "130.00").is_empty());
    }

    /// A model trained on a claims population scores a bill's lines in the graph: an absurd line
    /// is an anomaly finding naming what drove it; a new model version re-scores; no model, no
    /// anomaly findings.
    #[test]
    fn anomaly_scores_are_findings_with_what_drove_them() {
        use testkit::anomaly as synthetic;
        use udfs::anomaly::{train, ModelMeta, Params};
        let split = synthetic::split(7, 20_000, 10);
        let params = Params { trees: 50, ..Params::default() };
        let mut model = train(&split.train.rows, &params, ModelMeta::default(), &split.index).unwrap();
        model.meta.version = 1;
        let body = model.to_json().unwrap();
        // A common code at a typical price, and the same code at 60 times that price for 40 units.
        let common = split.benchmarks.iter().filter(|b| b.scope == "observed").max_by_key(|b| b.count).unwrap();
        let usual = common.median.round_dp(2).to_string();
        let absurd = (common.median * d("60") * d("40")).round_dp(2).to_string();
        let lines = vec![line("b", 1, &common.code, 1, &usual), line("b", 2, &common.code, 40, &absurd)];
        let reference = Reference { edits: vec![], benchmarks: vec![], model: Some((1, body.clone())) };
        let (l2, b2) = (lines.clone(), body);
        let rounds = run_rounds(2, 2, move |round, worker, peers, emit| match round {
            0 => {
                reference_changes(&reference, worker, peers, emit);
                if worker == 0 {
                    for l in &l2 {
                        emit(Change::Line(l.clone(), 1));
                    }
                }
            }
            // Version 2 replaces version 1: the same verdicts, re-derived under the new version.
            _ if worker == 0 => {
                emit(Change::Model(1, b2.clone(), -1));
                let mut m2 = Model::from_json(&b2).unwrap();
                m2.meta.version = 2;
                emit(Change::Model(2, m2.to_json().unwrap(), 1));
            }
            _ => {}
        })
        .unwrap();
        let first: Vec<&Finding> = rounds[0].findings.iter().map(|(f, _)| f).filter(|f| f.kind == "anomaly").collect();
        assert_eq!(first.len(), 1, "{first:?}");
        assert_eq!(first[0].lines, vec![2]);
        assert_eq!(first[0].amount_at_issue, Decimal::ZERO);
        assert!(first[0].explanation.contains("Line 2"), "{}", first[0].explanation);
        assert!(first[0].explanation.contains("far above"), "names what drove it: {}", first[0].explanation);
        let second: Vec<(String, isize)> = rounds[1]
            .findings
            .iter()
            .map(|(f, n)| (f.evidence.iter().map(|e| e.detail.clone()).collect::<Vec<_>>().join(" "), *n))
            .collect();
        assert_eq!(second.len(), 2, "one retraction, one assertion: {second:?}");
        let without = audit(
            &super::super::Reference::default(),
            vec![CaseInput { case_id: "c".into(), lines, provider: None }],
            1,
        )
        .unwrap();
        assert!(without.findings.iter().all(|f| f.kind != "anomaly"));
    }

    #[test]
    fn contradictory_inputs_give_warnings_not_findings() {
        let mut bill = vec![line("bill", 1, "99285", 1, "900.00"), line("bill", 2, "85025", -2, "-50.00")];
        for l in bill.iter_mut() {
            l.balance_due = Some(d("850.00"));
        }
        // An EOB of another visit: other date, other codes, and it says the patient owes little.
        let mut eob = line("eob", 1, "97110", 1, "100.00");
        eob.kind = DocumentKind::Eob;
        eob.service_date = Some("2025-07-02".into());
        eob.patient_responsibility = Some(d("10.00"));
        // A GFE for later care: not an estimate of this bill.
        let mut gfe = line("gfe", 1, "99285", 1, "100.00");
        gfe.kind = DocumentKind::Gfe;
        gfe.service_date = Some("2027-01-10".into());
        let mut lines = bill.clone();
        lines.extend([eob, gfe]);
        let out = audit(&reference(), vec![CaseInput { case_id: "c".into(), lines, provider: None }], 2).unwrap();
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        let msgs: Vec<&str> = out.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(out.warnings.len(), 3, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("Line 2 shows -2 units")));
        assert!(msgs.iter().any(|m| m.contains("another patient")));
        assert!(msgs.iter().any(|m| m.contains("Good Faith Estimate") && m.contains("2027-01-10")));

        // The same EOB on the bill's own date is compared, and balance billing is found.
        let mut lines = bill;
        let mut eob = line("eob", 1, "99285", 1, "900.00");
        eob.kind = DocumentKind::Eob;
        eob.patient_responsibility = Some(d("150.00"));
        lines.push(eob);
        let out = audit(&reference(), vec![CaseInput { case_id: "c".into(), lines, provider: None }], 1).unwrap();
        let ks: Vec<&str> = out.findings.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(ks, vec!["balance_billing"]);
        assert_eq!(out.findings[0].amount_at_issue, d("700.00"));
    }
}
