//! ROC AUC of scores against labels: the probability that a random positive scores above a
//! random negative, ties counting one half (Mann–Whitney U with average ranks).

/// AUC of `(score, is_positive)` pairs; NaN when either class is absent (undefined).
pub fn auc(scored: &[(f64, bool)]) -> f64 {
    let pos = scored.iter().filter(|(_, p)| *p).count();
    let neg = scored.len() - pos;
    if pos == 0 || neg == 0 {
        return f64::NAN;
    }
    let mut v: Vec<(f64, bool)> = scored.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the positives' ranks (1-based), a tied run sharing its average rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0.total_cmp(&v[i].0).is_eq() {
            j += 1;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += avg_rank * v[i..j].iter().filter(|(_, p)| *p).count() as f64;
        i = j;
    }
    let (pos, neg) = (pos as f64, neg as f64);
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_orders() {
        assert_eq!(auc(&[(0.1, false), (0.2, false), (0.8, true), (0.9, true)]), 1.0);
        assert_eq!(auc(&[(0.9, false), (0.8, false), (0.2, true), (0.1, true)]), 0.0);
        // One positive between two negatives: beats one of two.
        assert_eq!(auc(&[(0.1, false), (0.5, true), (0.9, false)]), 0.5);
        // Ties count one half.
        assert_eq!(auc(&[(0.5, false), (0.5, true)]), 0.5);
        assert_eq!(auc(&[(0.5, false), (0.5, true), (0.7, true), (0.1, false)]), 0.875);
        assert!(auc(&[(0.5, true)]).is_nan() && auc(&[]).is_nan());
    }
}
