//! Deterministic synthetic claim lines: the demo feed, the test workload and the benchmark input.
//! Codes are CPT/HCPCS-shaped (no AMA descriptors); charges are cents, skewed like real charges.
use rand::{rngs::SmallRng, Rng, SeedableRng};
use rust_decimal::Decimal;
use schemas::ClaimLine;

const CODES: &[&str] = &[
    "99211", "99212", "99213", "99214", "99215", "99202", "99203", "99204", "99205", "99281", "99282", "99283",
    "99284", "99285", "80048", "80053", "80061", "85025", "85027", "81001", "84443", "83036", "82947", "36415",
    "71045", "71046", "72100", "73030", "73610", "74176", "74177", "70450", "93000", "93005", "93010", "96372",
    "90471", "90686", "J1885", "J2405", "J3490", "G0008", "G0439", "A0427", "A0429", "E0114", "97110", "97140",
    "97530", "20610",
];
const MODIFIERS: &[Option<&str>] = &[None, None, None, None, Some("25"), Some("59"), Some("26"), Some("TC")];
const PLACES: &[&str] = &["11", "22", "23", "21", "81"];
const PAYERS: &[&str] = &["MEDICARE", "MEDICAID", "ACME HEALTH", "BLUE PLAN", "SELF PAY"];

/// Generates claims of 1–6 lines until `lines` lines exist, reproducibly from `seed`.
pub fn claim_lines(seed: u64, lines: usize) -> Vec<ClaimLine> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(lines);
    let mut claim = 0u64;
    while out.len() < lines {
        claim += 1;
        let n = rng.random_range(1..=6).min(lines - out.len());
        let npi = format!("1{:09}", rng.random_range(0..500u32));
        let pos = PLACES[rng.random_range(0..PLACES.len())];
        let payer = PAYERS[rng.random_range(0..PAYERS.len())];
        let day = rng.random_range(1..=28);
        let month = rng.random_range(1..=12);
        for line_no in 1..=n {
            let ci = rng.random_range(0..CODES.len());
            // Base price per code, then a per-line spread of roughly 0.5x to 3x.
            let base = 40 + (ci as i64 * 37) % 900;
            let cents = base * 100 * rng.random_range(50..300) / 100 + rng.random_range(0..100);
            let units = if rng.random_range(0..10) == 0 { rng.random_range(2..5) } else { 1 };
            out.push(ClaimLine {
                claim_id: format!("CLM{seed}-{claim:09}"),
                line_no: line_no as i32,
                frequency_code: "1".into(),
                provider_npi: npi.clone(),
                payer: Some(payer.into()),
                place_of_service: pos.into(),
                code: CODES[ci].into(),
                modifier: MODIFIERS[rng.random_range(0..MODIFIERS.len())].map(String::from),
                service_date: format!("2026-{month:02}-{day:02}"),
                units,
                charge: Decimal::new(cents * i64::from(units), 2),
                allowed: None,
                paid: None,
                patient_responsibility: None,
                carc: vec![],
                rarc: vec![],
            });
        }
    }
    out
}

/// `count` later versions of lines in `existing`: replacements (frequency 7, new charge and
/// sometimes a new code) and voids (frequency 8), about one void in three.
pub fn replacements_and_voids(seed: u64, existing: &[ClaimLine], count: usize) -> Vec<ClaimLine> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
    let mut out = Vec::with_capacity(count);
    if existing.is_empty() {
        return out;
    }
    for _ in 0..count {
        let mut line = existing[rng.random_range(0..existing.len())].clone();
        if rng.random_range(0..3) == 0 {
            line.frequency_code = "8".into();
        } else {
            line.frequency_code = "7".into();
            line.charge = Decimal::new(rng.random_range(1_000..500_000), 2);
            if rng.random_range(0..4) == 0 {
                line.code = CODES[rng.random_range(0..CODES.len())].into();
            }
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_valid() {
        let a = claim_lines(7, 1000);
        assert_eq!(a.len(), 1000);
        assert_eq!(a, claim_lines(7, 1000));
        assert_ne!(a, claim_lines(8, 1000));
        for l in &a {
            assert!(schemas::wire::decode::<ClaimLine>(&schemas::wire::encode(l).unwrap()).is_ok());
        }
        let r = replacements_and_voids(7, &a, 100);
        assert!(r.iter().any(|l| l.frequency_code == "8") && r.iter().any(|l| l.frequency_code == "7"));
    }
}
