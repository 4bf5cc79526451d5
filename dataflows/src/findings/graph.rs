//! The findings graph. Every rule module of `udfs::rules` runs inside one of two reduces:
//!
//! ```text
//! bill lines ──by code──▶ ⋈ reference.edits (PTP col. 1, MUE, code set) ─┐ (doc, line no, edit)
//!            ──by code──▶ ⋈ picked benchmarks (Medicare, observed)      ─┤ (doc, line no, benchmark)
//!            ──HCPCS────▶ ⋈ "a code set is loaded"                      ─┤ (doc, line no)
//!            ───────────────────────────────────────────────────────────┴▶ reduce per document "DocRules"
//! all lines ⋈ (doc → case) ──▶ reduce per case "CaseRules" (EOB, GFE, balance billing)
//! ```
//!
//! A document's reduce sees its lines and what the joins matched for them, and nothing else, so
//! a corrected line, a new edit or a new benchmark re-runs the rules of exactly the documents it
//! touches, and the reduce emits only the findings that changed (−1 old, +1 new). The joins
//! carry line numbers, not lines: the document's reduce already holds its lines.
use super::line::Ln;
use super::shared::Shared;
use super::Warning;
use crate::benchmarks::{Time, Update};
use differential_dataflow::input::{Input, InputSession};
use differential_dataflow::trace::implementations::{ValBuilder, ValSpine};
use differential_dataflow::AsCollection;
use schemas::records::BillLine;
use schemas::{Benchmark, DeadLetter, Finding, RefEdit};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;
use timely::dataflow::operators::probe::Handle;
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::operators::{Exchange, Inspect};
use udfs::anomaly::{self, Model};
use udfs::codes::{classify, CodeSystem};
use udfs::rules;

pub type DocId = String;
pub type CaseId = String;

/// What a document's reduce receives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum In {
    /// Boxed: the other variants are small, and an arrangement stores each at the enum's size.
    Line(Box<Ln>),
    /// An edit whose (column-one) code is the code of this line.
    Edit(i32, Shared<RefEdit>),
    /// A benchmark of this line's code.
    Bench(i32, Shared<Benchmark>),
    /// This HCPCS-shaped line can be checked: a code set is loaded.
    CodeSetLoaded(i32),
    /// The document's sender, as its price file names the hospital.
    Provider(String),
    /// The anomaly model version in force (its body is in the worker's model registry).
    Model(u64),
}

/// What the reduces emit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Out {
    Finding(Finding),
    Warning(Warning),
}

/// What the sink receives, all on worker 0.
#[derive(Default)]
pub struct Outputs {
    pub findings: Vec<Update<Finding>>,
    pub warnings: Vec<Update<Warning>>,
    /// (source, partition, next offset) reached by the batch at this time.
    pub progress: Vec<Update<(u8, i32, i64)>>,
    pub dead: Vec<Update<DeadLetter>>,
}

pub struct Graph {
    /// Current lines of every document (bills, EOBs, GFEs), by document.
    pub lines: InputSession<Time, (DocId, Ln), isize>,
    /// Which case a document belongs to (bills meet their EOB and GFE there).
    pub cases: InputSession<Time, (DocId, CaseId), isize>,
    /// Who sent a document (the hospital whose published prices its bill is compared with).
    pub providers: InputSession<Time, (DocId, String), isize>,
    pub edits: InputSession<Time, RefEdit, isize>,
    /// Benchmarks with `as_of` zeroed, so a retraction matches its assertion.
    pub benchmarks: InputSession<Time, Benchmark, isize>,
    /// Anomaly models as saved (version, JSON): the one in force is +1, the one it replaces −1.
    pub models: InputSession<Time, (u64, Vec<u8>), isize>,
    pub progress: InputSession<Time, (u8, i32, i64), isize>,
    pub dead: InputSession<Time, DeadLetter, isize>,
    pub probe: Handle<Time>,
    pub outputs: Rc<RefCell<Outputs>>,
}

impl Graph {
    pub fn advance_to(&mut self, t: Time) {
        self.lines.advance_to(t);
        self.cases.advance_to(t);
        self.providers.advance_to(t);
        self.edits.advance_to(t);
        self.benchmarks.advance_to(t);
        self.models.advance_to(t);
        self.progress.advance_to(t);
        self.dead.advance_to(t);
    }
    pub fn flush(&mut self) {
        self.lines.flush();
        self.cases.flush();
        self.providers.flush();
        self.edits.flush();
        self.benchmarks.flush();
        self.models.flush();
        self.progress.flush();
        self.dead.flush();
    }
    pub fn time(&self) -> Time {
        *self.lines.time()
    }
    /// The earliest time whose output may still change (`None` when all inputs are closed).
    pub fn frontier(&self) -> Option<Time> {
        self.probe.with_frontier(|f| f.iter().min().copied())
    }
}

/// The key an edit joins bill lines on: the column-one code of a PTP pair, the code otherwise.
fn edit_code(e: &RefEdit) -> Box<str> {
    Box::from(e.code.as_str())
}

fn is_medicare(b: &Benchmark) -> bool {
    (b.scope.starts_with("locality:") || b.scope == "national") && b.kind.starts_with("allowed")
}

fn is_observed(b: &Benchmark) -> bool {
    b.scope == "observed" && b.kind == "charge"
}

fn is_hospital_gross(b: &Benchmark) -> bool {
    b.scope.starts_with("hospital:") && b.kind == "gross"
}

/// Of a code's benchmarks, the ones a bill line is compared with, per modifier: the highest
/// Medicare amount over localities and settings (a bill does not say where Medicare would have
/// paid, so the comparison is the one most favourable to the provider) and the observed
/// statistics with the most claims; and each hospital's gross charge (a document's reduce
/// uses the one of the hospital that sent it). Keeps the join with bill lines at a few rows per
/// line plus one per hospital that publishes the code.
pub fn pick_benchmarks(benches: &[&Benchmark]) -> Vec<Benchmark> {
    let mut medicare: BTreeMap<&str, &Benchmark> = BTreeMap::new();
    let mut observed: BTreeMap<&str, &Benchmark> = BTreeMap::new();
    let mut gross: BTreeMap<(&str, &str), &Benchmark> = BTreeMap::new();
    for b in benches {
        let m = b.modifier.as_str();
        if is_hospital_gross(b) {
            // Per hospital and modifier, the highest (settings differ): favourable to the provider.
            let e = gross.entry((b.scope.as_str(), m)).or_insert(b);
            if b.max > e.max {
                *e = b;
            }
        } else if is_medicare(b) {
            let e = medicare.entry(m).or_insert(b);
            if (b.median, &b.scope) > (e.median, &e.scope) {
                *e = b;
            }
        } else if is_observed(b) {
            let e = observed.entry(m).or_insert(b);
            if (b.count, &b.place_of_service) > (e.count, &e.place_of_service) {
                *e = b;
            }
        }
    }
    medicare.into_values().chain(observed.into_values()).chain(gross.into_values()).cloned().collect()
}

/// Builds the graph in `worker`; every worker builds the same one.
pub fn build(worker: &mut timely::worker::Worker) -> Graph {
    let outputs = Rc::new(RefCell::new(Outputs::default()));
    let probe = Handle::new();
    // Each worker's parsed copies of the models in force, filled as a version reaches it.
    let registry: Registry = Rc::default();
    let (lines, cases, providers, edits, benchmarks, models, progress, dead) = worker.dataflow::<Time, _, _>(|scope| {
        let (lines_in, lines) = scope.new_collection::<(DocId, Ln), isize>();
        let (cases_in, cases) = scope.new_collection::<(DocId, CaseId), isize>();
        let (providers_in, providers) = scope.new_collection::<(DocId, String), isize>();
        let (edits_in, edits) = scope.new_collection::<RefEdit, isize>();
        let (bench_in, benches) = scope.new_collection::<Benchmark, isize>();
        let (models_in, models) = scope.new_collection::<(u64, Vec<u8>), isize>();
        let (progress_in, progress) = scope.new_collection::<(u8, i32, i64), isize>();
        let (dead_in, dead) = scope.new_collection::<DeadLetter, isize>();

        let bill = lines.clone().filter(|(_, l)| l.kind == 0);
        // (code, (doc, line no)) of every coded bill line, arranged once for both joins.
        let by_code = bill
            .clone()
            .flat_map(|(doc, l)| l.code.clone().map(|c| (c, (doc, l.line_no))))
            .arrange_by_key_named("BillLinesByCode");

        let edits_by_code = edits.clone().map(|e| (edit_code(&e), Shared::new(e))).arrange_by_key_named("EditsByCode");
        let matched_edits = by_code
            .clone()
            .join_core(edits_by_code, |_code, (doc, no), e| Some((doc.clone(), In::Edit(*no, e.clone()))));

        let picked = benches
            .map(|b| (Box::<str>::from(b.code.as_str()), b))
            .reduce_named("PickBenchmarks", |_code, input, out| {
                let all: Vec<&Benchmark> = input.iter().filter(|(_, n)| *n > 0).map(|(b, _)| *b).collect();
                out.extend(pick_benchmarks(&all).into_iter().map(|b| (Shared::new(b), 1)));
            })
            .arrange_by_key_named("PickedByCode");
        let matched_benches =
            by_code.join_core(picked, |_code, (doc, no), b| Some((doc.clone(), In::Bench(*no, b.clone()))));

        // HCPCS lines meet the code set only once one is loaded: without it every code would
        // look unknown.
        let loaded = edits.filter(|e| e.kind == "code").map(|_| ()).distinct().map(|()| ((), ()));
        let checkable = bill
            .clone()
            .filter(|(_, l)| l.code.as_deref().is_some_and(|c| classify(c) == CodeSystem::Hcpcs))
            .map(|(doc, l)| ((), (doc, l.line_no)))
            .join_map(loaded, |_, (doc, no), _| (doc.clone(), In::CodeSetLoaded(*no)));

        // A model reaches every worker (broadcast), which parses it into its registry before any
        // document's reduce can see its version: the reduces run only once the frontier has
        // passed every worker's copy.
        let reg = registry.clone();
        let versions = models
            .inner
            .broadcast()
            .inspect(move |((v, body), _, d)| {
                if *d > 0 && !reg.borrow().contains_key(v) {
                    match Model::from_json(body) {
                        Ok(m) => {
                            let mut r = reg.borrow_mut();
                            r.insert(*v, Arc::new(m));
                            // Keep the last few: older versions are retracted by then.
                            while r.len() > 3 {
                                r.pop_first();
                            }
                        }
                        Err(e) => tracing::warn!(version = v, error = %e, "anomaly model unreadable; not scored"),
                    }
                }
            })
            .as_collection()
            .map(|(v, _)| v)
            .distinct()
            .map(|v| ((), v));
        let scored = bill
            .clone()
            .map(|(doc, _)| doc)
            .distinct()
            .map(|doc| ((), doc))
            .join_map(versions, |_, doc, v| (doc.clone(), In::Model(*v)));

        // Every line of every document is held once, here, by document: the documents' reduce
        // and the case join both read this arrangement.
        let doc_in = lines
            .map(|(doc, l)| (doc, In::Line(Box::new(l))))
            .concat(scored)
            .concat(matched_edits)
            .concat(matched_benches)
            .concat(checkable)
            .concat(providers.map(|(doc, p)| (doc, In::Provider(p))))
            .arrange_by_key_named("DocumentInputs");
        let reg = registry.clone();
        let doc_out = doc_in
            .clone()
            .reduce_abelian::<_, ValBuilder<_, _, _, _>, ValSpine<DocId, Out, Time, isize>, _, _>(
                "DocRules",
                move |doc, input, out| {
                    let ins: Vec<&In> = input.iter().filter(|(_, n)| *n > 0).map(|(i, _)| *i).collect();
                    out.extend(doc_rules(doc, &ins, &reg.borrow()).into_iter().map(|o| (o, 1)));
                },
                |vec, key, upds| {
                    vec.clear();
                    vec.extend(upds.drain(..).map(|(v, t, r)| ((key.clone(), v), t, r)));
                },
            )
            .as_collection(|k, v| (k.clone(), v.clone()));

        // Only documents that belong to a case reach the case reduce.
        let cases = cases.arrange_by_key_named("Cases");
        let case_out = doc_in
            .join_core(cases, |doc, i, case| match i {
                In::Line(l) => Some((case.clone(), (doc.clone(), (**l).clone()))),
                _ => None,
            })
            .reduce_named("CaseRules", |_case, input, out| {
                let docs: Vec<(&DocId, &Ln)> = input.iter().filter(|(_, n)| *n > 0).map(|((d, l), _)| (d, l)).collect();
                out.extend(case_rules(&docs).into_iter().map(|o| (o, 1)));
            });

        let sink = outputs.clone();
        doc_out
            .concat(case_out)
            .map(|(_, o)| o)
            .inner
            .exchange(|_| 0)
            .as_collection()
            .inspect(move |(o, t, r)| {
                let mut s = sink.borrow_mut();
                match o {
                    Out::Finding(f) => s.findings.push((f.clone(), *t, *r)),
                    Out::Warning(w) => s.warnings.push((w.clone(), *t, *r)),
                }
            })
            .probe_with(&probe);
        let sink = outputs.clone();
        progress
            .inner
            .exchange(|_| 0)
            .as_collection()
            .inspect(move |u| sink.borrow_mut().progress.push(*u))
            .probe_with(&probe);
        let sink = outputs.clone();
        dead.inner
            .exchange(|_| 0)
            .as_collection()
            .inspect(move |u| sink.borrow_mut().dead.push(u.clone()))
            .probe_with(&probe);
        (lines_in, cases_in, providers_in, edits_in, bench_in, models_in, progress_in, dead_in)
    });
    Graph { lines, cases, providers, edits, benchmarks, models, progress, dead, probe, outputs }
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "error" => 3,
        "warning" => 2,
        _ => 1,
    }
}

/// The modifier a line's price depends on (professional or technical component), if any.
fn pricing_modifier(l: &BillLine) -> &str {
    l.modifiers.iter().map(String::as_str).find(|m| matches!(*m, "26" | "TC")).unwrap_or("")
}

/// Parsed anomaly models by version, per worker.
pub type Registry = Rc<RefCell<BTreeMap<u64, Arc<Model>>>>;

/// The document-local rules and the rules resting on what the joins matched, for one bill.
pub fn doc_rules(doc: &str, ins: &[&In], models: &BTreeMap<u64, Arc<Model>>) -> Vec<Out> {
    // EOB and GFE lines share the arrangement (for the case join); only a bill has these rules.
    let mut lines: Vec<BillLine> = ins
        .iter()
        .filter_map(|i| match i {
            In::Line(l) if l.kind == 0 => Some(l.to_bill(doc)),
            _ => None,
        })
        .collect();
    lines.sort_by_key(|l| l.line_no);
    let mut out = vec![];
    for l in lines.iter().filter(|l| l.units < 0) {
        out.push(Out::Warning(Warning {
            doc_id: doc.to_string(),
            lines: vec![l.line_no],
            message: format!(
                "Line {} shows {} units. A number of services cannot be negative, so this line was left out of \
                 the checks that use units (duplicates, arithmetic, unit limits, prices). Check it against your \
                 paper bill.",
                l.line_no, l.units
            ),
        }));
    }
    let all: Vec<&BillLine> = lines.iter().collect();
    let usable: Vec<&BillLine> = lines.iter().filter(|l| l.units >= 0).collect();
    let by_no: BTreeMap<i32, &BillLine> = usable.iter().map(|l| (l.line_no, *l)).collect();

    let mut findings: Vec<Finding> = vec![];
    findings.extend(rules::duplicate::check(doc, &usable));
    findings.extend(rules::arithmetic::check(doc, &usable));
    findings.extend(rules::totals::check(doc, &all));
    findings.extend(rules::addon::check(doc, &usable));

    let mut known: BTreeMap<i32, Vec<&RefEdit>> = BTreeMap::new();
    let mut mue_edits: BTreeSet<&RefEdit> = BTreeSet::new();
    let mut checkable: BTreeSet<i32> = BTreeSet::new();
    let mut outliers: BTreeMap<i32, Finding> = BTreeMap::new();
    let mut once: BTreeSet<(String, Vec<i32>)> = BTreeSet::new();
    let mut model: Option<Arc<Model>> = None;
    // Only the sender's own published gross charges apply to its bill.
    let own_scope: BTreeSet<String> =
        ins.iter().filter_map(|i| if let In::Provider(p) = i { Some(format!("hospital:{p}")) } else { None }).collect();
    for i in ins {
        match i {
            In::Edit(no, e) if e.kind == "ptp" => {
                let (Some(col1), Some(code2)) = (by_no.get(no), e.code2.as_deref()) else { continue };
                for col2 in usable.iter().filter(|l| l.code.as_deref() == Some(code2)) {
                    // One finding per pair, however many edit versions or sources list it.
                    if let Some(f) = rules::unbundled::check_pair(doc, col1, col2, e) {
                        if once.insert((f.kind.clone(), f.lines.clone())) {
                            findings.push(f);
                        }
                    }
                }
            }
            In::Edit(_, e) if e.kind == "mue" => {
                mue_edits.insert(&**e);
            }
            In::Edit(no, e) if e.kind == "code" => known.entry(*no).or_default().push(&**e),
            In::Edit(..) => {}
            In::CodeSetLoaded(no) => {
                checkable.insert(*no);
            }
            In::Bench(no, b) => {
                let Some(l) = by_no.get(no) else { continue };
                if pricing_modifier(l) != b.modifier || is_hospital_gross(b) && !own_scope.contains(&b.scope) {
                    continue;
                }
                if let Some(f) = rules::outlier::check(doc, l, b) {
                    let stronger = |old: &Finding| {
                        (severity_rank(&f.severity), f.amount_at_issue)
                            > (severity_rank(&old.severity), old.amount_at_issue)
                    };
                    if outliers.get(no).is_none_or(stronger) {
                        outliers.insert(*no, f);
                    }
                }
            }
            In::Line(_) | In::Provider(_) => {}
            In::Model(v) => model = models.get(v).cloned(),
        }
    }
    for e in mue_edits {
        let of_code: Vec<&BillLine> = usable.iter().copied().filter(|l| l.code.as_deref() == Some(&e.code)).collect();
        for f in rules::mue::check(doc, &of_code, e) {
            if once.insert((f.kind.clone(), f.lines.clone())) {
                findings.push(f);
            }
        }
    }
    for no in checkable {
        let Some(l) = lines.iter().find(|l| l.line_no == no) else { continue };
        let entries = known.get(&no).map(Vec::as_slice).unwrap_or_default();
        findings.extend(rules::invalid_code::check(doc, l, entries));
    }
    findings.extend(outliers.into_values());
    if let Some(m) = model {
        // Scored as the model's training rows were featurized: against its frozen reference.
        let n = usable.len() as u32;
        for l in usable.iter().filter(|l| l.code.is_some() && l.units > 0) {
            let x = anomaly::features(&m.bill_facts(l, n));
            findings.extend(anomaly::check(doc, l, &x, &m));
        }
    }
    out.extend(findings.into_iter().map(Out::Finding));
    out
}

/// The rules that compare a bill with the EOB and the Good Faith Estimate of its case.
pub fn case_rules(docs: &[(&DocId, &Ln)]) -> Vec<Out> {
    let mut by_doc: BTreeMap<&str, (u8, Vec<BillLine>)> = BTreeMap::new();
    for (doc, l) in docs {
        let e = by_doc.entry(doc.as_str()).or_insert_with(|| (l.kind, vec![]));
        e.1.push(l.to_bill(doc));
    }
    let of_kind = |k: u8| -> Vec<(&str, &Vec<BillLine>)> {
        by_doc.iter().filter(|(_, (kind, _))| *kind == k).map(|(d, (_, ls))| (*d, ls)).collect()
    };
    let (bills, eobs, gfes) = (of_kind(0), of_kind(1), of_kind(2));
    let eob: Vec<&BillLine> = eobs.iter().flat_map(|(_, ls)| ls.iter()).collect();
    let gfe: Vec<&BillLine> = gfes.iter().flat_map(|(_, ls)| ls.iter()).collect();
    let names = |ds: &[(&str, &Vec<BillLine>)]| ds.iter().map(|(d, _)| *d).collect::<Vec<_>>().join(", ");
    let mut out = vec![];
    for (doc, lines) in bills {
        let bill: Vec<&BillLine> = lines.iter().collect();
        let warn = |message: String| Out::Warning(Warning { doc_id: doc.to_string(), lines: vec![], message });
        let dates: BTreeSet<&str> = bill.iter().filter_map(|l| l.service_date.as_deref()).collect();
        let last = dates.iter().next_back().copied();
        if !eob.is_empty() {
            let codes: BTreeSet<&str> = bill.iter().filter_map(|l| l.code.as_deref()).collect();
            let shared = eob.iter().any(|l| {
                l.service_date.as_deref().is_some_and(|d| dates.contains(d))
                    || l.code.as_deref().is_some_and(|c| codes.contains(c))
            });
            if !shared {
                out.push(warn(format!(
                    "The Explanation of Benefits ({}) shares no date of service and no procedure code with this \
                     bill. It may be for another patient or another visit, so the bill was not compared with it.",
                    names(&eobs)
                )));
            } else if let Some(f) = rules::balance::check(doc, &bill, &eob) {
                // Surprise billing of protected care replaces the plain EOB mismatch.
                out.push(Out::Finding(f));
            } else if let Some(f) = rules::estimates::eob_mismatch(doc, &bill, &eob) {
                out.push(Out::Finding(f));
            }
        }
        if !gfe.is_empty() {
            let estimated = gfe.iter().filter_map(|l| l.service_date.as_deref()).max();
            match (estimated, last) {
                (Some(g), Some(b)) if g > b => out.push(warn(format!(
                    "The Good Faith Estimate ({}) is for services on {g}, after the care on this bill (last on {b}). \
                     An estimate comes before the care it estimates, so the bill was not compared with it.",
                    names(&gfes)
                ))),
                _ => out.extend(rules::estimates::gfe_exceeded(doc, &bill, &gfe, last).map(Out::Finding)),
            }
        }
    }
    out
}
