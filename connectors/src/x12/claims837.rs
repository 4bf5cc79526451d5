//! 837 professional and institutional claims → one `ClaimLine` per service line (SV1 / SV2).
//!
//! claim_id = CLM01; line_no = LX01; frequency_code = CLM05-3; code and first modifier from the
//! SV101 / SV202 composite (HC:code:modifier...); units SV104 / SV205 (whole numbers only);
//! charge SV102 / SV203; service date DTP*472 on the line, else on the claim, else (837I) the
//! statement period start DTP*434; place of service SV105 or CLM05-1 (professional only, empty
//! for institutional claims); payer = 2010BB NM1*PR name; provider_npi = the rendering provider
//! (NM1*82 with an XX id) of the line, else of the claim, else the billing provider 2010AA id
//! (4010 files may carry a non-NPI id there: it is used as given).
//!
//! Lines whose code is not an HCPCS/CPT code (an institutional line with only a revenue code, or
//! a code of another qualifier) are counted as `lines_without_procedure_code` and not produced:
//! `claims.lines` is keyed by procedure code.
use super::elements::{self, POS};
use super::schema::Role;
use super::segments::{element_name, Segment};
use super::txn::{Mapper, PendingClaim};
use super::walker::{ClaimType, Placed, Problem, Version, Walker};
use crate::feed::Tally;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use schemas::ClaimLine;

/// A provider id and where it was read.
#[derive(Debug, Clone, Default)]
struct ProviderId {
    qualifier: String,
    id: String,
    at: String,
}

impl ProviderId {
    fn from_nm1(seg: &Segment<'_>) -> Self {
        Self { qualifier: seg.element(8).to_string(), id: seg.element(9).to_string(), at: seg.at_element(9, 0) }
    }
    fn is_npi(&self) -> bool {
        self.qualifier == "XX"
    }
}

#[derive(Debug, Default)]
struct Line {
    number: u64,
    seg_id: &'static str,
    line_no: i32,
    /// HCPCS/CPT code and first modifier; `None` for lines without a procedure code.
    code: Option<(String, Option<String>)>,
    units: Decimal,
    /// SV104 or SV205: where `units` was read.
    units_el: usize,
    charge: Decimal,
    pos: String,
    date: Option<String>,
    rendering: Option<ProviderId>,
    has_service: bool,
}

#[derive(Debug)]
struct Claim {
    pending: PendingClaim,
    institutional: bool,
    v5010: bool,
    frequency: String,
    pos: String,
    date: Option<String>,
    statement_start: Option<String>,
    rendering: Option<ProviderId>,
    lines: Vec<Line>,
}

#[derive(Debug, Default)]
pub struct Claims837 {
    billing: ProviderId,
    payer: Option<String>,
    claim: Option<Claim>,
}

const PROF_FREQUENCY: elements::Ty = elements::Ty::Code(
    &["1", "6", "7", "8"],
    "a professional claim frequency code (1 original, 7 replacement, 8 void)",
);

impl Claims837 {
    fn start_claim(&mut self, seg: &Segment<'_>, walker: &Walker, problems: &mut Vec<Problem>) {
        let institutional = walker.claim_type == ClaimType::Inst;
        let frequency = seg.component(5, 3);
        let facility = seg.component(5, 1);
        let mut fault = |el, comp, reason: Option<String>| {
            if let Some(reason) = reason {
                problems.push(Problem { at: seg.at_element(el, comp), reason, in_claim: true });
            }
        };
        if !seg.element(5).is_empty() {
            if institutional {
                let ok = frequency.len() == 1 && frequency.bytes().all(|b| b.is_ascii_alphanumeric());
                fault(
                    5,
                    3,
                    (!ok && !frequency.is_empty()).then(|| format!("{frequency:?} is not a claim frequency code")),
                );
            } else {
                fault(5, 1, (!facility.is_empty()).then(|| elements::check_value(POS, facility, seg)).flatten());
                fault(
                    5,
                    3,
                    (!frequency.is_empty()).then(|| elements::check_value(PROF_FREQUENCY, frequency, seg)).flatten(),
                );
            }
        }
        // 004010X096A1 requires CLM18 (explanation of benefits indicator).
        if institutional && walker.version == Version::V4010 && seg.element(18).is_empty() {
            fault(18, 0, Some("required element is missing (CLM18, the 4010 institutional EOB indicator)".into()));
        }
        self.claim = Some(Claim {
            pending: PendingClaim::new(seg.element(1), seg.number),
            institutional,
            v5010: walker.version == Version::V5010,
            frequency: frequency.to_string(),
            pos: facility.to_string(),
            date: None,
            statement_start: None,
            rendering: None,
            lines: Vec::new(),
        });
    }

    /// SV1 (professional) or SV2 (institutional) on the current line.
    fn service(&mut self, seg: &Segment<'_>) {
        let Some(line) = self.claim.as_mut().and_then(|c| c.lines.last_mut()) else { return };
        let prof = seg.id() == "SV1";
        let (code_el, charge_el, units_el) = if prof { (1, 2, 4) } else { (2, 3, 5) };
        line.seg_id = if prof { "SV1" } else { "SV2" };
        line.number = seg.number;
        line.has_service = true;
        line.code = (seg.component(code_el, 1) == "HC").then(|| {
            let modifier = seg.component(code_el, 3);
            (seg.component(code_el, 2).to_string(), (!modifier.is_empty()).then(|| modifier.to_string()))
        });
        line.charge = elements::amount(seg.element(charge_el)).unwrap_or_default();
        line.units = elements::amount(seg.element(units_el)).unwrap_or_default();
        line.units_el = units_el;
        if prof {
            line.pos = seg.element(5).to_string();
        }
    }

    /// Turns the claim's lines into claim lines.
    fn finish(&mut self, tally: &mut Tally) -> Option<PendingClaim> {
        let mut claim = self.claim.take()?;
        for line in std::mem::take(&mut claim.lines) {
            if !line.has_service {
                continue;
            }
            let Some((code, modifier)) = line.code else {
                tally.count("lines_without_procedure_code", 1);
                continue;
            };
            let line_at = format!("segment {} ({})", line.number, line.seg_id);
            let units = match whole_units(line.units) {
                Ok(n) => n,
                Err(reason) => {
                    let at = format!("{line_at}, element {}", element_name(line.seg_id, line.units_el, 0));
                    claim.pending.fail(Problem { at, reason, in_claim: true });
                    continue;
                }
            };
            let inst_start = if claim.institutional { claim.statement_start.clone() } else { None };
            let Some(service_date) = line.date.or_else(|| claim.date.clone()).or(inst_start) else {
                let what = if claim.institutional {
                    "DTP*472 on the line or the claim, or DTP*434"
                } else {
                    "DTP*472 on the line or the claim"
                };
                claim.pending.fail(Problem {
                    at: line_at,
                    reason: format!("service line {} has no service date ({what})", line.line_no),
                    in_claim: true,
                });
                continue;
            };
            let rendering =
                line.rendering.as_ref().filter(|p| p.is_npi()).or(claim.rendering.as_ref().filter(|p| p.is_npi()));
            let provider = rendering.unwrap_or(&self.billing);
            if claim.v5010 && provider.is_npi() && !is_npi(&provider.id) {
                let reason = format!("{:?} is not a 10-digit NPI (its qualifier is XX)", provider.id);
                claim.pending.fail(Problem { at: provider.at.clone(), reason, in_claim: true });
                continue;
            }
            let place_of_service = match (claim.institutional, line.pos.is_empty()) {
                (true, _) => String::new(),
                (false, true) => claim.pos.clone(),
                (false, false) => line.pos,
            };
            let cl = ClaimLine {
                claim_id: claim.pending.id.clone(),
                line_no: line.line_no,
                frequency_code: claim.frequency.clone(),
                provider_npi: provider.id.clone(),
                payer: self.payer.clone(),
                place_of_service,
                code,
                modifier,
                service_date,
                units,
                charge: line.charge,
                allowed: None,
                paid: None,
                patient_responsibility: None,
                carc: Vec::new(),
                rarc: Vec::new(),
            };
            claim.pending.lines.push((line.number, line.seg_id, cl));
        }
        Some(claim.pending)
    }
}

/// A whole number of units (X12 type R allows fractions, a claim line does not).
pub fn whole_units(units: Decimal) -> Result<i32, String> {
    units
        .fract()
        .is_zero()
        .then(|| units.to_i32())
        .flatten()
        .ok_or_else(|| format!("{units} is not a whole number of units (a claim line counts whole units)"))
}

/// Ten digits: the shape of an NPI (5010 guides require it where the qualifier is XX; in 4010
/// the XX id predates the NPI and may be the 8-character HCFA id).
pub fn is_npi(id: &str) -> bool {
    id.len() == 10 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Number of reason/amount triplets in a CAS segment.
pub fn adjustments(seg: &Segment<'_>) -> u64 {
    (0..6).filter(|k| !seg.element(2 + 3 * k).is_empty()).count() as u64
}

impl Mapper for Claims837 {
    fn segment(
        &mut self,
        seg: &Segment<'_>,
        placed: Placed,
        walker: &Walker,
        problems: &mut Vec<Problem>,
        tally: &mut Tally,
    ) {
        match (placed.role, seg.id()) {
            (Role::BillingProvider, "NM1") => self.billing = ProviderId::from_nm1(seg),
            (Role::Subscriber, "HL") => self.payer = None,
            (Role::Payer, "NM1") => self.payer = Some(seg.element(3).to_string()).filter(|p| !p.is_empty()),
            (Role::Claim, "CLM") => {
                tally.count("claims", 1);
                self.start_claim(seg, walker, problems);
            }
            (Role::Claim, "DTP") => {
                let Some(claim) = &mut self.claim else { return };
                let date = elements::dtp_start(seg.element(2), seg.element(3));
                match seg.element(1) {
                    "472" => claim.date = date,
                    "434" => claim.statement_start = date,
                    _ => {}
                }
            }
            (Role::ClaimProvider, "NM1") if seg.element(1) == "82" => {
                if let Some(claim) = &mut self.claim {
                    claim.rendering = Some(ProviderId::from_nm1(seg));
                }
            }
            (Role::Line, "LX") => {
                let Some(claim) = &mut self.claim else { return };
                let line_no = seg.element(1).parse::<i32>().unwrap_or(0);
                claim.lines.push(Line { number: seg.number, seg_id: "LX", line_no, ..Line::default() });
            }
            (Role::Line, "SV1" | "SV2") => {
                tally.count("service_lines", 1);
                self.service(seg);
            }
            (Role::Line, "DTP") if seg.element(1) == "472" => {
                if let Some(line) = self.claim.as_mut().and_then(|c| c.lines.last_mut()) {
                    line.date = elements::dtp_start(seg.element(2), seg.element(3));
                }
            }
            (Role::LineProvider, "NM1") if seg.element(1) == "82" => {
                if let Some(line) = self.claim.as_mut().and_then(|c| c.lines.last_mut()) {
                    line.rendering = Some(ProviderId::from_nm1(seg));
                }
            }
            (_, "CAS") => tally.count("adjustments", adjustments(seg)),
            _ => {}
        }
    }

    fn claim(&mut self) -> Option<&mut PendingClaim> {
        self.claim.as_mut().map(|c| &mut c.pending)
    }

    fn close_claim(&mut self, tally: &mut Tally) -> Option<PendingClaim> {
        self.finish(tally)
    }
}
