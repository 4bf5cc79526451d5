//! The parts of FHIR R4 `Claim` and `ExplanationOfBenefit` (CARIN Blue Button 2.0.0) the loader
//! reads, as serde types. Every field is optional and unknown fields are ignored, so a resource
//! fails to deserialize only when a field we read has the wrong JSON type (then the whole
//! resource is rejected with serde's message). Money and quantities stay `serde_json::Number`
//! until `decimal` turns their text into a `Decimal`, never through f64 arithmetic.
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Number, Value};
use std::str::FromStr;

/// A `Claim` or an `ExplanationOfBenefit`: their shared shape (EOB adds `claim`, adjudication,
/// and `total` as a list; a Claim's `total` is one Money).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ClaimResource {
    pub id: Option<String>,
    pub status: Option<String>,
    pub identifier: Vec<Identifier>,
    #[serde(rename = "type")]
    pub claim_type: Option<CodeableConcept>,
    pub billable_period: Option<Period>,
    pub provider: Option<Reference>,
    pub insurer: Option<Reference>,
    pub insurance: Vec<Insurance>,
    pub care_team: Vec<CareTeam>,
    pub supporting_info: Vec<SupportingInfo>,
    /// EOB only: the Claim this EOB adjudicates.
    pub claim: Option<Reference>,
    pub contained: Vec<Contained>,
    pub item: Vec<Item>,
    /// EOB: `[{category, amount}]`; Claim: one Money. Read by `eob::totals`.
    pub total: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Item {
    pub sequence: Option<i64>,
    pub care_team_sequence: Vec<i64>,
    pub product_or_service: Option<CodeableConcept>,
    pub modifier: Vec<CodeableConcept>,
    pub serviced_date: Option<String>,
    pub serviced_period: Option<Period>,
    pub location_codeable_concept: Option<CodeableConcept>,
    pub quantity: Option<Quantity>,
    pub unit_price: Option<Money>,
    pub factor: Option<Number>,
    pub net: Option<Money>,
    pub adjudication: Vec<Adjudication>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Adjudication {
    pub category: CodeableConcept,
    pub reason: Option<CodeableConcept>,
    pub amount: Option<Money>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CareTeam {
    pub sequence: Option<i64>,
    pub provider: Option<Reference>,
    pub role: Option<CodeableConcept>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SupportingInfo {
    pub category: CodeableConcept,
    pub code: Option<CodeableConcept>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Insurance {
    pub focal: Option<bool>,
    pub coverage: Option<Reference>,
}

/// A contained resource, read only for what resolves a provider's NPI.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Contained {
    pub resource_type: Option<String>,
    pub id: Option<String>,
    pub identifier: Vec<Identifier>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Reference {
    pub reference: Option<String>,
    pub identifier: Option<Identifier>,
    pub display: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Identifier {
    pub system: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub id_type: Option<CodeableConcept>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct CodeableConcept {
    pub coding: Vec<Coding>,
    pub text: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Coding {
    pub system: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Period {
    pub start: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Money {
    pub value: Option<Number>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Quantity {
    pub value: Option<Number>,
}

impl CodeableConcept {
    /// The codes of this concept, trimmed, skipping codings without one.
    pub fn codes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.coding.iter().filter_map(|c| {
            let code = c.code.as_deref()?.trim();
            (!code.is_empty()).then(|| (c.system.as_deref().unwrap_or("").trim(), code))
        })
    }
    /// The first code, whatever its system.
    pub fn first_code(&self) -> Option<&str> {
        self.codes().next().map(|(_, code)| code)
    }
}

/// The exact decimal a JSON number was written as (serde_json keeps the shortest text that
/// round-trips, so `7147.2` stays `7147.2`).
pub(crate) fn decimal(n: &Number) -> Option<Decimal> {
    let text = n.to_string();
    Decimal::from_str(&text).ok().or_else(|| Decimal::from_scientific(&text).ok())
}

impl Money {
    pub fn amount(&self) -> Option<Decimal> {
        self.value.as_ref().and_then(decimal)
    }
}
