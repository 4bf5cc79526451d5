//! Every file under shared/data/fhir through `fhir::load`, with its expected outcome, plus the
//! CARIN example EOBs' totals through `fhir::eob_totals`.
//!
//! The expected numbers were computed with python3 over the JSON, independently of the loader:
//! for each resource (a Bundle's `entry[].resource`, or the file's top-level resource) count
//! Claim / ExplanationOfBenefit resources, `item`s, `item[].adjudication` entries, items with no
//! coding in a CPT/HCPCS system (`http://www.ama-assn.org/go/cpt`,
//! `https://bluebutton.cms.gov/resources/codesystem/hcpcs`, ...), and among the coded items those
//! with a charge (`net`, else the sum of `submitted` adjudication amounts) that is not negative
//! (produced) or without one / negative (rejected); other resources by `resourceType`:
//!
//! ```python
//! res = [e['resource'] for e in doc['entry']] if doc['resourceType'] == 'Bundle' else [doc]
//! for r in res:
//!     if r['resourceType'] not in ('Claim', 'ExplanationOfBenefit'): c['skipped.' + r['resourceType']] += 1; continue
//!     for it in r.get('item', []):
//!         codes = [x for x in it.get('productOrService', {}).get('coding', []) if x.get('system') in PROC]
//!         ...
//! ```
//! The totals were read with `json.load(..., parse_float=Decimal)`: `total[].category.coding[0].code`
//! and `total[].amount.value`, and the item sums as the sum of `item[].adjudication[].amount.value`
//! per `category.coding[0].code`.
use billstream_connectors::feed::{Ctx, Item, LoadError, Tally};
use billstream_connectors::fhir;
use rust_decimal::Decimal;
use schemas::ClaimLine;
use std::collections::BTreeSet;
use std::io::{BufReader, Cursor};
use std::str::FromStr;

/// How much of a file format detection looks at (`ingest::HEAD_BYTES`, 16 KiB).
const HEAD_BYTES: usize = 16 * 1024;
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/fhir");

/// What a file yields.
#[derive(Debug)]
enum Outcome {
    /// Claims and EOBs: resources, items read, item adjudication entries, items without a
    /// CPT/HCPCS code, lines produced, lines rejected.
    Claims { claims: u64, eobs: u64, items: u64, adjudications: u64, no_code: u64, produced: u64, rejected: u64 },
    /// No Claim or EOB: loads nothing, with a warning; `skipped` is the resource type counted.
    NotClaims { skipped: &'static str, count: u64 },
    /// Not a data file.
    Documentation,
}
use Outcome::*;

const fn claims(
    claims: u64,
    eobs: u64,
    items: u64,
    adjudications: u64,
    no_code: u64,
    produced: u64,
    rejected: u64,
) -> Outcome {
    Claims { claims, eobs, items, adjudications, no_code, produced, rejected }
}

const FILES: &[(&str, Outcome)] = &[
    ("SOURCES.md", Documentation),
    ("carin-bb-2.0.0-examples/Coverage-Coverage1.json", NotClaims { skipped: "Coverage", count: 1 }),
    ("carin-bb-2.0.0-examples/Coverage-Coverage2.json", NotClaims { skipped: "Coverage", count: 1 }),
    ("carin-bb-2.0.0-examples/Coverage-Coverage3.json", NotClaims { skipped: "Coverage", count: 1 }),
    ("carin-bb-2.0.0-examples/Coverage-CoverageDental1.json", NotClaims { skipped: "Coverage", count: 1 }),
    // Inpatient1/Outpatient1: one revenue-code-only item (productOrService data-absent-reason).
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBInpatient1.json", claims(0, 1, 1, 0, 1, 0, 0)),
    // 13 CPT items with no net, unitPrice or adjudication: no charge to check, rejected.
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBInpatient2.json", claims(0, 1, 13, 0, 0, 0, 13)),
    // Oral: CDT codes; Pharmacy: NDC.
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOral1.json", claims(0, 1, 2, 4, 2, 0, 0)),
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOral2.json", claims(0, 1, 1, 2, 1, 0, 0)),
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOutpatient1.json", claims(0, 1, 1, 0, 1, 0, 0)),
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOutpatient2.json", claims(0, 1, 2, 8, 0, 2, 0)),
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBPharmacy1.json", claims(0, 1, 1, 5, 1, 0, 0)),
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBProfessional1.json", claims(0, 1, 1, 2, 0, 1, 0)),
    // Items 2 and 6 reverse items 1 and 4 with negative amounts: rejected (negative charge).
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBProfessional2.json", claims(0, 1, 6, 42, 0, 4, 2)),
    ("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBProfessionalTransportation1.json", claims(0, 1, 2, 10, 0, 2, 0)),
    ("carin-bb-2.0.0-examples/Organization-DentalPayer1.json", NotClaims { skipped: "Organization", count: 1 }),
    ("carin-bb-2.0.0-examples/Organization-Payer1.json", NotClaims { skipped: "Organization", count: 1 }),
    ("carin-bb-2.0.0-examples/Organization-Payer2.json", NotClaims { skipped: "Organization", count: 1 }),
    (
        "carin-bb-2.0.0-examples/Organization-ProviderOrganization1.json",
        NotClaims { skipped: "Organization", count: 1 },
    ),
    (
        "carin-bb-2.0.0-examples/Organization-ProviderOrganization2.json",
        NotClaims { skipped: "Organization", count: 1 },
    ),
    (
        "carin-bb-2.0.0-examples/Organization-ProviderOrganization3.json",
        NotClaims { skipped: "Organization", count: 1 },
    ),
    (
        "carin-bb-2.0.0-examples/Organization-ProviderOrganization4.json",
        NotClaims { skipped: "Organization", count: 1 },
    ),
    (
        "carin-bb-2.0.0-examples/Organization-ProviderOrganization5.json",
        NotClaims { skipped: "Organization", count: 1 },
    ),
    (
        "carin-bb-2.0.0-examples/Organization-ProviderOrganization6.json",
        NotClaims { skipped: "Organization", count: 1 },
    ),
    (
        "carin-bb-2.0.0-examples/Organization-ProviderTransportationOrganization1.json",
        NotClaims { skipped: "Organization", count: 1 },
    ),
    ("carin-bb-2.0.0-examples/Patient-Patient1.json", NotClaims { skipped: "Patient", count: 1 }),
    ("carin-bb-2.0.0-examples/Patient-Patient2.json", NotClaims { skipped: "Patient", count: 1 }),
    ("carin-bb-2.0.0-examples/Practitioner-Practitioner1.json", NotClaims { skipped: "Practitioner", count: 1 }),
    ("carin-bb-2.0.0-examples/Practitioner-Practitioner2.json", NotClaims { skipped: "Practitioner", count: 1 }),
    ("carin-bb-2.0.0-examples/Practitioner-Practitioner3.json", NotClaims { skipped: "Practitioner", count: 1 }),
    ("carin-bb-2.0.0-examples/Practitioner-Practitioner4.json", NotClaims { skipped: "Practitioner", count: 1 }),
    (
        "carin-bb-2.0.0-examples/Practitioner-PractitionerDentalProvider1.json",
        NotClaims { skipped: "Practitioner", count: 1 },
    ),
    ("carin-bb-2.0.0-examples/RelatedPerson-RelatedPerson1.json", NotClaims { skipped: "RelatedPerson", count: 1 }),
    // searchset: 5 EOBs (inpatient, outpatient, oral, pharmacy, professional) then 5 _include'd
    // resources; only the professional EOB has a CPT item.
    ("carin-inferno-fixtures/c4bb_eob_include_bundle.json", claims(0, 5, 6, 11, 5, 1, 0)),
    ("carin-inferno-fixtures/c4bb_eob_inpatient_example.json", claims(0, 1, 13, 0, 0, 0, 13)),
    // Invalid on purpose (`"deceasedBoolean": "false"`), but a Patient: not a claim, nothing loads.
    ("carin-inferno-fixtures/c4bb_patient_error_example.json", NotClaims { skipped: "Patient", count: 1 }),
    ("carin-inferno-fixtures/explanation_of_benefit_all.json", claims(0, 1, 2, 10, 0, 2, 0)),
    // Synthea codes items in SNOMED and CVX only: every item is counted, none produced.
    (
        "synthea-r4-bundles/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json",
        claims(32, 32, 156, 276, 156, 0, 0),
    ),
    (
        "synthea-r4-bundles/Cecelia952_Romaguera67_f1731e33-dc55-4ee8-72d7-cece2e49bedd.json",
        claims(29, 29, 154, 282, 154, 0, 0),
    ),
    (
        "synthea-r4-bundles-2020/Cris921_Rath779_d4519c92-d241-b2b2-7360-291d60be699e.json",
        claims(11, 11, 70, 120, 70, 0, 0),
    ),
    (
        "synthea-r4-bundles-2020/Hipolito984_Schulist381_6b9c211c-2c38-3955-43a0-4d285c714fab.json",
        claims(13, 13, 74, 114, 74, 0, 0),
    ),
    (
        "synthea-r4-bundles-2020/Roland928_Nienow652_13b1a0f2-dceb-37a2-f32b-f0ca6e3b9925.json",
        claims(13, 13, 64, 114, 64, 0, 0),
    ),
    ("synthea-r4-bundles-2020/hospitalInformation1603148702656.json", NotClaims { skipped: "Organization", count: 17 }),
    (
        "synthea-r4-bundles-2020/practitionerInformation1603148702656.json",
        NotClaims { skipped: "Practitioner", count: 17 },
    ),
];

fn path(rel: &str) -> String {
    format!("{ROOT}/{rel}")
}

fn load_reader(input: &mut dyn std::io::BufRead) -> (Result<(), LoadError>, Tally, Vec<ClaimLine>) {
    let mut tally = Tally::default();
    let mut lines = Vec::new();
    let ctx = Ctx { source_file: "test.json".into(), ..Default::default() };
    let result = fhir::load(
        &ctx,
        input,
        &mut |item| match item {
            Item::Claim(l) => lines.push(l),
            other => panic!("unexpected record {other:?}"),
        },
        &mut tally,
    );
    (result, tally, lines)
}

fn load_file(rel: &str) -> (Tally, Vec<ClaimLine>) {
    let mut input = BufReader::new(std::fs::File::open(path(rel)).unwrap());
    let (result, tally, lines) = load_reader(&mut input);
    result.unwrap_or_else(|e| panic!("{rel}: {e}"));
    (tally, lines)
}

fn load_str(json: &str) -> (Result<(), LoadError>, Tally, Vec<ClaimLine>) {
    load_reader(&mut Cursor::new(json.as_bytes().to_vec()))
}

fn count(t: &Tally, key: &str) -> u64 {
    t.counts.get(key).copied().unwrap_or(0)
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn every_file_is_listed() {
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(ROOT).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            for f in std::fs::read_dir(&p).unwrap() {
                let f = f.unwrap().path();
                assert!(f.is_file(), "unexpected nested folder {}", f.display());
                on_disk.insert(format!("{name}/{}", f.file_name().unwrap().to_string_lossy()));
            }
        } else {
            on_disk.insert(name);
        }
    }
    let listed: BTreeSet<String> = FILES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(listed.len(), FILES.len(), "a file is listed twice");
    assert_eq!(on_disk, listed, "files on disk vs files listed in FILES");
}

#[test]
fn every_file_has_its_expected_outcome() {
    for (rel, outcome) in FILES {
        match outcome {
            Documentation => {}
            NotClaims { skipped, count: n } => {
                let (tally, lines) = load_file(rel);
                assert!(lines.is_empty(), "{rel}");
                assert_eq!(tally.rejected, 0, "{rel}: {:?}", tally.rejects);
                let want = [(format!("skipped.{skipped}"), *n)].into_iter().collect();
                assert_eq!(tally.counts, want, "{rel}");
                assert_eq!(tally.warnings.len(), 1, "{rel}");
                assert!(tally.warnings[0].reason.contains("holds no Claim or ExplanationOfBenefit"), "{rel}");
            }
            Claims { claims, eobs, items, adjudications, no_code, produced, rejected } => {
                let (tally, lines) = load_file(rel);
                assert_eq!(count(&tally, "claims"), *claims, "{rel} claims");
                assert_eq!(count(&tally, "eobs"), *eobs, "{rel} eobs");
                assert_eq!(count(&tally, "service_lines"), *items, "{rel} service_lines");
                assert_eq!(count(&tally, "adjustments"), *adjudications, "{rel} adjustments");
                assert_eq!(count(&tally, "lines_without_procedure_code"), *no_code, "{rel} no code");
                assert_eq!(tally.produced, *produced, "{rel} produced");
                assert_eq!(lines.len() as u64, *produced, "{rel} lines");
                assert_eq!(tally.rejected, *rejected, "{rel} rejected: {:?}", tally.rejects);
                assert!(tally.warnings.is_empty(), "{rel}: {:?}", tally.warnings);
            }
        }
    }
}

#[test]
fn synthea_lines_are_counted_by_code_system() {
    // python: Counter of item.productOrService.coding[0].system over Claims and EOBs.
    let (tally, _) = load_file("synthea-r4-bundles/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json");
    assert_eq!(count(&tally, "lines_without_procedure_code.snomed"), 64);
    assert_eq!(count(&tally, "lines_without_procedure_code.cvx"), 92);
    assert_eq!(count(&tally, "skipped.Immunization"), 46);
    assert_eq!(count(&tally, "skipped.DocumentReference"), 32);
}

#[test]
fn rejects_say_where_and_why() {
    let (tally, _) = load_file("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBProfessional2.json");
    let at: Vec<&str> = tally.rejects.iter().map(|r| r.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "ExplanationOfBenefit/EOBProfessional2, item[1] (sequence 2)",
            "ExplanationOfBenefit/EOBProfessional2, item[5] (sequence 6)"
        ]
    );
    assert!(tally.rejects[0].reason.contains("charge") && tally.rejects[0].reason.contains("-68.8 is negative"));
    let (tally, _) = load_file("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBInpatient2.json");
    assert!(tally.rejects.iter().all(|r| r.reason.starts_with("no charge")), "{:?}", tally.rejects);
    let (tally, _) = load_file("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOral1.json");
    assert_eq!(count(&tally, "lines_without_procedure_code.cdt"), 2);
    let (tally, _) = load_file("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBPharmacy1.json");
    assert_eq!(count(&tally, "lines_without_procedure_code.ndc"), 1);
}

#[test]
fn carin_professional_lines_map_field_by_field() {
    // Values read from EOBProfessional2.json item 4 (sequence 4): CPT 37228, POS 21, submitted
    // 751.2, eligible 224.11, benefit 0, copay 0, deductible 0, noncovered 224.11.
    let (_, lines) = load_file("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBProfessional2.json");
    let l = lines.iter().find(|l| l.line_no == 4).unwrap();
    assert_eq!(l.claim_id, "ProfessionalEOBExample1"); // identifier of type "uc"
    assert_eq!((l.code.as_str(), l.modifier.as_deref(), l.place_of_service.as_str()), ("37228", None, "21"));
    assert_eq!((l.service_date.as_str(), l.units, l.frequency_code.as_str()), ("2020-08-04", 1, "1"));
    assert_eq!(l.charge, dec("751.2"));
    assert_eq!(l.allowed, Some(dec("224.11")));
    assert_eq!(l.paid, Some(dec("0"))); // benefit: no paidtoprovider/paidtopatient
    assert_eq!(l.patient_responsibility, Some(dec("0"))); // copay + deductible (no memberliability)
    assert_eq!(l.payer.as_deref(), Some("UPMC Health Plan"));
    // provider Organization/ProviderOrganization1 is not in this file: the reference text.
    assert_eq!(l.provider_npi, "Organization/ProviderOrganization1");
    assert_eq!(lines.iter().map(|l| l.line_no).collect::<Vec<_>>(), [1, 3, 4, 5]);

    // Outpatient2 is institutional: no place of service although the items name 12.
    let (_, lines) = load_file("carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOutpatient2.json");
    assert!(lines.iter().all(|l| l.place_of_service.is_empty()));
    assert_eq!(lines[0].charge, dec("84.4"));
    assert_eq!(lines[0].allowed, Some(dec("56.52")));
}

#[test]
fn included_providers_resolve_to_their_npi() {
    // The searchset lists Organization/c4bb-Organization (NPI 9941339100) after the EOBs.
    let (_, lines) = load_file("carin-inferno-fixtures/c4bb_eob_include_bundle.json");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].provider_npi, "9941339100");
    assert_eq!((lines[0].code.as_str(), lines[0].place_of_service.as_str()), ("97110", "11"));
    assert_eq!(lines[0].charge, dec("1000"));
    // ProviderTransportationOrganization1 (NPI 0099887766) is _include'd after its EOB.
    let (_, lines) = load_file("carin-inferno-fixtures/explanation_of_benefit_all.json");
    assert!(lines.iter().all(|l| l.provider_npi == "0099887766" && l.code == "A0428" && l.place_of_service == "41"));
    assert_eq!(lines.iter().map(|l| l.charge).sum::<Decimal>(), dec("82.97"));
}

/// The CARIN EOBs' `total[]` and item adjudication sums, values taken from the JSON by python.
type Amounts = &'static [(&'static str, &'static str)];
const EOB_TOTALS: &[(&str, &str, Amounts, Amounts)] = &[
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBInpatient1.json",
        "EOBInpatient1",
        &[("paidtoprovider", "620"), ("submitted", "2650"), ("paidbypatient", "0")],
        &[],
    ),
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBInpatient2.json",
        "EOBInpatient2",
        &[
            ("submitted", "7147.2"),
            ("eligible", "1542.01"),
            ("deductible", "0"),
            ("copay", "120"),
            ("noncovered", "0"),
            ("benefit", "1393.57"),
            ("memberliability", "0"),
        ],
        &[],
    ),
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOral1.json",
        "EOBOral1",
        &[("submitted", "410"), ("benefit", "350"), ("discount", "60"), ("paidtoprovider", "350")],
        &[("submitted", "410")],
    ),
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOral2.json",
        "EOBOral2",
        &[("submitted", "150"), ("benefit", "110"), ("discount", "40"), ("paidtoprovider", "100")],
        &[("submitted", "150")],
    ),
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOutpatient1.json",
        "EOBOutpatient1",
        &[("paidtoprovider", "620"), ("submitted", "2650"), ("paidbypatient", "0")],
        &[],
    ),
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBOutpatient2.json",
        "EOBOutpatient2",
        &[
            ("eligible", "56.52"),
            ("deductible", "0"),
            ("copay", "0"),
            ("noncovered", "0"),
            ("benefit", "56.52"),
            ("memberliability", "0"),
        ],
        &[
            ("submitted", "84.4"),
            ("copay", "0"),
            ("eligible", "56.52"),
            ("deductible", "0"),
            ("benefit", "56.52"),
            ("noncovered", "0"),
        ],
    ),
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBPharmacy1.json",
        "EOBPharmacy1",
        &[("paidtoprovider", "620"), ("submitted", "2650"), ("paidbypatient", "0")],
        &[
            ("submitted", "1000"),
            ("benefit", "20"),
            ("discount", "900"),
            ("memberliability", "80"),
            ("paidtoprovider", "20"),
        ],
    ),
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBProfessional1.json",
        "EOBProfessional1",
        &[("paidtoprovider", "620"), ("submitted", "2650"), ("paidbypatient", "0")],
        &[("submitted", "1000")],
    ),
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBProfessional2.json",
        "EOBProfessional2",
        &[
            ("submitted", "820"),
            ("eligible", "258.91"),
            ("deductible", "0"),
            ("copay", "0"),
            ("noncovered", "0"),
            ("benefit", "258.91"),
            ("memberliability", "0"),
        ],
        &[
            ("submitted", "820.0"),
            ("copay", "0"),
            ("eligible", "258.91"),
            ("deductible", "0"),
            ("benefit", "258.91"),
            ("noncovered", "0.00"),
        ],
    ),
    (
        "carin-bb-2.0.0-examples/ExplanationOfBenefit-EOBProfessionalTransportation1.json",
        "EOBProfessionalTransportation1",
        &[("submitted", "82.97"), ("eligible", "82.97"), ("benefit", "82.97"), ("memberliability", "0")],
        &[("submitted", "82.97"), ("eligible", "82.97"), ("deductible", "0"), ("benefit", "82.97")],
    ),
    ("carin-inferno-fixtures/c4bb_eob_include_bundle.json", "c4bb-EOBInpatient", &[], &[]),
    (
        "carin-inferno-fixtures/c4bb_eob_include_bundle.json",
        "c4bb-EOBOutpatient",
        &[("paidtoprovider", "620"), ("submitted", "2650"), ("paidbypatient", "0")],
        &[],
    ),
    (
        "carin-inferno-fixtures/c4bb_eob_include_bundle.json",
        "c4bb-EOBOral",
        &[("submitted", "410"), ("benefit", "350"), ("discount", "60"), ("paidtoprovider", "350")],
        &[("submitted", "410")],
    ),
    (
        "carin-inferno-fixtures/c4bb_eob_include_bundle.json",
        "c4bb-EOBPharmacy",
        &[("paidtoprovider", "620"), ("submitted", "2650"), ("paidbypatient", "0")],
        &[
            ("submitted", "1000"),
            ("benefit", "20"),
            ("discount", "900"),
            ("memberliability", "80"),
            ("paidtoprovider", "20"),
        ],
    ),
    (
        "carin-inferno-fixtures/c4bb_eob_include_bundle.json",
        "c4bb-EOBProfessional",
        &[("paidtoprovider", "620"), ("submitted", "2650"), ("paidbypatient", "0")],
        &[("submitted", "1000")],
    ),
    (
        "carin-inferno-fixtures/c4bb_eob_inpatient_example.json",
        "c4bb-EOBInpatient",
        &[
            ("submitted", "7147.2"),
            ("eligible", "1542.01"),
            ("deductible", "0"),
            ("copay", "120"),
            ("noncovered", "0"),
            ("benefit", "1393.57"),
            ("memberliability", "0"),
        ],
        &[],
    ),
    (
        "carin-inferno-fixtures/explanation_of_benefit_all.json",
        "EOBProfessionalTransportation1",
        &[("submitted", "82.97"), ("eligible", "82.97"), ("benefit", "82.97"), ("memberliability", "0")],
        &[("submitted", "82.97"), ("eligible", "82.97"), ("deductible", "0"), ("benefit", "82.97")],
    ),
];

/// EOBs whose item adjudication sums equal `total[]` for every category present in both
/// (python: `sums[c] == total[c]`); in the others the example totals do not add up: Pharmacy1 and
/// Professional1 reuse the inpatient totals (submitted 2650, paid 620) over a 1000 item.
const CONSISTENT: &[&str] =
    &["EOBOral1", "EOBOral2", "EOBOutpatient2", "EOBProfessional2", "EOBProfessionalTransportation1", "c4bb-EOBOral"];
const INCONSISTENT: &[&str] = &["EOBPharmacy1", "EOBProfessional1", "c4bb-EOBPharmacy", "c4bb-EOBProfessional"];

fn totals_of(rel: &str) -> Vec<fhir::EobTotals> {
    fhir::eob_totals(&mut BufReader::new(std::fs::File::open(path(rel)).unwrap())).unwrap()
}

#[test]
fn carin_eob_totals() {
    let as_decimals = |a: Amounts| a.iter().map(|(c, v)| (c.to_string(), dec(v))).collect::<Vec<_>>();
    let mut seen = 0;
    for (rel, id, totals, items) in EOB_TOTALS {
        let found = totals_of(rel);
        let eob = found.iter().find(|e| e.id == *id).unwrap_or_else(|| panic!("{rel}: no EOB {id}"));
        assert_eq!(eob.totals, as_decimals(totals), "{rel} {id} total[]");
        assert_eq!(eob.item_adjudication, as_decimals(items), "{rel} {id} item sums");
        let shared: Vec<&(String, Decimal)> = eob.totals.iter().filter(|(c, _)| eob.item_sum(c).is_some()).collect();
        let agree = shared.iter().all(|(c, amount)| eob.item_sum(c) == Some(*amount));
        if CONSISTENT.contains(id) {
            assert!(!shared.is_empty() && agree, "{id}: items disagree with total[]");
        }
        if INCONSISTENT.contains(id) {
            assert!(!agree, "{id} was expected to disagree");
        }
        seen += 1;
    }
    // Every EOB in the CARIN folders is in the table (python: 17 EOB resources).
    let all: usize = FILES
        .iter()
        .filter(|(f, _)| f.starts_with("carin") && f.ends_with(".json"))
        .map(|(f, _)| totals_of(f).len())
        .sum();
    assert_eq!((seen, all), (17, 17));
    assert_eq!(CONSISTENT.len() + INCONSISTENT.len(), 10);
}

#[test]
fn synthea_eobs_key_their_lines_by_the_claim_they_reference() {
    // python: every EOB's claim.reference is urn:uuid:<id of a Claim in the same Bundle>.
    for rel in [
        "synthea-r4-bundles/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json",
        "synthea-r4-bundles-2020/Cris921_Rath779_d4519c92-d241-b2b2-7360-291d60be699e.json",
    ] {
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path(rel)).unwrap()).unwrap();
        let claim_ids: BTreeSet<&str> = doc["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Claim")
            .map(|e| e["resource"]["id"].as_str().unwrap())
            .collect();
        let eobs = totals_of(rel);
        assert_eq!(eobs.len(), claim_ids.len(), "{rel}: one EOB per Claim");
        for e in &eobs {
            assert_ne!(e.claim_id, e.id, "{rel}");
            assert!(claim_ids.contains(e.claim_id.as_str()), "{rel}: no Claim {}", e.claim_id);
            assert_eq!(e.totals.len(), 1, "{rel}: Synthea EOBs have one total, submitted");
        }
    }
}

#[test]
fn eob_line_upserts_the_claim_line_and_waits_for_late_providers() {
    // A transaction Bundle as Synthea writes it, with a CPT item, and the billing Organization
    // listed after the Claim: the Claim's line waits for it, and the EOB's line comes after.
    let bundle = r#"{"resourceType": "Bundle", "type": "transaction", "entry": [
      {"fullUrl": "urn:uuid:c1", "resource": {"resourceType": "Claim", "id": "c1", "status": "active",
        "type": {"coding": [{"code": "professional"}]},
        "provider": {"reference": "urn:uuid:org1"}, "insurance": [{"focal": true, "coverage": {"display": "Aetna"}}],
        "billablePeriod": {"start": "2021-03-04T09:00:00-05:00"},
        "item": [{"sequence": 1, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]},
                  "net": {"value": 125.00}}]}},
      {"fullUrl": "urn:uuid:e1", "resource": {"resourceType": "ExplanationOfBenefit", "id": "e1", "status": "active",
        "type": {"coding": [{"code": "professional"}]}, "claim": {"reference": "urn:uuid:c1"},
        "provider": {"reference": "urn:uuid:org1"}, "insurer": {"display": "Aetna"},
        "billablePeriod": {"start": "2021-03-04"},
        "item": [{"sequence": 1, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]},
                  "servicedPeriod": {"start": "2021-03-04T09:00:00-05:00"},
                  "locationCodeableConcept": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/CMSPlaceofServiceCodes", "code": "11"}]},
                  "net": {"value": 125.00},
                  "adjudication": [
                    {"category": {"coding": [{"code": "https://bluebutton.cms.gov/resources/variables/line_alowd_chrg_amt"}]}, "amount": {"value": 98.12}},
                    {"category": {"coding": [{"code": "https://bluebutton.cms.gov/resources/variables/line_prvdr_pmt_amt"}]}, "amount": {"value": 78.50}},
                    {"category": {"coding": [{"code": "https://bluebutton.cms.gov/resources/variables/line_coinsrnc_amt"}]}, "amount": {"value": 19.62}}]}]}},
      {"fullUrl": "urn:uuid:org1", "resource": {"resourceType": "Organization", "id": "org1",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}]}}
    ]}"#;
    let (result, tally, lines) = load_str(bundle);
    result.unwrap();
    assert_eq!((count(&tally, "claims"), count(&tally, "eobs"), tally.produced), (1, 1, 2));
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[0].claim_id.as_str(), lines[0].line_no), ("c1", 1));
    assert_eq!((lines[1].claim_id.as_str(), lines[1].line_no), ("c1", 1));
    assert_eq!(lines[0].allowed, None);
    assert_eq!(lines[1].allowed, Some(dec("98.12")));
    assert_eq!(lines[1].paid, Some(dec("78.50")));
    assert_eq!(lines[1].patient_responsibility, Some(dec("19.62")));
    assert!(lines.iter().all(|l| l.provider_npi == "1234567893" && l.payer.as_deref() == Some("Aetna")));
    assert!(lines.iter().all(|l| l.service_date == "2021-03-04" && l.charge == dec("125")));
    assert_eq!((lines[0].place_of_service.as_str(), lines[1].place_of_service.as_str()), ("", "11"));
}

#[test]
fn entries_stream_before_the_end_of_the_file() {
    // The first entry's line is produced before the parser reaches the broken second entry.
    let json = r#"{"resourceType": "Bundle", "type": "collection", "entry": [
      {"resource": {"resourceType": "Claim", "id": "a", "billablePeriod": {"start": "2020-01-01"},
        "provider": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1111111111"}},
        "item": [{"sequence": 1, "net": {"value": 10},
                  "productOrService": {"coding": [{"system": "https://bluebutton.cms.gov/resources/codesystem/hcpcs", "code": "g0463"}]}}]}},
      {"resource": {"resourceType": "Claim", "id": "b", "item": [tru"#;
    let (result, tally, lines) = load_str(json);
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].code.as_str(), lines[0].provider_npi.as_str()), ("G0463", "1111111111"));
    assert_eq!(tally.produced, 1);
    match result {
        Err(LoadError::Rejected { at, reason }) => {
            // Line 6 is 68 characters long; the input ends inside `tru`.
            assert_eq!(at, "line 6, column 68");
            assert!(reason.starts_with("the JSON ends early"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_json_is_rejected_with_line_and_column() {
    let (result, _, _) = load_str("{\n  \"resourceType\": \"Claim\",\n  \"id\": x\n}");
    match result {
        Err(LoadError::Rejected { at, reason }) => {
            assert_eq!(at, "line 3, column 9");
            assert_eq!(reason, "not valid JSON: expected value");
        }
        other => panic!("{other:?}"),
    }
    let (result, _, _) = load_str("");
    assert!(matches!(result, Err(LoadError::Rejected { reason, .. }) if reason.contains("ends early")));
    let (result, _, _) = load_str("[1, 2]");
    assert!(matches!(result, Err(LoadError::Rejected { reason, .. }) if reason.contains("a FHIR resource or Bundle")));
    let (result, _, _) = load_str("{\"resourceType\": \"Claim\"} {}");
    assert!(matches!(result, Err(LoadError::Rejected { reason, .. }) if reason.contains("trailing")));
}

#[test]
fn a_claim_without_items_is_counted_and_rejected() {
    let (result, tally, lines) = load_str(r#"{"resourceType": "Claim", "id": "empty", "status": "active"}"#);
    result.unwrap();
    assert!(lines.is_empty());
    assert_eq!(count(&tally, "claims"), 1);
    assert_eq!(tally.rejected, 1);
    assert_eq!(tally.rejects[0].at, "Claim/empty");
    assert_eq!(tally.rejects[0].reason, "the Claim has no items: no service line to check");
    // A field of the wrong JSON type rejects that resource, not the file.
    let (result, tally, _) = load_str(
        r#"{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Claim", "id": "x", "item": [{"sequence": "1"}]}}]}"#,
    );
    result.unwrap();
    assert_eq!(tally.rejects[0].at, "entry[0] Claim/x");
    assert!(tally.rejects[0].reason.starts_with("not a readable Claim: invalid type"), "{:?}", tally.rejects);
}

#[test]
fn sniff_recognises_fhir_json_and_nothing_else() {
    let head = |p: &std::path::Path| {
        let bytes = std::fs::read(p).unwrap();
        bytes[..bytes.len().min(HEAD_BYTES)].to_vec()
    };
    for (rel, _) in FILES.iter().filter(|(f, _)| f.ends_with(".json")) {
        assert!(fhir::sniff(&head(std::path::Path::new(&path(rel)))), "{rel}");
    }
    // Every other JSON and CSV file of the shared data (price files, schemas, claims feeds).
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data");
    let mut stack = vec![std::path::PathBuf::from(data)];
    let mut others = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with("fhir") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "json" || x == "csv") {
                assert!(!fhir::sniff(&head(&p)), "{}", p.display());
                others += 1;
            }
        }
    }
    assert!(others > 50, "{others}");
}
