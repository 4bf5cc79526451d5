//! The layout of an 837 claim (professional 005010X222A1 / 004010X098A1, institutional
//! 005010X223A2 / 004010X096A1) as loops and segments, after the implementation guides.
//!
//! One map serves the four guides: where they differ the items are marked `Prof`/`Inst`/`V4010`/
//! `V5010`, and a few loop families whose ids differ between guides (2310x, 2330x, 2420x, the
//! 2010Bx parties) are merged into one loop each, triggered by any of their entity codes. The HL
//! hierarchy is nested: billing provider (2000A) holds subscribers (2000B), which hold patients
//! (2000C); claims (2300) sit in 2000B or 2000C.
use super::schema::*;
use super::schema::{Role as R, When as W};

const EI_SY: &[&str] = &["EI", "SY"];

pub static TX837: LoopDef = LoopDef {
    id: "837",
    name: "transaction header",
    role: R::Header,
    ordered: true,
    body: &[
        seg("ST", 1, true),
        seg("BHT", 1, true),
        segq("REF", 1, &["87"], 1, true).when(W::V4010),
        lp(&L1000A, 1, true),
        lp(&L1000B, 1, true),
        lp(&L2000A, MANY, true),
    ],
};

static L1000A: LoopDef = LoopDef {
    id: "1000A",
    name: "submitter name",
    role: R::Submitter,
    ordered: true,
    body: &[segq("NM1", 1, &["41"], 1, true), seg("N2", 1, false).when(W::V4010), seg("PER", 2, true)],
};

static L1000B: LoopDef = LoopDef {
    id: "1000B",
    name: "receiver name",
    role: R::Receiver,
    ordered: true,
    body: &[segq("NM1", 1, &["40"], 1, true), seg("N2", 1, false).when(W::V4010)],
};

static L2000A: LoopDef = LoopDef {
    id: "2000A",
    name: "billing provider hierarchical level",
    role: R::BillingHl,
    ordered: true,
    body: &[
        segq("HL", 3, &["20"], 1, true),
        seg("PRV", 1, false),
        seg("CUR", 1, false),
        lp(&L2010AA, 1, true),
        lp(&L2010AB, 1, false),
        lp(&L2010AC, 1, false).when(W::V5010),
        lp(&L2000B, MANY, true),
    ],
};

static L2010AA: LoopDef = LoopDef {
    id: "2010AA",
    name: "billing provider name",
    role: R::BillingProvider,
    ordered: true,
    body: &[
        segq("NM1", 1, &["85"], 1, true),
        seg("N2", 1, false).when(W::V4010),
        seg("N3", 1, true),
        seg("N4", 1, true),
        segq("REF", 1, EI_SY, 1, false).group(1),
        segn("REF", 1, EI_SY, 16, false).group(1),
        seg("PER", 2, false),
    ],
};

static L2010AB: LoopDef = LoopDef {
    id: "2010AB",
    name: "pay-to address name",
    role: R::PayTo,
    ordered: true,
    body: &[
        segq("NM1", 1, &["87"], 1, true),
        seg("N2", 1, false).when(W::V4010),
        seg("N3", 1, true),
        seg("N4", 1, true),
        seg("REF", 5, false).when(W::V4010),
    ],
};

static L2010AC: LoopDef = LoopDef {
    id: "2010AC",
    name: "pay-to plan name",
    role: R::PayTo,
    ordered: true,
    body: &[segq("NM1", 1, &["PE"], 1, true), seg("N3", 1, false), seg("N4", 1, false), seg("REF", 2, false)],
};

static L2000B: LoopDef = LoopDef {
    id: "2000B",
    name: "subscriber hierarchical level",
    role: R::Subscriber,
    ordered: true,
    body: &[
        segq("HL", 3, &["22"], 1, true),
        seg("SBR", 1, true),
        seg("PAT", 1, false),
        lp(&L2010BA, 1, true).group(1),
        lp(&L2010BB, 1, true).group(1),
        lp(&L2010BX, 2, false).when(W::V4010).group(1),
        lp(&L2300, 100, false),
        lp(&L2000C, MANY, false),
    ],
};

static L2010BA: LoopDef = LoopDef {
    id: "2010BA",
    name: "subscriber name",
    role: R::SubscriberName,
    ordered: true,
    body: &[
        segq("NM1", 1, &["IL"], 1, true),
        seg("N2", 1, false).when(W::V4010),
        seg("N3", 1, false),
        seg("N4", 1, false),
        seg("DMG", 1, false),
        seg("REF", 5, false),
        seg("PER", 1, false),
    ],
};

static L2010BB: LoopDef = LoopDef {
    id: "2010BB",
    name: "payer name",
    role: R::Payer,
    ordered: true,
    body: &[
        segq("NM1", 1, &["PR"], 1, true),
        seg("N2", 1, false).when(W::V4010),
        seg("N3", 1, false),
        seg("N4", 1, false),
        seg("REF", 8, false),
    ],
};

/// 4010 only: responsible party (QD) and credit card holder (AO).
static L2010BX: LoopDef = LoopDef {
    id: "2010BC/2010BD",
    name: "responsible party or credit card holder",
    role: R::OtherParty,
    ordered: true,
    body: &[
        segq("NM1", 1, &["QD", "AO"], 1, true),
        seg("N2", 1, false),
        seg("N3", 1, false),
        seg("N4", 1, false),
        seg("REF", 2, false),
    ],
};

static L2000C: LoopDef = LoopDef {
    id: "2000C",
    name: "patient hierarchical level",
    role: R::Patient,
    ordered: true,
    body: &[segq("HL", 3, &["23"], 1, true), seg("PAT", 1, true), lp(&L2010CA, 1, true), lp(&L2300, 100, false)],
};

static L2010CA: LoopDef = LoopDef {
    id: "2010CA",
    name: "patient name",
    role: R::PatientName,
    ordered: true,
    body: &[
        segq("NM1", 1, &["QC"], 1, true),
        seg("N2", 1, false).when(W::V4010),
        seg("N3", 1, false),
        seg("N4", 1, false),
        seg("DMG", 1, false),
        seg("REF", 5, false),
        seg("PER", 1, false),
    ],
};

static L2300: LoopDef = LoopDef {
    id: "2300",
    name: "claim information",
    role: R::Claim,
    ordered: false,
    body: &[
        seg("CLM", 1, true),
        seg("DTP", 30, false),
        seg("CL1", 1, false).when(W::Inst),
        seg("PWK", 10, false),
        seg("CN1", 1, false),
        seg("DSB", 1, false).when(W::V4010),
        seg("UR", 1, false).when(W::V4010),
        seg("AMT", 6, false),
        seg("REF", 30, false),
        seg("K3", 10, false),
        seg("NTE", 20, false),
        seg("CR1", 1, false).when(W::Prof),
        seg("CR2", 5, false).when(W::Prof),
        seg("CR3", 1, false).when(W::Prof),
        seg("CR4", 3, false).when(W::Prof),
        seg("CR5", 1, false).when(W::Prof),
        seg("CR6", 1, false).when(W::Inst),
        seg("CR8", 1, false).when(W::Prof),
        seg("CRC", 8, false),
        seg("HI", 40, true),
        seg("QTY", 4, false).when(W::Inst),
        seg("HCP", 1, false),
        lp(&L2305, 6, false).when(W::V4010),
        lp(&L2310, 12, false),
        lp(&L2320, 10, false),
        lp(&L2400, 50, true).when(W::Prof),
        lp(&L2400, 999, true).when(W::Inst),
    ],
};

/// 4010 professional home health care plan.
static L2305: LoopDef = LoopDef {
    id: "2305",
    name: "home health care plan information",
    role: R::HomeHealth,
    ordered: true,
    body: &[seg("CR7", 1, true), seg("HSD", 12, false)],
};

/// Claim-level providers: 2310A-F (referring, rendering, facility, supervising, ambulance
/// pick-up/drop-off in 837P; attending, operating, other, rendering, facility, referring in 837I).
static L2310: LoopDef = LoopDef {
    id: "2310",
    name: "claim provider",
    role: R::ClaimProvider,
    ordered: true,
    body: &[
        segq(
            "NM1",
            1,
            &["DN", "P3", "82", "77", "DQ", "PW", "45", "QB", "FA", "LI", "TL", "71", "72", "ZZ", "73", "DK"],
            1,
            true,
        ),
        seg("N2", 1, false).when(W::V4010),
        seg("PRV", 1, false),
        seg("N3", 1, false),
        seg("N4", 1, false),
        seg("REF", 20, false),
        seg("PER", 1, false),
    ],
};

static L2320: LoopDef = LoopDef {
    id: "2320",
    name: "other subscriber information",
    role: R::OtherSubscriber,
    ordered: true,
    body: &[
        seg("SBR", 1, true),
        seg("CAS", 5, false),
        seg("AMT", 20, false),
        // DMG left the 2320 loop in 5010, but the guide's own COB examples still carry it.
        seg("DMG", 1, false),
        seg("OI", 1, false),
        seg("MIA", 1, false),
        seg("MOA", 1, false),
        lp(&L2330, 10, false),
    ],
};

/// Other payer parties: 2330A-I (subscriber, payer, and the other payer's provider ids).
static L2330: LoopDef = LoopDef {
    id: "2330",
    name: "other payer party",
    role: R::OtherPayerParty,
    ordered: true,
    body: &[
        segq(
            "NM1",
            1,
            &[
                "IL", "PR", "DN", "P3", "82", "77", "DQ", "85", "71", "72", "ZZ", "73", "FA", "QC", "PE", "TL", "LI",
                "DK",
            ],
            1,
            true,
        ),
        seg("N2", 1, false).when(W::V4010),
        seg("N3", 1, false),
        seg("N4", 1, false),
        seg("PER", 2, false),
        seg("DTP", 2, false),
        seg("REF", 10, false),
    ],
};

static L2400: LoopDef = LoopDef {
    id: "2400",
    name: "service line",
    role: R::Line,
    ordered: false,
    body: &[
        seg("LX", 1, true),
        seg("SV1", 1, true).when(W::Prof),
        seg("SV2", 1, true).when(W::Inst),
        seg("SV4", 1, false).when(W::Prof),
        seg("SV5", 1, false).when(W::Prof),
        seg("PWK", 10, false),
        seg("CR1", 1, false).when(W::Prof),
        seg("CR2", 5, false).when(W::Prof),
        seg("CR3", 1, false).when(W::Prof),
        seg("CR4", 3, false).when(W::Prof),
        seg("CR5", 1, false).when(W::Prof),
        seg("CRC", 3, false),
        seg("DTP", 20, false),
        seg("QTY", 2, false),
        seg("MEA", 20, false),
        seg("CN1", 1, false),
        seg("REF", 30, false),
        seg("AMT", 5, false),
        seg("K3", 10, false),
        seg("NTE", 10, false),
        seg("PS1", 1, false),
        seg("HSD", 1, false),
        seg("HCP", 1, false),
        lp(&L2410, 25, false),
        lp(&L2420, 20, false),
        lp(&L2430, 25, false),
        lp(&L2440, MANY, false),
    ],
};

static L2410: LoopDef = LoopDef {
    id: "2410",
    name: "drug identification",
    role: R::LineDrug,
    ordered: true,
    body: &[seg("LIN", 1, true), seg("CTP", 1, false), seg("REF", 1, false)],
};

/// Line-level providers: 2420A-H (rendering, purchased service, facility, supervising, ordering,
/// referring, ambulance in 837P; operating, other operating, rendering, referring in 837I).
static L2420: LoopDef = LoopDef {
    id: "2420",
    name: "service line provider",
    role: R::LineProvider,
    ordered: true,
    body: &[
        segq(
            "NM1",
            1,
            &["82", "QB", "77", "FA", "LI", "TL", "DQ", "DK", "DN", "P3", "PW", "45", "72", "ZZ", "73", "71"],
            1,
            true,
        ),
        seg("N2", 1, false).when(W::V4010),
        seg("PRV", 1, false),
        seg("N3", 1, false),
        seg("N4", 1, false),
        seg("REF", 20, false),
        seg("PER", 1, false),
    ],
};

static L2430: LoopDef = LoopDef {
    id: "2430",
    name: "line adjudication information",
    role: R::LineAdjudication,
    ordered: true,
    body: &[seg("SVD", 1, true), seg("CAS", 5, false), seg("DTP", 1, false), seg("AMT", 1, false)],
};

static L2440: LoopDef = LoopDef {
    id: "2440",
    name: "form identification code",
    role: R::LineForm,
    ordered: true,
    body: &[seg("LQ", 1, true), seg("FRM", 99, true)],
};
