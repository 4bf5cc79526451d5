//! Every file under shared/data/cms-hpt and shared/data/real-hospital-mrf, with the outcome the
//! hospital price-transparency MRF loader (`cms::mrf`) must give it.
//!
//! How the expected numbers were obtained, independently of the loader:
//! * items: the data README (v3 Tall example 45 data rows, Wide 26, JSON 22 items); the other
//!   files by counting non-blank rows after row 3 / `len(standard_charge_information)` with
//!   Python's csv and json modules; Stony Brook: `wc -l` = 5452 lines, minus the header row.
//! * prices: a short Python script (csv/json modules) applying the documented mapping: for each
//!   row or standard charge, each non-blank gross / discounted_cash / min / max, each payer's
//!   negotiated dollar and (v2 only) estimated amount other than 999999999, times the number of
//!   code|i + code|i|type pairs of the item; tall rows repeat an item's gross/cash/min/max, so
//!   those count once per run of consecutive rows with the same description, codes, setting,
//!   modifiers, drug unit/type and amounts; rows without a code count nothing; the rows or JSON
//!   parts the validator reports as errors (listed with each file below) count nothing. Stony
//!   Brook: the cells of columns 5–36 matching `^\d+(\.\d+)?$` (the rest are `NA`) = 41,139.
//! * rejects: the error paths CMS's hpt-validator test suite expects for each fixture
//!   (test/validators/JsonValidator.test.ts, CsvValidator.test.ts) — under the v2.2 rules the
//!   loader applies to every v2.x file, a 2.0.0-labelled fixture can have one more (noted).
use billstream_connectors::cms::mrf;
use billstream_connectors::feed::{Ctx, Item, LoadError, Tally};
use schemas::RefPrice;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/");

#[derive(Debug)]
enum Expect {
    /// Loads: data rows or JSON items, prices produced, rejected rows/parts (each reject's
    /// location must contain one of `reject_at`), and text each listed warning contains.
    Loads { items: u64, prices: u64, reject_at: &'static [&'static str], warnings: &'static [&'static str] },
    /// A data file rejected as a whole, the error containing the text.
    Rejected(&'static str),
    /// Not a data file (documentation, schema, blank template): `sniff` says no or the loader
    /// refuses it with an error containing the text.
    NotData(&'static str),
}
use Expect::*;

const fn ok(items: u64, prices: u64) -> Expect {
    Loads { items, prices, reject_at: &[], warnings: &[] }
}

const V2_VERSION: &str = "version data element \"2.0\" does not match";
const NOT_MRF: &str = "not a hospital price-transparency MRF";
const NO_ROOT_FIELDS: &str = "must have required properties 'hospital_name'";

const FILES: &[(&str, Expect)] = &[
    ("cms-hpt/SOURCES.md", NotData(NOT_MRF)),
    // v2.0 examples of December 2023 (v2.2 rules).
    ("cms-hpt/v2.0-2023-12/V2.0.0_JSON_Format_Example.json", ok(4, 39)),
    // The CMS typo header `standard _charge|negotiated_algorithm`: rejected, as by the validator.
    (
        "cms-hpt/v2.0-2023-12/V2.0.0_Tall_CSV_Format_Example.csv",
        Rejected("column 16 \"standard _charge|negotiated_algorithm\" is close but has a space inside a name"),
    ),
    ("cms-hpt/v2.0-2023-12/V2.0.0_Wide_CSV_Format_Example.csv", ok(10, 67)),
    ("cms-hpt/v2.2-archive/docs/CSV_v2.2_README.md", NotData(NOT_MRF)),
    ("cms-hpt/v2.2-archive/docs/JSON_v2.2_README.md", NotData(NOT_MRF)),
    ("cms-hpt/v2.2-archive/examples/README.md", NotData(NOT_MRF)),
    ("cms-hpt/v2.2-archive/examples/V2.0.0_JSON_Format_Example.json", ok(11, 91)),
    // 6 modifier-only rows (no code, no price).
    ("cms-hpt/v2.2-archive/examples/V2.0.0_Tall_CSV_Format_Example.csv", ok(31, 103)),
    // A Windows-1252 em dash (byte 0x97) in a description.
    (
        "cms-hpt/v2.2-archive/examples/V2.0.0_Wide_CSV_Format_Example.csv",
        Loads { items: 20, prices: 119, reject_at: &[], warnings: &["not UTF-8"] },
    ),
    ("cms-hpt/v2.2-archive/schemas/V2.0.0_Hospital_price_transparency_schema.json", NotData(NO_ROOT_FIELDS)),
    ("cms-hpt/v2.2-archive/schemas/V2.1.0_Hospital_price_transparency_schema.json", NotData(NO_ROOT_FIELDS)),
    ("cms-hpt/v2.2-archive/schemas/V2.2.0_Hospital_price_transparency_schema.json", NotData(NO_ROOT_FIELDS)),
    ("cms-hpt/v2.2-archive/schemas/V2.2.1_Hospital_price_transparency_schema.json", NotData(NO_ROOT_FIELDS)),
    // Blank templates: row 2 empty but for the version, `[state]` placeholder.
    (
        "cms-hpt/v2.2-archive/templates/V2.0.0_Tall_CSV_Format_Template.csv",
        NotData("a value for hospital_name is required in row 2"),
    ),
    (
        "cms-hpt/v2.2-archive/templates/V2.0.0_Wide_CSV_Format_Template.csv",
        NotData("still has the template placeholder [state]"),
    ),
    ("cms-hpt/v3.0.0/docs/CSV_data_dictionary_README.md", NotData(NOT_MRF)),
    ("cms-hpt/v3.0.0/docs/JSON_data_dictionary_README.md", NotData(NOT_MRF)),
    ("cms-hpt/v3.0.0/docs/UPDATE_GUIDE.md", NotData(NOT_MRF)),
    ("cms-hpt/v3.0.0/docs/state_codes.md", NotData(NOT_MRF)),
    ("cms-hpt/v3.0.0/examples/README.md", NotData(NOT_MRF)),
    // Headers `code | 1 | type` with spaces around the pipes; 6 modifier-only rows.
    ("cms-hpt/v3.0.0/examples/V3.0.0_Tall_CSV_Format_Example.csv", ok(45, 137)),
    ("cms-hpt/v3.0.0/examples/V3.0.0_Wide_CSV_Format_Example.csv", ok(26, 133)),
    ("cms-hpt/v3.0.0/examples/v3_json_format_example.json", ok(22, 129)),
    ("cms-hpt/v3.0.0/schemas/V3.0.0_Hospital_price_transparency_schema.json", NotData(NO_ROOT_FIELDS)),
    (
        "cms-hpt/v3.0.0/templates/V3.0.0_Tall_CSV_Format_Template.csv",
        NotData("a value for last_updated_on is required in row 2"),
    ),
    (
        "cms-hpt/v3.0.0/templates/V3.0.0_Wide_CSV_Format_Template.csv",
        NotData("still has the template placeholder [state]"),
    ),
    // --- CMS hpt-validator fixtures, v3.0 ---
    // count 234 as a number (error, that payer) and three nine-9s alerts.
    (
        "cms-hpt/validator-fixtures/3.0/alerts-with-errors.json",
        Loads {
            items: 1,
            prices: 8,
            reject_at: &["/standard_charge_information/0/standard_charges/0/payers_information/1/count"],
            warnings: &[
                "Nine 9s used for count.",
                "Nine 9s used for 10th percentile.",
                "Nine 9s used for 90th percentile.",
            ],
        },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/allowed-amounts-nine-9s.json",
        Loads {
            items: 4,
            prices: 30,
            reject_at: &[],
            warnings: &[
                "Nine 9s used for count.",
                "Nine 9s used for 10th percentile.",
                "Nine 9s used for 90th percentile.",
                "Nine 9s used for median amount.",
            ],
        },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/estimated-amount.json",
        Loads {
            items: 4,
            prices: 30,
            reject_at: &[],
            warnings: &["Estimated amount present in payers information object."],
        },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/false-confirmation.json",
        Loads { items: 4, prices: 30, reject_at: &[], warnings: &["the attestation is false"] },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-empty-address.json",
        Rejected("/hospital_address/1: root fields: must NOT have fewer than 1 characters"),
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-empty-algorithm.json",
        Loads {
            items: 4,
            prices: 28,
            reject_at: &[
                "/standard_charge_information/0/standard_charges/0/payers_information/2/standard_charge_algorithm",
            ],
            warnings: &[],
        },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-empty-generic-notes.json",
        Loads {
            items: 4,
            prices: 25,
            reject_at: &["/standard_charge_information/1/standard_charges/0/additional_generic_notes"],
            warnings: &[],
        },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-empty-location.json",
        Rejected("/location_name/0: root fields: must NOT have fewer than 1 characters"),
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-empty-payer-notes.json",
        Loads {
            items: 4,
            prices: 29,
            reject_at: &[
                "/standard_charge_information/1/standard_charges/0/payers_information/0/additional_payer_notes",
            ],
            warnings: &[],
        },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-missing-10th.json",
        Loads {
            items: 4,
            prices: 30,
            reject_at: &["/standard_charge_information/1/standard_charges/0/payers_information/1"],
            warnings: &[],
        },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-missing-90th.json",
        Loads {
            items: 4,
            prices: 30,
            reject_at: &["/standard_charge_information/0/standard_charges/0/payers_information/3"],
            warnings: &[],
        },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-missing-count-of-allowed-amounts.json",
        Loads {
            items: 4,
            prices: 30,
            reject_at: &["/standard_charge_information/1/standard_charges/0/payers_information/1"],
            warnings: &[],
        },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-missing-median.json",
        Loads {
            items: 4,
            prices: 30,
            reject_at: &["/standard_charge_information/0/standard_charges/0/payers_information/3"],
            warnings: &[],
        },
    ),
    // modifier_information entries have no price: an invalid one is a reject, not the file's.
    (
        "cms-hpt/validator-fixtures/3.0/sample-modifier-invalid-setting.json",
        Loads { items: 4, prices: 30, reject_at: &["/modifier_information/0/setting"], warnings: &[] },
    ),
    (
        "cms-hpt/validator-fixtures/3.0/sample-payer-no-charge.json",
        Loads {
            items: 4,
            prices: 29,
            reject_at: &["/standard_charge_information/2/standard_charges/0/payers_information/1"],
            warnings: &[],
        },
    ),
    ("cms-hpt/validator-fixtures/3.0/sample-valid-allowed-amount-zero.json", ok(4, 30)),
    ("cms-hpt/validator-fixtures/3.0/sample-valid-drug-info.json", ok(1, 6)),
    ("cms-hpt/validator-fixtures/3.0/sample-valid.json", ok(4, 30)),
    // Says 2.0.0 but has the v3 elements: checked as v3, with the version alert.
    (
        "cms-hpt/validator-fixtures/3.0/unexpected-version.json",
        Loads { items: 4, prices: 30, reject_at: &[], warnings: &["version data element \"2.0.0\" does not match"] },
    ),
    // --- CMS hpt-validator fixtures, v2.x (all checked against the v2.2 rules) ---
    // Valid under 2.0.0, where the validator's test runs it; under v2.2 its first payer's
    // methodology "other" lacks additional_payer_notes (the sample-other-no-notes error).
    (
        "cms-hpt/validator-fixtures/false-confirmation.json",
        Loads {
            items: 4,
            prices: 35,
            reject_at: &["/standard_charge_information/0/standard_charges/0/payers_information/0"],
            warnings: &["the affirmation is false"],
        },
    ),
    (
        "cms-hpt/validator-fixtures/sample-bad-header.csv",
        Rejected("row 2, column \"last_updated_on\": general data elements (rows 1–2): \"July 1 2024\" is not a date"),
    ),
    ("cms-hpt/validator-fixtures/sample-bad-item-header.csv", Rejected("required column \"description\" is missing")),
    ("cms-hpt/validator-fixtures/sample-blank-header.csv", Rejected("row 3: row 3 (the column headers) is blank")),
    ("cms-hpt/validator-fixtures/sample-empty.json", Rejected(NO_ROOT_FIELDS)),
    ("cms-hpt/validator-fixtures/sample-invalid.json", Rejected("line 5, column 3: not valid JSON")),
    (
        "cms-hpt/validator-fixtures/sample-lots-of-alerts.json",
        Loads {
            items: 4,
            prices: 30,
            reject_at: &[],
            warnings: &["/standard_charge_information/1/standard_charges/0/payers_information/1/estimated_amount"],
        },
    ),
    // Invalid code types in rows 4–7, amounts of 0 in rows 10–13.
    (
        "cms-hpt/validator-fixtures/sample-lots-of-errors.csv",
        Loads {
            items: 13,
            prices: 13,
            reject_at: &[
                "row 4, column \"code|1|type\"",
                "row 5, column \"code|1|type\"",
                "row 6, column \"code|1|type\"",
                "row 7, column \"code|1|type\"",
                "row 10, column \"standard_charge|min\"",
                "row 11, column \"standard_charge|min\"",
                "row 12, column \"standard_charge|min\"",
                "row 13, column \"standard_charge|min\"",
            ],
            warnings: &[V2_VERSION],
        },
    ),
    (
        "cms-hpt/validator-fixtures/sample-missing-estimate.json",
        Loads {
            items: 4,
            prices: 30,
            reject_at: &["/standard_charge_information/0/standard_charges/0/payers_information/3"],
            warnings: &["Nine 9s used for estimated amount."],
        },
    ),
    (
        "cms-hpt/validator-fixtures/sample-ndc-no-drug-info.json",
        Loads { items: 5, prices: 39, reject_at: &["/standard_charge_information/4"], warnings: &[] },
    ),
    (
        "cms-hpt/validator-fixtures/sample-nine-nines.json",
        Loads {
            items: 4,
            prices: 37,
            reject_at: &[],
            warnings: &["/standard_charge_information/0/standard_charges/0/payers_information/2/estimated_amount"],
        },
    ),
    (
        "cms-hpt/validator-fixtures/sample-no-charges.json",
        Loads {
            items: 4,
            prices: 31,
            reject_at: &["/standard_charge_information/2/standard_charges/0"],
            warnings: &[],
        },
    ),
    ("cms-hpt/validator-fixtures/sample-no-data.csv", Rejected("row 4: no data rows after the column headers (row 3)")),
    (
        "cms-hpt/validator-fixtures/sample-no-min-max.json",
        Loads {
            items: 4,
            prices: 33,
            reject_at: &["/standard_charge_information/1/standard_charges/0"],
            warnings: &[],
        },
    ),
    (
        "cms-hpt/validator-fixtures/sample-no-payer-charges.json",
        Loads { items: 3, prices: 12, reject_at: &[], warnings: &["File does not have any payer-specific charges."] },
    ),
    // The validator's error at payer 0 ("other" without notes); under v2.2 payer 3 (a percentage
    // without its estimated amount) is one more.
    (
        "cms-hpt/validator-fixtures/sample-other-no-notes.json",
        Loads {
            items: 4,
            prices: 33,
            reject_at: &[
                "/standard_charge_information/0/standard_charges/0/payers_information/0",
                "/standard_charge_information/0/standard_charges/0/payers_information/3",
            ],
            warnings: &[],
        },
    ),
    (
        "cms-hpt/validator-fixtures/sample-tall-mixed-line-endings.csv",
        Loads { items: 13, prices: 51, reject_at: &[], warnings: &[V2_VERSION] },
    ),
    // Row 15 is short (12 of 21 fields): read as blanks, like the validator does.
    (
        "cms-hpt/validator-fixtures/sample-tall-small-rows.csv",
        Loads { items: 13, prices: 52, reject_at: &[], warnings: &["row 15"] },
    ),
    ("cms-hpt/validator-fixtures/sample-tall-valid.csv", ok(13, 51)),
    ("cms-hpt/validator-fixtures/sample-valid-bom.json", ok(4, 39)),
    ("cms-hpt/validator-fixtures/sample-valid-drug-info.json", ok(5, 45)),
    ("cms-hpt/validator-fixtures/sample-valid-modifier.json", ok(4, 39)),
    ("cms-hpt/validator-fixtures/sample-valid.json", ok(4, 39)),
    // Blank column headers in rows 1 and 3 are skipped (it is a tall file despite its name).
    ("cms-hpt/validator-fixtures/sample-wide-blank-headers.csv", ok(2, 6)),
    ("cms-hpt/validator-fixtures/sample-wide-valid.csv", ok(10, 67)),
    (
        "cms-hpt/validator-fixtures/sample-wrong-drug-info.json",
        Loads {
            items: 5,
            prices: 39,
            reject_at: &["/standard_charge_information/4/drug_information/unit"],
            warnings: &[],
        },
    ),
    (
        "cms-hpt/validator-fixtures/sample-wrong-modifier.json",
        Loads { items: 4, prices: 39, reject_at: &["/modifier_information/0/code"], warnings: &[] },
    ),
    (
        "cms-hpt/validator-fixtures/unexpected-version.json",
        Loads { items: 4, prices: 39, reject_at: &[], warnings: &["version data element \"1.0.0\" does not match"] },
    ),
    ("real-hospital-mrf/SOURCES.md", NotData(NOT_MRF)),
    (
        "real-hospital-mrf/stony-brook-2022-prev2-wide/113243405_StonyBrookUniversityHospital_standardcharges.csv",
        Loads { items: 5451, prices: 41139, reject_at: &[], warnings: &["dated 2021-01-01"] },
    ),
];

struct Run {
    result: Result<(), LoadError>,
    prices: Vec<RefPrice>,
    tally: Tally,
}

fn load_with(path: &Path, scope: Option<&str>) -> Run {
    let ctx = Ctx {
        source_file: path.file_name().unwrap().to_string_lossy().into_owned(),
        scope: scope.map(str::to_string),
        ..Default::default()
    };
    let mut input = BufReader::new(std::fs::File::open(path).unwrap());
    let mut prices = Vec::new();
    let mut tally = Tally::default();
    let result = mrf::load(
        &ctx,
        &mut input,
        &mut |i| {
            if let Item::Price(p) = i {
                prices.push(p)
            }
        },
        &mut tally,
    );
    Run { result, prices, tally }
}

fn load(rel: &str) -> Run {
    load_with(&Path::new(DATA).join(rel), None)
}

fn sniff(rel: &str) -> bool {
    let bytes = std::fs::read(Path::new(DATA).join(rel)).unwrap();
    mrf::sniff(rel, &bytes[..bytes.len().min(4096)])
}

#[test]
fn every_file_of_the_folders_is_listed() {
    let mut found = BTreeSet::new();
    let mut dirs: Vec<PathBuf> = ["cms-hpt", "real-hospital-mrf"].iter().map(|d| Path::new(DATA).join(d)).collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                found.insert(path.strip_prefix(DATA).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let listed: BTreeSet<String> = FILES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(listed.len(), FILES.len(), "a file is listed twice");
    let unlisted: Vec<_> = found.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&found).collect();
    assert!(unlisted.is_empty() && gone.is_empty(), "not listed: {unlisted:?}; listed but missing: {gone:?}");
    // The data README's count of CMS-authored validator fixtures.
    assert_eq!(listed.iter().filter(|f| f.starts_with("cms-hpt/validator-fixtures/")).count(), 47);
}

#[test]
fn each_file_has_its_outcome() {
    let mut failures = Vec::new();
    for (file, expect) in FILES {
        let run = load(file);
        let sniffed = sniff(file);
        let problem = match (expect, &run.result) {
            (Loads { items, prices, reject_at, warnings }, Ok(())) => {
                let t = &run.tally;
                let mut p = Vec::new();
                if t.counts.get("items") != Some(items) {
                    p.push(format!("items {:?} != {items}", t.counts.get("items")));
                }
                if run.prices.len() as u64 != *prices || t.counts.get("prices") != Some(prices) || t.produced != *prices
                {
                    p.push(format!("prices {} (count {:?}) != {prices}", run.prices.len(), t.counts.get("prices")));
                }
                if t.rejected != reject_at.len() as u64 {
                    p.push(format!("{} rejects != {}: {:?}", t.rejected, reject_at.len(), t.rejects));
                }
                for at in *reject_at {
                    if !t.rejects.iter().any(|r| r.at.starts_with(at)) {
                        p.push(format!("no reject at {at}: {:?}", t.rejects));
                    }
                }
                for w in *warnings {
                    if !t.warnings.iter().any(|x| x.at.contains(w) || x.reason.contains(w)) {
                        p.push(format!("no warning {w:?}: {:?}", t.warnings));
                    }
                }
                if warnings.is_empty() && !t.warnings.is_empty() {
                    p.push(format!("unexpected warnings {:?}", t.warnings));
                }
                if !sniffed {
                    p.push("sniff says it is not an MRF".into());
                }
                p.join("; ")
            }
            (Rejected(text), Err(e)) => {
                if !e.to_string().contains(text) {
                    format!("error {e:?} lacks {text:?}")
                } else if !run.prices.is_empty() {
                    format!("{} prices from a rejected file", run.prices.len())
                } else {
                    String::new()
                }
            }
            (NotData(text), Err(e)) => {
                if sniffed && !file.contains("/templates/") {
                    "sniff claims a file that is not data".into()
                } else if !e.to_string().contains(text) {
                    format!("error {e:?} lacks {text:?}")
                } else {
                    String::new()
                }
            }
            (_, r) => format!("unexpected result {r:?}"),
        };
        if !problem.is_empty() {
            failures.push(format!("{file}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a validator fixture's name says about it.
#[derive(Debug, PartialEq)]
enum Named {
    /// "valid", "mixed-line-endings", "small-rows", "blank-headers" (robustness): loads, no reject.
    Clean,
    /// "alerts", "nine(s)", "9s", "false-confirmation", "unexpected-version", "estimated-amount",
    /// "no-payer-charges": loads, with warnings.
    Alerts,
    /// Anything naming a defect ("bad", "blank-header", "empty", "errors", "invalid", "missing",
    /// "no-", "wrong", "other-no-notes", "payer-no-charge", "invalid-setting"): the file or some
    /// of its rows is rejected.
    Defect,
}

fn named(file: &str) -> Named {
    let name = file.rsplit('/').next().unwrap();
    let has = |w: &str| name.contains(w);
    if has("errors")
        || has("bad")
        || has("blank-header.")
        || has("empty")
        || has("invalid")
        || has("missing")
        || has("wrong")
        || has("no-charges")
        || has("no-data")
        || has("no-min-max")
        || has("no-notes")
        || has("no-drug-info")
        || has("no-charge.")
    {
        Named::Defect
    } else if has("alerts")
        || has("nine")
        || has("9s")
        || has("false-confirmation")
        || has("unexpected-version")
        || has("estimated-amount")
        || has("no-payer-charges")
    {
        Named::Alerts
    } else {
        assert!(
            has("valid") || has("mixed-line-endings") || has("small-rows") || has("blank-headers"),
            "unclassified fixture {name}"
        );
        Named::Clean
    }
}

#[test]
fn validator_fixtures_match_their_names() {
    let mut seen = 0;
    for (file, _) in FILES.iter().filter(|(f, _)| f.starts_with("cms-hpt/validator-fixtures/")) {
        seen += 1;
        let run = load(file);
        let t = &run.tally;
        match named(file) {
            Named::Clean => {
                assert!(
                    run.result.is_ok() && t.rejected == 0 && !run.prices.is_empty(),
                    "{file}: {:?} {:?}",
                    run.result,
                    t.rejects
                );
            }
            Named::Alerts => {
                assert!(run.result.is_ok() && !t.warnings.is_empty(), "{file}: {:?} {:?}", run.result, t.warnings);
            }
            Named::Defect => assert!(run.result.is_err() || t.rejected > 0, "{file} loads without a reject"),
        }
        // Alerts never reject: a file whose name only says alerts rejects only for a stated error.
        if named(file) == Named::Alerts && file.contains("alerts-with-errors") {
            assert_eq!(t.rejected, 1);
        }
    }
    assert_eq!(seen, 47);
}

#[test]
fn a_wrong_modifier_entry_is_one_reject_with_both_problems() {
    // The validator's two errors for this fixture: the code is a number, the plan is missing.
    let run = load("cms-hpt/validator-fixtures/sample-wrong-modifier.json");
    assert_eq!(run.tally.rejects.len(), 1);
    let r = &run.tally.rejects[0];
    assert_eq!(r.at, "/modifier_information/0/code");
    assert_eq!(r.reason, "must be string; also /modifier_information/0/modifier_payer_information/0: must have required property 'plan_name'");
}

#[test]
fn the_v3_examples_show_the_same_prices_in_all_three_layouts() {
    // The examples README: the three files "all depict the same fictional data".
    let sets: Vec<BTreeSet<_>> = [
        "cms-hpt/v3.0.0/examples/V3.0.0_Tall_CSV_Format_Example.csv",
        "cms-hpt/v3.0.0/examples/V3.0.0_Wide_CSV_Format_Example.csv",
        "cms-hpt/v3.0.0/examples/v3_json_format_example.json",
    ]
    .iter()
    .map(|f| {
        load(f)
            .prices
            .into_iter()
            .map(|p| {
                (p.code, p.code_type, p.payer, p.amount_kind, p.amount.normalize().to_string(), p.setting, p.modifier)
            })
            .collect()
    })
    .collect();
    assert_eq!(sets[1], sets[2], "wide and JSON differ");
    // The tall example's row 12 gives Basic metabolic panel a minimum of 150 where its row 13, the
    // wide example and the JSON give 125: that CMS inconsistency is the only difference.
    let diff: Vec<_> = sets[0].difference(&sets[2]).map(|p| (p.0.as_str(), p.3.as_str(), p.4.as_str())).collect();
    assert_eq!(diff, [("301", "negotiated_min", "150"), ("80048", "negotiated_min", "150")]);
    assert!(sets[2].is_subset(&sets[0]));
}

#[test]
fn v3_tall_example_prices() {
    let run = load("cms-hpt/v3.0.0/examples/V3.0.0_Tall_CSV_Format_Example.csv");
    // Row 4: MRI of brain, RC 611 + CPT 70551, Platform Health Insurance PPO, $400, dated 4/1/2026.
    let mri: Vec<_> = run
        .prices
        .iter()
        .filter(|p| {
            p.payer.as_deref() == Some("Platform Health Insurance | PPO")
                && p.amount_kind == "negotiated"
                && p.amount.to_string() == "400"
        })
        .collect();
    assert_eq!(mri.len(), 2);
    assert_eq!((mri[0].code.as_str(), mri[0].code_type.as_str()), ("611", "RC"));
    assert_eq!((mri[1].code.as_str(), mri[1].code_type.as_str()), ("70551", "CPT"));
    for p in &mri {
        assert_eq!(p.scope, "hospital:West Mercy Hospital");
        assert_eq!(p.effective_from, "2026-04-01");
        assert_eq!(p.setting.as_deref(), Some("outpatient"));
        assert_eq!(p.source, "MRF");
        assert_eq!(p.source_file, "V3.0.0_Tall_CSV_Format_Example.csv");
    }
    // Rows 14–23 have a payer and a code but only a percentage or algorithm; rows 31–36 have no
    // code, only a modifier (both listed with Python's csv module).
    assert_eq!(run.tally.counts["charges_without_dollar_amount"], 10);
    assert_eq!(run.tally.counts["modifier_rows"], 6);
    assert_eq!(run.tally.counts["payer_plans"], 2);
    // Drugs: Aspirin (NDC 10135-0729-62) gross $2.
    assert!(run.prices.iter().any(|p| p.code == "10135-0729-62"
        && p.code_type == "NDC"
        && p.amount_kind == "gross"
        && p.amount.to_string() == "2"));
}

#[test]
fn stony_brook_loads_with_its_rows_and_payers() {
    let file =
        "real-hospital-mrf/stony-brook-2022-prev2-wide/113243405_StonyBrookUniversityHospital_standardcharges.csv";
    let run = load(file);
    run.result.unwrap();
    assert_eq!(run.tally.counts["items"], 5451);
    // 28 payer-plan columns (36 columns minus HospCode, Code, Description, Code_Type, gross,
    // cash, min, max), every one with at least one amount.
    assert_eq!(run.tally.counts["payer_plans"], 28);
    let p = &run.prices[0];
    // Line 2: DRG 1, gross 1321641.18, named from the file name, dated 2021-01-01.
    assert_eq!(
        (
            p.code.as_str(),
            p.code_type.as_str(),
            p.amount_kind.as_str(),
            p.amount.to_string().as_str(),
            p.scope.as_str(),
            p.effective_from.as_str()
        ),
        ("1", "DRG", "gross", "1321641.18", "hospital:Stony Brook University Hospital", "2021-01-01")
    );
    let aetna: Vec<_> =
        run.prices.iter().filter(|p| p.code == "1" && p.payer.as_deref() == Some("Aetna | Commercial")).collect();
    assert_eq!(aetna.len(), 1);
    assert_eq!(aetna[0].amount.to_string(), "237069");
    // Blank Code_Type rows are 8-digit chargemaster numbers; CPT/HCPCS splits on the first character.
    assert!(run
        .prices
        .iter()
        .any(|p| p.code == "30000004" && p.code_type == "CDM" && p.amount.to_string() == "7630.00"));
    assert!(run.prices.iter().any(|p| p.code == "10005" && p.code_type == "CPT"));
    assert!(run.prices.iter().any(|p| p.code_type == "HCPCS" && p.code.starts_with(|c: char| c.is_ascii_alphabetic())));
    // The caller names the hospital with the scope.
    let named = load_with(&Path::new(DATA).join(file), Some("hospital:SBUH"));
    assert!(named.prices.iter().all(|p| p.scope == "hospital:SBUH"));
    assert_eq!(named.prices.len(), run.prices.len());
}

// ---------------------------------------------------------------------------------------------
// Streaming: the loader consumes its input as it goes.

/// Generates a file on the fly: a header, then `rows` fixed-width rows.
struct Generated {
    header: Vec<u8>,
    row: fn(usize, &mut Vec<u8>),
    rows: usize,
    footer: &'static [u8],
    next: usize,
    buf: Vec<u8>,
    pos: usize,
}

impl Generated {
    fn new(header: Vec<u8>, row: fn(usize, &mut Vec<u8>), rows: usize, footer: &'static [u8]) -> Self {
        Generated { buf: header.clone(), header, row, rows, footer, next: 0, pos: 0 }
    }
    fn row_len(&self) -> u64 {
        let mut v = Vec::new();
        (self.row)(0, &mut v);
        v.len() as u64
    }
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            if self.next < self.rows {
                (self.row)(self.next, &mut self.buf);
                self.next += 1;
            } else if self.next == self.rows {
                self.buf.extend_from_slice(self.footer);
                self.next += 1;
            } else {
                return Ok(0);
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Counts the bytes the loader has pulled from the input.
struct Counting<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// Loads a generated file of `rows` rows whose row r has the code "R<r>" and checks that when
/// the price of row r comes out, the loader has read at most 1 MiB past the end of row r.
fn assert_streams(name: &str, g: Generated) {
    const SLACK: u64 = 1 << 20;
    let rows = g.rows as u64;
    let header = g.header.len() as u64;
    let row_len = g.row_len();
    let total = header + rows * row_len;
    assert!(total > 20 * SLACK, "the generated file is {total} bytes");
    let read = Rc::new(Cell::new(0u64));
    let mut input = BufReader::new(Counting { inner: g, read: read.clone() });
    let mut prices = 0u64;
    let mut max_ahead = 0u64;
    let mut tally = Tally::default();
    let ctx = Ctx { source_file: name.into(), ..Default::default() };
    mrf::load(
        &ctx,
        &mut input,
        &mut |i| {
            let Item::Price(p) = i else { return };
            let r: u64 = p.code[1..].parse().unwrap();
            let row_end = header + (r + 1) * row_len;
            let ahead = read.get().saturating_sub(row_end);
            max_ahead = max_ahead.max(ahead);
            assert!(
                ahead <= SLACK,
                "{name}: row {r}'s price came out after reading {} bytes, {ahead} past the row",
                read.get()
            );
            prices += 1;
        },
        &mut tally,
    )
    .unwrap();
    assert_eq!(prices, rows, "{:?}", tally.rejects.first());
    assert_eq!(tally.counts["items"], rows);
    assert!(read.get() >= total);
    assert!(max_ahead < SLACK);
}

#[test]
fn a_200k_row_tall_csv_streams_in_bounded_memory() {
    let header = format!(
        "hospital_name,last_updated_on,version,location_name,hospital_address,license_number|NY,type_2_npi,\"{}\",attester_name\n\
         Big Hospital,2026-01-01,3.0.0,Main,1 Main St,1,1234567890,true,Ann Smith\n\
         description,code|1,code|1|type,setting,drug_unit_of_measurement,drug_type_of_measurement,standard_charge|gross,\
         standard_charge|discounted_cash,payer_name,plan_name,modifiers,standard_charge|negotiated_dollar,\
         standard_charge|negotiated_percentage,standard_charge|negotiated_algorithm,median_amount,10th_percentile,\
         90th_percentile,count,standard_charge|min,standard_charge|max,standard_charge|methodology,additional_generic_notes\n",
        ATTESTATION
    );
    // One gross charge per row, ~130 bytes a row: ~26 MB.
    fn row(r: usize, out: &mut Vec<u8>) {
        use std::io::Write;
        writeln!(out, "Generated item {r:07} with a description long enough to look like a real chargemaster line,R{r:07},LOCAL,outpatient,,,{}.25,,,,,,,,,,,,,,,", 100 + r % 900).unwrap();
    }
    assert_streams("big.csv", Generated::new(header.into_bytes(), row, 200_000, b""));
}

#[test]
fn a_200k_item_json_streams_in_bounded_memory() {
    let header = format!(
        "{{\"hospital_name\": \"Big Hospital\", \"last_updated_on\": \"2026-01-01\", \"version\": \"3.0.0\", \
         \"location_name\": [\"Main\"], \"hospital_address\": [\"1 Main St\"], \"type_2_npi\": [\"1234567890\"], \
         \"license_information\": {{\"state\": \"NY\"}}, \
         \"attestation\": {{\"attestation\": {ATTESTATION:?}, \"confirm_attestation\": true, \"attester_name\": \"Ann\"}}, \
         \"standard_charge_information\": [\n"
    );
    fn row(r: usize, out: &mut Vec<u8>) {
        use std::io::Write;
        let sep = if r == 0 { ' ' } else { ',' };
        writeln!(out, "{sep}{{\"description\": \"Generated item {r:07}\", \"code_information\": [{{\"code\": \"R{r:07}\", \"type\": \"LOCAL\"}}], \"standard_charges\": [{{\"setting\": \"outpatient\", \"gross_charge\": {}.25}}]}}", 100 + r % 900).unwrap();
    }
    assert_streams("big.json", Generated::new(header.into_bytes(), row, 200_000, b"]}\n"));
}

const ATTESTATION: &str = "To the best of its knowledge and belief, this hospital has included all applicable standard charge information in accordance with the requirements of 45 CFR 180.50, and the information encoded is true, accurate, and complete as of the date in the file. This hospital has included all payer-specific negotiated charges in dollars that can be expressed as a dollar amount. For payer-specific negotiated charges that cannot be expressed as a dollar amount in the machine-readable file or not knowable in advance, the hospital attests that the payer-specific negotiated charge is based on a contractual algorithm, percentage or formula that precludes the provision of a dollar amount and has provided all necessary information available to the hospital for the public to be able to derive the dollar amount, including, but not limited to, the specific fee schedule or components referenced in such percentage, algorithm or formula.";
