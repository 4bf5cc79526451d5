//! FHIR R4 `Claim` and `ExplanationOfBenefit` (CARIN Blue Button 2.0.0: inpatient and outpatient
//! institutional, professional, pharmacy, oral) → claim lines.
//!
//! Input: one JSON document, either a Bundle of any type (collection, transaction, batch,
//! searchset with `_include`d resources, ...) or a single resource. The Bundle's `entry` array is
//! streamed element by element (`bundle.rs`), so a large Synthea Bundle runs in bounded memory.
//! Resources other than Claim/EOB are counted per type (`skipped.<resourceType>`) and otherwise
//! ignored, except that Practitioners and Organizations are remembered to resolve NPIs. They are
//! not validated: a Patient that breaks its profile (Inferno's `c4bb_patient_error_example.json`
//! has `"deceasedBoolean": "false"`) loads as 0 claims with a warning, because it is not a claim
//! and nothing of it reaches the log; rejecting it would need a profile validator.
//!
//! One `ClaimLine` per `item` of a Claim or EOB whose `productOrService` is CPT/HCPCS:
//!
//! | ClaimLine              | FHIR source                                                                    |
//! |------------------------|--------------------------------------------------------------------------------|
//! | claim_id               | Claim: `id`. EOB: the id in `claim.reference` (`Claim/X`, `urn:uuid:X`, URL) or `claim.identifier.value`; else the `identifier` of type `uc` (else the first); else `id`. Synthea writes a Claim and an EOB per encounter, so the EOB's line has the Claim line's key and upserts it. |
//! | line_no                | `item.sequence`                                                                |
//! | frequency_code         | `8` when `status` is `cancelled` or `entered-in-error`; else the last digit of the type of bill (`supportingInfo` category `typeofbill`): `7` → 7, `8` → 8; otherwise `1` |
//! | provider_npi           | The NPI (`http://hl7.org/fhir/sid/us-npi`) of `provider`, else of the item's `careTeam` members (`item.careTeamSequence`), else of rendering/performing/primary care team members, else of the others; found in the reference's `identifier`, a conditional reference `Practitioner?identifier=…us-npi\|N`, a contained resource, or a Practitioner/Organization in the Bundle (before or after the claim). Else the reference text (`Organization/ProviderOrganization1`) or its display. |
//! | payer                  | `insurer.display`, else the focal (or first) `insurance.coverage.display`      |
//! | place_of_service       | Empty for `type` institutional; else `item.locationCodeableConcept` coded in a CMS place-of-service system (`https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set`, `http://terminology.hl7.org/CodeSystem/CMSPlaceofServiceCodes`, ...); else empty |
//! | code                   | `item.productOrService` coding in a CPT/HCPCS system (`http://www.ama-assn.org/go/cpt`, `https://bluebutton.cms.gov/resources/codesystem/hcpcs`, `http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets`, their OIDs), upper-cased |
//! | modifier               | First code of `item.modifier[0]` (more are counted in `modifiers_beyond_first`) |
//! | service_date           | Date part of `item.servicedDate`, else `item.servicedPeriod.start`, else `billablePeriod.start` |
//! | units                  | `item.quantity.value` (a whole number); 1 when absent                          |
//! | charge                 | `item.net`; else `item.unitPrice` × units × `item.factor`; else the `submitted` adjudication amount |
//! | allowed                | adjudication `eligible` (Synthea: `line_alowd_chrg_amt`)                       |
//! | paid                   | `paidtoprovider` + `paidtopatient` (Synthea: `line_prvdr_pmt_amt`, `line_bene_pmt_amt`); else `benefit` |
//! | patient_responsibility | `memberliability`; else `copay` + `coinsurance` + `deductible` (Synthea: `line_coinsrnc_amt`, `line_bene_ptb_ddctbl_amt`) |
//! | carc / rarc            | `item.adjudication.reason` codes in the X12 CARC / RARC systems                |
//!
//! Adjudication categories are matched by code whatever their system; repeated categories are
//! summed. Categories not in the table (`discount`, `noncovered`, `paidbypatient`, `priorpayerpaid`,
//! `allowedunits`, `drugcost`, the `benefitpaymentstatus` discriminators, ...) are not mapped;
//! `eob_totals` reports every category of `total[]` and of the items.
//!
//! Not produced: items coded in anything but CPT/HCPCS — Synthea's SNOMED and CVX, pharmacy NDC,
//! oral CDT, CARIN's revenue-code-only institutional items (`data-absent-reason`) — are counted in
//! `lines_without_procedure_code` and `lines_without_procedure_code.<system>` (`snomed`, `cvx`,
//! `ndc`, `cdt`, `data_absent`, `icd10`, `other`, `none`). Rejected with the reason: a Claim/EOB
//! with no items, one whose fields have the wrong JSON type, an item with a CPT/HCPCS code but no
//! sequence, no charge, a fractional quantity or no date, and lines that fail
//! `ClaimLine::validate` (a negative charge of a reversal line, for one). A file that is not JSON
//! (or ends early) is rejected whole with serde_json's line and column.
//!
//! Counts: `claims` (Claim resources), `eobs`, `service_lines` (items read), `adjustments`
//! (item adjudication entries), `lines_without_procedure_code[.<system>]`, `skipped.<type>`,
//! `modifiers_beyond_first`, `entries_without_resource`, `providers_not_awaited` (lines sent
//! before the end of the Bundle because more than `MAX_WAITING` waited for their provider).
//! A Claim line and the EOB line that upserts it are both produced and counted.
//!
//! Not read: NDJSON (bulk export, one resource per line), XML, `addItem`, Bundles nested in a
//! Bundle (counted as `skipped.Bundle`).
mod bundle;
mod claim;
mod codes;
mod eob;
mod load;
mod providers;
mod resources;

pub use eob::{eob_totals, EobTotals};
pub use load::load;

/// Whether `head` (the first bytes of a file; a few KB) looks like FHIR JSON: a JSON object that
/// names a `resourceType` or, for a Bundle that writes `resourceType` last, an entry's `fullUrl`.
pub fn sniff(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace()) else { return false };
    head[start] == b'{' && (contains(head, b"\"resourceType\"") || contains(head, b"\"fullUrl\""))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
