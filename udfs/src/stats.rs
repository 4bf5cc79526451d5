//! Charge statistics per billing code: count, min, median, p90, max, mean.
//!
//! Quantiles use linear interpolation between closest ranks (position q·(n−1), the definition
//! pandas and numpy use by default), computed exactly in decimal.
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Decimal places kept in derived statistics (means, interpolated quantiles).
pub const STAT_SCALE: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChargeStats {
    pub count: i64,
    pub min: Decimal,
    pub median: Decimal,
    pub p90: Decimal,
    pub max: Decimal,
    pub mean: Decimal,
}

fn round(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(STAT_SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// The value at rank `rank` (0-based) of a multiset given as ascending (value, multiplicity).
fn at_rank(sorted: &[(&i64, isize)], rank: i64) -> i64 {
    let mut seen = 0i64;
    for (v, n) in sorted {
        seen += *n as i64;
        if rank < seen {
            return **v;
        }
    }
    sorted.last().map(|(v, _)| **v).unwrap_or_default()
}

/// Quantile `tenths`/10 of an ascending multiset with `n` elements, as a fixed-point value at
/// `scale`: position tenths·(n−1)/10, interpolated exactly.
fn quantile(sorted: &[(&i64, isize)], n: i64, tenths: i64, scale: u32) -> Decimal {
    let scaled = tenths * (n - 1);
    let (lo, rem) = (scaled / 10, scaled % 10);
    let a = Decimal::new(at_rank(sorted, lo), scale);
    if rem == 0 {
        return a;
    }
    let b = Decimal::new(at_rank(sorted, lo + 1), scale);
    round(a + (b - a) * Decimal::new(rem, 1))
}

/// Statistics of a multiset of charges given in ascending order with positive multiplicities —
/// the shape differential's `reduce` hands to its logic — as fixed-point integers at `scale`
/// decimal places (exact money). `None` when the multiset is empty.
pub fn charge_stats(sorted: &[(&i64, isize)], scale: u32) -> Option<ChargeStats> {
    let n: i64 = sorted.iter().map(|(_, c)| *c as i64).sum();
    if n <= 0 {
        return None;
    }
    let sum: i128 = sorted.iter().map(|(v, c)| **v as i128 * *c as i128).sum();
    let fixed = |v: i64| Decimal::new(v, scale);
    Some(ChargeStats {
        count: n,
        min: fixed(*sorted[0].0),
        median: quantile(sorted, n, 5, scale),
        p90: quantile(sorted, n, 9, scale),
        max: fixed(*sorted[sorted.len() - 1].0),
        mean: round(Decimal::from_i128_with_scale(sum, scale) / Decimal::from(n)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn matches_numpy_linear_quantiles() {
        let stats = |v: &[(i64, isize)]| {
            let refs: Vec<(&i64, isize)> = v.iter().map(|(a, n)| (a, *n)).collect();
            charge_stats(&refs, 2)
        };
        // numpy.quantile([10, 20, 30, 40], [.5, .9]) == [25.0, 37.0]
        let s = stats(&[(1000, 1), (2000, 1), (3000, 1), (4000, 1)]).unwrap();
        assert_eq!((s.median, s.p90, s.mean), (d("25"), d("37"), d("25")));
        // Multiplicities count: [1, 1, 1, 5] -> median 1, p90 3.8 (pos 2.7: 1 + 0.7*4)
        let s = stats(&[(100, 3), (500, 1)]).unwrap();
        assert_eq!((s.count, s.min, s.median, s.p90, s.max), (4, d("1"), d("1"), d("3.8"), d("5")));
        assert_eq!(s.mean, d("2"));
        // One element.
        let s = stats(&[(9999, 1)]).unwrap();
        assert_eq!((s.median, s.p90, s.mean), (d("99.99"), d("99.99"), d("99.99")));
        // Means round half away from zero at 4 places: 10/3.
        let s = stats(&[(100, 2), (800, 1)]).unwrap();
        assert_eq!(s.mean, d("3.3333"));
        assert!(stats(&[]).is_none());
    }
}
