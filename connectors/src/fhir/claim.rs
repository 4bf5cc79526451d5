//! One `Claim` or `ExplanationOfBenefit` → its service lines (see the mapping table in `mod.rs`).
//! Pure: the caller counts, resolves provider NPIs against the Bundle and emits.
//!
//! Invariants: an item becomes a line only with a CPT/HCPCS `productOrService` code; every other
//! item is reported as `NoProcedureCode` with its system's label; an item that has a code but no
//! usable sequence, charge, quantity or date is a `Reject` with the reason; amounts are exact
//! decimals of the JSON text.
use super::codes::{self, Slot};
use super::eob;
use super::providers::{candidate, Candidate, Providers};
use super::resources::{CareTeam, ClaimResource, Item, Reference};
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use schemas::ClaimLine;

/// Which resource type the claim came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Claim,
    Eob,
}

impl Kind {
    pub fn resource_type(self) -> &'static str {
        match self {
            Kind::Claim => "Claim",
            Kind::Eob => "ExplanationOfBenefit",
        }
    }
}

/// What every line of one claim shares.
#[derive(Debug)]
pub(crate) struct Header {
    pub claim_id: String,
    pub frequency_code: &'static str,
    pub payer: Option<String>,
    pub institutional: bool,
    pub billable_start: Option<String>,
}

/// What became of one item.
#[derive(Debug)]
pub(crate) enum ItemOutcome {
    /// A line, and where to find its provider's NPI (`provider_npi` is left empty).
    Line {
        line: Box<ClaimLine>,
        providers: Providers,
        extra_modifiers: usize,
    },
    /// No CPT/HCPCS code: the label of the system it is coded in (`snomed`, `ndc`, `cdt`, ...).
    NoProcedureCode(&'static str),
    Reject(String),
}

/// The claim id lines are keyed by: a Claim's id; for an EOB the Claim it references (so
/// Synthea's EOB line upserts the Claim's line), else its payer identifier, else its id.
pub(crate) fn header(kind: Kind, r: &ClaimResource) -> Result<Header, String> {
    let claim_id = match kind {
        Kind::Claim => nonempty(r.id.as_deref())
            .or_else(|| r.identifier.iter().find_map(|i| nonempty(i.value.as_deref())))
            .ok_or("the Claim has no id or identifier to key its lines by")?,
        Kind::Eob => eob::claim_id(r).ok_or("the ExplanationOfBenefit has no claim reference, identifier or id")?,
    };
    let institutional = r.claim_type.as_ref().is_some_and(|t| t.codes().any(|(_, c)| c == "institutional"));
    Ok(Header {
        claim_id,
        frequency_code: frequency(r),
        payer: payer(r),
        institutional,
        billable_start: r.billable_period.as_ref().and_then(|p| nonempty(p.start.as_deref())),
    })
}

/// 8 (void) for a cancelled or entered-in-error claim; else the frequency digit of the
/// institutional type of bill (CARIN `supportingInfo` category `typeofbill`, e.g. `0137`): 7
/// replacement, 8 void, anything else original; 1 when there is none.
fn frequency(r: &ClaimResource) -> &'static str {
    if matches!(r.status.as_deref(), Some("cancelled" | "entered-in-error")) {
        return "8";
    }
    let type_of_bill = r
        .supporting_info
        .iter()
        .filter(|s| s.category.codes().any(|(_, c)| c == "typeofbill"))
        .find_map(|s| s.code.as_ref()?.first_code().map(str::to_string));
    match type_of_bill {
        Some(tob) if (3..=4).contains(&tob.len()) && tob.chars().all(|c| c.is_ascii_digit()) => {
            match tob.chars().last() {
                Some('7') => "7",
                Some('8') => "8",
                _ => "1",
            }
        }
        _ => "1",
    }
}

/// `insurer.display`, else the display of the focal (or first) coverage.
fn payer(r: &ClaimResource) -> Option<String> {
    if let Some(name) = r.insurer.as_ref().and_then(|i| nonempty(i.display.as_deref())) {
        return Some(name);
    }
    let focal = r.insurance.iter().find(|i| i.focal == Some(true)).or(r.insurance.first())?;
    nonempty(focal.coverage.as_ref()?.display.as_deref())
}

/// Where a line's NPI may come from: the claim's provider, then the item's care team members,
/// then the rest of the care team (rendering, performing and primary roles first).
fn providers(r: &ClaimResource, item: &Item) -> Providers {
    let mut refs: Vec<&Reference> = r.provider.iter().collect();
    let on_item = |m: &CareTeam| m.sequence.is_some_and(|s| item.care_team_sequence.contains(&s));
    let renders = |m: &CareTeam| {
        m.role
            .as_ref()
            .is_some_and(|role| role.codes().any(|(_, c)| matches!(c, "rendering" | "performing" | "primary")))
    };
    for pass in 0..3 {
        for m in &r.care_team {
            let take = match pass {
                0 => on_item(m),
                1 => !on_item(m) && renders(m),
                _ => !on_item(m) && !renders(m),
            };
            if let (true, Some(p)) = (take, &m.provider) {
                refs.push(p);
            }
        }
    }
    let fallback = refs
        .iter()
        .find_map(|r| nonempty(r.reference.as_deref()).or_else(|| nonempty(r.display.as_deref())))
        .unwrap_or_default();
    let mut candidates: Vec<Candidate> = Vec::new();
    for c in refs.iter().filter_map(|x| candidate(x, &r.contained)) {
        let dup = candidates.iter().any(|have| match (have, &c) {
            (Candidate::Npi(a), Candidate::Npi(b)) | (Candidate::Literal(a), Candidate::Literal(b)) => a == b,
            _ => false,
        });
        if !dup {
            candidates.push(c);
        }
    }
    Providers { candidates, fallback }
}

/// The line of one `item` of `r`, or why there is none.
pub(crate) fn item_line(h: &Header, r: &ClaimResource, item: &Item) -> ItemOutcome {
    let coded = item.product_or_service.as_ref();
    let Some(code) = coded.and_then(|p| p.codes().find(|(system, _)| codes::is_procedure_system(system))) else {
        let system = coded.and_then(|p| p.coding.first()).and_then(|c| c.system.as_deref());
        return ItemOutcome::NoProcedureCode(codes::system_label(system));
    };
    let code = code.1.to_ascii_uppercase();
    match line(h, item, code) {
        Ok(line) => ItemOutcome::Line {
            line: Box::new(line),
            providers: providers(r, item),
            extra_modifiers: item.modifier.len().saturating_sub(1),
        },
        Err(reason) => ItemOutcome::Reject(reason),
    }
}

fn line(h: &Header, item: &Item, code: String) -> Result<ClaimLine, String> {
    let line_no = match item.sequence {
        Some(s) => i32::try_from(s).map_err(|_| format!("sequence {s} is out of range"))?,
        None => return Err("the item has no sequence".into()),
    };
    let units = match &item.quantity {
        Some(q) => match q.value.as_ref().map(|n| (n, super::resources::decimal(n))) {
            None => 1,
            Some((_, Some(v))) if v.fract().is_zero() => {
                v.to_i32().ok_or_else(|| format!("quantity {v} is out of range"))?
            }
            Some((n, _)) => return Err(format!("quantity {n} is not a whole number of units")),
        },
        None => 1,
    };
    let a = Amounts::of(item);
    let charge = match (&item.net, &item.unit_price) {
        (Some(net), _) if net.value.is_some() => {
            net.amount().ok_or_else(|| format!("net {:?} is not an amount", net.value))?
        }
        (_, Some(price)) if price.value.is_some() => {
            let price = price.amount().ok_or_else(|| format!("unitPrice {:?} is not an amount", price.value))?;
            let factor = item.factor.as_ref().and_then(super::resources::decimal).unwrap_or(Decimal::ONE);
            price * Decimal::from(units) * factor
        }
        _ => {
            a.submitted.ok_or("no charge: the item has no net, no unitPrice and no 'submitted' adjudication amount")?
        }
    };
    let date = item
        .serviced_date
        .as_deref()
        .or(item.serviced_period.as_ref().and_then(|p| p.start.as_deref()))
        .or(h.billable_start.as_deref())
        .ok_or("no service date: no servicedDate, servicedPeriod.start or billablePeriod.start")?;
    let place_of_service = if h.institutional {
        String::new()
    } else {
        item.location_codeable_concept
            .as_ref()
            .and_then(|l| l.codes().find(|(system, _)| codes::is_pos_system(system)))
            .map(|(_, c)| c.to_string())
            .unwrap_or_default()
    };
    let modifier = item.modifier.first().and_then(|m| m.first_code()).map(str::to_ascii_uppercase);
    let (carc, rarc) = reason_codes(item);
    Ok(ClaimLine {
        claim_id: h.claim_id.clone(),
        line_no,
        frequency_code: h.frequency_code.to_string(),
        provider_npi: String::new(),
        payer: h.payer.clone(),
        place_of_service,
        code,
        modifier,
        service_date: date_part(date),
        units,
        charge,
        allowed: a.allowed,
        paid: a.paid(),
        patient_responsibility: a.patient_responsibility(),
        carc,
        rarc,
    })
}

/// `2011-02-02T05:57:27-08:00` → `2011-02-02` (the date as written, no timezone shift). Text that
/// is not a date is kept so that validation rejects the line quoting it.
fn date_part(s: &str) -> String {
    let s = s.trim();
    match s.get(..10) {
        Some(d) if NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() => d.to_string(),
        _ => s.to_string(),
    }
}

/// An item's adjudication amounts by slot, summed when a category repeats.
#[derive(Debug, Default)]
struct Amounts {
    submitted: Option<Decimal>,
    allowed: Option<Decimal>,
    paid_to_provider: Option<Decimal>,
    paid_to_patient: Option<Decimal>,
    benefit: Option<Decimal>,
    member_liability: Option<Decimal>,
    copay: Option<Decimal>,
    coinsurance: Option<Decimal>,
    deductible: Option<Decimal>,
}

impl Amounts {
    fn of(item: &Item) -> Self {
        let mut a = Amounts::default();
        for adj in &item.adjudication {
            let Some(amount) = adj.amount.as_ref().and_then(|m| m.amount()) else { continue };
            let Some(slot) = adj.category.codes().find_map(|(_, c)| codes::slot(c)) else { continue };
            let field = match slot {
                Slot::Submitted => &mut a.submitted,
                Slot::Allowed => &mut a.allowed,
                Slot::PaidToProvider => &mut a.paid_to_provider,
                Slot::PaidToPatient => &mut a.paid_to_patient,
                Slot::Benefit => &mut a.benefit,
                Slot::MemberLiability => &mut a.member_liability,
                Slot::Copay => &mut a.copay,
                Slot::Coinsurance => &mut a.coinsurance,
                Slot::Deductible => &mut a.deductible,
            };
            *field = Some(field.unwrap_or_default() + amount);
        }
        a
    }
    /// Paid to provider + paid to patient; `benefit` when neither is given.
    fn paid(&self) -> Option<Decimal> {
        sum(&[self.paid_to_provider, self.paid_to_patient]).or(self.benefit)
    }
    /// Member liability; else copay + coinsurance + deductible.
    fn patient_responsibility(&self) -> Option<Decimal> {
        self.member_liability.or_else(|| sum(&[self.copay, self.coinsurance, self.deductible]))
    }
}

fn sum(parts: &[Option<Decimal>]) -> Option<Decimal> {
    parts.iter().flatten().copied().reduce(|a, b| a + b)
}

/// CARC and RARC codes of the item's adjudication reasons, each once, in order.
fn reason_codes(item: &Item) -> (Vec<String>, Vec<String>) {
    let (mut carc, mut rarc) = (Vec::new(), Vec::new());
    for (system, code) in item.adjudication.iter().filter_map(|a| a.reason.as_ref()).flat_map(|r| r.codes()) {
        let list = if codes::is_carc_system(system) {
            &mut carc
        } else if codes::is_rarc_system(system) {
            &mut rarc
        } else {
            continue;
        };
        if !list.iter().any(|c: &String| c == code) {
            list.push(code.to_string());
        }
    }
    (carc, rarc)
}

pub(crate) fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eob(v: serde_json::Value) -> ClaimResource {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn maps_an_adjudicated_professional_item() {
        let r = eob(json!({
            "id": "e1", "status": "active",
            "type": {"coding": [{"code": "professional"}]},
            "claim": {"reference": "Claim/c9"},
            "insurer": {"display": "Acme"},
            "provider": {"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567893"},
            "billablePeriod": {"start": "2020-01-02T10:00:00-05:00"},
            "item": [{
                "sequence": 2,
                "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]},
                "modifier": [{"coding": [{"code": "25"}]}, {"coding": [{"code": "59"}]}],
                "locationCodeableConcept": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/CMSPlaceofServiceCodes", "code": "11"}]},
                "quantity": {"value": 2},
                "unitPrice": {"value": 75.5},
                "adjudication": [
                    {"category": {"coding": [{"code": "eligible"}]}, "amount": {"value": 100.10}},
                    {"category": {"coding": [{"code": "paidtoprovider"}]}, "amount": {"value": 80}},
                    {"category": {"coding": [{"code": "copay"}]}, "amount": {"value": 10}},
                    {"category": {"coding": [{"code": "deductible"}]}, "amount": {"value": 10.1}},
                    {"category": {"coding": [{"code": "denialreason"}]},
                     "reason": {"coding": [{"system": "https://x12.org/codes/claim-adjustment-reason-codes", "code": "45"}]}}
                ]
            }]
        }));
        let h = header(Kind::Eob, &r).unwrap();
        let ItemOutcome::Line { line, providers, extra_modifiers } = item_line(&h, &r, &r.item[0]) else { panic!() };
        assert_eq!(line.claim_id, "c9");
        assert_eq!(line.line_no, 2);
        assert_eq!((line.code.as_str(), line.modifier.as_deref(), extra_modifiers), ("99213", Some("25"), 1));
        assert_eq!(line.place_of_service, "11");
        assert_eq!(line.service_date, "2020-01-02");
        assert_eq!(line.units, 2);
        assert_eq!(line.charge, Decimal::new(15100, 2));
        assert_eq!(line.allowed, Some(Decimal::new(10010, 2)));
        assert_eq!(line.paid, Some(Decimal::new(80, 0)));
        assert_eq!(line.patient_responsibility, Some(Decimal::new(201, 1)));
        assert_eq!(line.carc, vec!["45".to_string()]);
        assert_eq!(line.payer.as_deref(), Some("Acme"));
        assert!(matches!(&providers.candidates[0], Candidate::Npi(n) if n == "1234567893"));
    }

    #[test]
    fn frequency_from_type_of_bill_and_status() {
        let tob = |code: &str| {
            eob(json!({"supportingInfo": [{"category": {"coding": [{"code": "typeofbill"}]},
                                            "code": {"coding": [{"code": code}]}}]}))
        };
        assert_eq!(frequency(&tob("0137")), "7");
        assert_eq!(frequency(&tob("138")), "8");
        assert_eq!(frequency(&tob("0131")), "1");
        assert_eq!(frequency(&tob("Dummy")), "1");
        assert_eq!(frequency(&eob(json!({"status": "entered-in-error"}))), "8");
    }

    #[test]
    fn items_without_a_procedure_code_or_charge() {
        let r = eob(json!({"id": "c1", "billablePeriod": {"start": "2020-01-01"}, "item": [
            {"sequence": 1, "productOrService": {"coding": [{"system": "http://snomed.info/sct", "code": "410620009"}]}},
            {"sequence": 2, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99231"}]}},
            {"sequence": 3, "quantity": {"value": 1.5}, "net": {"value": 10},
             "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99231"}]}}
        ]}));
        let h = header(Kind::Claim, &r).unwrap();
        assert!(matches!(item_line(&h, &r, &r.item[0]), ItemOutcome::NoProcedureCode("snomed")));
        assert!(matches!(item_line(&h, &r, &r.item[1]), ItemOutcome::Reject(m) if m.starts_with("no charge")));
        assert!(matches!(item_line(&h, &r, &r.item[2]), ItemOutcome::Reject(m) if m.contains("1.5 is not a whole")));
    }
}
