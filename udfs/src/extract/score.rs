//! How well an extraction matches the truth. A line counts when its date, code, units and
//! charge all match a true line (each true line matched once); totals count when every amount
//! the truth has is read exactly.
use super::{Extraction, Line};
use rust_decimal::Decimal;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Score {
    pub matched: usize,
    pub predicted: usize,
    pub truth: usize,
    pub totals_ok: bool,
    /// Predicted lines that match no true line and are not flagged for checking: the errors a
    /// reader would not be warned about.
    pub wrong_unflagged: usize,
}

type Key = (Option<String>, Option<String>, i32, Decimal);

/// What must match: date, the code (the charge-master number where no code is printed), units
/// and charge.
fn key(l: &Line) -> Key {
    (l.service_date.clone(), l.code.clone().or_else(|| l.cdm_code.clone()), l.units, l.charge.normalize())
}

pub fn score(pred: &Extraction, truth: &Extraction) -> Score {
    let mut want: HashMap<Key, usize> = HashMap::new();
    for l in &truth.lines {
        *want.entry(key(l)).or_default() += 1;
    }
    let (mut matched, mut wrong_unflagged) = (0, 0);
    for l in &pred.lines {
        match want.get_mut(&key(l)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                matched += 1;
            }
            _ if !l.flagged => wrong_unflagged += 1,
            _ => {}
        }
    }
    let (t, p) = (&truth.totals, &pred.totals);
    let same = |a: Option<Decimal>, b: Option<Decimal>| a.is_none() || a == b;
    let totals_ok = same(t.total_charges, p.total_charges)
        && same(t.payments, p.payments)
        && same(t.adjustments, p.adjustments)
        && same(t.balance_due, p.balance_due);
    Score { matched, predicted: pred.lines.len(), truth: truth.lines.len(), totals_ok, wrong_unflagged }
}

impl std::ops::AddAssign for Score {
    fn add_assign(&mut self, o: Self) {
        self.matched += o.matched;
        self.predicted += o.predicted;
        self.truth += o.truth;
        self.wrong_unflagged += o.wrong_unflagged;
    }
}

impl Score {
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            1.0
        } else {
            self.matched as f64 / self.predicted as f64
        }
    }
    pub fn recall(&self) -> f64 {
        if self.truth == 0 {
            1.0
        } else {
            self.matched as f64 / self.truth as f64
        }
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}
