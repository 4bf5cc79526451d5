//! Service dates as bills print them: `03/14/2026`, `3/14/26`, `2026-03-14`, `14-Mar-2026`,
//! `Mar 14, 2026`, `March 14 2026`, `20260314`, `03-14-2026`. US month-first order for
//! slashed and dashed numeric dates. Two-digit years are 20xx.
use chrono::NaiveDate;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A month name or its abbreviation (at least three letters, "Sept" too); "Marx" is not one.
pub fn month(name: &str) -> Option<u32> {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n == "sept" {
        return Some(9);
    }
    if n.len() < 3 {
        return None;
    }
    MONTHS.iter().position(|m| m.starts_with(&n)).map(|i| i as u32 + 1)
}

fn year(y: &str) -> Option<i32> {
    let v: i32 = y.parse().ok()?;
    match y.len() {
        2 => Some(2000 + v),
        4 => Some(v),
        _ => None,
    }
}

/// Parses one printed date; `None` when the text is not a valid date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let s = text.trim().trim_end_matches(',');
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::from_ymd_opt(s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..].parse().ok()?);
    }
    let parts: Vec<&str> = s.split(['/', '-', ' ', ',']).filter(|p| !p.is_empty()).collect();
    if parts.len() != 3 {
        return None;
    }
    let num = |p: &str| p.parse::<u32>().ok();
    match (num(parts[0]), num(parts[1]), num(parts[2])) {
        // 2026-03-14
        (Some(_), Some(m), Some(d)) if parts[0].len() == 4 => NaiveDate::from_ymd_opt(year(parts[0])?, m, d),
        // 03/14/2026, 3/14/26, 03-14-2026
        (Some(m), Some(d), Some(_)) => NaiveDate::from_ymd_opt(year(parts[2])?, m, d),
        // 14-Mar-2026, 14 March 2026
        (Some(d), None, Some(_)) => NaiveDate::from_ymd_opt(year(parts[2])?, month(parts[1])?, d),
        // Mar 14, 2026
        (None, Some(d), Some(_)) => NaiveDate::from_ymd_opt(year(parts[2])?, month(parts[0])?, d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_forms() {
        let want = NaiveDate::from_ymd_opt(2026, 3, 14);
        for t in [
            "03/14/2026",
            "3/14/26",
            "2026-03-14",
            "14-Mar-2026",
            "Mar 14, 2026",
            "March 14 2026",
            "20260314",
            "03-14-2026",
            "14 MAR 2026",
            "Mar. 14, 2026",
        ] {
            assert_eq!(parse_date(t), want, "{t}");
        }
    }

    #[test]
    fn rejects_impossible_or_ambiguous_text() {
        for t in
            ["02/30/2026", "13/01/2026", "2026-13-01", "14-Marx-2026", "Mar 2026", "", "99213", "1/2/345", "20261301"]
        {
            assert_eq!(parse_date(t), None, "{t:?}");
        }
    }
}
