//! Places each segment of a transaction in its loop, after a `schema` map, and reports what
//! breaks the layout: an unknown segment id, a segment outside its loop or out of order, a
//! segment or loop repeated beyond its maximum, a required segment or loop missing.
//!
//! It keeps a stack of open loops. A segment goes to the innermost loop that can take it next;
//! failing that, loops are closed outward until one can (checking, as each closes, that its
//! required items were seen). A segment no open loop can take is reported and skipped, leaving
//! the state as it was, so one stray segment gives one problem. Invariant: the stack always
//! holds the transaction's root frame; no allocation happens on the normal path.
use super::schema::{Item, Kind, LoopDef, Qual, Role, When};
use super::segments::Segment;

/// The most items a loop body may have (checked by a test over the maps).
pub const MAX_ITEMS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimType {
    /// An 837 whose guide is not named (de-identified files): decided at the first CLM.
    Unknown,
    Prof,
    Inst,
    Remit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Unknown,
    V4010,
    V5010,
}

/// Something wrong with the transaction, with where it is and whether it is inside a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: String,
    pub reason: String,
    /// Found inside a claim loop (2300 / 2100): rejects that claim, not the transaction.
    pub in_claim: bool,
}

/// Where a segment went.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    pub role: Role,
    pub in_claim: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// `None` when the segment fit nowhere (a problem was reported and it was skipped).
    pub placed: Option<Placed>,
    /// A claim loop was closed before this segment was placed.
    pub closed_claim: bool,
}

struct Frame {
    def: &'static LoopDef,
    /// Index of the body item matched last (ordered loops only move forward).
    pos: usize,
    counts: [u32; MAX_ITEMS],
    in_claim: bool,
    /// Number and id of the segment that started the loop, for messages.
    start: u64,
    start_id: &'static str,
}

impl Frame {
    fn new(def: &'static LoopDef, in_claim: bool, start: u64) -> Self {
        let mut counts = [0; MAX_ITEMS];
        counts[0] = 1;
        let start_id = def.body.first().and_then(|i| i.trigger()).map_or("", |t| t.id);
        Self { def, pos: 0, counts, in_claim: in_claim || def.role.is_claim(), start, start_id }
    }
}

pub struct Walker {
    root: &'static LoopDef,
    stack: Vec<Frame>,
    pub claim_type: ClaimType,
    pub version: Version,
    /// "837" or "835", for messages.
    set: &'static str,
}

impl Walker {
    pub fn new(root: &'static LoopDef, claim_type: ClaimType, version: Version, start: u64) -> Self {
        let set = if claim_type == ClaimType::Remit { "835" } else { "837" };
        let mut stack = Vec::with_capacity(8);
        stack.push(Frame::new(root, false, start));
        Self { root, stack, claim_type, version, set }
    }

    /// The innermost open loop is (inside) a claim.
    pub fn in_claim(&self) -> bool {
        self.stack.last().is_some_and(|f| f.in_claim)
    }

    fn enabled(&self, when: When) -> bool {
        enabled(self.claim_type, self.version, when)
    }

    fn matches(&self, item: &Item, seg: &Segment<'_>) -> bool {
        let Some(t) = item.trigger() else { return false };
        if t.id != seg.id() || !self.enabled(item.when) {
            return false;
        }
        match t.qual {
            Qual::Any => true,
            Qual::In(el, vals) => vals.contains(&seg.element(el as usize)),
            Qual::NotIn(el, vals) => !vals.contains(&seg.element(el as usize)),
        }
    }

    /// The item of frame `d` that can take `seg` next.
    fn find(&self, d: usize, seg: &Segment<'_>, allow_exceed: bool) -> Option<usize> {
        let f = &self.stack[d];
        let body = f.def.body;
        let pos_group = body[f.pos].group;
        // The trigger (item 0) never repeats inside its own loop: a second one starts a new loop.
        (1..body.len()).find(|&k| {
            let item = &body[k];
            let reachable = !f.def.ordered || k >= f.pos || (item.group != 0 && item.group == pos_group);
            reachable && self.matches(item, seg) && (allow_exceed || f.counts[k] < item.max)
        })
    }

    /// Places `seg`, reporting any problem into `problems`.
    pub fn step(&mut self, seg: &Segment<'_>, problems: &mut Vec<Problem>) -> Step {
        let depth = self.stack.len();
        let hit = (0..depth)
            .rev()
            .find_map(|d| self.find(d, seg, false).map(|k| (d, k, false)))
            .or_else(|| (0..depth).rev().find_map(|d| self.find(d, seg, true).map(|k| (d, k, true))));
        let Some((d, k, exceeded)) = hit else {
            problems.push(self.unplaceable(seg));
            return Step { placed: None, closed_claim: false };
        };
        let closed_claim = self.pop_to(d, problems);
        let f = &mut self.stack[d];
        let body = f.def.body;
        let item = body[k];
        if exceeded {
            let what = match item.kind {
                Kind::Seg(_) => {
                    format!("{} appears more than {} times in {}", item.describe(), item.max, f.def.describe())
                }
                Kind::Loop(def) => {
                    format!("{} repeats more than {} times in {}", def.describe(), item.max, f.def.describe())
                }
            };
            problems.push(Problem { at: seg.at(), reason: what, in_claim: f.in_claim });
        }
        f.pos = f.pos.max(k);
        f.counts[k] = f.counts[k].saturating_add(1);
        let parent_in_claim = f.in_claim;
        match item.kind {
            Kind::Seg(_) => {
                let f = &self.stack[d];
                Step { placed: Some(Placed { role: f.def.role, in_claim: f.in_claim }), closed_claim }
            }
            Kind::Loop(def) => {
                let frame = Frame::new(def, parent_in_claim, seg.number);
                let in_claim = frame.in_claim;
                self.stack.push(frame);
                Step { placed: Some(Placed { role: def.role, in_claim }), closed_claim }
            }
        }
    }

    /// Closes every loop at the end of the transaction; true when a claim closed.
    pub fn finish(&mut self, problems: &mut Vec<Problem>) -> bool {
        let closed = self.pop_to(0, problems);
        if let Some(root) = self.stack.pop() {
            self.check_closed(&root, problems);
        }
        closed
    }

    /// Closes the frames above `d`; true when one of them was a claim.
    fn pop_to(&mut self, d: usize, problems: &mut Vec<Problem>) -> bool {
        let mut closed_claim = false;
        while self.stack.len() > d + 1 {
            let Some(f) = self.stack.pop() else { break };
            self.check_closed(&f, problems);
            closed_claim |= f.def.role.is_claim();
        }
        closed_claim
    }

    /// Reports the required items a closing loop never saw (skipped ones included: a required
    /// segment that turns up later is reported as out of order first, so it is reported here
    /// rather than when it was skipped).
    fn check_closed(&self, f: &Frame, problems: &mut Vec<Problem>) {
        for (i, item) in f.def.body.iter().enumerate() {
            if item.req && f.counts[i] == 0 && self.enabled(item.when) {
                problems.push(Problem {
                    at: format!("segment {} ({})", f.start, f.start_id),
                    reason: format!("{} lacks required {}", f.def.describe(), item.describe()),
                    in_claim: f.in_claim,
                });
            }
        }
    }

    /// Why `seg` fits nowhere.
    fn unplaceable(&self, seg: &Segment<'_>) -> Problem {
        let id = seg.id();
        let in_claim = self.in_claim();
        let problem = |reason: String| Problem { at: seg.at(), reason, in_claim };
        if !is_segment_id(id) {
            return problem(if id.is_empty() {
                "the segment has no identifier (it starts with the element separator)".into()
            } else {
                format!("{id:?} is not a segment identifier")
            });
        }
        for f in self.stack.iter().rev() {
            if !f.def.ordered {
                continue;
            }
            let body = f.def.body;
            let pos_group = body[f.pos].group;
            let earlier =
                (1..f.pos).find(|&k| (body[k].group == 0 || body[k].group != pos_group) && self.matches(&body[k], seg));
            if let Some(k) = earlier {
                // It belongs to this loop, so a problem of this loop's scope (a header segment
                // after the claims rejects the transaction, not the claim it landed in).
                let reason = format!(
                    "{} is out of order in {}: it must come before {}",
                    body[k].describe(),
                    f.def.describe(),
                    body[f.pos].describe()
                );
                return Problem { at: seg.at(), reason, in_claim: f.in_claim };
            }
        }
        let here = self.stack.last().map(|f| f.def.describe()).unwrap_or_default();
        if self.root.knows(id) {
            let qualified =
                self.root.qualifier_of(id).map(|el| format!(" with {id}{el:02} {:?}", seg.element(el as usize)));
            return problem(format!("{id}{} is not expected in {here}", qualified.unwrap_or_default()));
        }
        problem(format!("{id} is not a segment of an {} transaction (in {here})", self.set))
    }
}

/// Whether an item marked `when` applies to this claim type and version (unknown ones allow all).
fn enabled(claim_type: ClaimType, version: Version, when: When) -> bool {
    match when {
        When::Any => true,
        When::Prof => !matches!(claim_type, ClaimType::Inst | ClaimType::Remit),
        When::Inst => !matches!(claim_type, ClaimType::Prof | ClaimType::Remit),
        When::V4010 => version != Version::V5010,
        When::V5010 => version != Version::V4010,
    }
}

/// Two or three characters, a capital letter then capitals or digits (`N3`, `SV1`, `NM1`).
pub fn is_segment_id(id: &str) -> bool {
    let b = id.as_bytes();
    (2..=3).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b[1..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::super::map835::TX835;
    use super::super::map837::TX837;
    use super::super::segments::SegmentReader;
    use super::*;

    fn all_loops(def: &'static LoopDef, out: &mut Vec<&'static LoopDef>) {
        if out.iter().any(|d| std::ptr::eq(*d, def)) {
            return;
        }
        out.push(def);
        for item in def.body {
            if let Kind::Loop(child) = item.kind {
                all_loops(child, out);
            }
        }
    }

    #[test]
    fn maps_fit_the_walker() {
        for root in [&TX837, &TX835] {
            let mut loops = vec![];
            all_loops(root, &mut loops);
            for def in loops {
                assert!(def.body.len() <= MAX_ITEMS.min(64), "{} has too many items", def.id);
                assert!(matches!(def.body[0].kind, Kind::Seg(_)), "{} must start with a segment", def.id);
                assert_eq!(def.body[0].max, 1, "{}", def.id);
            }
        }
    }

    /// Walks the segments after the header ISA/GS/ST of `body` and returns the problems.
    fn walk(root: &'static LoopDef, ct: ClaimType, body: &str) -> Vec<Problem> {
        let text = format!(
            "ISA*00*          *00*          *ZZ*A              *ZZ*B              *030101*1253*^*00501*000000905*1*T*:~{body}"
        );
        let mut input = text.as_bytes();
        let mut r = SegmentReader::new(&mut input);
        r.next_segment().unwrap();
        let mut w = Walker::new(root, ct, Version::V5010, 2);
        let mut problems = vec![];
        while let Some(seg) = r.next_segment().unwrap() {
            if seg.id() == "SE" {
                w.finish(&mut problems);
                break;
            }
            w.step(&seg, &mut problems);
        }
        problems
    }

    const HEAD: &str = "BHT*0019*00*1*20200101*1200*CH~NM1*41*2*S*****46*1~PER*IC*X*TE*1~NM1*40*2*R*****46*2~\
        HL*1**20*1~NM1*85*2*B*****XX*1234567890~N3*A~N4*C*S*1~HL*2*1*22*0~SBR*P~NM1*IL*1*D~NM1*PR*2*P~";

    #[test]
    fn a_valid_claim_has_no_problems() {
        let body = format!("{HEAD}CLM*1*10***11:B:1~HI*ABK:R05~LX*1~SV1*HC:99213*10*UN*1~DTP*472*D8*20200101~SE*1*1~");
        assert_eq!(walk(&TX837, ClaimType::Prof, &body), vec![]);
    }

    #[test]
    fn layout_problems_name_the_rule() {
        // A required loop missing (2400) is a claim problem; a missing HI too.
        let p = walk(&TX837, ClaimType::Prof, &format!("{HEAD}CLM*1*10***11:B:1~SE*1*1~"));
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().all(|p| p.in_claim && p.at == "segment 14 (CLM)"), "{p:?}");
        assert!(p[0].reason.contains("lacks required HI"), "{}", p[0].reason);
        assert!(p[1].reason.contains("lacks required loop 2400"), "{}", p[1].reason);

        // Out of order: N4 before N3 in 2010AA (imsweb x12_segments_out_of_order).
        let head = HEAD.replace("N3*A~N4*C*S*1~", "N4*C*S*1~N3*A~");
        let p = walk(&TX837, ClaimType::Prof, &format!("{head}SE*1*1~"));
        assert_eq!(p[0].reason, "N3 is out of order in loop 2010AA (billing provider name): it must come before N4");
        assert!(!p[0].in_claim);
        assert_eq!(
            (p[1].at.as_str(), p[1].reason.as_str()),
            ("segment 7 (NM1)", "loop 2010AA (billing provider name) lacks required N3")
        );

        // A loop beyond its maximum, a segment beyond its maximum, an unknown and a misplaced segment.
        let head = HEAD
            .replace("HL*2*1", "NM1*85*2*B*****XX*1234567890~N3*A~N4*C*S*1~HL*2*1")
            .replace("PER*IC*X*TE*1~", "PER*IC*X*TE*1~PER*IC*X~PER*IC*X~");
        let p = walk(&TX837, ClaimType::Prof, &format!("{head}Nd4*X~SV1*HC:99213*1*UN*1~SE*1*1~"));
        let reasons: Vec<_> = p.iter().map(|p| p.reason.as_str()).collect();
        assert_eq!(reasons[0], "PER appears more than 2 times in loop 1000A (submitter name)");
        assert_eq!(reasons[1], "loop 2010AA (billing provider name) repeats more than 1 times in loop 2000A (billing provider hierarchical level)");
        assert_eq!(reasons[2], "\"Nd4\" is not a segment identifier");
        assert!(reasons[3].starts_with("SV1 is not expected in loop 2010BB (payer name)"), "{}", reasons[3]);
    }

    #[test]
    fn nm1_after_a_line_is_the_line_provider() {
        // NM1*82 inside 2400 belongs to 2420 (line), not 2310 (claim): imsweb x12_ambiguous_loop.
        let body = format!("{HEAD}CLM*1*10***11:B:1~HI*ABK:R05~LX*1~SV1*HC:99213*10*UN*1~NM1*82*1*R****XX*1~SE*1*1~");
        let text = format!("ISA*00*          *00*          *ZZ*A              *ZZ*B              *030101*1253*^*00501*000000905*1*T*:~{body}");
        let mut input = text.as_bytes();
        let mut r = SegmentReader::new(&mut input);
        r.next_segment().unwrap();
        let mut w = Walker::new(&TX837, ClaimType::Prof, Version::V5010, 2);
        let mut problems = vec![];
        let mut roles = vec![];
        while let Some(seg) = r.next_segment().unwrap() {
            if seg.id() == "SE" {
                break;
            }
            roles.push(w.step(&seg, &mut problems).placed.map(|p| p.role));
        }
        assert_eq!(roles.last(), Some(&Some(Role::LineProvider)));
        assert!(problems.is_empty());
    }

    #[test]
    fn remit_requires_bpr() {
        let p = walk(&TX835, ClaimType::Remit, "SE*2*1~");
        assert!(p.iter().any(|p| p.reason.contains("lacks required BPR")), "{p:?}");
    }
}
