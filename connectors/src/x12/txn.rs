//! One transaction set at a time: places its segments (walker), checks their elements, lets the
//! 837 or 835 mapper build claim lines, and at SE decides what is produced and what rejected.
//!
//! Policy: a problem outside any claim (header, provider, subscriber loops) rejects the whole
//! transaction set, every claim in it rejected in the tally with the reason; a problem inside a
//! claim (2300 / 2100 and below: a bad element, a misplaced segment, a service line that cannot
//! become a claim line) rejects that claim only. Claims are buffered until SE because a problem
//! found later (a required loop missing at the end) can still reject the transaction; memory is
//! bounded by the largest transaction set (the guides cap an 837 at 5000 claims).
use super::claims837::Claims837;
use super::elements;
use super::envelope::{Handler, TxSet};
use super::map835::TX835;
use super::map837::TX837;
use super::remit835::Remit835;
use super::segments::Segment;
use super::walker::{ClaimType, Placed, Problem, Walker};
use crate::feed::{Item, LoadError, Out, Tally};
use schemas::{ClaimLine, Record};

/// A claim whose lines wait for the end of their transaction.
#[derive(Debug)]
pub struct PendingClaim {
    pub id: String,
    pub number: u64,
    /// `(segment number, segment id, line)` of each service line.
    pub lines: Vec<(u64, &'static str, ClaimLine)>,
    pub problem: Option<Problem>,
    pub more_problems: u32,
}

impl PendingClaim {
    pub fn new(id: &str, number: u64) -> Self {
        Self { id: id.to_string(), number, lines: Vec::new(), problem: None, more_problems: 0 }
    }
    /// Notes a problem; the first one is the reason the claim is rejected.
    pub fn fail(&mut self, p: Problem) {
        if self.problem.is_none() {
            self.problem = Some(p);
        } else {
            self.more_problems += 1;
        }
    }
}

/// What the 837 and 835 mappers do with a placed segment.
pub trait Mapper {
    fn segment(
        &mut self,
        seg: &Segment<'_>,
        placed: Placed,
        walker: &Walker,
        problems: &mut Vec<Problem>,
        tally: &mut Tally,
    );
    /// The claim being read, for problems found inside it.
    fn claim(&mut self) -> Option<&mut PendingClaim>;
    /// Ends the claim being read.
    fn close_claim(&mut self, tally: &mut Tally) -> Option<PendingClaim>;
}

enum Map {
    Claims(Claims837),
    Remits(Remit835),
}

impl Map {
    fn get(&mut self) -> &mut dyn Mapper {
        match self {
            Map::Claims(m) => m,
            Map::Remits(m) => m,
        }
    }
}

struct Tx {
    number: u64,
    control: String,
    walker: Walker,
    map: Map,
    problem: Option<Problem>,
    more_problems: u32,
    claims: Vec<PendingClaim>,
}

impl Tx {
    fn fail(&mut self, p: Problem) {
        if self.problem.is_none() {
            self.problem = Some(p);
        } else {
            self.more_problems += 1;
        }
    }

    /// Sends each problem to the claim it belongs to, or to the transaction.
    fn route(&mut self, problems: &mut Vec<Problem>) {
        for p in problems.drain(..) {
            match (p.in_claim, self.map.get().claim()) {
                (true, Some(claim)) => claim.fail(p),
                _ => self.fail(p),
            }
        }
    }
}

/// The `Handler` that turns 837/835 transaction sets into claim lines.
pub struct Transactions<'o> {
    out: Out<'o>,
    tx: Option<Tx>,
    problems: Vec<Problem>,
    claim_sets: u64,
    first_other: Option<(String, String)>,
}

impl<'o> Transactions<'o> {
    pub fn new(out: Out<'o>) -> Self {
        Self { out, tx: None, problems: Vec::new(), claim_sets: 0, first_other: None }
    }
}

fn more(n: u32) -> String {
    match n {
        0 => String::new(),
        1 => " (and 1 more problem)".into(),
        n => format!(" (and {n} more problems)"),
    }
}

impl Handler for Transactions<'_> {
    fn begin(&mut self, st: &Segment<'_>, set: TxSet, tally: &mut Tally) {
        let TxSet::Claims { claim_type, version } = set else {
            if let TxSet::Other(reason) = set {
                tally.count("transactions_not_loaded", 1);
                tally.reject(st.at(), reason.clone());
                self.first_other.get_or_insert((st.at(), reason));
            }
            self.tx = None;
            return;
        };
        self.claim_sets += 1;
        let (root, map) = if claim_type == ClaimType::Remit {
            (&TX835, Map::Remits(Remit835::default()))
        } else {
            (&TX837, Map::Claims(Claims837::default()))
        };
        let mut tx = Tx {
            number: st.number,
            control: st.element(2).to_string(),
            walker: Walker::new(root, claim_type, version, st.number),
            map,
            problem: None,
            more_problems: 0,
            claims: Vec::new(),
        };
        // ST02 is the only ST element a transaction can be wrong in once it is identified.
        if let Some(reason) = elements::check_value(elements::Ty::MaxLen(9), st.element(2), st) {
            tx.fail(Problem {
                at: st.at_element(2, 0),
                reason: format!("{reason} (a transaction set control number has 4 to 9)"),
                in_claim: false,
            });
        } else if st.element(2).len() < 4 {
            tx.fail(Problem {
                at: st.at_element(2, 0),
                reason: format!(
                    "{:?} is shorter than the 4 characters of a transaction set control number",
                    st.element(2)
                ),
                in_claim: false,
            });
        }
        self.tx = Some(tx);
    }

    fn segment(&mut self, seg: &Segment<'_>, tally: &mut Tally) {
        let Some(tx) = &mut self.tx else { return };
        let problems = &mut self.problems;
        // A de-identified 837 names no guide: professional or institutional is decided by CLM05-2.
        if seg.id() == "CLM" && tx.walker.claim_type == ClaimType::Unknown {
            tx.walker.claim_type = if seg.component(5, 2) == "A" { ClaimType::Inst } else { ClaimType::Prof };
        }
        let step = tx.walker.step(seg, problems);
        tx.route(problems);
        if step.closed_claim {
            if let Some(c) = tx.map.get().close_claim(tally) {
                tx.claims.push(c);
            }
        }
        if let Some(placed) = step.placed {
            elements::check(seg, placed.in_claim, problems);
            tx.map.get().segment(seg, placed, &tx.walker, problems, tally);
            tx.route(problems);
        }
    }

    fn end(&mut self, _se: &Segment<'_>, mismatch: Option<(String, String)>, tally: &mut Tally) {
        let Some(mut tx) = self.tx.take() else { return };
        if let Some((at, reason)) = mismatch {
            tx.fail(Problem { at, reason, in_claim: false });
        }
        let problems = &mut self.problems;
        tx.walker.finish(problems);
        tx.route(problems);
        if let Some(c) = tx.map.get().close_claim(tally) {
            tx.claims.push(c);
        }
        let tx_name = format!("transaction set {} (segment {})", tx.control, tx.number);
        if let Some(p) = tx.problem.take() {
            tally.count("transactions_rejected", 1);
            let why = format!("{}{}", p.reason, more(tx.more_problems));
            if tx.claims.is_empty() {
                tally.reject(p.at.clone(), format!("{tx_name} rejected: {why}"));
            }
            for c in &tx.claims {
                tally.reject(
                    p.at.clone(),
                    format!("claim {:?} (segment {}) rejected with its {tx_name}: {why}", c.id, c.number),
                );
            }
            return;
        }
        for c in tx.claims {
            if let Some(p) = c.problem {
                tally.reject(
                    p.at,
                    format!("claim {:?} (segment {}) rejected: {}{}", c.id, c.number, p.reason, more(c.more_problems)),
                );
                continue;
            }
            // Validated here first so that one bad line rejects the whole claim (emit validates again).
            let bad = c.lines.iter().find_map(|(n, id, line)| {
                line.validate().err().map(|e| (format!("segment {n} ({id})"), line.line_no, e))
            });
            if let Some((at, line_no, e)) = bad {
                tally.reject(
                    at,
                    format!("claim {:?} (segment {}) rejected: service line {line_no}: {e}", c.id, c.number),
                );
                continue;
            }
            for (n, id, line) in c.lines {
                tally.emit(self.out, || format!("segment {n} ({id})"), Item::Claim(line));
            }
        }
    }

    fn finish(&mut self, _tally: &mut Tally) -> Result<(), LoadError> {
        if self.claim_sets > 0 {
            return Ok(());
        }
        match self.first_other.take() {
            Some((at, reason)) => Err(LoadError::rejected(at, reason)),
            None => Err(LoadError::rejected("segment 1", "the file holds no transaction sets")),
        }
    }
}
