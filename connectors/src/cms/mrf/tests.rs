//! Unit tests of the whole loader on small inline files (the CMS files are in tests/cms_mrf_files.rs).
use super::*;
use crate::feed::Item;
use schemas::RefPrice;

fn run(name: &str, text: &str) -> (Result<(), LoadError>, Vec<RefPrice>, Tally) {
    run_ctx(Ctx { source_file: name.into(), ..Default::default() }, text)
}

fn run_ctx(ctx: Ctx, text: &str) -> (Result<(), LoadError>, Vec<RefPrice>, Tally) {
    let mut prices = Vec::new();
    let mut tally = Tally::default();
    let mut input = text.as_bytes();
    let res = load(
        &ctx,
        &mut input,
        &mut |i| {
            if let Item::Price(p) = i {
                prices.push(p)
            }
        },
        &mut tally,
    );
    (res, prices, tally)
}

/// A v3 tall file: rows 1–2 general data, row 3 headers with spaces around the pipes.
fn v3_tall(rows: &[&str]) -> String {
    let mut s = format!(
        "hospital_name,last_updated_on,version,location_name,hospital_address,license_number|NY,type_2_npi,\"{}\",attester_name\n\
         Test Hospital,4/1/2026,3.0.0,Main,1 Main St,123,1234567890,true,Ann Smith\n\
         description,code | 1,code | 1 | type,code | 2,code | 2 | type,setting,drug_unit_of_measurement,drug_type_of_measurement,\
         standard_charge | gross,standard_charge | discounted_cash,payer_name,plan_name,modifiers,standard_charge | negotiated_dollar,\
         standard_charge | negotiated_percentage,standard_charge | negotiated_algorithm,median_amount,10th_percentile,90th_percentile,\
         count,standard_charge | min,standard_charge | max,standard_charge | methodology,additional_generic_notes\n",
        header::ATTESTATION
    );
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

#[test]
fn tall_rows_give_one_price_per_amount_and_code() {
    let (res, prices, tally) = run(
        "t.csv",
        &v3_tall(&[
            "MRI,611,RC,70551,CPT,outpatient,,,1200,1080,Aetna,PPO,26,400,,,,,,,250,400,fee schedule,",
            // Same item, next payer: gross/cash/min/max are not repeated.
            "MRI,611,RC,70551,CPT,outpatient,,,1200,1080,Cigna,HMO,26,250,,,,,,,250,400,fee schedule,",
            "ER,450,RC,,,Outpatient,,,4000,,Aetna,PPO,,,80,,12000.12,5123.74,16784.22,299,,,percent of total billed charges,",
        ]),
    );
    res.unwrap();
    assert_eq!(tally.rejected, 0, "{:?}", tally.rejects);
    // Row 4: (gross, cash, min, max, negotiated) × (RC, CPT) = 10; row 5: negotiated × 2 = 2; row 6: gross × RC = 1.
    assert_eq!(prices.len(), 13);
    assert_eq!(tally.counts["prices"], 13);
    assert_eq!(tally.counts["items"], 3);
    assert_eq!(tally.counts["charges_without_dollar_amount"], 1);
    assert_eq!(tally.counts["payer_plans"], 2);
    let neg: Vec<_> = prices.iter().filter(|p| p.amount_kind == "negotiated").collect();
    assert_eq!(neg.len(), 4);
    assert_eq!(neg[2].payer.as_deref(), Some("Cigna | HMO"));
    assert_eq!(neg[2].modifier.as_deref(), Some("26"));
    assert_eq!((neg[2].code.as_str(), neg[2].code_type.as_str()), ("611", "RC"));
    assert_eq!((neg[3].code.as_str(), neg[3].code_type.as_str()), ("70551", "CPT"));
    let p = &prices[0];
    assert_eq!(
        (p.source.as_str(), p.scope.as_str(), p.effective_from.as_str(), p.setting.as_deref(), p.source_file.as_str()),
        ("MRF", "hospital:Test Hospital", "2026-04-01", Some("outpatient"), "t.csv")
    );
    let er = prices.last().unwrap();
    assert_eq!(
        (er.amount_kind.as_str(), er.amount.to_string().as_str(), er.setting.as_deref()),
        ("gross", "4000", Some("outpatient"))
    );
}

#[test]
fn the_caller_scope_wins() {
    let ctx = Ctx { source_file: "t.csv".into(), scope: Some("hospital:Other".into()), ..Default::default() };
    let (_, prices, _) = run_ctx(ctx, &v3_tall(&["X,1,RC,,,both,,,10,,,,,,,,,,,,,,,"]));
    assert_eq!(prices[0].scope, "hospital:Other");
}

#[test]
fn a_row_error_rejects_the_row_with_its_row_and_column() {
    let (res, prices, tally) = run(
        "t.csv",
        &v3_tall(&[
            "A,1,RC,,,both,,,10,,,,,,,,,,,,,,,",
            // Dollar without min/max, and a code type that does not exist.
            "B,2,XX,,,both,,,10,,Aetna,PPO,,5,,,,,,,,,fee schedule,",
            "C,3,RC,,,both,,,$10,,,,,,,,,,,,,,,",
        ]),
    );
    res.unwrap();
    assert_eq!(prices.len(), 1);
    assert_eq!(tally.rejected, 2);
    assert_eq!(tally.rejects[0].at, "row 5, column \"code | 1 | type\"");
    assert!(tally.rejects[0].reason.contains("\"XX\" is not a valid code type"), "{}", tally.rejects[0].reason);
    assert!(tally.rejects[0].reason.contains("row 5, column \"standard_charge | min\""), "{}", tally.rejects[0].reason);
    assert_eq!(tally.rejects[1].at, "row 6, column \"standard_charge | gross\"");
    assert!(tally.rejects[1].reason.contains("\"$10\" is not a number"));
}

#[test]
fn crlf_files_report_the_right_lines() {
    let text =
        v3_tall(&["A,1,RC,,,both,,,10,,,,,,,,,,,,,,,", "", "B,2,RC,,,,,,10,,,,,,,,,,,,,,,"]).replace('\n', "\r\n");
    let (res, _, tally) = run("t.csv", &text);
    res.unwrap();
    assert_eq!(tally.rejects[0].at, "row 6, column \"setting\"");
}

#[test]
fn nine_nines_is_a_placeholder_not_a_price() {
    let (res, prices, tally) = run("t.csv", &v3_tall(&["A,1,RC,,,both,,,999999999,5,,,,,,,,,,,,,,"]));
    res.unwrap();
    assert_eq!(prices.len(), 1);
    assert_eq!(prices[0].amount_kind, "cash");
    assert_eq!(tally.counts["placeholder_amounts"], 1);
    assert!(tally.warnings.iter().any(|w| w.reason.contains("nine 9s")), "{:?}", tally.warnings);
}

#[test]
fn header_problems_reject_the_file() {
    let text = v3_tall(&["A,1,RC,,,both,,,10,,,,,,,,,,,,,,,"]);
    let (res, prices, _) = run("t.csv", &text.replace("4/1/2026", "April 2026"));
    assert!(prices.is_empty());
    let e = res.unwrap_err().to_string();
    assert!(e.starts_with("row 2, column \"last_updated_on\""), "{e}");
    let (res, _, _) = run("t.csv", &text.replace(",setting,", ",place,"));
    let e = res.unwrap_err().to_string();
    assert!(e.contains("required column \"setting\" is missing"), "{e}");
}

fn v3_json(root_first: bool, items: &str) -> String {
    let root = format!(
        "\"hospital_name\": \"Test Hospital\", \"last_updated_on\": \"2026-04-01\", \"version\": \"3.0.0\", \
         \"location_name\": [\"Main\"], \"hospital_address\": [\"1 Main St\"], \"type_2_npi\": [\"1234567890\"], \
         \"license_information\": {{\"state\": \"NY\"}}, \
         \"attestation\": {{\"attestation\": {:?}, \"confirm_attestation\": true, \"attester_name\": \"Ann\"}}",
        header::ATTESTATION
    );
    let sci = format!("\"standard_charge_information\": [{items}]");
    if root_first {
        format!("{{{root}, {sci}}}")
    } else {
        format!("{{{sci}, {root}}}")
    }
}

const ITEMS: &str = r#"
  {"description": "MRI", "code_information": [{"code": "611", "type": "RC"}, {"code": "70551", "type": "CPT"}],
   "standard_charges": [{"setting": "outpatient", "gross_charge": 1200, "minimum": 250, "maximum": 400, "modifier_code": ["26"],
     "payers_information": [
       {"payer_name": "Aetna", "plan_name": "PPO", "standard_charge_dollar": 400.5, "methodology": "fee schedule"},
       {"payer_name": "Cigna", "plan_name": "HMO", "standard_charge_percentage": 80, "count": "0",
        "additional_payer_notes": "no claims", "methodology": "percent of total billed charges"},
       {"payer_name": "Bad", "plan_name": "HMO", "standard_charge_dollar": 0, "methodology": "fee schedule"}]}]},
  {"description": "Drug", "code_information": [{"code": "0093-8739-01", "type": "NDC"}],
   "standard_charges": [{"setting": "both", "gross_charge": 5}]}
"#;

#[test]
fn json_items_stream_and_errors_reject_the_smallest_part() {
    let (res, prices, tally) = run("t.json", &v3_json(true, ITEMS));
    res.unwrap();
    // Item 0: (gross, min, max, Aetna negotiated) × 2 codes = 8; the Bad payer and item 1 (NDC
    // without drug_information) are rejected.
    assert_eq!(prices.len(), 8);
    assert_eq!(tally.counts["items"], 2);
    assert_eq!(tally.counts["charges_without_dollar_amount"], 1);
    let ats: Vec<&str> = tally.rejects.iter().map(|r| r.at.as_str()).collect();
    assert_eq!(
        ats,
        [
            "/standard_charge_information/0/standard_charges/0/payers_information/2/standard_charge_dollar",
            "/standard_charge_information/1"
        ]
    );
    let neg = prices.iter().find(|p| p.amount_kind == "negotiated").unwrap();
    assert_eq!(neg.amount.to_string(), "400.5");
    assert_eq!((neg.payer.as_deref(), neg.modifier.as_deref()), (Some("Aetna | PPO"), Some("26")));
}

#[test]
fn json_items_before_the_root_fields_are_spooled() {
    let (res, prices, tally) = run("t.json", &v3_json(false, ITEMS));
    res.unwrap();
    let (_, expected, expected_tally) = run("t.json", &v3_json(true, ITEMS));
    assert_eq!(prices, expected);
    assert_eq!(tally, expected_tally);
}

#[test]
fn json_file_errors() {
    let (res, _, _) = run("t.json", "{\"hospital_name\": \"X\",");
    assert!(res.unwrap_err().to_string().contains("ends early"));
    let (res, _, _) = run("t.json", "[1, 2]");
    assert!(res.unwrap_err().to_string().contains("not a JSON MRF"));
    // A root field after the array is still checked: the whole file is rejected.
    let text = v3_json(true, ITEMS).replace("\"type_2_npi\": [\"1234567890\"]", "\"type_2_npi\": []");
    let (res, _, _) = run("t.json", &text);
    let e = res.unwrap_err().to_string();
    assert!(e.starts_with("/type_2_npi: root fields: must NOT have fewer than 1 items"), "{e}");
}

#[test]
fn legacy_needs_a_hospital_name() {
    let text = "Code,Description,Code_Type,Gross Charge,Discounted Cash Price,Aetna-Commercial\n99213,Visit,CPT/HCPCS,200,150,NA\n";
    let (res, _, _) = run("prices.csv", text);
    assert!(res.unwrap_err().to_string().contains("ctx.scope"));
    let ctx =
        Ctx { source_file: "prices_2023-05-01.csv".into(), scope: Some("hospital:X".into()), ..Default::default() };
    let (res, prices, tally) = run_ctx(ctx, text);
    res.unwrap();
    assert_eq!(prices.len(), 2);
    assert_eq!(
        (prices[0].scope.as_str(), prices[0].effective_from.as_str(), prices[0].code_type.as_str()),
        ("hospital:X", "2023-05-01", "CPT")
    );
    assert!(tally.warnings.is_empty());
}

#[test]
fn sniffing() {
    assert!(sniff("x.csv", b"\xEF\xBB\xBFhospital_name,last_updated_on,version\n"));
    assert!(sniff("x.json", b"  {\n \"hospital_name\": \"A\""));
    assert!(sniff(
        "x.csv",
        b"HospCode,Code,Description,Code_Type,Gross Charge,Discounted Cash Price,Minimum Negotiated Charge"
    ));
    assert!(!sniff(
        "x.json",
        b"{\"$schema\": \"http://json-schema.org/draft-07/schema#\", \"properties\": {\"hospital_name\": {}}}"
    ));
    assert!(!sniff("x.json", b"{\"reporting_entity_name\": \"A\", \"in_network\": []}"));
    assert!(!sniff("x.csv", b"claim_id,line_no,code\n"));
}

#[test]
fn encodings_that_are_not_utf8_text_are_named() {
    let ctx = Ctx::default();
    for (bytes, what) in [(&b"\xFF\xFEh\0"[..], "UTF-16"), (&b"\x1F\x8B\x08\0"[..], "gzip")] {
        let mut input = bytes;
        let e = load(&ctx, &mut input, &mut |_| {}, &mut Tally::default()).unwrap_err().to_string();
        assert!(e.contains(what), "{e}");
    }
}

#[test]
fn empty() {
    for text in ["", "  \n\n"] {
        let (res, _, _) = run("x.csv", text);
        assert!(res.unwrap_err().to_string().contains("empty"));
    }
}

#[test]
fn records_know_their_lines_whatever_the_line_breaks() {
    for (data, want) in [
        ("a,b\nc,d\n\ne,f\n\"g\nh\",i\nj,k\n", vec![1, 2, 4, 5, 7]),
        ("a,b\nc,d\n\ne,f\n\"g\nh\",i\nj,k", vec![1, 2, 4, 5, 7]),
        ("a,b\r\nc,d\r\n\r\ne,f\r\n\"g\r\nh\",i\r\nj,k\r\n", vec![1, 2, 4, 5, 7]),
        ("a,b\r\nc,d\r\n\r\ne,f\r\n\"g\r\nh\",i\r\nj,k", vec![1, 2, 4, 5, 7]),
    ] {
        let mut input = data.as_bytes();
        let mut rows = csv_file::Records::new(&mut input);
        let mut tally = Tally::default();
        let mut got = Vec::new();
        while let Some(rec) = rows.next(&mut tally).unwrap() {
            got.push(csv_file::line_of(&rec));
            rows.give_back(rec);
        }
        assert_eq!(got, want, "{data:?}");
    }
}
