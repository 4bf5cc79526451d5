//! Every file under shared/data/code-sets and shared/data/cms-tic with what loading it gives
//! (records produced, counts), what rejects it and why, or why it is not a data file; spot values
//! per source; and which `sniff` recognises each file.
//!
//! How the expected numbers were obtained, independently of the loaders (python3 over the files):
//! * CLFS: `csv.reader` rows after the header: 2,006 codes, none with a zero rate.
//! * OPPS: `csv.reader` rows after the header: 19,059 codes, 7,336 with a PaymentRate.
//! * HCPCS CMS 2019 excerpt: lines of 320 characters (Latin-1, CRLF): 2,992 records, by record id
//!   (`line[10]`) 1,672 procedures (3), 794 continuations (4), 360 modifiers (7), 166 (8).
//! * HCPCS Tuva 2022: `csv.reader` (utf-8-sig) 7,501 rows: recid 3 = 7,125, 7 = 375, 4 = 1.
//! * PTP: `awk -F'\t' 'NR>6'` = 46 rows; modifier indicator ($6) 0: 7, 1: 33, 9: 6; deletion
//!   date ($5) `*`: 5, a date: 41.
//! * MUE CSV: `csv.reader` rows after the header: 44 codes (30 MAI 2, 14 MAI 3). The data
//!   README and SOURCES.md say 45; the file has 44 (`grep -cE '^[0-9A-Z]{5},'` = 44).
//! * MUE JSON: `len(json.load(f))` = 9,637, every entry `{adjudicationType: date_of_service, maxUnits: int}`.
//! * GPCI: rows whose MAC cell is digits: 109, 109 distinct MAC+locality.
//! * PFS RVU: 18,010 code rows (plus a final DOS end-of-file byte row); status A/R/T: 9,962; with
//!   a non-facility amount (NA indicator blank and work+PE+MP > 0) 5,014, with a facility amount
//!   7,081, with either 9,028; prices = (5,014 + 7,081) × 109 = 1,318,355.
//! * TiC: `json.load` each example; per `negotiated_prices[]` of a dollar type, max(1, number of
//!   `billing_code_modifier`s) records; per `allowed_amounts[].payments[]` likewise; percentage
//!   prices counted apart; table of contents: sum of `len(in_network_files)` and entries with an
//!   `allowed_amount_file`.
use billstream_connectors::cms::{asp, clfs, hcpcs, ncci, opps, pfs, tic};
use billstream_connectors::feed::{Ctx, Item, LoadError, Loader, Tally};
use rust_decimal::Decimal;
use schemas::{RefEdit, RefPrice};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::str::FromStr;

const CODE_SETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/code-sets");
const TIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/cms-tic");

/// What a file yields.
enum Outcome {
    /// Loads: records produced (none rejected), and some counts of the tally.
    Loads(Loader, u64, &'static [(&'static str, u64)]),
    /// The loader rejects the whole file with a reason containing the text.
    Rejected(Loader, &'static str),
    /// The GPCI table: `GpciTable::read` with this many localities.
    Gpci(usize),
    /// The PFS RVU file: see `pfs_rvu_full_file` and `pfs_rvu_spot_values_manhattan`.
    Rvu,
    /// Not loaded by ingest: why.
    NotData(&'static str),
}
use Outcome::*;

const CODE_LIST: &str = "code list, not loaded by ingest";

const CODE_SET_FILES: &[(&str, Outcome)] = &[
    ("SOURCES.md", NotData("provenance")),
    // Medicare Part B drug payment limits; counts checked with Python's csv module: rows under
    // the header with a code, those with a numeric limit, and A9606 priced "N/A".
    (
        "asp/ASP_Payment_Limit_2026-01_121725.cpt-descriptions-redacted.csv",
        Loads(asp::load, 876, &[("codes", 877), ("prices", 876), ("unpriced", 1)]),
    ),
    (
        "asp/ASP_Pricing_File_2025-01_121924.cpt-descriptions-redacted.csv",
        Loads(asp::load, 876, &[("codes", 877), ("prices", 876), ("unpriced", 1)]),
    ),
    (
        "asp/ASP_Pricing_File_2025-04_032725.cpt-descriptions-redacted.csv",
        Loads(asp::load, 941, &[("codes", 942), ("prices", 941), ("unpriced", 1)]),
    ),
    (
        "asp/ASP_Pricing_File_2025-07_062325.cpt-descriptions-redacted.csv",
        Loads(asp::load, 969, &[("codes", 970), ("prices", 969), ("unpriced", 1)]),
    ),
    (
        "asp/ASP_Pricing_File_2025-10_091725.cpt-descriptions-redacted.csv",
        Loads(asp::load, 1011, &[("codes", 1012), ("prices", 1011), ("unpriced", 1)]),
    ),
    ("clfs/hbc_clfs_26CLABQ2_code_rate.csv", Loads(clfs::load, 2006, &[("codes", 2006), ("prices", 2006)])),
    (
        "hcpcs-level2/cms-2019-official/HCPC2019_CONTR_ANWEB.first3000lines.txt",
        Loads(hcpcs::load, 1672, &[("codes", 1672), ("modifiers", 360)]),
    ),
    ("hcpcs-level2/cms-2019-official/HCPC2019_README.txt", Rejected(hcpcs::load, "not a HCPCS Level II file")),
    ("hcpcs-level2/cms-2019-official/HCPCS2019_recordlayout.txt", Rejected(hcpcs::load, "not a HCPCS Level II file")),
    ("hcpcs-level2/tuva_hcpcs_level_2_2022.csv", Loads(hcpcs::load, 7125, &[("codes", 7125), ("modifiers", 375)])),
    ("ms-drg/tuva_ms_drg.csv", NotData(CODE_LIST)),
    (
        "ncci-mue/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv",
        Loads(ncci::load_mue_csv, 44, &[("codes", 44)]),
    ),
    ("ncci-mue/hbc_mue_practitioner_2026Q2_MAI3only.json", Loads(ncci::load_mue_json, 9637, &[("codes", 9637)])),
    ("ncci-ptp/ccipra-v322r0-f1.excerpt-subset.txt", Loads(ncci::load_ptp, 46, &[("edits", 46), ("deleted", 41)])),
    (
        "opps-addendum-b/opps_addendum_b_2026-04_code_si_rate.csv",
        Loads(opps::load, 7336, &[("codes", 19059), ("prices", 7336), ("unpriced", 11723)]),
    ),
    ("opps-addendum-b/status-indicators.csv", Rejected(opps::load, "not an OPPS Addendum B file")),
    ("pfs-gpci/GPCI2026.csv", Gpci(109)),
    ("pfs-rvu/PPRRVU2025_Oct.descriptions-redacted.csv", Rvu),
    ("pfs-rvu/PPRRVU23_JAN.descriptions-redacted.csv", Rvu),
    ("place-of-service/tuva_place_of_service_codes.csv", NotData(CODE_LIST)),
    ("revenue-codes/tuva_revenue_code.csv", NotData(CODE_LIST)),
    ("x12-codelists/imsweb_x12_codes.xml", NotData(CODE_LIST)),
];

const TOC: &str = "table of contents: lists 3 in-network files and 2 allowed-amount files, load those";
const SCHEMA: &str = "a JSON Schema";

const TIC_FILES: &[(&str, Outcome)] = &[
    ("SOURCES.md", NotData("provenance")),
    ("v1.6.2/examples/allowed-amounts/allowed-amounts-multiple-plan-empty-sample.json", Loads(tic::load, 0, &[])),
    (
        "v1.6.2/examples/allowed-amounts/allowed-amounts-multiple-plan-sample.json",
        Loads(tic::load, 1, &[("payments", 1)]),
    ),
    ("v1.6.2/examples/allowed-amounts/allowed-amounts-single-plan-empty-sample.json", Loads(tic::load, 0, &[])),
    (
        "v1.6.2/examples/allowed-amounts/allowed-amounts-single-plan-sample.json",
        Loads(tic::load, 1, &[("payments", 1)]),
    ),
    ("v1.6.2/examples/allowed-amounts/multiplan-empty-example.json", Loads(tic::load, 0, &[])),
    ("v1.6.2/examples/in-network-rates/in-network-rates-bundle-sample.xml", Rejected(tic::load, "XML")),
    (
        "v1.6.2/examples/in-network-rates/in-network-rates-bundle-single-plan-sample.json",
        Loads(tic::load, 2, &[("in_network_items", 1)]),
    ),
    ("v1.6.2/examples/in-network-rates/in-network-rates-capitation-sample.xml", Rejected(tic::load, "XML")),
    ("v1.6.2/examples/in-network-rates/in-network-rates-capitation-single-plan-sample.json", Loads(tic::load, 2, &[])),
    ("v1.6.2/examples/in-network-rates/in-network-rates-fee-for-service-sample.xml", Rejected(tic::load, "XML")),
    (
        "v1.6.2/examples/in-network-rates/in-network-rates-fee-for-service-single-plan-sample.json",
        Loads(tic::load, 5, &[("in_network_items", 2)]),
    ),
    (
        "v1.6.2/examples/in-network-rates/in-network-rates-multiple-plans-sample.json",
        Loads(tic::load, 6, &[("negotiated_prices", 6)]),
    ),
    ("v1.6.2/examples/in-network-rates/in-network-rates-no-npi.json", Loads(tic::load, 1, &[])),
    ("v1.6.2/examples/provider-reference/provider-reference.json", Rejected(tic::load, "provider-reference file")),
    ("v1.6.2/examples/table-of-contents/table-of-contents-sample.json", Rejected(tic::load, TOC)),
    ("v1.6.2/schemas/in-network-rates/in-network-rates.json", Rejected(tic::load, SCHEMA)),
    ("v1.6.2/schemas/provider-reference/README.md", NotData("schema documentation")),
    ("v1.6.2/schemas/provider-reference/provider-reference.json", Rejected(tic::load, SCHEMA)),
    ("v2.2/README.md", NotData("schema documentation")),
    ("v2.2/VERSION.md", NotData("schema version")),
    ("v2.2/examples/allowed-amounts/allowed-amounts-multiple-plan-sample.json", Loads(tic::load, 1, &[])),
    ("v2.2/examples/allowed-amounts/allowed-amounts-single-plan-sample.json", Loads(tic::load, 1, &[])),
    (
        "v2.2/examples/in-network-rates/in-network-rates-all-negotiated-types-sample.json",
        Loads(tic::load, 6, &[("negotiated_prices", 8), ("percentage_rates", 2), ("provider_references", 2)]),
    ),
    ("v2.2/examples/in-network-rates/in-network-rates-bundle-sample.xml", Rejected(tic::load, "XML")),
    ("v2.2/examples/in-network-rates/in-network-rates-bundle-single-plan-sample.json", Loads(tic::load, 2, &[])),
    ("v2.2/examples/in-network-rates/in-network-rates-capitation-sample.xml", Rejected(tic::load, "XML")),
    ("v2.2/examples/in-network-rates/in-network-rates-capitation-single-plan-sample.json", Loads(tic::load, 2, &[])),
    ("v2.2/examples/in-network-rates/in-network-rates-fee-for-service-sample.xml", Rejected(tic::load, "XML")),
    (
        "v2.2/examples/in-network-rates/in-network-rates-fee-for-service-single-plan-sample.json",
        Loads(tic::load, 5, &[]),
    ),
    ("v2.2/examples/in-network-rates/in-network-rates-multiple-plans-sample.json", Loads(tic::load, 6, &[])),
    ("v2.2/examples/in-network-rates/in-network-rates-no-npi.json", Loads(tic::load, 1, &[])),
    ("v2.2/examples/table-of-contents/table-of-contents-sample.json", Rejected(tic::load, TOC)),
    ("v2.2/schemas/allowed-amounts/README.md", NotData("schema documentation")),
    ("v2.2/schemas/allowed-amounts/allowed-amounts.json", Rejected(tic::load, SCHEMA)),
    ("v2.2/schemas/allowed-amounts/allowed-amounts.xml", Rejected(tic::load, "XML")),
    ("v2.2/schemas/in-network-rates/README.md", NotData("schema documentation")),
    ("v2.2/schemas/in-network-rates/in-network-rates.json", Rejected(tic::load, SCHEMA)),
    ("v2.2/schemas/in-network-rates/in-network-rates.xml", Rejected(tic::load, "XML")),
    ("v2.2/schemas/prescription-drugs/README.md", NotData("schema documentation")),
    ("v2.2/schemas/table-of-contents/README.md", NotData("schema documentation")),
    ("v2.2/schemas/table-of-contents/table-of-contents.json", Rejected(tic::load, SCHEMA)),
    ("v2.2/schemas/table-of-contents/table-of-contents.xml", Rejected(tic::load, "XML")),
];

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Runs `loader` over the file, collecting what it produces.
fn run(loader: Loader, path: &Path, ctx: Ctx) -> (Result<(), LoadError>, Vec<Item>, Tally) {
    let ctx = Ctx { source_file: file_name(path), ..ctx };
    let mut input = BufReader::new(File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    let mut got = vec![];
    let mut tally = Tally::default();
    let r = loader(&ctx, &mut input, &mut |i| got.push(i), &mut tally);
    (r, got, tally)
}

fn prices(items: Vec<Item>) -> Vec<RefPrice> {
    items
        .into_iter()
        .map(|i| match i {
            Item::Price(p) => p,
            other => panic!("not a price: {other:?}"),
        })
        .collect()
}

fn edits(items: Vec<Item>) -> Vec<RefEdit> {
    items
        .into_iter()
        .map(|i| match i {
            Item::Edit(e) => e,
            other => panic!("not an edit: {other:?}"),
        })
        .collect()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn gpci() -> pfs::GpciTable {
    let path = Path::new(CODE_SETS).join("pfs-gpci/GPCI2026.csv");
    pfs::GpciTable::read(&mut BufReader::new(File::open(path).unwrap())).unwrap()
}

/// Every file in `root`, relative, `/`-separated.
fn files_under(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().components();
                out.insert(rel.map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/"));
            }
        }
    }
    out
}

#[test]
fn every_file_is_listed() {
    for (root, list) in [(CODE_SETS, CODE_SET_FILES), (TIC, TIC_FILES)] {
        let listed: BTreeSet<String> = list.iter().map(|(f, _)| f.to_string()).collect();
        assert_eq!(listed.len(), list.len(), "{root}: a file is listed twice");
        let found = files_under(Path::new(root));
        let unlisted: Vec<_> = found.difference(&listed).collect();
        let missing: Vec<_> = listed.difference(&found).collect();
        assert!(
            unlisted.is_empty() && missing.is_empty(),
            "{root}: not listed {unlisted:?}, listed but absent {missing:?}"
        );
    }
}

#[test]
fn each_file_has_its_listed_outcome() {
    for (root, list) in [(CODE_SETS, CODE_SET_FILES), (TIC, TIC_FILES)] {
        for (rel, outcome) in list {
            let path = Path::new(root).join(rel);
            match outcome {
                Loads(loader, produced, counts) => {
                    let (r, items, tally) = run(*loader, &path, Ctx::default());
                    r.unwrap_or_else(|e| panic!("{rel}: {e}"));
                    assert_eq!((tally.produced, items.len() as u64), (*produced, *produced), "{rel}");
                    assert_eq!(tally.rejected, 0, "{rel}: {:?}", tally.rejects);
                    for (k, v) in *counts {
                        assert_eq!(tally.counts.get(*k), Some(v), "{rel}: count {k} in {:?}", tally.counts);
                    }
                }
                Rejected(loader, reason) => {
                    let (r, items, _) = run(*loader, &path, Ctx::default());
                    let err = r.err().unwrap_or_else(|| panic!("{rel}: loaded"));
                    assert!(err.to_string().contains(reason), "{rel}: {err}");
                    assert!(!err.is_retryable(), "{rel}");
                    // Whatever was produced before the rejection must not be trusted; TiC holds
                    // nothing back, but these files have no rates anyway.
                    assert!(items.is_empty(), "{rel}");
                }
                Gpci(n) => assert_eq!(gpci().localities.len(), *n, "{rel}"),
                NotData(why) => assert!(!why.is_empty(), "{rel}"),
                Rvu => {}
            }
        }
    }
}

/// Which sniffers recognise each file from its name and first 8 KB.
#[test]
fn sniffers_recognise_their_files() {
    type Sniff = fn(&str, &[u8]) -> bool;
    let sniffers: &[(&str, Sniff)] = &[
        ("asp", asp::sniff),
        ("clfs", clfs::sniff),
        ("hcpcs", hcpcs::sniff),
        ("ncci_ptp", ncci::sniff_ptp),
        ("ncci_mue_csv", ncci::sniff_mue_csv),
        ("ncci_mue_json", ncci::sniff_mue_json),
        ("opps", opps::sniff),
        ("pfs", pfs::sniff),
        ("pfs_gpci", pfs::sniff_gpci),
        ("tic", tic::sniff),
    ];
    let expected = |rel: &str, outcome: &Outcome| -> &'static str {
        match outcome {
            Gpci(_) => "pfs_gpci",
            Rvu => "pfs",
            NotData(_) => "",
            // Documentation in the HCPCS release and OPPS definitions: no loader claims them.
            Rejected(..) if rel.starts_with("hcpcs-level2") || rel.starts_with("opps-addendum-b") => "",
            // TiC XML and provider references are claimed, so the loader can say why it refuses.
            Rejected(..) if rel.ends_with(".xml") && rel.contains("/examples/") => "tic",
            Rejected(..) if rel.contains("provider-reference.json") && rel.contains("/examples/") => "tic",
            Rejected(_, reason) if *reason == TOC => "tic",
            Rejected(..) => "",
            Loads(..) if rel.starts_with("asp/") => "asp",
            Loads(..) if rel.starts_with("clfs/") => "clfs",
            Loads(..) if rel.starts_with("hcpcs-level2/") => "hcpcs",
            Loads(..) if rel.starts_with("ncci-ptp/") => "ncci_ptp",
            Loads(..) if rel.ends_with(".csv") && rel.starts_with("ncci-mue/") => "ncci_mue_csv",
            Loads(..) if rel.starts_with("ncci-mue/") => "ncci_mue_json",
            Loads(..) if rel.starts_with("opps-addendum-b/") => "opps",
            Loads(..) => "tic",
        }
    };
    for (root, list) in [(CODE_SETS, CODE_SET_FILES), (TIC, TIC_FILES)] {
        for (rel, outcome) in list {
            let path = Path::new(root).join(rel);
            let mut head = Vec::new();
            File::open(&path).unwrap().take(8192).read_to_end(&mut head).unwrap();
            let name = file_name(&path);
            let fired: Vec<&str> = sniffers.iter().filter(|(_, s)| s(&name, &head)).map(|(n, _)| *n).collect();
            let want = expected(rel, outcome);
            let want: Vec<&str> = if want.is_empty() { vec![] } else { vec![want] };
            assert_eq!(fired, want, "{rel}");
        }
    }
}

#[test]
fn clfs_spot_values() {
    let path = Path::new(CODE_SETS).join("clfs/hbc_clfs_26CLABQ2_code_rate.csv");
    let (r, items, _) = run(clfs::load, &path, Ctx::default());
    r.unwrap();
    let got = prices(items);
    for (code, rate) in [("85025", "7.77"), ("80053", "10.56"), ("36415", "9.34")] {
        let p = got.iter().find(|p| p.code == code).unwrap();
        assert_eq!(p.amount, dec(rate), "{code}");
        assert_eq!((p.source.as_str(), p.scope.as_str(), p.amount_kind.as_str()), ("CLFS", "national", "allowed"));
        assert_eq!((p.code_type.as_str(), p.effective_from.as_str()), ("CPT", "2026-04-01"));
    }
    // `0001U,720.0`: a PLA code (CPT shape).
    assert_eq!(got.iter().find(|p| p.code == "0001U").map(|p| p.amount), Some(dec("720")));
}

#[test]
fn opps_spot_values() {
    let path = Path::new(CODE_SETS).join("opps-addendum-b/opps_addendum_b_2026-04_code_si_rate.csv");
    let (r, items, _) = run(opps::load, &path, Ctx::default());
    r.unwrap();
    let got = prices(items);
    let find = |c: &str| got.iter().find(|p| p.code == c);
    let g0463 = find("G0463").unwrap();
    assert_eq!((g0463.amount, g0463.code_type.as_str()), (dec("136.02"), "HCPCS"));
    assert_eq!((g0463.setting.as_deref(), g0463.effective_from.as_str()), (Some("outpatient"), "2026-04-01"));
    assert_eq!(find("99284").unwrap().amount, dec("426.30"));
    // `G0465\u{a0}` is priced and trimmed; `A4341\u{a0}` (SI N) has no rate.
    assert_eq!(find("G0465").unwrap().amount, dec("2107.97"));
    assert!(find("A4341").is_none());
    assert!(got.iter().all(|p| p.code.len() == 5));
}

#[test]
fn pfs_rvu_full_file() {
    let gpci = gpci();
    // The file's own note: the 2026 work GPCIs reflect the 1.0 floor, and it is the only work column.
    assert_eq!(gpci.work_column, "2026 PW GPCI (with 1.0 Floor)***");
    let path = Path::new(CODE_SETS).join("pfs-rvu/PPRRVU23_JAN.descriptions-redacted.csv");
    let ctx = Ctx { source_file: file_name(&path), ..Ctx::default() };
    let mut input = BufReader::new(File::open(&path).unwrap());
    let mut tally = Tally::default();
    let mut n = 0u64;
    let mut scopes = BTreeSet::new();
    pfs::load_rvu(
        &ctx,
        &gpci,
        &mut input,
        &mut |i| {
            n += 1;
            if let Item::Price(p) = i {
                scopes.insert(p.scope);
            }
        },
        &mut tally,
    )
    .unwrap();
    assert_eq!(tally.rejected, 0, "{:?}", tally.rejects);
    assert_eq!((n, tally.produced, tally.counts["prices"]), (1_318_355, 1_318_355, 1_318_355));
    assert_eq!(tally.counts["codes"], 18_010);
    assert_eq!(tally.counts["codes_priced"], 9_028);
    assert_eq!(tally.counts["codes_not_payable"], 18_010 - 9_962);
    assert_eq!(tally.counts["localities"], 109);
    assert_eq!(scopes.len(), 109);
    assert!(scopes.contains("locality:01112-05") && scopes.contains("locality:13202-01"));
    // 2026 GPCIs with 2023 RVUs: loaded, with a warning.
    assert!(
        tally.warnings.iter().any(|w| w.reason.contains("2026") && w.reason.contains("2023")),
        "{:?}",
        tally.warnings
    );
}

/// Manhattan (MAC 13202, locality 01): GPCI2026.csv row `13202,NY,01,MANHATTAN,1.064,1.162,1.586`
/// (work with the 1.0 floor, PE, MP); CF 33.8872 from every RVU row. Rows of PPRRVU23_JAN
/// (work RVU, non-facility PE, NA, facility PE, NA, MP):
///
/// | code     | work | PE nf | NA | PE f | NA | MP   |
/// |----------|------|-------|----|------|----|------|
/// | 99213    | 1.30 | 1.28  |    | 0.55 |    | 0.10 |
/// | 99214    | 1.92 | 1.73  |    | 0.82 |    | 0.14 |
/// | 71046    | 0.22 | 0.77  |    | 0.77 | NA | 0.02 |
/// | 71046-26 | 0.22 | 0.08  |    | 0.08 |    | 0.01 |
/// | 71046-TC | 0.00 | 0.69  |    | 0.69 | NA | 0.01 |
/// | 88305    | 0.75 | 1.35  |    | 1.35 | NA | 0.02 |
/// | 88305-26 | 0.75 | 0.32  |    | 0.32 |    | 0.01 |
/// | 88305-TC | 0.00 | 1.03  |    | 1.03 | NA | 0.01 |
///
/// * 99213 nf: 1.30×1.064 + 1.28×1.162 + 0.10×1.586 = 1.38320 + 1.48736 + 0.15860 = 3.02916;
///   × 33.8872 = 102.6497… → 102.65. f: 1.38320 + 0.55×1.162 (0.63910) + 0.15860 = 2.18090;
///   × 33.8872 = 73.9045… → 73.90.
/// * 99214 nf: 2.04288 + 2.01026 + 0.22204 = 4.27518 × 33.8872 = 144.8738… → 144.87.
///   f: 2.04288 + 0.95284 + 0.22204 = 3.21776 × 33.8872 = 109.0408… → 109.04.
/// * 71046 nf: 0.23408 + 0.89474 + 0.03172 = 1.16054 × 33.8872 = 39.3274… → 39.33; f: NA.
/// * 71046-26: 0.23408 + 0.09296 + 0.01586 = 0.34290 × 33.8872 = 11.6199… → 11.62, both kinds.
/// * 71046-TC nf: 0 + 0.80178 + 0.01586 = 0.81764 × 33.8872 = 27.7075… → 27.71; f: NA.
/// * 88305 nf: 0.79800 + 1.56870 + 0.03172 = 2.39842 × 33.8872 = 81.2757… → 81.28; f: NA.
/// * 88305-26: 0.79800 + 0.37184 + 0.01586 = 1.18570 × 33.8872 = 40.1800… → 40.18, both kinds.
/// * 88305-TC nf: 0 + 1.19686 + 0.01586 = 1.21272 × 33.8872 = 41.0956… → 41.10; f: NA.
#[test]
fn pfs_rvu_spot_values_manhattan() {
    let gpci = gpci();
    let ny = gpci.localities.iter().find(|l| l.id() == "13202-01").unwrap();
    assert_eq!((ny.name.as_str(), ny.work, ny.pe, ny.mp), ("MANHATTAN", dec("1.064"), dec("1.162"), dec("1.586")));
    let path = Path::new(CODE_SETS).join("pfs-rvu/PPRRVU23_JAN.descriptions-redacted.csv");
    let ctx = Ctx { localities: vec!["1320201".into()], ..Ctx::default() };
    let mut input = BufReader::new(File::open(&path).unwrap());
    let mut got = vec![];
    let mut tally = Tally::default();
    let ctx = Ctx { source_file: file_name(&path), ..ctx };
    pfs::load_rvu(&ctx, &gpci, &mut input, &mut |i| got.push(i), &mut tally).unwrap();
    let got = prices(got);
    // One locality: 5,014 non-facility + 7,081 facility amounts.
    assert_eq!(got.len(), 5_014 + 7_081);
    let amount = |code: &str, modifier: Option<&str>, kind: &str| {
        got.iter()
            .find(|p| p.code == code && p.modifier.as_deref() == modifier && p.amount_kind == kind)
            .map(|p| p.amount.to_string())
    };
    let nf = "allowed_nonfacility";
    let f = "allowed_facility";
    let s = |v: &str| Some(v.to_string());
    assert_eq!(amount("99213", None, nf), s("102.65"));
    assert_eq!(amount("99213", None, f), s("73.90"));
    assert_eq!(amount("99214", None, nf), s("144.87"));
    assert_eq!(amount("99214", None, f), s("109.04"));
    assert_eq!(amount("71046", None, nf), s("39.33"));
    assert_eq!(amount("71046", None, f), None);
    assert_eq!(amount("71046", Some("26"), nf), s("11.62"));
    assert_eq!(amount("71046", Some("26"), f), s("11.62"));
    assert_eq!(amount("71046", Some("TC"), nf), s("27.71"));
    assert_eq!(amount("71046", Some("TC"), f), None);
    assert_eq!(amount("88305", None, nf), s("81.28"));
    assert_eq!(amount("88305", None, f), None);
    assert_eq!(amount("88305", Some("26"), nf), s("40.18"));
    assert_eq!(amount("88305", Some("26"), f), s("40.18"));
    assert_eq!(amount("88305", Some("TC"), nf), s("41.10"));
    assert_eq!(amount("88305", Some("TC"), f), None);
    let p = got.iter().find(|p| p.code == "99213").unwrap();
    assert_eq!((p.source.as_str(), p.code_type.as_str(), p.scope.as_str()), ("PFS", "CPT", "locality:13202-01"));
    assert_eq!((p.effective_from.as_str(), p.effective_to.as_deref()), ("2023-01-01", None));
    // G0463 has status X (statutory exclusion): not priced under the PFS.
    assert!(got.iter().all(|p| p.code != "G0463"));
}

#[test]
fn ptp_rows() {
    let path = Path::new(CODE_SETS).join("ncci-ptp/ccipra-v322r0-f1.excerpt-subset.txt");
    let (r, items, _) = run(ncci::load_ptp, &path, Ctx::default());
    r.unwrap();
    let got = edits(items);
    let by_indicator = |m: &str| got.iter().filter(|e| e.modifier_indicator.as_deref() == Some(m)).count();
    assert_eq!((by_indicator("0"), by_indicator("1"), by_indicator("9")), (7, 33, 6));
    let pair = |a: &str, b: &str| got.iter().find(|e| e.code == a && e.code2.as_deref() == Some(b)).unwrap();
    // `0001A 90473 _ 20220101 20220101 9`: created and deleted the same day.
    let e = pair("0001A", "90473");
    assert_eq!((e.effective_from.as_str(), e.effective_to.as_deref()), ("2022-01-01", Some("2022-01-01")));
    assert_eq!((e.kind.as_str(), e.modifier_indicator.as_deref()), ("ptp", Some("9")));
    // `0001A 36591 _ 20220101 20231231 0`.
    let e = pair("0001A", "36591");
    assert_eq!((e.effective_to.as_deref(), e.modifier_indicator.as_deref()), (Some("2023-12-31"), Some("0")));
    // `0001U 80503 _ 20220101 * 1`: still in effect.
    let e = pair("0001U", "80503");
    assert_eq!((e.effective_from.as_str(), e.effective_to.as_deref()), ("2022-01-01", None));
    assert_eq!(got.iter().filter(|e| e.effective_to.is_none()).count(), 5);
}

#[test]
fn mue_values() {
    let path = Path::new(CODE_SETS).join("ncci-mue/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv");
    let (r, items, _) = run(ncci::load_mue_csv, &path, Ctx::default());
    r.unwrap();
    let got = edits(items);
    let mai = |m: &str| got.iter().filter(|e| e.mue_adjudication.as_deref() == Some(m)).count();
    assert_eq!((mai("2 Date of Service Edit: Policy"), mai("3 Date of Service Edit: Clinical")), (30, 14));
    let e = got.iter().find(|e| e.code == "0009U").unwrap();
    assert_eq!((e.kind.as_str(), e.mue_limit, e.effective_from.as_str()), ("mue", Some(2), "2026-07-01"));

    let path = Path::new(CODE_SETS).join("ncci-mue/hbc_mue_practitioner_2026Q2_MAI3only.json");
    let (r, items, _) = run(ncci::load_mue_json, &path, Ctx::default());
    r.unwrap();
    let got = edits(items);
    let e = got.iter().find(|e| e.code == "0009U").unwrap();
    assert_eq!((e.mue_limit, e.effective_from.as_str()), (Some(2), "2026-04-01"));
    assert_eq!(e.mue_adjudication.as_deref(), Some("3 Date of Service Edit: Clinical"));
    assert_eq!(got.iter().find(|e| e.code == "V5364").and_then(|e| e.mue_limit), Some(0));
}

#[test]
fn hcpcs_codes() {
    let path = Path::new(CODE_SETS).join("hcpcs-level2/cms-2019-official/HCPC2019_CONTR_ANWEB.first3000lines.txt");
    let (r, items, _) = run(hcpcs::load, &path, Ctx::default());
    r.unwrap();
    let got = edits(items);
    let find = |c: &str| got.iter().find(|e| e.code == c).unwrap();
    // Positions 92-119, 269-276, 277-284, 285-292 of the A4466 record.
    let e = find("A4466");
    assert_eq!(e.description.as_deref(), Some("Elastic garment/covering"));
    assert_eq!((e.effective_from.as_str(), e.effective_to.as_deref()), ("2010-01-01", Some("2016-12-31")));
    let e = find("A0021");
    assert_eq!(
        (e.description.as_deref(), e.effective_from.as_str()),
        (Some("Outside state ambulance serv"), "1985-01-01")
    );
    assert_eq!(got.iter().filter(|e| e.effective_to.is_some()).count(), 104);
    assert!(got.iter().all(|e| e.kind == "code"));

    let path = Path::new(CODE_SETS).join("hcpcs-level2/tuva_hcpcs_level_2_2022.csv");
    let (r, items, _) = run(hcpcs::load, &path, Ctx::default());
    r.unwrap();
    let got = edits(items);
    let e = got.iter().find(|e| e.code == "G0463").unwrap();
    assert_eq!(
        (e.description.as_deref(), e.effective_from.as_str()),
        (Some("Hospital outpt clinic visit"), "2022-01-01")
    );
    // No CPT-shaped code in a Level II list, so no CPT descriptor could leak.
    assert!(got.iter().all(|e| e.code.as_bytes()[0].is_ascii_alphabetic()));
}

#[test]
fn tic_spot_values() {
    let dir = Path::new(TIC);
    let (r, items, _) = run(
        tic::load,
        &dir.join("v2.2/examples/in-network-rates/in-network-rates-all-negotiated-types-sample.json"),
        Ctx::default(),
    );
    r.unwrap();
    let got = prices(items);
    let p = got.iter().find(|p| p.code == "99214").unwrap();
    assert_eq!((p.amount, p.amount_kind.as_str(), p.code_type.as_str()), (dec("150"), "negotiated", "CPT"));
    assert_eq!((p.scope.as_str(), p.payer.as_deref()), ("payer:Comprehensive Health Insurance", Some("Plan D PPO")));
    assert_eq!((p.effective_from.as_str(), p.effective_to.as_deref()), ("2024-01-15", Some("2024-12-31")));
    assert_eq!(p.setting.as_deref(), Some("outpatient"));
    let icu = got.iter().find(|p| p.code == "0200").unwrap();
    assert_eq!(
        (icu.amount, icu.amount_kind.as_str(), icu.code_type.as_str()),
        (dec("5500"), "negotiated_per_diem", "RC")
    );
    // 97110 is only a percentage: not produced.
    assert!(got.iter().all(|p| p.code != "97110"));

    let (r, items, _) = run(
        tic::load,
        &dir.join("v1.6.2/examples/in-network-rates/in-network-rates-fee-for-service-single-plan-sample.json"),
        Ctx { scope: Some("payer:ACME".into()), ..Ctx::default() },
    );
    r.unwrap();
    let got = prices(items);
    let p = got.iter().find(|p| p.modifier.as_deref() == Some("AS")).unwrap();
    assert_eq!((p.code.as_str(), p.amount, p.scope.as_str()), ("27447", dec("123.45"), "payer:ACME"));
    assert_eq!((p.setting.as_deref(), p.effective_to.as_deref()), (None, Some("2022-01-01")));

    let (r, items, _) = run(
        tic::load,
        &dir.join("v1.6.2/examples/allowed-amounts/allowed-amounts-single-plan-sample.json"),
        Ctx::default(),
    );
    r.unwrap();
    let p = &prices(items)[0];
    assert_eq!((p.code.as_str(), p.modifier.as_deref(), p.amount), ("99214", Some("25"), dec("25")));
    assert_eq!(
        (p.amount_kind.as_str(), p.scope.as_str(), p.payer.as_deref()),
        ("allowed_oon", "payer:cms", Some("medicare"))
    );
    assert_eq!((p.effective_from.as_str(), p.effective_to.as_deref()), ("2020-08-27", None));
}
