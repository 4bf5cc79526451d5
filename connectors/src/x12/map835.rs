//! The layout of an 835 remittance (005010X221A1 / 004010X091A1) as loops and segments, after
//! the implementation guides: a header (payment, trace number, payer 1000A, payee 1000B), header
//! number loops (2000, LX) of claim payments (2100, CLP) with their service payments (2110, SVC),
//! and provider adjustments (PLB) at the end.
use super::schema::*;
use super::schema::{Role as R, When as W};

pub static TX835: LoopDef = LoopDef {
    id: "835",
    name: "transaction header",
    role: R::Header,
    ordered: true,
    body: &[
        seg("ST", 1, true),
        seg("BPR", 1, true),
        seg("NTE", MANY, false).when(W::V4010),
        seg("TRN", 1, true),
        seg("CUR", 1, false),
        segq("REF", 1, &["EV"], 1, false).group(1),
        segq("REF", 1, &["F2"], 1, false).group(1),
        seg("DTM", 1, false),
        lp(&L1000A, 1, true),
        lp(&L1000B, 1, true),
        lp(&L2000, MANY, false),
        seg("PLB", MANY, false),
    ],
};

static L1000A: LoopDef = LoopDef {
    id: "1000A",
    name: "payer identification",
    role: R::RemitPayer,
    ordered: true,
    body: &[
        segq("N1", 1, &["PR"], 1, true),
        seg("N2", 1, false).when(W::V4010),
        seg("N3", 1, true),
        seg("N4", 1, true),
        seg("REF", 4, false),
        seg("PER", MANY, false),
    ],
};

static L1000B: LoopDef = LoopDef {
    id: "1000B",
    name: "payee identification",
    role: R::RemitPayee,
    ordered: true,
    body: &[
        segq("N1", 1, &["PE"], 1, true),
        seg("N2", 1, false).when(W::V4010),
        seg("N3", 1, false),
        seg("N4", 1, false),
        seg("REF", MANY, false),
        seg("RDM", 1, false).when(W::V5010),
    ],
};

static L2000: LoopDef = LoopDef {
    id: "2000",
    name: "header number",
    role: R::RemitHeaderNumber,
    ordered: true,
    body: &[seg("LX", 1, true), seg("TS3", 1, false), seg("TS2", 1, false), lp(&L2100, MANY, true)],
};

static L2100: LoopDef = LoopDef {
    id: "2100",
    name: "claim payment information",
    role: R::RemitClaim,
    ordered: false,
    body: &[
        seg("CLP", 1, true),
        seg("CAS", 99, false),
        segq("NM1", 1, &["QC"], 1, true),
        segq("NM1", 1, &["IL"], 1, false),
        segq("NM1", 1, &["74"], 1, false),
        segq("NM1", 1, &["82"], 1, false),
        segq("NM1", 1, &["TT"], 1, false),
        segq("NM1", 1, &["PR"], 1, false),
        segq("NM1", 1, &["GB"], 1, false).when(W::V5010),
        seg("MIA", 1, false),
        seg("MOA", 1, false),
        seg("REF", 15, false),
        seg("DTM", 4, false),
        seg("PER", 3, false),
        seg("AMT", 14, false),
        seg("QTY", 15, false),
        lp(&L2110, 999, false),
    ],
};

static L2110: LoopDef = LoopDef {
    id: "2110",
    name: "service payment information",
    role: R::RemitService,
    ordered: false,
    body: &[
        seg("SVC", 1, true),
        seg("DTM", 3, false),
        seg("CAS", 99, false),
        seg("REF", 25, false),
        seg("AMT", 12, false),
        seg("QTY", 6, false),
        seg("LQ", 99, false),
    ],
};
