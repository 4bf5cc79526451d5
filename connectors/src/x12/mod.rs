//! X12 837P/837I/835 (4010 and 5010) → claim lines.
//!
//! Reads an EDI file as a stream of segments (`segments`), checks its envelope (`envelope`),
//! places each segment of a transaction set in the loops of its implementation guide (`walker`
//! over the `map837` / `map835` layouts), checks elements (`elements`), and maps claims
//! (`claims837`) and remittances (`remit835`) to `ClaimLine`s (`txn` decides what is produced).
//!
//! Outcome policy: a broken envelope (no ISA, a missing GS/ST/SE/GE/IEA, a truncated file, a
//! GE02/IEA02 control number that differs from its header) or a file without any 837/835 rejects
//! the file (`LoadError`); a layout or element problem outside any claim (or an SE02 that differs
//! from ST02) rejects its transaction set, every claim in it rejected in the tally; a problem
//! inside a claim, including a service line that cannot be a claim line, rejects that claim.
//! Other transaction sets in a mixed file (278, 999, 277...) are rejected one by one. Counts that
//! are off in SE01/GE01/IEA01 are warnings. Lines without an HCPCS/CPT code (institutional
//! revenue-code-only lines, other code qualifiers) are counted as `lines_without_procedure_code`
//! and not produced. Memory: one read chunk, one segment, and the claim lines of the current
//! transaction set.
mod claims837;
mod elements;
mod envelope;
mod map835;
mod map837;
mod remit835;
mod schema;
pub mod segments;
mod txn;
mod walker;

use crate::feed::{Ctx, LoadError, Out, Tally};
use std::io::BufRead;

/// Whether `head` (the first bytes of a file) is X12: optional BOM and whitespace, then "ISA"
/// and a separator; UTF-16 text too.
pub fn sniff(_name: &str, head: &[u8]) -> bool {
    if let Some(le) = segments::utf16_order(head) {
        let skip = usize::from(matches!(head, [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..])) * 2;
        let units: Vec<u8> = head[skip..].chunks_exact(2).map(|p| if le { p[0] } else { p[1] }).collect();
        return sniff_ascii(&units);
    }
    sniff_ascii(head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head))
}

fn sniff_ascii(head: &[u8]) -> bool {
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    match &head[start..] {
        [b'I', b'S', b'A', sep, ..] => !sep.is_ascii_alphanumeric() && !sep.is_ascii_whitespace(),
        _ => false,
    }
}

/// The `Loader` for X12 files: reads every interchange, produces a `ClaimLine` per 837 service
/// line and per 835 service payment, and notes rejects and warnings in `tally`.
pub fn load(_ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let head = input.fill_buf()?;
    match segments::utf16_order(head) {
        Some(little_endian) => {
            let mut decoded = segments::Utf16Reader::new(input, little_endian);
            run(&mut decoded, out, tally)
        }
        None => run(input, out, tally),
    }
}

fn run(input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut reader = segments::SegmentReader::new(input);
    let mut handler = txn::Transactions::new(out);
    envelope::read(&mut reader, &mut handler, tally)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::Item;

    const HEAD: &str =
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *030101*1253*^*00501*000000905*1*T*:~\
        GS*HC*A*B*20200101*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019*00*1*20200101*1200*CH~\
        NM1*41*2*S*****46*1~PER*IC*X*TE*1~NM1*40*2*R*****46*2~HL*1**20*1~NM1*85*2*B*****XX*1234567893~N3*A~N4*C*S*1~\
        HL*2*1*22*0~SBR*P~NM1*IL*1*D~NM1*PR*2*PAYER~";

    fn run(body: &str, trailer: &str) -> (Vec<schemas::ClaimLine>, Tally, Option<LoadError>) {
        let text = format!("{HEAD}{body}{trailer}");
        let mut input = text.as_bytes();
        let mut lines = vec![];
        let mut tally = Tally::default();
        let mut out = |item| {
            if let Item::Claim(c) = item {
                lines.push(c)
            }
        };
        let err = load(&Ctx::default(), &mut input, &mut out, &mut tally).err();
        (lines, tally, err)
    }

    const CLAIMS: &str = "CLM*ONE*20***11:B:1~HI*ABK:R05~LX*1~SV1*HC:99213:25*20*UN*1~DTP*472*D8*20200102~\
        CLM*TWO*30***11:B:7~HI*ABK:R05~LX*1~SV1*HC:99214*10*UN*1~DTP*472*D8*20200103~LX*2~SV1*HC:99215*20*UN*1.5~DTP*472*D8*20200103~";
    const END: &str = "SE*99*0001~GE*1*1~IEA*1*000000905~";

    #[test]
    fn a_bad_service_line_rejects_its_claim_only() {
        let (lines, tally, err) = run(CLAIMS, END);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        assert_eq!(
            (l.claim_id.as_str(), l.code.as_str(), l.modifier.as_deref(), l.service_date.as_str()),
            ("ONE", "99213", Some("25"), "2020-01-02")
        );
        assert_eq!(
            (l.provider_npi.as_str(), l.payer.as_deref(), l.place_of_service.as_str()),
            ("1234567893", Some("PAYER"), "11")
        );
        assert_eq!(tally.rejects.len(), 1);
        // Segments: ISA 1 ... NM1*PR 15, CLM*ONE 16, CLM*TWO 21, its second SV1 27, SE 29.
        assert_eq!(tally.rejects[0].at, "segment 27 (SV1), element SV104");
        assert_eq!(
            tally.rejects[0].reason,
            "claim \"TWO\" (segment 21) rejected: 1.5 is not a whole number of units (a claim line counts whole units)"
        );
        assert_eq!((tally.counts["claims"], tally.counts["service_lines"]), (2, 3));
        assert_eq!(tally.warnings[0].reason, "SE01 says \"99\" segments in the transaction set but there are 27");
    }

    #[test]
    fn a_problem_outside_the_claims_rejects_the_transaction() {
        let body = format!("DMG*D8*20201301*F~{CLAIMS}");
        let (lines, tally, _) = run(&body, END);
        assert!(lines.is_empty());
        assert_eq!(tally.rejected, 2);
        // A DMG after the payer name (segment 16) fits no loop there: both claims go with their set.
        assert_eq!(tally.rejects[0].at, "segment 16 (DMG)");
        assert_eq!(
            tally.rejects[1].reason,
            "claim \"TWO\" (segment 22) rejected with its transaction set 0001 (segment 3): DMG is not expected in loop 2010BB (payer name)"
        );
        let (_, tally, _) = run(&CLAIMS.replace("SV1*HC:99213:25*20", "SV1*HC:99213:25*2O"), END);
        assert_eq!(tally.rejects[0].at, "segment 19 (SV1), element SV102");
        assert!(tally.rejects[0].reason.ends_with("\"2O\" is not an amount"));
    }

    #[test]
    fn non_claim_sets_alone_reject_the_file() {
        let text = HEAD.split("ST*837").next().unwrap_or_default().to_string()
            + "ST*999*0001~AK1*HC*1~SE*3*0001~GE*1*1~IEA*1*000000905~";
        let mut input = text.as_bytes();
        let mut tally = Tally::default();
        let err = load(&Ctx::default(), &mut input, &mut |_| {}, &mut tally).unwrap_err();
        assert_eq!(err.to_string(), "segment 3 (ST): transaction set 999 (implementation acknowledgment) is not a claim (837) or remittance (835)");
    }

    #[test]
    fn sniffs_x12() {
        assert!(sniff("a.txt", b"ISA*00*"));
        assert!(sniff("a.txt", b"\xEF\xBB\xBF  \r\nISA|00|"));
        assert!(sniff("a.txt", &[b'I', 0, b'S', 0, b'A', 0, b'*', 0]));
        assert!(sniff("a.txt", b"\xFF\xFEI\0S\0A\0*\0"));
        assert!(!sniff("a.txt", b"GS*HC*"));
        assert!(!sniff("a.txt", b"ISAAC,NEWTON"));
        assert!(!sniff("a.txt", b"{\"ISA\": 1}"));
    }
}
