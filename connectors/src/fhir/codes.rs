//! Code systems the FHIR loader recognises: which `productOrService` systems are CPT/HCPCS, which
//! `locationCodeableConcept` systems are CMS place of service, which adjudication reasons are
//! CARC/RARC, and which identifier system is the NPI. Systems compare without a trailing `/` and
//! without regard to http/https, since published examples write both.

/// CPT and HCPCS Level II systems. CARIN writes HCPCS codes under the CPT system too (A0428 in
/// EOBProfessionalTransportation1), so both are accepted for any 5-character code.
const PROCEDURE_SYSTEMS: &[&str] = &[
    "www.ama-assn.org/go/cpt",
    "bluebutton.cms.gov/resources/codesystem/hcpcs",
    "www.cms.gov/medicare/coding/hcpcsreleasecodesets",
    "bluebutton.cms.gov/resources/variables/hcpcs_cd",
    "urn:oid:2.16.840.1.113883.6.12",
    "urn:oid:2.16.840.1.113883.6.285",
    "urn:oid:2.16.840.1.113883.6.14",
];

/// CMS place-of-service code systems.
const POS_SYSTEMS: &[&str] = &[
    "www.cms.gov/medicare/coding/place-of-service-codes/place_of_service_code_set",
    "terminology.hl7.org/codesystem/cmsplaceofservicecodes",
    "bluebutton.cms.gov/resources/variables/line_place_of_srvc_cd",
    // FHIR's example value set uses the CMS codes.
    "terminology.hl7.org/codesystem/ex-serviceplace",
];

pub(crate) const NPI_SYSTEM: &str = "hl7.org/fhir/sid/us-npi";

/// `https://www.AMA-assn.org/go/cpt/` → `www.ama-assn.org/go/cpt`.
fn normalize(system: &str) -> String {
    let s = system.trim().trim_end_matches('/').to_ascii_lowercase();
    let s = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(&s).to_string();
    s
}

pub(crate) fn is_procedure_system(system: &str) -> bool {
    PROCEDURE_SYSTEMS.contains(&normalize(system).as_str())
}

pub(crate) fn is_pos_system(system: &str) -> bool {
    POS_SYSTEMS.contains(&normalize(system).as_str())
}

pub(crate) fn is_npi_system(system: &str) -> bool {
    normalize(system) == NPI_SYSTEM
}

/// X12 claim adjustment reason codes (`https://x12.org/codes/claim-adjustment-reason-codes`).
pub(crate) fn is_carc_system(system: &str) -> bool {
    let s = normalize(system);
    s.contains("claim-adjustment-reason") || s.ends_with("/carc")
}

/// X12 remittance advice remark codes.
pub(crate) fn is_rarc_system(system: &str) -> bool {
    let s = normalize(system);
    s.contains("remittance-advice-remark") || s.ends_with("/rarc")
}

/// A short name for the system of a line that has no CPT/HCPCS code, for the per-system count
/// `lines_without_procedure_code.<name>`.
pub(crate) fn system_label(system: Option<&str>) -> &'static str {
    let Some(system) = system else { return "none" };
    let s = normalize(system);
    if s.contains("snomed.info/sct") {
        "snomed"
    } else if s.ends_with("sid/cvx") {
        "cvx"
    } else if s.ends_with("sid/ndc") {
        "ndc"
    } else if s.contains("ada.org/cdt") {
        "cdt"
    } else if s.contains("data-absent-reason") {
        "data_absent"
    } else if s.contains("icd-10") {
        "icd10"
    } else {
        "other"
    }
}

/// What an adjudication category contributes to a claim line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Submitted,
    Allowed,
    PaidToProvider,
    PaidToPatient,
    Benefit,
    MemberLiability,
    Copay,
    Coinsurance,
    Deductible,
}

/// The slot of an adjudication category code. Codes are matched whatever their system (CARIN
/// writes the base codes under `terminology.hl7.org/CodeSystem/adjudication` and its own under
/// `C4BBAdjudication`); Synthea writes Blue Button variable URLs as the code.
pub(crate) fn slot(code: &str) -> Option<Slot> {
    let name = code.rsplit('/').next().unwrap_or(code).to_ascii_lowercase();
    Some(match name.as_str() {
        "submitted" | "line_sbmtd_chrg_amt" => Slot::Submitted,
        "eligible" | "line_alowd_chrg_amt" => Slot::Allowed,
        "paidtoprovider" | "line_prvdr_pmt_amt" => Slot::PaidToProvider,
        "paidtopatient" | "line_bene_pmt_amt" => Slot::PaidToPatient,
        "benefit" => Slot::Benefit,
        "memberliability" => Slot::MemberLiability,
        "copay" => Slot::Copay,
        "coinsurance" | "line_coinsrnc_amt" => Slot::Coinsurance,
        "deductible" | "line_bene_ptb_ddctbl_amt" => Slot::Deductible,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_compare_loosely() {
        assert!(is_procedure_system("http://www.ama-assn.org/go/cpt"));
        assert!(is_procedure_system("https://bluebutton.cms.gov/resources/codesystem/hcpcs/"));
        assert!(is_procedure_system("http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"));
        assert!(!is_procedure_system("http://snomed.info/sct"));
        assert!(is_pos_system("https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"));
        assert!(is_pos_system("http://terminology.hl7.org/CodeSystem/CMSPlaceofServiceCodes"));
        assert!(is_npi_system("http://hl7.org/fhir/sid/us-npi"));
        assert!(is_carc_system("https://x12.org/codes/claim-adjustment-reason-codes"));
        assert_eq!(system_label(Some("http://hl7.org/fhir/sid/ndc")), "ndc");
    }

    #[test]
    fn adjudication_slots() {
        assert_eq!(slot("eligible"), Some(Slot::Allowed));
        assert_eq!(
            slot("https://bluebutton.cms.gov/resources/variables/line_prvdr_pmt_amt"),
            Some(Slot::PaidToProvider)
        );
        assert_eq!(slot("discount"), None);
        assert_eq!(slot("benefitpaymentstatus"), None);
    }
}
