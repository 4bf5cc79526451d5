//! Every file under shared/data/x12 through `x12::load`, each listed with its expected outcome.
//!
//! Outcome policy (see connectors/src/x12/mod.rs): a broken envelope, a trailer control number
//! that differs from its header, or a file without any 837/835 fails the whole file; a layout or
//! element problem outside any claim rejects its transaction set (each claim in it rejected in
//! the tally); a problem inside a claim rejects that claim; segment counts that are off (SE01,
//! GE01, IEA01) are warnings. Expected counts were obtained independently of this loader, by
//! splitting each file on the delimiters its ISA declares with a few lines of Python
//! (`split(ISA[105])`, then `split(ISA[3])`, counting segment ids and CAS triplets) and with
//! `grep -o 'SV1\*HC:[0-9A-Z]*' file | sort | uniq -c`; the comment at each number says what it
//! counts.
use billstream_connectors::feed::{Ctx, Item, LoadError, Tally};
use billstream_connectors::x12;
use rust_decimal::Decimal;
use schemas::ClaimLine;
use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/x12");

struct Outcome {
    lines: Vec<ClaimLine>,
    tally: Tally,
    error: Option<LoadError>,
}

fn load(rel: &str) -> Outcome {
    let path = Path::new(DATA).join(rel);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut input = std::io::BufReader::new(file);
    let mut lines = vec![];
    let mut tally = Tally::default();
    let ctx = Ctx { source_file: rel.into(), ..Ctx::default() };
    let mut out = |item| {
        if let Item::Claim(c) = item {
            lines.push(c)
        }
    };
    let error = x12::load(&ctx, &mut input, &mut out, &mut tally).err();
    Outcome { lines, tally, error }
}

#[derive(Debug)]
enum Expect {
    /// `load` succeeds, producing `lines` claim lines and rejecting `rejected` records (claims,
    /// or transaction sets that hold none); the first reject's reason contains `reason`.
    Loads { lines: usize, rejected: u64, reason: &'static str },
    /// `load` rejects the whole file; the error contains this text.
    Fails(&'static str),
}
use Expect::{Fails, Loads};

const fn loads(lines: usize) -> Expect {
    Loads { lines, rejected: 0, reason: "" }
}

const NOT_X12: &str = "does not start with an ISA interchange header";
const CODE_478331: &str = "service line 2: ClaimLine field code: \"478331\" is not a 5-character CPT/HCPCS code";
const BHT_9999: &str = "BHT01: claim";
const DEIDENT_BHT: &str = "\"9999\" is not the 837 hierarchical structure code 0019";
const SVC_XX: &str = "\"XX\" is not a product/service id qualifier";

const FILES: &[(&str, Expect)] = &[
    ("SOURCES.md", Fails(NOT_X12)),
    // --- imsweb x12-parser fixtures (5010). All of them carry SE01 = 25 whatever their length:
    // a stale count, reported as a warning (imsweb does not check counts; its "valid" files must load).
    // Their second claim bills "HC:478331", six characters: not a CPT/HCPCS code, so that claim is
    // rejected by ClaimLine validation and only A37YH556 (99211) loads.
    ("imsweb-5010/837_5010/x12_valid.txt", Loads { lines: 1, rejected: 1, reason: CODE_478331 }),
    ("imsweb-5010/837_5010/x12_valid_different_separators.txt", Loads { lines: 1, rejected: 1, reason: CODE_478331 }),
    ("imsweb-5010/837_5010/x12_no_errors.txt", loads(2)),
    ("imsweb-5010/837_5010/x12_writer_test.txt", loads(1)),
    ("imsweb-5010/837_5010/x223-test.txt", loads(1)),
    // 820 claims: 410 x 99211 load, 410 x 478331 are rejected.
    ("imsweb-5010/837_5010/x12_many_claims.txt", Loads { lines: 410, rejected: 410, reason: CODE_478331 }),
    ("imsweb-5010/837_5010/x12_multiple_transactions.txt", Loads { lines: 312, rejected: 312, reason: CODE_478331 }),
    ("imsweb-5010/837_5010/x12_multiple_gs.txt", Loads { lines: 3, rejected: 3, reason: CODE_478331 }),
    ("imsweb-5010/837_5010/x12_multiple_isa.txt", Loads { lines: 2, rejected: 2, reason: CODE_478331 }),
    ("imsweb-5010/837_5010/x12_multiple_st.txt", Loads { lines: 2, rejected: 2, reason: CODE_478331 }),
    // x12_complex: 6 claims; the two A37YH556 (4 lines of 99211) load. A37YH667 has a line-level
    // rendering provider NM1*82 with qualifier XX and id "303304", not an NPI (5010 requires one),
    // and A37YH668 bills 478331.
    ("imsweb-5010/837_5010/x12_complex.txt", Loads { lines: 4, rejected: 4, reason: "\"303304\" is not a 10-digit NPI" }),
    // imsweb's own test reads this file as valid (it checks that NM1*82 after a service line is
    // the line's rendering provider, 2420A: so do we), but that provider's XX id "058895" is not an
    // NPI, and it is the provider the claim line would carry: the claim is rejected. The data
    // README lists the file as malformed.
    ("imsweb-5010/837_5010/x12_ambiguous_loop.txt", Loads { lines: 0, rejected: 1, reason: "\"058895\" is not a 10-digit NPI" }),
    // ISA02 has 9 characters: the fixed-width header (and its delimiters) cannot be read.
    ("imsweb-5010/837_5010/x12_bad_first_line.txt", Fails("ISA02 is 9 characters; the ISA header has fixed-width elements and ISA02 must have 10")),
    ("imsweb-5010/837_5010/x12_no_isa_line.txt", Fails(NOT_X12)),
    // A segment without id (segment 6), "Nd4", "NM31": unknown segments outside the claims.
    ("imsweb-5010/837_5010/x12_bad_segment_identifier.txt", Loads { lines: 0, rejected: 2, reason: "segment has no identifier" }),
    // NM1*117 where the billing provider (NM1*85) must be: no loop of 2000A starts with entity 117.
    ("imsweb-5010/837_5010/x12_bad_valid_code.txt", Loads { lines: 0, rejected: 2, reason: "NM1 with NM101 \"117\" is not expected in loop 2000A" }),
    // NM102 empty in NM1*40 (the first problem), CLM05 missing in the second claim.
    ("imsweb-5010/837_5010/x12_missing_elements.txt", Loads { lines: 0, rejected: 2, reason: "NM102: claim" }),
    ("imsweb-5010/837_5010/x12_segments_out_of_order.txt", Loads { lines: 0, rejected: 2, reason: "N4 is out of order in loop 2010AA" }),
    ("imsweb-5010/837_5010/x12_loop_errors1_exceeds_max_1_parent.txt", Loads { lines: 0, rejected: 1, reason: "loop 2010AA (billing provider name) repeats more than 1 times" }),
    ("imsweb-5010/837_5010/x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt", Loads { lines: 0, rejected: 2, reason: "loop 2010AA (billing provider name) repeats more than 1 times" }),
    ("imsweb-5010/837_5010/x12_loop_errors3_missing_loops.txt", Loads { lines: 0, rejected: 1, reason: "lacks required loop 2010AA" }),
    ("imsweb-5010/837_5010/x12_missing_required_loop_in_one_repeat.txt", Loads { lines: 0, rejected: 2, reason: "lacks required loop 2010BA" }),
    // Two of the five claims have an SV1 without its LX (no 2400 loop): those claims are rejected,
    // the three sound ones load (imsweb reports the same two claims).
    ("imsweb-5010/837_5010/x12_missing_required_loops_mult_repeats.txt", Loads { lines: 3, rejected: 2, reason: "SV1 is not expected in loop 2300" }),
    // REF*EI twice in 2010AA (max 1), and N3 (required) missing there; HI missing in the claim.
    ("imsweb-5010/837_5010/x12_segment_errors.txt", Loads { lines: 0, rejected: 1, reason: "REF*EI/SY appears more than 1 times in loop 2010AA" }),
    ("imsweb-5010/837_5010/x12_999_accepted.txt", Fails("transaction set 999 (implementation acknowledgment) is not a claim (837) or remittance (835)")),
    ("imsweb-5010/837_5010/x12_999_rejected.txt", Fails("transaction set 999 (implementation acknowledgment) is not a claim")),
    ("imsweb-5010/277_5010/x12_277CA_accepted.txt", Fails("transaction set 277 (claim status response / claim acknowledgment) is not a claim")),
    ("imsweb-5010/277_5010/x12_277CA_rejected.txt", Fails("transaction set 277")),
    ("imsweb-5010/277_5010/x12_277_x212.txt", Fails("transaction set 277")),
    ("imsweb-5010/x270_271/x270.txt", Fails("transaction set 270 (eligibility inquiry) is not a claim")),
    ("imsweb-5010/x270_271/x271.txt", Fails("transaction set 271 (eligibility response) is not a claim")),
    ("imsweb-5010/removed-from-head/837_5010/x12_277CA_accepted.txt", Fails("transaction set 277")),
    ("imsweb-5010/removed-from-head/837_5010/x12_277CA_rejected.txt", Fails("transaction set 277")),
    ("imsweb-5010/removed-from-head/837_5010/x12_x214_test.txt", Fails("transaction set 277")),
    ("imsweb-5010/removed-from-head/837_5010/x12_x231_test.txt", Fails("transaction set 999")),
    // A TA1 between ISA and GS is allowed; the 999 after it is not a claim.
    ("imsweb-5010/removed-from-head/837_5010/x12_999_accepted_ta1.txt", Fails("segment 4 (ST): transaction set 999")),
    ("imsweb-5010/removed-from-head/837_5010/x12_missing_first_gs.txt", Fails("segment 2 (ST): ST is outside a functional group")),
    ("imsweb-5010/removed-from-head/837_5010/x12_missing_first_isa.txt", Fails(NOT_X12)),
    ("imsweb-5010/removed-from-head/837_5010/x12_missing_first_st.txt", Fails("segment 3 (BHT): BHT is outside a transaction set")),
    ("imsweb-5010/removed-from-head/837_5010/x12_missing_last_gs.txt", Fails("segment 37 (IEA): IEA comes before the GE")),
    ("imsweb-5010/removed-from-head/837_5010/x12_missing_last_isa.txt", Fails("the file ends inside the interchange started at segment 1 (no IEA)")),
    ("imsweb-5010/removed-from-head/837_5010/x12_missing_last_st.txt", Fails("segment 36 (GE): GE comes before the SE")),
    // --- pyx12 (4010) with the 997 acknowledgments pyx12 produces (AK5/AK9 A = accepted).
    ("pyx12-4010/simple_837p.txt", loads(5)),
    ("pyx12-4010/simple_837p.997.base", Fails("transaction set 997 (functional acknowledgment) is not a claim")),
    // Accepted by pyx12 too; its six lines carry revenue codes only (SV2*0100**...): counted as
    // lines without a procedure code, none produced.
    ("pyx12-4010/simple_837i.txt", loads(0)),
    ("pyx12-4010/835_simple.txt", loads(3)),
    ("pyx12-4010/835_simple.997.base", Fails("transaction set 997")),
    // 997: AK3*NM1*8**3, the required billing provider loop (2010AA) is missing.
    ("pyx12-4010/bad_2010AA_bug.txt", Loads { lines: 0, rejected: 1, reason: "loop 2000A (billing provider hierarchical level) lacks required loop 2010AA" }),
    ("pyx12-4010/bad_2010AA_bug.997.base", Fails("transaction set 997")),
    // 997: PER03 "TA", NM108 "47" and "MIM", DMG02 19461301, DMG03 R, CLM05-1 95 (and REF*87
    // 004010X098A2). We report PER03 first (then MIM too long, the DMG date and gender, POS 95).
    // NM108 "47" passes: we check its length, not the qualifier list (imsweb's own valid
    // x12_complex uses NM108 "X").
    ("pyx12-4010/bad_elements.txt", Loads { lines: 0, rejected: 1, reason: "PER03: claim \"6643-1019AA\" (segment 25) rejected with its transaction set 000000001 (segment 3): \"TA\" is not a communication number qualifier" }),
    ("pyx12-4010/bad_elements.997.base", Fails("transaction set 997")),
    // 997: DTM*405*11111111 invalid date, then N1/N3/N4/N1 of the header after the claims. We
    // take 1111-11-11 as a date; the payer and payee loops out of order reject the transaction.
    ("pyx12-4010/bad_header_looping.txt", Loads { lines: 0, rejected: 2, reason: "loop 1000A (payer identification, N1*PR) is out of order in loop 835" }),
    ("pyx12-4010/bad_header_looping.997.base", Fails("transaction set 997")),
    // 997: SV202-1 "  " invalid code, SV202-2 missing (and the same in SVD03).
    ("pyx12-4010/blank1.txt", Loads { lines: 0, rejected: 1, reason: "\"  \" is not a procedure code qualifier" }),
    ("pyx12-4010/blank1.997.base", Fails("transaction set 997")),
    // 997: AK5*R*3*7: ST02 "300145997 " (trailing space, 10 characters) does not match SE02.
    // (TA1 also flags ISA10 time 3339; ISA dates and times are not checked here.)
    ("pyx12-4010/ele.txt", Loads { lines: 0, rejected: 1, reason: "\"300145997 \" is 10 characters; at most 9 are allowed" }),
    ("pyx12-4010/ele.997.base", Fails("transaction set 997")),
    ("pyx12-4010/explicit_missing.txt", Fails("the file ends inside the transaction set started at segment 3 (no SE)")),
    ("pyx12-4010/explicit_missing.997.base", Fails("transaction set 997")),
    // TA1 023: premature end of file (no IEA). The empty transaction is rejected first.
    ("pyx12-4010/fail_no_IEA.txt", Fails("the file ends inside the interchange started at segment 1 (no IEA)")),
    ("pyx12-4010/fail_no_IEA.997.base", Fails("transaction set 997")),
    // 997: AK3*LX*385**4 and three more: 54 service lines, more than the 50 of loop 2400.
    ("pyx12-4010/loop_counting.txt", Loads { lines: 0, rejected: 1, reason: "loop 2400 (service line) repeats more than 50 times" }),
    ("pyx12-4010/loop_counting.997.base", Fails("transaction set 997")),
    // 278s are rejected as not claims; the 837 (BHT only) and the 835s (no BPR) as transactions
    // missing their required segments: 6 + 2 + 4 rejects, pyx12 rejects every one too.
    ("pyx12-4010/mult_isa.txt", Loads { lines: 0, rejected: 12, reason: "transaction set 278 (services review / prior authorization) is not a claim" }),
    ("pyx12-4010/mult_isa.997.base", Fails("transaction set 997")),
    ("pyx12-4010/mult_trn.txt", Loads { lines: 0, rejected: 5, reason: "transaction set 278" }),
    // 997: AK3*PER*7**5: PER repeats more than twice in 1000A.
    ("pyx12-4010/per_repeat.txt", Loads { lines: 0, rejected: 1, reason: "PER appears more than 2 times in loop 1000A" }),
    ("pyx12-4010/per_repeat.997.base", Fails("transaction set 997")),
    // A 270 (pyx12 accepts it): not a claim.
    ("pyx12-4010/repeat_init_seg.txt", Fails("transaction set 270 (eligibility inquiry) is not a claim")),
    ("pyx12-4010/repeat_init_seg.997.base", Fails("transaction set 997")),
    // TA1 018 / 997 AK5*R*4 on the first set: its SE01 says 60 segments for 59 (a warning here),
    // GE02 "333" and IEA02 "333" do not match GS06/ISA13: the file is rejected.
    ("pyx12-4010/trailer_errors.txt", Fails("GE02 \"333\" does not match GS06 \"1\"")),
    ("pyx12-4010/trailer_errors.997.base", Fails("transaction set 997")),
    // 997: AK4*18*1073*1: the CLM ends in empty elements and CLM18, required in 004010X096A1, is missing.
    ("pyx12-4010/trailing_terms.txt", Loads { lines: 0, rejected: 1, reason: "CLM18, the 4010 institutional EOB indicator" }),
    ("pyx12-4010/trailing_terms.997.base", Fails("transaction set 997")),
    ("pyx12-5010/835_mult_loops.txt", loads(3)),
    // --- OopFactory X12 parser samples.
    // 835 4010: claims 999999 and 333333 bill ZZ (mutually defined) codes, 888888 "ZZ:M151000":
    // three lines without an HCPCS code. 888888 also pays 1.9 units: not produced anyway.
    ("oopfactory/_835/_4010/Example1_GripElements.txt", loads(6)),
    // The same remittance with GS08 "5010" (no known guide: read by content, a warning) and a
    // trailing "CLP*090909*22" without its amounts: that claim is rejected.
    ("oopfactory/_835/_5010/Example1.txt", Loads { lines: 6, rejected: 1, reason: "CLP03: claim \"090909\" (segment 98) rejected: required element is missing" }),
    // De-identified 835s: every SVC01 qualifier was scrubbed to "XX" (and units to 9.999), so no
    // claim is usable; counts are checked below.
    ("oopfactory/_835/_4010/FromNth/835_DeIdent_01.dat", Loads { lines: 0, rejected: 96, reason: SVC_XX }),
    // ... this one also has 10-character ST02s and an IEA02 that does not match ISA13.
    ("oopfactory/_835/_4010/FromNth/835_DeIdent_02.dat", Fails("IEA02 \"9999999996\" does not match ISA13 \"999999999\"")),
    ("oopfactory/_835/_5010/ExampleFromNth.txt", Loads { lines: 0, rejected: 56, reason: SVC_XX }),
    ("oopfactory/_835/_5010/FromNth/835_WithMultipleInterchanges.txt", Loads { lines: 0, rejected: 56, reason: SVC_XX }),
    ("oopfactory/_837I/_4010/Example1.txt", loads(3)),
    // De-identified 837I: BHT01 "9999", CLM05-2 "X", SV202 qualifiers "XX", dates 999999999999.
    ("oopfactory/_837I/_4010/FromSwreed/Batch1.txt", Loads { lines: 0, rejected: 54, reason: DEIDENT_BHT }),
    ("oopfactory/_837I/_4010/FromSwreed/Batch2.txt", Loads { lines: 0, rejected: 50, reason: DEIDENT_BHT }),
    ("oopfactory/_837I/_4010/FromSwreed/Batch3.txt", Loads { lines: 0, rejected: 50, reason: DEIDENT_BHT }),
    // OopFactory's renderings of the 4010 837I guide examples do not follow 004010X096A1: the
    // receiver (NM1*40, with a PER it cannot have) comes before the submitter, a PRV sits inside
    // 2010AA, CLM18 (required) is missing, BHT dates and times are malformed. OopFactory's parser
    // does not validate; we reject them, each with its first problem.
    ("oopfactory/_837I/_4010/Spec_4.1.1_InstitutionalClaim.txt", Loads { lines: 0, rejected: 1, reason: "PER is not expected in loop 1000B (receiver name)" }),
    ("oopfactory/_837I/_4010/Spec_4.1.2_InstitutionalPpoRepricedClaim.txt", Loads { lines: 0, rejected: 1, reason: "loop 1000A (submitter name) lacks required PER" }),
    ("oopfactory/_837I/_4010/Spec_4.1.3_TwoClaimsForTheSameProvider.txt", Loads { lines: 0, rejected: 2, reason: "\"0932CH\" is not a time (HHMM)" }),
    ("oopfactory/_837I/_4010/Spec_4.2.1_HomeownersCasualtyClaim.txt", Loads { lines: 0, rejected: 1, reason: "\"970327\" is not a date (CCYYMMDD)" }),
    ("oopfactory/_837I/_4010/Spec_4.2.2_WorkersCompensation.txt", Loads { lines: 0, rejected: 1, reason: "CLM18, the 4010 institutional EOB indicator" }),
    ("oopfactory/_837I/_4010/Spec_4.2.3_AutomobileAccident.txt", Loads { lines: 0, rejected: 1, reason: "NM109 is present and needs NM108" }),
    // 5010 837I examples. 3.1.1 declares "^" as its component separator (ISA16) but writes
    // composites with ":"; 3.1.3 and 3.1.4 declare ":" and write ">": CLM05-3 cannot be read.
    ("oopfactory/_837I/_5010/Spec_3.1.1.txt", Loads { lines: 0, rejected: 1, reason: "CLM05-3: claim \"756048Q\" (segment 22) rejected: required component is missing" }),
    ("oopfactory/_837I/_5010/Spec_3.1.2_TwoClaimsForTheSameProvider.txt", loads(3)),
    ("oopfactory/_837I/_5010/Spec_3.1.3_PPORepricedClaim.txt", Loads { lines: 0, rejected: 1, reason: "CLM05-3" }),
    ("oopfactory/_837I/_5010/Spec_3.1.4_OutOfNetworkRepricedClaim.txt", Loads { lines: 0, rejected: 1, reason: "CLM05-3" }),
    ("oopfactory/_837P/_4010/Cms1500Test.txt", loads(8)),
    // De-identified 837P: BHT01 "9999", CLM05-3 "9", SV101 qualifiers "XX", and GE02/IEA02 that
    // no longer match their headers, which fails the file.
    ("oopfactory/_837P/_4010/FromNth/837_DeIdent_01.dat", Fails("GE02 \"39834001\" does not match GS06 \"99999999\"")),
    ("oopfactory/_837P/_4010/FromNth/837_DeIdent_02.dat", Fails("GE02 \"4236001\" does not match GS06")),
    ("oopfactory/_837P/_4010/FromNth/837_DeIdent_03.dat", Fails("GE02 \"3485001\" does not match GS06")),
    ("oopfactory/_837P/_4010/FromNth/837_DeIdent_04.dat", Fails("GE02 \"4201001\" does not match GS06")),
    ("oopfactory/_837P/_4010/FromNth/837_DeIdent_05.dat", Fails("GE02 \"5491001\" does not match GS06")),
    ("oopfactory/_837P/_4010/Spec_4.1.1_PatientIsSubscriber.txt", loads(4)),
    ("oopfactory/_837P/_4010/Spec_4.1.2_PatientIsNotSubscriber.txt", loads(4)),
    // The COB examples name the payer NM1*IN where 004010X098A1 has NM1*PR (2010BB, required).
    ("oopfactory/_837P/_4010/Spec_4.1.3A_COB_ClaimToPayerAFromBP.txt", Loads { lines: 0, rejected: 1, reason: "NM1 with NM101 \"IN\" is not expected in loop 2010BA" }),
    ("oopfactory/_837P/_4010/Spec_4.1.3B_COB_ClaimToPayerBFromBP.txt", Loads { lines: 0, rejected: 1, reason: "NM101 \"IN\"" }),
    ("oopfactory/_837P/_4010/Spec_4.1.3C_COB_ClaimToPayerAFromBPinCOB.txt", Loads { lines: 0, rejected: 1, reason: "NM101 \"IN\"" }),
    ("oopfactory/_837P/_4010/Spec_4.1.3D_COB_PayerAToPayerB.txt", Loads { lines: 0, rejected: 1, reason: "NM101 \"IN\"" }),
    // 4010 XX ids like "999OU812" predate the NPI (the 8-character HCFA id): used as given.
    ("oopfactory/_837P/_4010/Spec_4.2.1_PayerIsPCIns.txt", loads(6)),
    ("oopfactory/_837P/_4010/Spec_4.2.2_PayerIsPCIns.txt", loads(4)),
    ("oopfactory/_837P/_4010/Spec_4.2.3_PayerIsPCIns.txt", loads(2)),
    ("oopfactory/_837P/_5010/Example1_2_And_3_Combined.txt", loads(11)),
    ("oopfactory/_837P/_5010/Example1_HealthInsurance.txt", loads(4)),
    ("oopfactory/_837P/_5010/Example2_Encounter.txt", loads(4)),
    ("oopfactory/_837P/_5010/Example3_COB.txt", loads(3)),
    ("oopfactory/_837P/_5010/ST1309-XX.txt", loads(2)),
    // De-identified too (BHT01 9999, SV101 "XX"); MissingEntityCode also has an NM1 without NM101.
    ("oopfactory/_837P/_5010/MedicaidExample.txt", Loads { lines: 0, rejected: 5, reason: BHT_9999 }),
    ("oopfactory/_837P/_5010/MissingEntityCode.txt", Loads { lines: 0, rejected: 5, reason: BHT_9999 }),
    // UTF-16 (decoded), but cut short after NM1*41: no SE, GE or IEA.
    ("oopfactory/_837P/_5010/UnicodeExample.txt", Fails("segment 6: the file ends inside the transaction set started at segment 3 (no SE)")),
    // Claim-model test data: EDI with the claim model OopFactory parses from it (checked below).
    ("oopfactory/claim-model-testdata/ProfessionalClaim1.txt", loads(7)),
    ("oopfactory/claim-model-testdata/InstitutionalClaim5010.txt", loads(2)),
    // Same header problems as the 4010 837I guide examples above, plus DTP*434*D8 with a range.
    ("oopfactory/claim-model-testdata/InstitutionalClaim4010.txt", Loads { lines: 0, rejected: 1, reason: "PER is not expected in loop 1000B" }),
    ("oopfactory/claim-model-testdata/ProfessionalClaim1_ClaimModel.xml", Fails(NOT_X12)),
    ("oopfactory/claim-model-testdata/InstitutionalClaim5010_ClaimModel.xml", Fails(NOT_X12)),
    ("oopfactory/claim-model-testdata/InstitutionalClaim5010.xml", Fails(NOT_X12)),
    ("oopfactory/claim-model-testdata/InstitutionalClaim4010_ClaimModel.xml", Fails(NOT_X12)),
    ("oopfactory/claim-model-testdata/InstitutionalClaim4010.xml", Fails(NOT_X12)),
    ("oopfactory/claim-model-testdata/UB04ClaimModel1.xml", Fails(NOT_X12)),
];

fn all_files(dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.insert(p.strip_prefix(DATA).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn every_file_is_listed() {
    let mut on_disk = BTreeSet::new();
    all_files(Path::new(DATA), &mut on_disk);
    let listed: BTreeSet<String> = FILES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(listed.len(), FILES.len(), "a file is listed twice");
    let missing: Vec<_> = on_disk.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&on_disk).collect();
    assert!(missing.is_empty(), "files without an expected outcome: {missing:?}");
    assert!(gone.is_empty(), "listed files not in the data: {gone:?}");
}

#[test]
fn every_file_has_its_expected_outcome() {
    let mut failures = vec![];
    for (file, expect) in FILES {
        let o = load(file);
        let first = o.tally.rejects.first().map(|r| format!("{}: {}", r.at, r.reason)).unwrap_or_default();
        let ok = match (expect, &o.error) {
            (Loads { lines, rejected, reason }, None) => {
                o.lines.len() == *lines && o.tally.rejected == *rejected && (*rejected == 0 || first.contains(reason))
            }
            (Fails(text), Some(e)) => e.to_string().contains(text),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{file}: expected {expect:?}, got {} lines, {} rejected (first: {first}), error {:?}",
                o.lines.len(),
                o.tally.rejected,
                o.error.map(|e| e.to_string())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Record counts in the tally, against counts taken from the files independently (see the top).
#[test]
fn counts_match_the_files() {
    #[rustfmt::skip]
    let expected: &[(&str, &[(&str, u64)])] = &[
        // 1 ST, 820 CLM, 820 SV1 (grep: 410 SV1*HC:99211 + 410 SV1*HC:478331), 11490 segments.
        ("imsweb-5010/837_5010/x12_many_claims.txt", &[("transactions", 1), ("claims", 820), ("service_lines", 820), ("segments", 11490)]),
        // 312 ISA, 312 ST, 624 CLM, 624 SV1 (312 + 312 by grep), 11856 segments.
        ("imsweb-5010/837_5010/x12_multiple_transactions.txt", &[("interchanges", 312), ("transactions", 312), ("claims", 624), ("service_lines", 624), ("segments", 11856)]),
        // 2 ST, 6 CLM, 10 SV1 (grep: 4 x 99211, 6 x 478331).
        ("imsweb-5010/837_5010/x12_complex.txt", &[("transactions", 2), ("claims", 6), ("service_lines", 10), ("segments", 298)]),
        ("imsweb-5010/837_5010/x12_multiple_gs.txt", &[("functional_groups", 3), ("transactions", 3), ("claims", 6), ("service_lines", 6)]),
        ("imsweb-5010/837_5010/x12_multiple_isa.txt", &[("interchanges", 2), ("transactions", 2), ("claims", 4), ("service_lines", 4)]),
        ("imsweb-5010/837_5010/x223-test.txt", &[("claims", 1), ("service_lines", 1)]),
        // OopFactory de-identified 837P: CLM / SV1 (SV101 qualifier is never HC there).
        ("oopfactory/_837P/_4010/FromNth/837_DeIdent_01.dat", &[("claims", 143), ("service_lines", 235), ("lines_without_procedure_code", 233)]),
        ("oopfactory/_837P/_4010/FromNth/837_DeIdent_02.dat", &[("claims", 62), ("service_lines", 66), ("lines_without_procedure_code", 66)]),
        ("oopfactory/_837P/_4010/FromNth/837_DeIdent_03.dat", &[("claims", 18), ("service_lines", 104), ("adjustments", 1)]),
        ("oopfactory/_837P/_4010/FromNth/837_DeIdent_04.dat", &[("claims", 53), ("service_lines", 269)]),
        ("oopfactory/_837P/_4010/FromNth/837_DeIdent_05.dat", &[("claims", 186), ("service_lines", 687), ("adjustments", 12)]),
        // De-identified 837I: ST / CLM / SV2, and SV2 lines whose SV202 is not HC.
        ("oopfactory/_837I/_4010/FromSwreed/Batch1.txt", &[("transactions", 54), ("claims", 54), ("service_lines", 182), ("lines_without_procedure_code", 176)]),
        ("oopfactory/_837I/_4010/FromSwreed/Batch2.txt", &[("transactions", 50), ("claims", 50), ("service_lines", 165), ("lines_without_procedure_code", 156)]),
        ("oopfactory/_837I/_4010/FromSwreed/Batch3.txt", &[("transactions", 50), ("claims", 50), ("service_lines", 137), ("lines_without_procedure_code", 126)]),
        // 835s: CLP / SVC / CAS reason-amount triplets.
        ("oopfactory/_835/_5010/ExampleFromNth.txt", &[("interchanges", 3), ("payments", 56), ("service_payments", 91), ("adjustments", 97)]),
        ("oopfactory/_835/_5010/FromNth/835_WithMultipleInterchanges.txt", &[("interchanges", 3), ("payments", 56), ("service_payments", 91), ("adjustments", 97)]),
        ("oopfactory/_835/_4010/FromNth/835_DeIdent_01.dat", &[("payments", 96), ("service_payments", 365), ("adjustments", 378)]),
        ("oopfactory/_835/_4010/FromNth/835_DeIdent_02.dat", &[("transactions", 6), ("payments", 375), ("service_payments", 1552), ("adjustments", 2439)]),
        ("oopfactory/_835/_4010/Example1_GripElements.txt", &[("payments", 9), ("service_payments", 9), ("adjustments", 21), ("lines_without_procedure_code", 3)]),
        ("pyx12-4010/835_simple.txt", &[("payments", 3), ("service_payments", 3), ("adjustments", 2), ("segments", 37)]),
        ("pyx12-4010/simple_837i.txt", &[("claims", 2), ("service_lines", 6), ("lines_without_procedure_code", 6)]),
        ("pyx12-4010/loop_counting.txt", &[("claims", 1), ("service_lines", 54)]),
        ("pyx12-4010/mult_isa.txt", &[("interchanges", 2), ("functional_groups", 8), ("transactions", 12), ("transactions_not_loaded", 6)]),
        ("oopfactory/claim-model-testdata/InstitutionalClaim5010.txt", &[("claims", 1), ("service_lines", 2), ("adjustments", 6)]),
    ];
    for (file, counts) in expected {
        let o = load(file);
        for (kind, n) in *counts {
            assert_eq!(o.tally.counts.get(*kind).copied().unwrap_or(0), *n, "{file}: {kind}");
        }
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn professional_lines_carry_the_claim() {
    // pyx12 simple_837p (4010): CLM*3215338*21***12::1 with two SV1*HC:H2015:TT*21*UN*12***1
    // lines; NM1*82 is qualified 24 (not an NPI), so the billing provider's id (NM1*85 ... *24*
    // 999999999) is used; payer NM1*PR "PAYER 1"; POS from CLM05-1 (SV105 is empty).
    let o = load("pyx12-4010/simple_837p.txt");
    let first = &o.lines[0];
    assert_eq!(
        (first.claim_id.as_str(), first.line_no, first.frequency_code.as_str(), first.provider_npi.as_str()),
        ("3215338", 1, "1", "999999999")
    );
    assert_eq!(
        (first.code.as_str(), first.modifier.as_deref(), first.units, first.charge),
        ("H2015", Some("TT"), 12, dec("21"))
    );
    assert_eq!(
        (first.place_of_service.as_str(), first.service_date.as_str(), first.payer.as_deref()),
        ("12", "2004-04-07", Some("PAYER 1"))
    );
    let last = &o.lines[4];
    assert_eq!((last.claim_id.as_str(), last.line_no, last.code.as_str(), last.charge), ("5555", 3, "H2017", dec("1")));
    assert_eq!(last.service_date, "2005-04-14");
    // imsweb x12_valid: SV1*HC:99211:25*12.25*UN*1*11, DTP*472*RD8*20050314-20050325, NM1*85 XX 1234567890.
    let o = load("imsweb-5010/837_5010/x12_valid.txt");
    let l = &o.lines[0];
    assert_eq!(
        (l.claim_id.as_str(), l.code.as_str(), l.modifier.as_deref(), l.charge),
        ("A37YH556", "99211", Some("25"), dec("12.25"))
    );
    assert_eq!(
        (l.service_date.as_str(), l.provider_npi.as_str(), l.place_of_service.as_str()),
        ("2005-03-14", "1234567890", "11")
    );
    assert_eq!(o.tally.warnings[0].reason, "SE01 says \"25\" segments in the transaction set but there are 34");
}

#[test]
fn institutional_lines_without_a_procedure_code_are_counted() {
    // OopFactory 837I 4010 Example1: SV2*0300*HC:81000*120*UN*1, 0320 HC:76092 50, 0270 HC:J1120 30;
    // dates DTP*472 on each line; attending NM1*71 (not a rendering provider): billing NPI.
    let o = load("oopfactory/_837I/_4010/Example1.txt");
    let got: Vec<_> = o.lines.iter().map(|l| (l.code.as_str(), l.charge, l.place_of_service.as_str())).collect();
    assert_eq!(got, [("81000", dec("120"), ""), ("76092", dec("50"), ""), ("J1120", dec("30"), "")]);
    assert!(o
        .lines
        .iter()
        .all(|l| l.provider_npi == "0123456789" && l.claim_id == "2235057" && l.service_date == "2007-07-30"));
}

#[test]
fn remittance_lines_carry_payments_and_adjustments() {
    // pyx12 835_simple: CLP*123839-24635*22 (a reversal): SVC*HC:T1017*-310*-210**6 with
    // CAS*CR*45*-100 becomes a void ("8") with the absolute amounts; the next CLP (status 1)
    // pays 200 of 300; DTM*150 gives the service date; payee N1*PE*Provider 1*FI*382999999.
    let o = load("pyx12-4010/835_simple.txt");
    let (void, paid) = (&o.lines[0], &o.lines[1]);
    assert_eq!(
        (void.frequency_code.as_str(), void.charge, void.paid, void.units),
        ("8", dec("310"), Some(dec("210")), 6)
    );
    assert_eq!((paid.frequency_code.as_str(), paid.charge, paid.paid), ("1", dec("300"), Some(dec("200"))));
    assert_eq!(
        (paid.claim_id.as_str(), paid.code.as_str(), paid.service_date.as_str()),
        ("123839-24635", "T1017", "2008-01-11")
    );
    assert_eq!(
        (paid.carc.clone(), paid.provider_npi.as_str(), paid.payer.as_deref()),
        (vec!["CR-45".to_string()], "382999999", Some("Payer 1"))
    );
    assert_eq!(paid.place_of_service, "");
    // GripElements 111111: CAS*CO*42*0*0 and CAS*OA*23*37.64*0; REF*6R*111111 numbers the line.
    // 090909 (a reversal) ends with LQ*HE*MA92.
    let o = load("oopfactory/_835/_4010/Example1_GripElements.txt");
    let l = o.lines.iter().find(|l| l.claim_id == "111111").unwrap();
    assert_eq!(
        (l.line_no, l.carc.clone(), l.patient_responsibility),
        (111111, vec!["CO-42".to_string(), "OA-23".to_string()], Some(dec("0")))
    );
    let l = o.lines.iter().find(|l| l.claim_id == "090909").unwrap();
    assert_eq!((l.frequency_code.as_str(), l.units, l.rarc.clone()), ("8", 4, vec!["MA92".to_string()]));
    // 333333 has CAS*PR*2*14.92 but bills ZZ:A0230 (not HCPCS-qualified): not produced.
    assert!(o.lines.iter().all(|l| l.claim_id != "333333"));
    // pyx12-5010 835_mult_loops: CLP*2005555A*4 (denied), three T1005 lines paid 0, CAS*CO*16 /
    // CAS*OA*A7 with LQ*HE*N14, DTM*150 service dates, rendering NM1*82 *MC*44452736.
    let o = load("pyx12-5010/835_mult_loops.txt");
    let got: Vec<_> =
        o.lines.iter().map(|l| (l.charge, l.units, l.service_date.as_str(), l.carc[0].as_str())).collect();
    assert_eq!(
        got,
        [
            (dec("500.04"), 68, "2003-11-29", "CO-16"),
            (dec("127.8"), 16, "2003-10-30", "OA-A7"),
            (dec("287.55"), 36, "2003-10-31", "OA-A7")
        ]
    );
    assert!(o.lines.iter().all(|l| l.paid == Some(Decimal::ZERO) && l.rarc == ["N14"] && l.provider_npi == "44452736"));
}

// --- Claim-model test data: compare with the claim model OopFactory parsed from each EDI file,
// read from its UTF-16 XML with a small string search (no XML dependency).

fn read_text(rel: &str) -> String {
    let bytes = std::fs::read(Path::new(DATA).join(rel)).unwrap();
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => {
            let units: Vec<u16> = rest.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
            String::from_utf16(&units).unwrap()
        }
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).unwrap(),
        other => String::from_utf8(other.to_vec()).unwrap(),
    }
}

/// The `name="value"` attribute of the first tag starting with `<tag ` in `xml`.
fn attr<'a>(xml: &'a str, tag: &str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag} "))?;
    let end = start + xml[start..].find('>')?;
    let head = &xml[start..end];
    let at = head.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&head[at..at + head[at..].find('"')?])
}

/// The text of each `<tag ...>...</tag>` element.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag} "), format!("</{tag}>"));
    let mut out = vec![];
    let mut rest = xml;
    while let Some(s) = rest.find(&open) {
        let Some(e) = rest[s..].find(&close) else { break };
        out.push(&rest[s..s + e]);
        rest = &rest[s + e..];
    }
    out
}

#[test]
fn professional_claim_matches_its_claim_model() {
    let xml = read_text("oopfactory/claim-model-testdata/ProfessionalClaim1_ClaimModel.xml");
    let o = load("oopfactory/claim-model-testdata/ProfessionalClaim1.txt");
    assert_eq!(attr(&xml, "Claim", "PatientControlNumber"), Some(o.lines[0].claim_id.as_str()));
    assert_eq!(attr(&xml, "ServiceLocationInfo", "FrequencyTypeCode"), Some(o.lines[0].frequency_code.as_str()));
    // The model has the first four service lines: the EDI was extended afterwards (lines 5-7,
    // SV1 modifiers, SV105 "13" on line 1, and rendering providers NM1*82 for the claim and for
    // line 2), so codes, charges, units and dates are compared; place of service and provider
    // are checked against the EDI segments they now come from.
    let model = elements(&xml, "ServiceLine");
    assert_eq!(model.len(), 4);
    for sl in &model {
        let n: i32 = attr(sl, "ServiceLine", "LineNumber").unwrap().parse().unwrap();
        let line = o.lines.iter().find(|l| l.line_no == n).unwrap();
        assert_eq!(Some(line.code.as_str()), attr(sl, "Procedure", "ProcedureCode"), "line {n}");
        assert_eq!(line.charge, dec(attr(sl, "ServiceLine", "Charges").unwrap()), "line {n}");
        assert_eq!(line.units.to_string(), attr(sl, "ServiceLine", "Quantity").unwrap(), "line {n}");
        let date = attr(sl, "Date", "Date").unwrap();
        assert_eq!(line.service_date, date[..10], "line {n}");
    }
    assert_eq!(o.lines.len(), 7);
    // SV1*HC:99213:AA:BB:CC:DD*40*UN*1*13: first modifier AA, POS 13; the others take CLM05-1 11.
    assert_eq!((o.lines[0].modifier.as_deref(), o.lines[0].place_of_service.as_str()), (Some("AA"), "13"));
    assert_eq!(attr(&xml, "ServiceLocationInfo", "FacilityCode"), Some(o.lines[2].place_of_service.as_str()));
    // Rendering: line 2 has its own NM1*82 (XX 3456789012), the others the claim's (XX 1234567890);
    // the model's provider is the billing provider (9876543210), used only when no rendering one is given.
    let npis: Vec<_> = o.lines.iter().map(|l| l.provider_npi.as_str()).collect();
    assert_eq!(
        npis,
        ["1234567890", "3456789012", "1234567890", "1234567890", "1234567890", "1234567890", "1234567890"]
    );
    assert_eq!(attr(&xml, "Provider", "Npi"), Some("9876543210"));
}

#[test]
fn institutional_claim_matches_its_claim_model() {
    let xml = read_text("oopfactory/claim-model-testdata/InstitutionalClaim5010_ClaimModel.xml");
    let o = load("oopfactory/claim-model-testdata/InstitutionalClaim5010.txt");
    assert_eq!(attr(&xml, "Claim", "PatientControlNumber"), Some("756048Q"));
    // No rendering provider (NM1*82): the billing provider, the model's first Provider, is used.
    let billing = attr(&xml, "Provider", "Npi").unwrap();
    let model = elements(&xml, "ServiceLine");
    assert_eq!(model.len(), o.lines.len());
    for (sl, line) in model.iter().zip(&o.lines) {
        assert_eq!(line.claim_id, "756048Q");
        assert_eq!(line.line_no.to_string(), attr(sl, "ServiceLine", "LineNumber").unwrap());
        assert_eq!(Some(line.code.as_str()), attr(sl, "Procedure", "ProcedureCode"));
        assert_eq!(line.modifier.as_deref(), attr(sl, "Procedure", "Modifier1"));
        assert_eq!(line.charge, dec(attr(sl, "ServiceLine", "ChargeAmount").unwrap()));
        assert_eq!(line.units.to_string(), attr(sl, "ServiceLine", "Quantity").unwrap());
        assert_eq!(Some(line.service_date.as_str()), attr(sl, "ServiceLine", "ServiceDateFrom"));
        assert_eq!(line.provider_npi, billing);
        assert_eq!(line.place_of_service, "");
    }
    // The segment-by-segment XML of the same EDI has the same two SV2 with the same codes.
    let segs = read_text("oopfactory/claim-model-testdata/InstitutionalClaim5010.xml");
    let sv2: Vec<_> = segs.match_indices("<SV20202>").map(|(i, _)| &segs[i + 9..i + 14]).collect();
    assert_eq!(sv2, o.lines.iter().map(|l| l.code.as_str()).collect::<Vec<_>>());
}

#[test]
fn institutional_4010_claim_is_rejected_but_read() {
    // OopFactory parses this file into a claim with two service lines; it breaks 004010X096A1
    // (see the file list), so its transaction is rejected: the claim and both lines were read.
    let xml = read_text("oopfactory/claim-model-testdata/InstitutionalClaim4010_ClaimModel.xml");
    let o = load("oopfactory/claim-model-testdata/InstitutionalClaim4010.txt");
    assert_eq!(o.tally.counts["service_lines"], elements(&xml, "ServiceLine").len() as u64);
    let id = attr(&xml, "Claim", "PatientControlNumber").unwrap();
    assert!(o.tally.rejects[0]
        .reason
        .starts_with(&format!("claim {id:?} (segment 24) rejected with its transaction set 987654")));
}

#[test]
fn sniff_recognises_the_edi_files() {
    for (file, expect) in FILES {
        let bytes = std::fs::read(Path::new(DATA).join(file)).unwrap();
        let head = &bytes[..bytes.len().min(256)];
        // Everything but the files that do not start with an ISA (UTF-16 and BOMs included).
        let expected = !matches!(expect, Fails(text) if *text == NOT_X12);
        assert_eq!(x12::sniff(file, head), expected, "{file}");
    }
}

/// Throughput on imsweb's 312-interchange file repeated 20 times (237,120 segments), in memory:
/// `cargo test -p billstream-connectors --release --test x12_files throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let one = std::fs::read(Path::new(DATA).join("imsweb-5010/837_5010/x12_multiple_transactions.txt")).unwrap();
    let data = one.repeat(20);
    let started = std::time::Instant::now();
    let mut input: &[u8] = &data;
    let mut tally = Tally::default();
    let mut produced = 0u64;
    x12::load(&Ctx::default(), &mut input, &mut |_| produced += 1, &mut tally).unwrap();
    let secs = started.elapsed().as_secs_f64();
    let segments = tally.counts["segments"];
    assert_eq!((segments, produced), (237_120, 6240));
    println!(
        "{segments} segments in {secs:.3}s: {:.0} segments/s, {:.1} MB/s",
        segments as f64 / secs,
        data.len() as f64 / secs / 1e6
    );
}
