//! Money as bills print it, parsed exactly: `$1,234.50`, `1234.5`, `(12.00)`, `-$12.00`,
//! `12.00-`, `12.00CR`, `$ 1,234.50`. European `1.234,50` is not accepted (US bills), and neither
//! is anything with stray letters — a misread amount must fail loudly rather than be guessed.
use rust_decimal::Decimal;
use std::str::FromStr;

/// Parses one printed amount; `None` when the text is not an amount.
pub fn parse_money(text: &str) -> Option<Decimal> {
    let mut s = text.trim();
    if s.is_empty() {
        return None;
    }
    let mut negative = false;
    if s.starts_with('(') && s.ends_with(')') {
        negative = true;
        s = &s[1..s.len() - 1];
    }
    s = s.trim();
    if let Some(rest) = s.strip_suffix('-') {
        negative = !negative;
        s = rest.trim_end();
    } else if let Some(rest) = s.strip_suffix("CR") {
        // Credit balances print as "12.00CR".
        negative = !negative;
        s = rest.trim_end();
    }
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = rest.trim_start();
    }
    s = s.strip_prefix('$').unwrap_or(s).trim_start();
    if let Some(rest) = s.strip_prefix('-') {
        // "$-12.00"
        negative = !negative;
        s = rest;
    }
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.') {
        return None;
    }
    if s.matches('.').count() > 1 || s.starts_with(',') || s.ends_with(',') {
        return None;
    }
    // Thousands separators must sit every three digits left of the decimal point.
    let int_part = s.split('.').next().unwrap_or("");
    if int_part.contains(',') {
        let groups: Vec<&str> = int_part.split(',').collect();
        let ok = groups[0].len() <= 3 && !groups[0].is_empty() && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return None;
        }
    }
    if let Some(frac) = s.split('.').nth(1) {
        if frac.is_empty() || frac.len() > 4 {
            return None;
        }
    }
    let d = Decimal::from_str(&s.replace(',', "")).ok()?;
    Some(if negative { -d } else { d })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn every_common_form() {
        for (text, want) in [
            ("$1,234.50", "1234.50"),
            ("1234.5", "1234.5"),
            ("(12.00)", "-12.00"),
            ("-$12.00", "-12.00"),
            ("$-12.00", "-12.00"),
            ("12.00-", "-12.00"),
            ("12.00CR", "-12.00"),
            ("$ 1,234.50", "1234.50"),
            ("  250  ", "250"),
            ("$0.99", "0.99"),
            ("1,000,000.00", "1000000.00"),
            ("($1,234.56)", "-1234.56"),
        ] {
            assert_eq!(parse_money(text), Some(d(want)), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        for text in
            ["", "$", "12.3.4", "1,23.00", "12,34", "1.234,50", "abc", "12.00O", "l2.00", "12.", ",100", "1.23456"]
        {
            assert_eq!(parse_money(text), None, "{text:?}");
        }
        // A bare integer is a valid amount; telling a code from a charge is the column's job.
        assert_eq!(parse_money("99213"), Some(d("99213")));
    }
}
