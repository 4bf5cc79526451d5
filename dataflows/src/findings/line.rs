//! `Ln`: a bill line as the findings graph holds it. Arrangements keep every current line of
//! every document, so the graph's copy is compact (money in ten-thousandths, dates as
//! yyyymmdd, no OCR words or confidence) and turns back into a `BillLine` only inside the
//! reduce that runs a document's rules.
use rust_decimal::Decimal;
use schemas::records::{BillLine, DocumentKind};
use serde::{Deserialize, Serialize};
use udfs::codes::{classify, CodeSystem};

/// Money inside the graph: ten-thousandths of a dollar, as in the benchmarks graph.
pub type Money = i64;
const SCALE: u32 = 4;

pub fn money(d: Decimal) -> Option<Money> {
    let r = d.round_dp_with_strategy(SCALE, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let m = r.mantissa() * 10i128.pow(SCALE - r.scale());
    i64::try_from(m).ok()
}

pub fn decimal(m: Money) -> Decimal {
    Decimal::new(m, SCALE)
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ln {
    pub line_no: i32,
    /// 0 bill, 1 EOB, 2 GFE.
    pub kind: u8,
    /// yyyymmdd.
    pub date: Option<u32>,
    pub code: Option<Box<str>>,
    pub revenue_code: Option<Box<str>>,
    /// The charge-master number of a line without a code (the duplicate rule compares by it).
    pub cdm_code: Option<Box<str>>,
    pub modifiers: Box<[Box<str>]>,
    pub units: i32,
    pub unit_price: Option<Money>,
    pub charge: Money,
    /// allowed, plan paid, patient responsibility (EOB lines).
    pub eob: Option<Box<[Option<Money>; 3]>>,
    /// total charges, payments, adjustments, balance due (repeated on each line of a document).
    pub totals: Option<Box<[Option<Money>; 4]>>,
    /// Kept only for lines without a code: the duplicate rule compares them by description.
    pub description: Option<Box<str>>,
    pub flagged: bool,
}

pub fn kind_of(k: DocumentKind) -> u8 {
    match k {
        DocumentKind::Bill => 0,
        DocumentKind::Eob => 1,
        DocumentKind::Gfe => 2,
    }
}

fn document_kind(k: u8) -> DocumentKind {
    match k {
        1 => DocumentKind::Eob,
        2 => DocumentKind::Gfe,
        _ => DocumentKind::Bill,
    }
}

fn date_num(s: &str) -> Option<u32> {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    s.replace('-', "").parse().ok().filter(|_| d.format("%Y-%m-%d").to_string() == s)
}

pub fn date_text(d: u32) -> String {
    format!("{:04}-{:02}-{:02}", d / 10000, d / 100 % 100, d % 100)
}

impl Ln {
    /// The graph's copy of `l`, or why it cannot be held (an amount beyond ±922 trillion, a
    /// malformed date).
    pub fn from_bill(l: &BillLine) -> Result<Ln, String> {
        let m = |d: Decimal| money(d).ok_or_else(|| format!("line {}: amount {d} is out of range", l.line_no));
        let opt = |d: Option<Decimal>| d.map(m).transpose();
        let date = match l.service_date.as_deref() {
            None => None,
            Some(s) => {
                Some(date_num(s).ok_or_else(|| format!("line {}: service date {s:?} is not YYYY-MM-DD", l.line_no))?)
            }
        };
        let eob = [opt(l.allowed)?, opt(l.plan_paid)?, opt(l.patient_responsibility)?];
        let totals = [opt(l.total_charges)?, opt(l.payments)?, opt(l.adjustments)?, opt(l.balance_due)?];
        Ok(Ln {
            line_no: l.line_no,
            kind: kind_of(l.kind),
            date,
            code: l.code.as_deref().map(Box::from),
            revenue_code: l.revenue_code.as_deref().map(Box::from),
            cdm_code: l.cdm_code.as_deref().filter(|_| l.code.is_none()).map(Box::from),
            modifiers: l.modifiers.iter().map(|s| Box::from(s.as_str())).collect(),
            units: l.units,
            unit_price: opt(l.unit_price)?,
            charge: m(l.charge)?,
            eob: eob.iter().any(Option::is_some).then(|| Box::new(eob)),
            totals: totals.iter().any(Option::is_some).then(|| Box::new(totals)),
            description: if l.code.is_none() { Some(Box::from(l.description.as_str())) } else { None },
            flagged: l.flagged,
        })
    }

    /// The line as the rule functions read it.
    pub fn to_bill(&self, doc_id: &str) -> BillLine {
        let e = self.eob.as_deref().copied().unwrap_or_default();
        let t = self.totals.as_deref().copied().unwrap_or_default();
        let code_system = self.code.as_deref().map(classify).unwrap_or(CodeSystem::Unknown).as_str();
        BillLine {
            doc_id: doc_id.to_string(),
            kind: document_kind(self.kind),
            line_no: self.line_no,
            page: 1,
            service_date: self.date.map(date_text),
            code: self.code.as_deref().map(str::to_string),
            code_system: code_system.to_string(),
            revenue_code: self.revenue_code.as_deref().map(str::to_string),
            cdm_code: self.cdm_code.as_deref().map(str::to_string),
            modifiers: self.modifiers.iter().map(|m| m.to_string()).collect(),
            description: self.description.as_deref().unwrap_or_default().to_string(),
            units: self.units,
            unit_price: self.unit_price.map(decimal),
            charge: decimal(self.charge),
            allowed: e[0].map(decimal),
            plan_paid: e[1].map(decimal),
            patient_responsibility: e[2].map(decimal),
            confidence: if self.flagged { 0.5 } else { 1.0 },
            flagged: self.flagged,
            total_charges: t[0].map(decimal),
            payments: t[1].map(decimal),
            adjustments: t[2].map(decimal),
            balance_due: t[3].map(decimal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_through_the_compact_form() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let l = BillLine {
            doc_id: "d1".into(),
            kind: DocumentKind::Eob,
            line_no: 3,
            page: 1,
            service_date: Some("2026-03-14".into()),
            code: Some("J1885".into()),
            code_system: "HCPCS".into(),
            revenue_code: Some("0636".into()),
            cdm_code: None,
            modifiers: vec!["59".into()],
            description: "injection".into(),
            units: 2,
            unit_price: Some(d("12.50")),
            charge: d("25.00"),
            allowed: Some(d("20")),
            plan_paid: Some(d("16")),
            patient_responsibility: Some(d("4.0001")),
            confidence: 1.0,
            flagged: false,
            total_charges: Some(d("25")),
            payments: None,
            adjustments: None,
            balance_due: Some(d("4")),
        };
        let back = Ln::from_bill(&l).unwrap().to_bill("d1");
        assert_eq!(back, BillLine { description: String::new(), ..l.clone() });
        assert_eq!(money(d("0.00005")), Some(1), "rounded to ten-thousandths");
        let mut bad = l.clone();
        bad.service_date = Some("2026-02-30".into());
        assert!(Ln::from_bill(&bad).unwrap_err().contains("not YYYY-MM-DD"));
    }
}
