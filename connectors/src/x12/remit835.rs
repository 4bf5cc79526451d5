//! 835 remittances → one `ClaimLine` per service payment (SVC).
//!
//! claim_id = CLP01; line_no = REF*6R when it is a number, else the SVC's ordinal in the claim;
//! frequency "1", or "8" for a reversal of a previous payment (CLP02 = 22), whose amounts are
//! then taken as absolute values (the reversal restates the line it cancels); charge SVC02,
//! paid SVC03, allowed AMT*B6, units SVC05 (1 when absent); patient_responsibility = the sum of
//! the service's CAS amounts in group PR; carc = each CAS reason as "GROUP-CODE" (e.g. "CO-45");
//! rarc = the LQ*HE codes; payer = N1*PR name; provider_npi = the line's REF*HPI, else the
//! claim's rendering provider NM1*82 or the payee N1*PE with an XX id, else either's id as given;
//! service date DTM*472 (or DTM*150, service period start) on the line, else the claim's
//! DTM*232 (statement period start); place of service empty.
use super::claims837::{adjustments, is_npi, whole_units};
use super::elements;
use super::schema::Role;
use super::segments::Segment;
use super::txn::{Mapper, PendingClaim};
use super::walker::{Placed, Problem, Version, Walker};
use crate::feed::Tally;
use rust_decimal::Decimal;
use schemas::ClaimLine;

#[derive(Debug, Clone, Default)]
struct ProviderId {
    qualifier: String,
    id: String,
    at: String,
}

impl ProviderId {
    fn is_npi(&self) -> bool {
        self.qualifier == "XX"
    }
}

#[derive(Debug, Default)]
struct Service {
    number: u64,
    ordinal: i32,
    code: Option<(String, Option<String>)>,
    charge: Decimal,
    paid: Decimal,
    units: Decimal,
    allowed: Option<Decimal>,
    patient_responsibility: Decimal,
    carc: Vec<String>,
    rarc: Vec<String>,
    date: Option<String>,
    period_start: Option<String>,
    control: Option<i32>,
    npi: Option<ProviderId>,
}

#[derive(Debug)]
struct Claim {
    pending: PendingClaim,
    reversal: bool,
    v5010: bool,
    statement_start: Option<String>,
    rendering: Option<ProviderId>,
    services: Vec<Service>,
}

#[derive(Debug, Default)]
pub struct Remit835 {
    payer: Option<String>,
    payee: Option<ProviderId>,
    claim: Option<Claim>,
}

impl Remit835 {
    fn service(&mut self) -> Option<&mut Service> {
        self.claim.as_mut().and_then(|c| c.services.last_mut())
    }

    fn finish(&mut self, tally: &mut Tally) -> Option<PendingClaim> {
        let mut claim = self.claim.take()?;
        for svc in std::mem::take(&mut claim.services) {
            let Some((code, modifier)) = svc.code else {
                tally.count("lines_without_procedure_code", 1);
                continue;
            };
            let at = format!("segment {} (SVC)", svc.number);
            let units = match whole_units(svc.units) {
                Ok(n) => n,
                Err(reason) => {
                    claim.pending.fail(Problem { at: format!("{at}, element SVC05"), reason, in_claim: true });
                    continue;
                }
            };
            let Some(service_date) = svc.date.or(svc.period_start).or_else(|| claim.statement_start.clone()) else {
                let reason = format!(
                    "service payment {} has no service date (DTM*472 or DTM*150 on the line, DTM*232 on the claim)",
                    svc.ordinal
                );
                claim.pending.fail(Problem { at, reason, in_claim: true });
                continue;
            };
            let payee = self.payee.as_ref();
            let provider = svc
                .npi
                .as_ref()
                .or(claim.rendering.as_ref().filter(|p| p.is_npi()))
                .or(payee.filter(|p| p.is_npi()))
                .or(claim.rendering.as_ref())
                .or(payee);
            let provider_npi = match provider {
                Some(p) if claim.v5010 && p.is_npi() && !is_npi(&p.id) => {
                    let reason = format!("{:?} is not a 10-digit NPI (its qualifier is XX)", p.id);
                    claim.pending.fail(Problem { at: p.at.clone(), reason, in_claim: true });
                    continue;
                }
                Some(p) => p.id.clone(),
                None => String::new(),
            };
            let signed = |d: Decimal| if claim.reversal { d.abs() } else { d };
            let cl = ClaimLine {
                claim_id: claim.pending.id.clone(),
                line_no: svc.control.unwrap_or(svc.ordinal),
                frequency_code: if claim.reversal { "8" } else { "1" }.to_string(),
                provider_npi,
                payer: self.payer.clone(),
                place_of_service: String::new(),
                code,
                modifier,
                service_date,
                units: if claim.reversal { units.abs() } else { units },
                charge: signed(svc.charge),
                allowed: svc.allowed.map(signed),
                paid: Some(signed(svc.paid)),
                patient_responsibility: Some(signed(svc.patient_responsibility)),
                carc: svc.carc,
                rarc: svc.rarc,
            };
            claim.pending.lines.push((svc.number, "SVC", cl));
        }
        Some(claim.pending)
    }
}

impl Mapper for Remit835 {
    fn segment(
        &mut self,
        seg: &Segment<'_>,
        placed: Placed,
        walker: &Walker,
        _problems: &mut Vec<Problem>,
        tally: &mut Tally,
    ) {
        match (placed.role, seg.id()) {
            (Role::RemitPayer, "N1") => self.payer = Some(seg.element(2).to_string()).filter(|p| !p.is_empty()),
            (Role::RemitPayee, "N1") => {
                self.payee = Some(ProviderId {
                    qualifier: seg.element(3).into(),
                    id: seg.element(4).into(),
                    at: seg.at_element(4, 0),
                })
                .filter(|p| !p.id.is_empty());
            }
            (Role::RemitClaim, "CLP") => {
                tally.count("payments", 1);
                self.claim = Some(Claim {
                    pending: PendingClaim::new(seg.element(1), seg.number),
                    reversal: seg.element(2) == "22",
                    v5010: walker.version == Version::V5010,
                    statement_start: None,
                    rendering: None,
                    services: Vec::new(),
                });
            }
            (Role::RemitClaim, "NM1") if seg.element(1) == "82" => {
                if let Some(claim) = &mut self.claim {
                    let id = ProviderId {
                        qualifier: seg.element(8).into(),
                        id: seg.element(9).into(),
                        at: seg.at_element(9, 0),
                    };
                    claim.rendering = Some(id).filter(|p| !p.id.is_empty());
                }
            }
            (Role::RemitClaim, "DTM") if seg.element(1) == "232" => {
                if let Some(claim) = &mut self.claim {
                    claim.statement_start = elements::date(seg.element(2));
                }
            }
            (Role::RemitClaim, "CAS") => tally.count("adjustments", adjustments(seg)),
            (Role::RemitService, "SVC") => {
                tally.count("service_payments", 1);
                let Some(claim) = &mut self.claim else { return };
                let code = (seg.component(1, 1) == "HC").then(|| {
                    let modifier = seg.component(1, 3);
                    (seg.component(1, 2).to_string(), (!modifier.is_empty()).then(|| modifier.to_string()))
                });
                let units = if seg.element(5).is_empty() {
                    Decimal::ONE
                } else {
                    elements::amount(seg.element(5)).unwrap_or_default()
                };
                claim.services.push(Service {
                    number: seg.number,
                    ordinal: claim.services.len() as i32 + 1,
                    code,
                    charge: elements::amount(seg.element(2)).unwrap_or_default(),
                    paid: elements::amount(seg.element(3)).unwrap_or_default(),
                    units,
                    ..Service::default()
                });
            }
            (Role::RemitService, "DTM") => {
                let Some(svc) = self.service() else { return };
                match seg.element(1) {
                    "472" => svc.date = elements::date(seg.element(2)),
                    "150" => svc.period_start = elements::date(seg.element(2)),
                    _ => {}
                }
            }
            (Role::RemitService, "CAS") => {
                tally.count("adjustments", adjustments(seg));
                let Some(svc) = self.service() else { return };
                let group = seg.element(1);
                for k in 0..6 {
                    let reason = seg.element(2 + 3 * k);
                    if reason.is_empty() {
                        continue;
                    }
                    svc.carc.push(format!("{group}-{reason}"));
                    if group == "PR" {
                        svc.patient_responsibility += elements::amount(seg.element(3 + 3 * k)).unwrap_or_default();
                    }
                }
            }
            (Role::RemitService, "AMT") if seg.element(1) == "B6" => {
                if let Some(svc) = self.service() {
                    svc.allowed = elements::amount(seg.element(2));
                }
            }
            (Role::RemitService, "LQ") if seg.element(1) == "HE" => {
                if let Some(svc) = self.service() {
                    svc.rarc.push(seg.element(2).to_string());
                }
            }
            (Role::RemitService, "REF") => {
                let at = seg.at_element(2, 0);
                let Some(svc) = self.service() else { return };
                match seg.element(1) {
                    "6R" => svc.control = seg.element(2).parse::<i32>().ok().filter(|n| *n > 0),
                    "HPI" => svc.npi = Some(ProviderId { qualifier: "XX".into(), id: seg.element(2).into(), at }),
                    _ => {}
                }
            }
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
