//! How a transaction set is laid out: loops, the segments each may hold, in which order, how
//! often, and which are required. `map837` and `map835` describe the implementation guides with
//! these types; `walker` places segments in them.
//!
//! A loop's body is an ordered list of items; the first is the segment that starts the loop (its
//! trigger, identified by id and, where siblings share an id, by a qualifier element). Items
//! carry the guide's maximum use and whether they are required, and can be limited to one claim
//! type (professional / institutional) or version (4010 / 5010) when the guides differ.

/// What a loop is for: the claim mappers key on this, never on loop ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Header,
    Submitter,
    Receiver,
    BillingHl,
    BillingProvider,
    PayTo,
    Subscriber,
    SubscriberName,
    Payer,
    OtherParty,
    Patient,
    PatientName,
    Claim,
    HomeHealth,
    ClaimProvider,
    OtherSubscriber,
    OtherPayerParty,
    Line,
    LineDrug,
    LineProvider,
    LineAdjudication,
    LineForm,
    RemitPayer,
    RemitPayee,
    RemitHeaderNumber,
    RemitClaim,
    RemitService,
}

impl Role {
    /// Loops that are one claim: problems inside them reject only that claim.
    pub fn is_claim(self) -> bool {
        matches!(self, Role::Claim | Role::RemitClaim)
    }
}

/// Which claim types and versions an item applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Any,
    /// 837 professional.
    Prof,
    /// 837 institutional.
    Inst,
    V4010,
    V5010,
}

/// How a segment is told apart from siblings with the same id.
#[derive(Debug, Clone, Copy)]
pub enum Qual {
    Any,
    /// Element `n` is one of the values.
    In(u8, &'static [&'static str]),
    /// Element `n` is none of the values.
    NotIn(u8, &'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub struct SegItem {
    pub id: &'static str,
    pub qual: Qual,
}

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Seg(SegItem),
    Loop(&'static LoopDef),
}

/// One entry of a loop body.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    pub kind: Kind,
    pub max: u32,
    pub req: bool,
    pub when: When,
    /// Items sharing a non-zero group may come in any order among themselves.
    pub group: u8,
}

#[derive(Debug)]
pub struct LoopDef {
    /// The implementation guide's loop id ("2010AA"), or the header's name.
    pub id: &'static str,
    /// What it holds, for messages ("billing provider name").
    pub name: &'static str,
    pub role: Role,
    /// False for claim and service-line loops, whose segments senders often reorder without
    /// changing their meaning (each is identified by its id and qualifier).
    pub ordered: bool,
    pub body: &'static [Item],
}

/// Effectively unbounded ("&gt;1" in the guides).
pub const MANY: u32 = u32::MAX;

pub const fn seg(id: &'static str, max: u32, req: bool) -> Item {
    Item { kind: Kind::Seg(SegItem { id, qual: Qual::Any }), max, req, when: When::Any, group: 0 }
}

pub const fn segq(id: &'static str, el: u8, vals: &'static [&'static str], max: u32, req: bool) -> Item {
    Item { kind: Kind::Seg(SegItem { id, qual: Qual::In(el, vals) }), max, req, when: When::Any, group: 0 }
}

pub const fn segn(id: &'static str, el: u8, vals: &'static [&'static str], max: u32, req: bool) -> Item {
    Item { kind: Kind::Seg(SegItem { id, qual: Qual::NotIn(el, vals) }), max, req, when: When::Any, group: 0 }
}

pub const fn lp(def: &'static LoopDef, max: u32, req: bool) -> Item {
    Item { kind: Kind::Loop(def), max, req, when: When::Any, group: 0 }
}

impl Item {
    pub const fn when(mut self, when: When) -> Item {
        self.when = when;
        self
    }
    pub const fn group(mut self, group: u8) -> Item {
        self.group = group;
        self
    }
    /// The segment that starts this item: itself, or its loop's trigger.
    pub fn trigger(&self) -> Option<&SegItem> {
        match &self.kind {
            Kind::Seg(s) => Some(s),
            Kind::Loop(def) => match def.body.first().map(|i| &i.kind) {
                Some(Kind::Seg(s)) => Some(s),
                _ => None,
            },
        }
    }
    /// `N3`, `REF*EI` or `loop 2010AA (billing provider name)`, for messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Seg(s) => s.describe(),
            Kind::Loop(def) => {
                format!("loop {} ({}, {})", def.id, def.name, self.trigger().map(|t| t.describe()).unwrap_or_default())
            }
        }
    }
}

impl SegItem {
    pub fn describe(&self) -> String {
        match self.qual {
            Qual::In(el, vals) if vals.len() <= 3 => {
                format!("{}*{}{}", self.id, if el > 1 { "..*" } else { "" }, vals.join("/"))
            }
            _ => self.id.to_string(),
        }
    }
}

impl LoopDef {
    /// `loop 2010AA (billing provider name)`.
    pub fn describe(&self) -> String {
        format!("loop {} ({})", self.id, self.name)
    }
    /// Whether a segment id occurs anywhere in this loop or below.
    pub fn knows(&self, id: &str) -> bool {
        self.body.iter().any(|i| match &i.kind {
            Kind::Seg(s) => s.id == id,
            Kind::Loop(def) => def.knows(id),
        })
    }
    /// The qualifier element of the first item anywhere below with this segment id.
    pub fn qualifier_of(&self, id: &str) -> Option<u8> {
        self.body.iter().find_map(|i| match &i.kind {
            Kind::Seg(SegItem { id: sid, qual: Qual::In(el, _) | Qual::NotIn(el, _) }) if *sid == id => Some(*el),
            Kind::Seg(_) => None,
            Kind::Loop(def) => def.qualifier_of(id),
        })
    }
}
