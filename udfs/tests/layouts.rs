//! Layouts real statements use, written as pasted text so each case is readable here: the
//! same layout reading runs on them as on OCR'd and text-layer pages.
use billstream_udfs as udfs;
use udfs::codes::CodeSystem;
use udfs::extract::{extract, pasted::text_pages, Extraction};

fn read(text: &str) -> Extraction {
    extract(&text_pages(text), None)
}

fn keys(ex: &Extraction) -> Vec<(Option<&str>, Option<&str>, i32, String)> {
    ex.lines.iter().map(|l| (l.code.as_deref(), l.cdm_code.as_deref(), l.units, l.charge.to_string())).collect()
}

#[test]
fn grouped_under_revenue_code_headings_with_subtotals_and_leading_zero_hcpcs() {
    let ex = read(
        "\
Svc Dt      Rev Cd   HCPS     Charge Description              Qty      Amount
0250 PHARMACY
03/02/2026  0250     0J2405   ONDANSETRON INJ                   2       24.00
03/02/2026  0250     0J7050   NORMAL SALINE 250 CC              1       57.22
            Total 0250 Pharmacy                                         81.22
0350 CT SCAN
03/02/2026  0350     070486   CT MAXILLOFACIAL W/O DYE          1    1,609.00
            Total 0350 CT Scan                                       1,609.00
Total Charges                                                        1,690.22
",
    );
    assert_eq!(
        keys(&ex),
        [
            (Some("J2405"), None, 2, "24.00".into()),
            (Some("J7050"), None, 1, "57.22".into()),
            (Some("70486"), None, 1, "1609.00".into()),
        ],
        "{ex:?}"
    );
    assert!(ex.lines.iter().all(|l| l.service_date.as_deref() == Some("2026-03-02") && l.revenue_code.is_some()));
    assert_eq!(ex.totals.total_charges.map(|d| d.to_string()).as_deref(), Some("1690.22"));
    assert!(ex.warnings.iter().all(|w| !w.contains("add up")), "{:?}", ex.warnings);
}

#[test]
fn charge_master_numbers_are_not_codes() {
    let ex = read(
        "\
Svc Dt       Rev Code    CPT/HCPCS      Description          Qty        Amount
02/25/2023   0250        2500000004     [redacted]             2       $114.60
02/25/2023   0301        80053          [redacted]             1       $364.00
",
    );
    let l = &ex.lines[0];
    assert_eq!((l.code.as_deref(), l.code_system, l.cdm_code.as_deref()), (None, CodeSystem::Cdm, Some("2500000004")));
    assert_eq!((ex.lines[1].code.as_deref(), ex.lines[1].code_system), (Some("80053"), CodeSystem::Cpt));
}

#[test]
fn a_cdm_column_beside_the_code_and_a_price_column_for_the_amount() {
    let ex = read(
        "\
Rev    Revenue Code      CPT(R)/       CDM          Charge                 Service     Price    Qty
Code   Description       HCPCS Code    Code         Description            Date
0250   Pharmacy          J3490         50257585     SODIUM CHLORIDE                     27.50     1
0450   Emergency Room    99284         73200018     ED VISIT LEVEL 4                   954.00     1
",
    );
    assert_eq!(
        keys(&ex),
        [(Some("J3490"), Some("50257585"), 1, "27.50".into()), (Some("99284"), Some("73200018"), 1, "954.00".into())],
        "{ex:?}"
    );
    assert_eq!(ex.lines[1].revenue_code.as_deref(), Some("0450"));
}

#[test]
fn payments_and_a_remittance_on_the_same_page_are_not_charges() {
    let ex = read(
        "\
Date of Service   Description                      Charges    Payment/       Patient
                                                              Adjustments    Balance
07/01/2020 to     Visit #123
07/01/2020
                  Pharmacy                           60.53
                  Treatment or Observation Room     588.00
                  Insurance Payment                              -598.53
                  Contractual Adjustment                          -10.00

REV   DATE    HCPCS   MODS   QTY   CHARGES   ALLOW/REIM   GC   RSN   AMOUNT
0250  07/01   J3490           1      60.53        0.00    CO   97     60.53
",
    );
    assert_eq!(keys(&ex), [(None, None, 1, "60.53".into()), (None, None, 1, "588.00".into())], "{ex:?}");
    assert!(ex.lines.iter().all(|l| l.service_date.as_deref() == Some("2020-07-01")));
    assert!(ex.warnings.iter().any(|w| w.contains("remittance")), "{:?}", ex.warnings);
}

#[test]
fn blank_cells_under_a_column_keep_the_row() {
    // A redaction box (or an empty cell) where the description would be.
    let ex = read(
        "\
Svc Dt       Rev Code    CPT/HCPCS      Description                    Qty        Amount
02/28/2023   0301        80048                                           1       $309.00
02/28/2023   0320        71045                                           1       $490.00
",
    );
    assert_eq!(keys(&ex), [(Some("80048"), None, 1, "309.00".into()), (Some("71045"), None, 1, "490.00".into())]);
}

#[test]
fn no_line_is_invented_from_an_address_block_or_a_paragraph() {
    let ex = read(
        "\
STANFORD HEALTH CARE                                  Amount Due    $313.50
P.O. BOX 740715
LOS ANGELES, CA 90074-0715                            Statement Date 6/27/2016

Patient Financial Service Counselors are available Monday through Friday, 8:30 a.m.
to 4:30 pm via telephone (123) 456-7890 to address questions about 12345 charges.
",
    );
    assert!(ex.lines.is_empty(), "{:?}", ex.lines);
    assert!(ex.warnings.iter().any(|w| w.contains("no line items")));
}
