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
fn at_rank(sorted: &[(Decimal, i64)], rank: i64) -> Decimal {
    let mut seen = 0i64;
    for (v, n) in sorted {
        seen += n;
        if rank < seen {
            return *v;
        }
    }
    sorted.last().map(|(v, _)| *v).unwrap_or_default()
}

/// Quantile `q` (0..=1, given exactly as a decimal) of an ascending multiset with `n` elements.
fn quantile(sorted: &[(Decimal, i64)], n: i64, q: Decimal) -> Decimal {
    let pos = q * Decimal::from(n - 1);
    let lo = pos.floor();
    let frac = pos - lo;
    let lo_rank = i64::try_from(lo.mantissa() / 10i128.pow(lo.scale())).unwrap_or(0);
    let a = at_rank(sorted, lo_rank);
    if frac.is_zero() {
        return a;
    }
    let b = at_rank(sorted, lo_rank + 1);
    round(a + (b - a) * frac)
}

/// Statistics of a multiset of charges given in ascending order with positive multiplicities
/// (the shape differential's `reduce` hands to its logic). `None` when the multiset is empty.
pub fn charge_stats(sorted: &[(Decimal, i64)]) -> Option<ChargeStats> {
    let n: i64 = sorted.iter().map(|(_, c)| *c).sum();
    if n <= 0 {
        return None;
    }
    let sum: Decimal = sorted.iter().map(|(v, c)| *v * Decimal::from(*c)).sum();
    Some(ChargeStats {
        count: n,
        min: sorted[0].0,
        median: quantile(sorted, n, Decimal::new(5, 1)),
        p90: quantile(sorted, n, Decimal::new(9, 1)),
        max: sorted[sorted.len() - 1].0,
        mean: round(sum / Decimal::from(n)),
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
        // numpy.quantile([10, 20, 30, 40], [.5, .9]) == [25.0, 37.0]
        let s = charge_stats(&[(d("10"), 1), (d("20"), 1), (d("30"), 1), (d("40"), 1)]).unwrap();
        assert_eq!((s.median, s.p90, s.mean), (d("25"), d("37"), d("25")));
        // Multiplicities count: [1, 1, 1, 5] -> median 1, p90 5 (pos 2.7: 1 + 0.7*4 = 3.8)
        let s = charge_stats(&[(d("1"), 3), (d("5"), 1)]).unwrap();
        assert_eq!((s.count, s.min, s.median, s.p90, s.max), (4, d("1"), d("1"), d("3.8"), d("5")));
        assert_eq!(s.mean, d("2"));
        // One element.
        let s = charge_stats(&[(d("99.99"), 1)]).unwrap();
        assert_eq!((s.median, s.p90, s.mean), (d("99.99"), d("99.99"), d("99.99")));
        // Means round half away from zero at 4 places: 10/3.
        let s = charge_stats(&[(d("1"), 2), (d("8"), 1)]).unwrap();
        assert_eq!(s.mean, d("3.3333"));
        assert!(charge_stats(&[]).is_none());
    }
}
