//! The X12 envelope: interchanges (ISA/IEA) hold functional groups (GS/GE), which hold
//! transaction sets (ST/SE). Checks the nesting, identifies each transaction set and hands its
//! segments to a `Handler`.
//!
//! Policy: a break in the nesting (a segment outside the envelope level it belongs to, a missing
//! ISA/GS/ST/SE/GE/IEA, the file ending inside an interchange) rejects the whole file, since the
//! transaction boundaries can no longer be trusted. A trailer whose control number differs from
//! its header's (IEA02/ISA13, GE02/GS06) rejects the file too, and SE02/ST02 its transaction set:
//! the trailer may close something else (spliced or truncated transmissions); the rest of the
//! file is still read so every problem is reported. Segment and set counts (SE01, GE01, IEA01)
//! that are off are warnings: every segment was read and validated, and many otherwise sound
//! files (hand-edited samples) carry stale counts.
use super::segments::{Segment, SegmentReader};
use super::walker::{ClaimType, Version};
use crate::feed::{LoadError, Tally};

/// What a transaction set is, from ST01, ST03 / GS08 and ISA12.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxSet {
    /// An 837 or 835 to load.
    Claims { claim_type: ClaimType, version: Version },
    /// Anything else: rejected with this reason.
    Other(String),
}

/// Receives the transaction sets of a file.
pub trait Handler {
    fn begin(&mut self, st: &Segment<'_>, set: TxSet, tally: &mut Tally);
    fn segment(&mut self, seg: &Segment<'_>, tally: &mut Tally);
    /// `mismatch`: SE02 differs from ST02 (where, why): the transaction set is rejected.
    fn end(&mut self, se: &Segment<'_>, mismatch: Option<(String, String)>, tally: &mut Tally);
    /// After the last segment; may reject the file (e.g. it holds no claims at all).
    fn finish(&mut self, tally: &mut Tally) -> Result<(), LoadError>;
}

struct Open {
    at: u64,
    control: String,
    children: u64,
    /// ISA12 for an interchange, GS08 for a group.
    version: String,
}

/// Reads every segment of the file through the envelope into `handler`.
pub fn read(reader: &mut SegmentReader<'_>, handler: &mut dyn Handler, tally: &mut Tally) -> Result<(), LoadError> {
    let mut isa: Option<Open> = None;
    let mut gs: Option<Open> = None;
    let mut st: Option<Open> = None;
    let mut last_iea: Option<u64> = None;
    // The first trailer control-number mismatch: reported once the whole file was read.
    let mut fatal: Option<(String, String)> = None;
    while let Some(seg) = reader.next_segment()? {
        let id = seg.id();
        let n = seg.number;
        if let Some(tx) = &st {
            match id {
                "SE" => {
                    let mismatch = trailer_checks(&seg, tx, n - tx.at + 1, "ST02", tally);
                    handler.end(&seg, mismatch, tally);
                    st = None;
                }
                "ST" | "GE" | "GS" | "IEA" | "ISA" => {
                    return Err(envelope_error(
                        &seg,
                        format!("comes before the SE of the transaction set started at segment {}", tx.at),
                    ));
                }
                _ => handler.segment(&seg, tally),
            }
            continue;
        }
        if let Some(group) = &mut gs {
            match id {
                "ST" => {
                    group.children += 1;
                    tally.count("transactions", 1);
                    let set = identify(&seg, &group.version, isa.as_ref().map_or("", |i| i.version.as_str()), tally);
                    st = Some(Open { at: n, control: seg.element(2).to_string(), children: 0, version: String::new() });
                    handler.begin(&seg, set, tally);
                }
                "GE" => {
                    let mismatch = trailer_checks(&seg, group, group.children, "GS06", tally);
                    fatal = fatal.or(mismatch);
                    gs = None;
                }
                "GS" | "IEA" | "ISA" => {
                    return Err(envelope_error(
                        &seg,
                        format!("comes before the GE of the functional group started at segment {}", group.at),
                    ));
                }
                _ => {
                    return Err(envelope_error(
                        &seg,
                        format!(
                        "is outside a transaction set: the functional group started at segment {} has no ST before it",
                        group.at
                    ),
                    ))
                }
            }
            continue;
        }
        if let Some(inter) = &mut isa {
            match id {
                "GS" => {
                    inter.children += 1;
                    tally.count("functional_groups", 1);
                    gs = Some(Open {
                        at: n,
                        control: seg.element(6).to_string(),
                        children: 0,
                        version: seg.element(8).to_string(),
                    });
                }
                "IEA" => {
                    let mismatch = trailer_checks(&seg, inter, inter.children, "ISA13", tally);
                    fatal = fatal.or(mismatch);
                    isa = None;
                    last_iea = Some(n);
                }
                // An interchange acknowledgment may sit between groups.
                "TA1" => {}
                "ISA" => {
                    return Err(envelope_error(
                        &seg,
                        format!("comes before the IEA of the interchange started at segment {}", inter.at),
                    ))
                }
                _ => {
                    return Err(envelope_error(
                        &seg,
                        format!(
                            "is outside a functional group: the interchange started at segment {} has no GS before it",
                            inter.at
                        ),
                    ))
                }
            }
            continue;
        }
        if id == "ISA" {
            tally.count("interchanges", 1);
            isa = Some(Open {
                at: n,
                control: seg.element(13).to_string(),
                children: 0,
                version: seg.element(12).to_string(),
            });
        } else {
            let after = last_iea
                .map_or(String::new(), |e| format!(" (the interchange before it ended with IEA at segment {e})"));
            return Err(envelope_error(
                &seg,
                format!("is outside an interchange{after}: an interchange must start with ISA"),
            ));
        }
    }
    let end = format!("segment {}", reader.count());
    let open = [(st, "SE", "transaction set"), (gs, "GE", "functional group"), (isa, "IEA", "interchange")];
    if let Some((Some(o), trailer, what)) = open.into_iter().find(|(o, _, _)| o.is_some()) {
        return Err(LoadError::rejected(
            end,
            format!("the file ends inside the {what} started at segment {} (no {trailer}): it is truncated", o.at),
        ));
    }
    tally.count("segments", reader.count());
    // A file of non-claim sets is reported as such first.
    handler.finish(tally)?;
    match fatal {
        Some((at, reason)) => Err(LoadError::rejected(at, reason)),
        None => Ok(()),
    }
}

fn envelope_error(seg: &Segment<'_>, what: String) -> LoadError {
    LoadError::rejected(seg.at(), format!("{} {what}", seg.id()))
}

/// SE/GE/IEA: element 1 counts what the envelope holds (a mismatch is a warning), element 2
/// repeats the header's control number (a mismatch is returned; see the module policy).
fn trailer_checks(
    seg: &Segment<'_>,
    open: &Open,
    actual: u64,
    header_el: &str,
    tally: &mut Tally,
) -> Option<(String, String)> {
    let id = seg.id();
    let (count, control) = (seg.element(1), seg.element(2));
    let what = match id {
        "SE" => "segments in the transaction set",
        "GE" => "transaction sets in the group",
        _ => "functional groups in the interchange",
    };
    if count.parse::<u64>().ok() != Some(actual) {
        tally.warn(seg.at_element(1, 0), format!("{id}01 says {count:?} {what} but there are {actual}"));
    }
    (control != open.control).then(|| {
        (
            seg.at_element(2, 0),
            format!("{id}02 {control:?} does not match {header_el} {:?} (segment {})", open.control, open.at),
        )
    })
}

/// What the ST starts: an 837/835 of a known guide, or something not loaded here.
fn identify(st: &Segment<'_>, gs08: &str, isa12: &str, tally: &mut Tally) -> TxSet {
    let set = st.element(1);
    let st03 = st.element(3);
    let guide = if st03.is_empty() { gs08 } else { st03 };
    if !st03.is_empty() && !gs08.is_empty() && st03 != gs08 {
        tally.warn(
            st.at_element(3, 0),
            format!("ST03 {st03:?} differs from GS08 {gs08:?}; the transaction is read as ST03 says"),
        );
    }
    if set != "837" && set != "835" {
        return TxSet::Other(format!(
            "transaction set {set} ({}) is not a claim (837) or remittance (835)",
            set_name(set)
        ));
    }
    let known = guide_of(guide);
    match known {
        Some(Guide::Claims(claim_type, version)) => {
            let expected = if claim_type == ClaimType::Remit { "835" } else { "837" };
            if expected != set {
                return TxSet::Other(format!("ST01 is {set} but the implementation guide {guide:?} is for {expected}"));
            }
            TxSet::Claims { claim_type, version }
        }
        Some(Guide::Dental) => TxSet::Other(format!(
            "837 dental claims ({guide}) are not loaded: only professional (X222/X098) and institutional (X223/X096) claims"
        )),
        None => {
            let version = match isa12 {
                "00401" => Version::V4010,
                "00501" => Version::V5010,
                _ => Version::Unknown,
            };
            let claim_type = if set == "835" { ClaimType::Remit } else { ClaimType::Unknown };
            tally.warn(
                st.at(),
                format!("{guide:?} names no known {set} implementation guide; the transaction is read by its content (ISA12 {isa12:?})"),
            );
            TxSet::Claims { claim_type, version }
        }
    }
}

enum Guide {
    Claims(ClaimType, Version),
    Dental,
}

fn guide_of(guide: &str) -> Option<Guide> {
    let v5 = guide.starts_with("005010");
    let v4 = guide.starts_with("004010");
    if !v5 && !v4 {
        return None;
    }
    let version = if v5 { Version::V5010 } else { Version::V4010 };
    let id = guide.get(6..10)?;
    let claim_type = match (id, v5) {
        ("X222", true) | ("X098", false) => ClaimType::Prof,
        ("X223", true) | ("X096", false) => ClaimType::Inst,
        ("X221", true) | ("X091", false) => ClaimType::Remit,
        ("X224", true) | ("X097", false) => return Some(Guide::Dental),
        _ => return None,
    };
    Some(Guide::Claims(claim_type, version))
}

fn set_name(set: &str) -> &'static str {
    match set {
        "999" => "implementation acknowledgment",
        "997" => "functional acknowledgment",
        "277" => "claim status response / claim acknowledgment",
        "276" => "claim status request",
        "270" => "eligibility inquiry",
        "271" => "eligibility response",
        "278" => "services review / prior authorization",
        "275" => "patient information",
        "820" => "premium payment",
        "834" => "benefit enrollment",
        "824" => "application advice",
        "" => "no ST01",
        _ => "not a health care claim set",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Log(Vec<String>);
    impl Handler for Log {
        fn begin(&mut self, st: &Segment<'_>, set: TxSet, _: &mut Tally) {
            self.0.push(format!("begin {} {set:?}", st.element(2)));
        }
        fn segment(&mut self, seg: &Segment<'_>, _: &mut Tally) {
            self.0.push(seg.id().to_string());
        }
        fn end(&mut self, se: &Segment<'_>, mismatch: Option<(String, String)>, _: &mut Tally) {
            self.0.push(format!("end {} {mismatch:?}", se.number));
        }
        fn finish(&mut self, _: &mut Tally) -> Result<(), LoadError> {
            Ok(())
        }
    }

    const ISA: &str =
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *030101*1253*^*00501*000000905*1*T*:~";

    fn run(body: &str) -> (Result<(), LoadError>, Vec<String>, Tally) {
        let text = format!("{ISA}{body}");
        let mut input = text.as_bytes();
        let mut reader = SegmentReader::new(&mut input);
        let mut log = Log::default();
        let mut tally = Tally::default();
        let r = read(&mut reader, &mut log, &mut tally);
        (r, log.0, tally)
    }

    #[test]
    fn nesting_and_identification() {
        let (r, log, tally) = run("GS*HC*A*B*1*1*7*X*005010X222A1~ST*837*0001~BHT*0019~SE*3*0001~ST*999*0002*005010X231A1~SE*2*0002~GE*2*7~IEA*1*000000905~");
        r.unwrap();
        assert_eq!(log[0], "begin 0001 Claims { claim_type: Prof, version: V5010 }");
        assert_eq!(log[1], "BHT");
        assert!(
            log[3].starts_with("begin 0002 Other(\"transaction set 999 (implementation acknowledgment) is not a claim"),
            "{}",
            log[3]
        );
        // The 999 names its own guide in ST03: the only warning.
        assert_eq!(tally.warnings.len(), 1, "{:?}", tally.warnings);
        assert!(tally.warnings[0].reason.starts_with("ST03 \"005010X231A1\" differs from GS08"));
        assert_eq!(tally.counts["transactions"], 2);
        assert_eq!(tally.counts["segments"], 9);
    }

    #[test]
    fn trailer_counts_warn_and_control_numbers_reject() {
        let (r, log, tally) =
            run("GS*HC*A*B*1*1*7*X*004010X098A1~ST*837*0001~SE*25*0002~GE*2*8~ST*837*1~IEA*1*000000906~");
        let w: Vec<_> = tally.warnings.iter().map(|w| format!("{}: {}", w.at, w.reason)).collect();
        assert_eq!(
            w[0],
            "segment 4 (SE), element SE01: SE01 says \"25\" segments in the transaction set but there are 2"
        );
        assert!(w[1].contains("GE01 says \"2\" transaction sets in the group but there are 1"), "{w:?}");
        assert_eq!(log[1], "end 4 Some((\"segment 4 (SE), element SE02\", \"SE02 \\\"0002\\\" does not match ST02 \\\"0001\\\" (segment 3)\"))");
        // The GE02 mismatch rejects the file, after reading on (the stray ST is reported instead).
        let err = r.unwrap_err().to_string();
        assert!(err.starts_with("segment 6 (ST): ST is outside a functional group"), "{err}");
        let (r, _, _) = run("GS*HC*A*B*1*1*7*X*004010X098A1~ST*837*0001~SE*2*0001~GE*1*8~IEA*1*000000905~");
        assert_eq!(
            r.unwrap_err().to_string(),
            "segment 5 (GE), element GE02: GE02 \"8\" does not match GS06 \"7\" (segment 2)"
        );
    }

    #[test]
    fn broken_nesting_rejects_the_file() {
        let cases = [
            ("ST*837*1~SE*2*1~", "segment 2 (ST): ST is outside a functional group"),
            ("GS*HC*A~BHT*0019~", "segment 3 (BHT): BHT is outside a transaction set"),
            ("GS*HC*A~ST*837*1~BHT~GE*1*1~", "segment 5 (GE): GE comes before the SE"),
            ("GS*HC*A~ST*837*1~SE*2*1~IEA*1*1~", "segment 5 (IEA): IEA comes before the GE"),
            (
                "GS*HC*A~ST*837*1~SE*2*1~GE*1*1~",
                "segment 5: the file ends inside the interchange started at segment 1 (no IEA)",
            ),
            ("GS*HC*A~ST*837*1~", "segment 3: the file ends inside the transaction set started at segment 3 (no SE)"),
            (
                "IEA*0*1~GS*HC~",
                "segment 3 (GS): GS is outside an interchange (the interchange before it ended with IEA at segment 2)",
            ),
        ];
        for (body, expected) in cases {
            let err = run(body).0.unwrap_err().to_string();
            assert!(err.starts_with(expected), "{body}: {err}");
        }
    }

    #[test]
    fn guides() {
        assert!(matches!(guide_of("005010X223A2"), Some(Guide::Claims(ClaimType::Inst, Version::V5010))));
        assert!(matches!(guide_of("005010X222"), Some(Guide::Claims(ClaimType::Prof, Version::V5010))));
        assert!(matches!(guide_of("004010X091A1"), Some(Guide::Claims(ClaimType::Remit, Version::V4010))));
        assert!(matches!(guide_of("004010X097A1"), Some(Guide::Dental)));
        assert!(guide_of("999999X999X9").is_none());
        assert!(guide_of("5010").is_none());
    }
}
