//! FHIR Claim and ExplanationOfBenefit (CARIN Blue Button) → claim lines. (being written)
