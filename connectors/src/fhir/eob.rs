//! What is particular to `ExplanationOfBenefit`: the claim id its lines are keyed by, and its
//! `total[]` amounts by category (with the sums of its items' adjudication amounts, so a caller
//! can check that the two agree).
use super::bundle::for_each_resource;
use super::claim::nonempty;
use super::resources::{ClaimResource, Reference};
use crate::feed::LoadError;
use rust_decimal::Decimal;
use serde_json::Value;
use std::io::BufRead;

/// One EOB's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EobTotals {
    /// The EOB's `id`.
    pub id: String,
    /// The claim id its lines are keyed by (see `claim_id`).
    pub claim_id: String,
    /// `total[]` in file order: the first category code and the amount.
    pub totals: Vec<(String, Decimal)>,
    /// Sums of `item[].adjudication[].amount` by category code, in order of first appearance
    /// (entries without an amount, such as `benefitpaymentstatus`, are left out).
    pub item_adjudication: Vec<(String, Decimal)>,
}

impl EobTotals {
    pub fn total(&self, category: &str) -> Option<Decimal> {
        self.totals.iter().find(|(c, _)| c == category).map(|(_, a)| *a)
    }
    pub fn item_sum(&self, category: &str) -> Option<Decimal> {
        self.item_adjudication.iter().find(|(c, _)| c == category).map(|(_, a)| *a)
    }
}

/// Totals of every EOB in a JSON file (a Bundle of any type, or one EOB), streaming like `load`.
/// An EOB whose fields do not deserialize is left out; only a file that is not JSON is an error.
pub fn eob_totals(input: &mut dyn BufRead) -> Result<Vec<EobTotals>, LoadError> {
    let mut found = Vec::new();
    for_each_resource(input, &mut |_, resource| {
        if resource.get("resourceType").and_then(Value::as_str) != Some("ExplanationOfBenefit") {
            return;
        }
        if let Ok(r) = serde_json::from_value::<ClaimResource>(resource) {
            found.push(totals(&r));
        }
    })?;
    Ok(found)
}

pub(crate) fn totals(r: &ClaimResource) -> EobTotals {
    let mut totals = Vec::new();
    if let Some(Value::Array(list)) = &r.total {
        for t in list {
            let category = t.pointer("/category/coding/0/code").and_then(Value::as_str);
            let amount = match t.pointer("/amount/value") {
                Some(Value::Number(n)) => super::resources::decimal(n),
                _ => None,
            };
            if let (Some(c), Some(a)) = (category, amount) {
                totals.push((c.to_string(), a));
            }
        }
    }
    let mut item_adjudication: Vec<(String, Decimal)> = Vec::new();
    for adj in r.item.iter().flat_map(|i| &i.adjudication) {
        let (Some(code), Some(amount)) = (adj.category.first_code(), adj.amount.as_ref().and_then(|m| m.amount()))
        else {
            continue;
        };
        match item_adjudication.iter_mut().find(|(c, _)| c == code) {
            Some((_, sum)) => *sum += amount,
            None => item_adjudication.push((code.to_string(), amount)),
        }
    }
    EobTotals {
        id: r.id.clone().unwrap_or_default(),
        claim_id: claim_id(r).unwrap_or_default(),
        totals,
        item_adjudication,
    }
}

/// The id of the Claim an EOB references (`Claim/123`, `urn:uuid:123`, an absolute URL, or a
/// logical identifier); else the EOB's payer claim identifier (CARIN type `uc`, else the first);
/// else its id.
pub(crate) fn claim_id(r: &ClaimResource) -> Option<String> {
    r.claim
        .as_ref()
        .and_then(referenced_id)
        .or_else(|| {
            let uc = r.identifier.iter().find(|i| {
                i.id_type.as_ref().is_some_and(|t| t.codes().any(|(_, c)| c == "uc"))
                    && nonempty(i.value.as_deref()).is_some()
            });
            uc.or_else(|| r.identifier.iter().find(|i| nonempty(i.value.as_deref()).is_some()))
                .and_then(|i| nonempty(i.value.as_deref()))
        })
        .or_else(|| nonempty(r.id.as_deref()))
}

fn referenced_id(r: &Reference) -> Option<String> {
    if let Some(text) = nonempty(r.reference.as_deref()) {
        let path = text.split("/_history/").next().unwrap_or(&text);
        let id = if let Some(uuid) = path.strip_prefix("urn:uuid:") {
            uuid
        } else if let Some(local) = path.strip_prefix('#') {
            local
        } else {
            path.rsplit('/').next().unwrap_or(path)
        };
        return nonempty(Some(id));
    }
    nonempty(r.identifier.as_ref()?.value.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claim_id_prefers_the_claim_reference() {
        let r = |v| serde_json::from_value::<ClaimResource>(v).unwrap();
        assert_eq!(claim_id(&r(json!({"id": "e", "claim": {"reference": "urn:uuid:abc"}}))).unwrap(), "abc");
        assert_eq!(
            claim_id(&r(json!({"id": "e", "claim": {"reference": "http://s/fhir/Claim/7/_history/2"}}))).unwrap(),
            "7"
        );
        let with_ids = json!({"id": "e", "identifier": [
            {"system": "x", "value": "first"},
            {"type": {"coding": [{"code": "uc"}]}, "value": "payer-claim"}
        ]});
        assert_eq!(claim_id(&r(with_ids)).unwrap(), "payer-claim");
        assert_eq!(claim_id(&r(json!({"id": "e"}))).unwrap(), "e");
    }
}
