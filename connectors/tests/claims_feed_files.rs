//! Every file under shared/data/claims-feeds through `csv_claims::load`, hand-made bad rows, and
//! the Billstream claim line CSV round trip.
//!
//! Expected numbers for medical_claim_seed.csv were computed with python3's csv module over the
//! file, independently of the loader:
//!
//! ```python
//! rows = list(csv.DictReader(open('medical_claim_seed.csv', newline='')))
//! prod = [r for r in rows if r['hcpcs_code'].strip()]          # 1926: 1575 professional + 351 institutional
//! len({r['claim_id'] for r in rows})                            # 1138
//! sum(1 for r in rows if r['claim_type'] == 'institutional' and not r['hcpcs_code'])   # 149
//! sum(Decimal(r['charge_amount']) for r in prod)                # 1753547.40
//! sum(Decimal(r['paid_amount']) for r in prod if r['paid_amount'])      # 115539.12 over 1667 lines
//! sum(Decimal(r['allowed_amount']) for r in prod if r['allowed_amount'])  # 96643.28 over 1575 lines
//! sum(int(r['service_unit_quantity'] or 1) for r in prod)       # 3201
//! # modifiers 2..5 beyond the first non-empty: 87; institutional bill types ending in 7: 17
//! ```
use billstream_connectors::csv_claims;
use billstream_connectors::feed::{Ctx, Item, LoadError, Tally};
use rust_decimal::Decimal;
use schemas::ClaimLine;
use std::collections::BTreeSet;
use std::io::{BufReader, Cursor};
use std::str::FromStr;

/// How much of a file format detection looks at (`ingest::HEAD_BYTES`, 16 KiB).
const HEAD_BYTES: usize = 16 * 1024;
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/claims-feeds");
const TUVA: &str = "tuva-synthetic-medicare-cclf/medical_claim_seed.csv";

/// Every file of the folder and what it is.
const FILES: &[(&str, &str)] = &[
    ("SOURCES.md", "documentation"),
    (TUVA, "Tuva medical_claim: 2075 rows, 1926 lines produced, 149 institutional rows without HCPCS, 1138 claims"),
];

fn load_reader(input: &mut dyn std::io::BufRead) -> (Result<(), LoadError>, Tally, Vec<ClaimLine>) {
    let mut tally = Tally::default();
    let mut lines = Vec::new();
    let ctx = Ctx { source_file: "feed.csv".into(), ..Default::default() };
    let result = csv_claims::load(
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

fn load_str(text: &str) -> (Result<(), LoadError>, Tally, Vec<ClaimLine>) {
    load_reader(&mut Cursor::new(text.as_bytes().to_vec()))
}

fn load_tuva() -> (Tally, Vec<ClaimLine>) {
    let mut input = BufReader::new(std::fs::File::open(format!("{ROOT}/{TUVA}")).unwrap());
    let (result, tally, lines) = load_reader(&mut input);
    result.unwrap();
    (tally, lines)
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
    let mut stack = vec![std::path::PathBuf::from(ROOT)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                on_disk.insert(p.strip_prefix(ROOT).unwrap().to_string_lossy().to_string());
            }
        }
    }
    let listed: BTreeSet<String> = FILES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn tuva_medical_claims_load() {
    let (tally, lines) = load_tuva();
    assert_eq!(tally.rejected, 0, "{:?}", tally.rejects);
    assert_eq!(count(&tally, "rows"), 2075);
    assert_eq!(tally.produced, 1575 + 351);
    assert_eq!(lines.len(), 1926);
    assert_eq!(count(&tally, "lines.professional"), 1575);
    assert_eq!(count(&tally, "lines.institutional"), 351);
    assert_eq!(count(&tally, "lines_without_hcpcs"), 149);
    assert_eq!(count(&tally, "claims"), 1138);
    assert_eq!(count(&tally, "modifiers_beyond_first"), 87);
    assert!(tally.warnings.is_empty());

    assert_eq!(lines.iter().map(|l| l.charge).sum::<Decimal>(), dec("1753547.40"));
    let paid: Vec<Decimal> = lines.iter().filter_map(|l| l.paid).collect();
    assert_eq!((paid.len(), paid.iter().sum::<Decimal>()), (1667, dec("115539.12")));
    let allowed: Vec<Decimal> = lines.iter().filter_map(|l| l.allowed).collect();
    assert_eq!((allowed.len(), allowed.iter().sum::<Decimal>()), (1575, dec("96643.28")));
    assert_eq!(lines.iter().map(|l| l.units as i64).sum::<i64>(), 3201);
    assert_eq!(lines.iter().filter(|l| l.frequency_code == "7").count(), 17);
    assert_eq!(lines.iter().filter(|l| l.frequency_code == "8").count(), 0);
    assert_eq!(lines.iter().filter(|l| l.place_of_service == "11").count(), 654);
    assert_eq!(lines.iter().filter(|l| l.place_of_service.is_empty()).count(), 351);
    assert!(lines.iter().all(|l| l.payer.as_deref() == Some("medicare") && l.patient_responsibility.is_none()));

    // File row 2 (the first data row): institutional, bill type 131, no line date.
    let first = &lines[0];
    let want = ClaimLine {
        claim_id: "1582931".into(),
        line_no: 9,
        frequency_code: "1".into(),
        provider_npi: "1003811290".into(), // facility_npi (no billing_npi)
        payer: Some("medicare".into()),
        place_of_service: String::new(),
        code: "75625".into(),
        modifier: Some("59".into()),
        service_date: "2017-12-14".into(), // claim_start_date
        units: 1,
        charge: dec("31505.00"),
        allowed: None,
        paid: None,
        patient_responsibility: None,
        carc: vec![],
        rarc: vec![],
    };
    assert_eq!(first, &want);
    // File row 35: bill type 137 (replacement).
    let replacement = lines.iter().find(|l| l.claim_id == "291769" && l.line_no == 5).unwrap();
    assert_eq!((replacement.frequency_code.as_str(), replacement.code.as_str()), ("7", "36415"));
    assert_eq!(replacement.charge, dec("14748.60"));
    assert_eq!(replacement.provider_npi, "1861435042");
}

/// A Tuva-shaped feed with the columns in another order and most of them absent.
const HEADER: &str = "claim_type,claim_id,claim_line_number,hcpcs_code,hcpcs_modifier_1,place_of_service_code,\
service_unit_quantity,charge_amount,claim_line_start_date,rendering_npi,paid_amount";

#[test]
fn bad_rows_are_rejected_with_row_column_and_reason() {
    let csv = format!(
        "{HEADER}\n\
         professional,A1,1,99213,25,11,1,125.00,2024-01-05,1234567893,80.00\n\
         professional,A1,2,99214,,11,1,12.x,2024-01-05,1234567893,\n\
         professional,A2,two,99213,,11,1,10,2024-01-05,1234567893,\n\
         professional,A3,1,99213,,11,1,10,2024-02-30,1234567893,\n\
         professional,A4,1,,,11,1,10,2024-01-05,1234567893,\n\
         professional,A5,1,99213,,9,2,10,2024-01-05,1234567893,\n\
         professional,A6,1,99213,,123,1,10,2024-01-05,1234567893,\n\
         professional,A7,1,99213,,11,0,10,2024-01-05,1234567893,\n\
         professional,A8,1,99213,,11\n\
         professional,A9,1,ABC,,11,1,10,2024-01-05,1234567893,\n\
         institutional,B1,1,,,,1,500.00,2024-01-05,1234567893,\n\
         professional,A10,1,99213,,11,1.5,10,2024-01-05,1234567893,\n\
         professional,A11,1,99213,,11,1,10,2024-01-05,1234567893,$5\n"
    );
    let (result, tally, lines) = load_str(&csv);
    result.unwrap();
    let rejects: Vec<(&str, &str)> = tally.rejects.iter().map(|r| (r.at.as_str(), r.reason.as_str())).collect();
    assert_eq!(
        rejects,
        [
            ("row 3, column charge_amount", r#""12.x" is not an amount"#),
            ("row 4, column claim_line_number", r#""two" is not a number"#),
            ("row 5, column claim_line_start_date", r#""2024-02-30" is not a date (YYYY-MM-DD)"#),
            ("row 6, column hcpcs_code", "empty: professional line needs a CPT/HCPCS code"),
            ("row 8, column place_of_service_code", r#""123" is not a 2-digit place of service code"#),
            ("row 9, column service_unit_quantity", "0 is not a positive number of units"),
            ("row 10", "6 fields, the header has 11"),
            ("row 11, column hcpcs_code", r#""ABC" is not a 5-character CPT/HCPCS code"#),
            ("row 13, column service_unit_quantity", r#""1.5" is not a whole number"#),
            ("row 14, column paid_amount", r#""$5" is not an amount"#),
        ]
    );
    assert_eq!(tally.rejected, 10);
    assert_eq!(count(&tally, "rows"), 13);
    assert_eq!(count(&tally, "lines_without_hcpcs"), 1);
    // 13 rows: A1 twice, and the short row 10 (A8) is not read for its claim id.
    assert_eq!(count(&tally, "claims"), 11);
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[0].claim_id.as_str(), lines[0].modifier.as_deref()), ("A1", Some("25")));
    assert_eq!((lines[0].paid, lines[0].provider_npi.as_str()), (Some(dec("80.00")), "1234567893"));
    // POS "9" is 09 with its leading zero lost by a spreadsheet.
    assert_eq!((lines[1].claim_id.as_str(), lines[1].place_of_service.as_str(), lines[1].units), ("A5", "09", 2));
}

#[test]
fn unusable_files_are_rejected_whole() {
    let reason = |text: &str| match load_str(text).0 {
        Err(LoadError::Rejected { at, reason }) => format!("{at}: {reason}"),
        other => panic!("{other:?}"),
    };
    assert_eq!(reason(""), "row 1: the file is empty: no header");
    assert!(reason("date,amount\n2024-01-01,5\n").starts_with("row 1 (header): the header is neither Tuva"));
    assert!(reason("claim_id,claim_line_number,hcpcs_code\n").contains("without claim_type, charge_amount"));
    let typo = reason("claim_id,line_no,code,modifer,service_date,charge\n");
    assert!(typo.contains("unknown column(s) modifer"), "{typo}");
    assert!(reason("claim_id,line_no,code,charge\n").contains("without service_date"));
    assert!(reason("claim_id,line_no,code,service_date,charge,code\n").contains("\"code\" appears twice"));
}

#[test]
fn billstream_csv_round_trips() {
    // A third of the Tuva lines, plus lines using every optional field.
    let (_, tuva) = load_tuva();
    let mut lines: Vec<ClaimLine> = tuva.into_iter().step_by(3).collect();
    lines.push(ClaimLine {
        claim_id: "R-1, \"quoted\"".into(),
        line_no: 3,
        frequency_code: "7".into(),
        provider_npi: "1234567893".into(),
        payer: Some("Acme Health, Inc.".into()),
        place_of_service: "22".into(),
        code: "J1100".into(),
        modifier: Some("JW".into()),
        service_date: "2024-12-31".into(),
        units: 12,
        charge: dec("1200.5000"),
        allowed: Some(dec("-3.10")),
        paid: Some(dec("0")),
        patient_responsibility: Some(dec("20.00")),
        carc: vec!["45".into(), "253".into()],
        rarc: vec!["N130".into()],
    });
    let mut buf = Vec::new();
    csv_claims::write_billstream(&mut buf, &lines).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(text.starts_with(&csv_claims::BILLSTREAM_COLUMNS.join(",")));
    assert!(csv_claims::sniff(text.as_bytes()));
    let (result, tally, back) = load_str(&text);
    result.unwrap();
    assert_eq!(tally.rejected, 0, "{:?}", tally.rejects);
    assert_eq!(back, lines);
    // Amounts keep their written scale.
    assert!(text.contains(",1200.5000,-3.10,0,20.00,45;253,N130"));
}

#[test]
fn billstream_csv_defaults_and_rejects() {
    let csv = "line_no,claim_id,code,service_date,charge,carc,units,frequency_code\n\
               1,C1,99213,20240105,100,,,\n\
               2,C1,g0463,2024-01-05,100, 45 ; ;97 ,3,8\n\
               3,C1,99213,2024-01-05,$5,,,\n\
               4,C1,99213,2024-01-05,5,,,2\n";
    let (result, tally, lines) = load_str(csv);
    result.unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0].frequency_code.as_str(), lines[0].units, lines[0].service_date.as_str()),
        ("1", 1, "2024-01-05")
    );
    assert_eq!((lines[0].payer.clone(), lines[0].place_of_service.as_str(), lines[0].allowed), (None, "", None));
    assert_eq!((lines[1].code.as_str(), lines[1].frequency_code.as_str(), lines[1].units), ("G0463", "8", 3));
    assert_eq!(lines[1].carc, ["45", "97"]);
    let rejects: Vec<(&str, &str)> = tally.rejects.iter().map(|r| (r.at.as_str(), r.reason.as_str())).collect();
    assert_eq!(
        rejects,
        [
            ("row 4, column charge", r#""$5" is not an amount"#),
            ("row 5, column frequency_code", r#""2" is not 1 (original), 7 (replacement) or 8 (void)"#),
        ]
    );
    assert_eq!(count(&tally, "claims"), 1);
}

#[test]
fn sniff_recognises_both_headers_and_nothing_else() {
    let tuva = std::fs::read(format!("{ROOT}/{TUVA}")).unwrap();
    // The Tuva header is 3.4 KB long: a short head still names its first columns.
    assert!(csv_claims::sniff(&tuva[..200]));
    assert!(csv_claims::sniff(&tuva[..4096]));
    assert!(csv_claims::sniff(b"\xEF\xBB\xBFclaim_id,line_no,code,service_date,charge\r\n"));
    assert!(!csv_claims::sniff(b"claim_id,line_"));
    // Every other CSV and JSON file of the shared data.
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data");
    let mut stack = vec![std::path::PathBuf::from(data)];
    let mut others = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with("claims-feeds") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "csv" || x == "json" || x == "txt") {
                let bytes = std::fs::read(&p).unwrap();
                assert!(!csv_claims::sniff(&bytes[..bytes.len().min(HEAD_BYTES)]), "{}", p.display());
                others += 1;
            }
        }
    }
    assert!(others > 100, "{others}");
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_read() {
    let csv = "\u{feff}Claim_ID ,line_no,code,service_date,charge\r\nC1,1,99213,2024-01-05,100.00\r\n\r\nC2,1,99214,2024-01-06,x\r\n";
    let (result, tally, lines) = load_str(csv);
    result.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].charge, dec("100.00"));
    // The blank line is skipped and not counted: the bad row is the third record.
    assert_eq!(tally.rejects[0].at, "row 3, column charge");
    assert_eq!(count(&tally, "rows"), 2);
}
