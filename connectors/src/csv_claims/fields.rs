//! Field parsers shared by both CSV layouts. Each returns the reason a value is unusable, worded
//! to follow `row 17, column charge_amount: ` (e.g. `"12.x" is not an amount`).
//!
//! Invariants: amounts are exact decimals of the text (no f64, no exponent, no currency symbols:
//! a machine feed that writes `$1,200` is wrong and is told so); dates come out as YYYY-MM-DD and
//! must exist on the calendar.
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::str::FromStr;

/// A money amount; `None` when the field is empty.
pub(crate) fn amount(text: &str) -> Result<Option<Decimal>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let plain = t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'));
    match Decimal::from_str(t) {
        Ok(d) if plain => Ok(Some(d)),
        _ => Err(format!("{t:?} is not an amount")),
    }
}

/// A required money amount.
pub(crate) fn required_amount(text: &str) -> Result<Decimal, String> {
    amount(text)?.ok_or_else(|| "empty: the amount is required".to_string())
}

/// A whole number (`2` or `2.0`); `None` when the field is empty.
pub(crate) fn whole(text: &str) -> Result<Option<i32>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let d = Decimal::from_str(t).map_err(|_| format!("{t:?} is not a number"))?;
    if !d.fract().is_zero() {
        return Err(format!("{t:?} is not a whole number"));
    }
    d.to_i32().map(Some).ok_or_else(|| format!("{t:?} is out of range"))
}

/// A date: `2017-12-14`, `20171214`, or a timestamp starting with the date
/// (`2017-12-14 08:01:18`, `2017-12-14T08:01:18Z`) → `2017-12-14`.
pub(crate) fn date(text: &str) -> Result<String, String> {
    let t = text.trim();
    let bad = || format!("{t:?} is not a date (YYYY-MM-DD)");
    let parsed = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        NaiveDate::parse_from_str(t, "%Y%m%d")
    } else {
        let day = t.get(..10).ok_or_else(bad)?;
        match t.as_bytes().get(10) {
            None | Some(b'T' | b' ') => NaiveDate::parse_from_str(day, "%Y-%m-%d"),
            Some(_) => return Err(bad()),
        }
    };
    parsed.map(|d| d.format("%Y-%m-%d").to_string()).map_err(|_| bad())
}

/// The trimmed text, `None` when empty.
pub(crate) fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_and_strict() {
        assert_eq!(amount("31505.00").unwrap(), Some(Decimal::new(3150500, 2)));
        assert_eq!(amount(" -2.5 ").unwrap(), Some(Decimal::new(-25, 1)));
        assert_eq!(amount("").unwrap(), None);
        assert_eq!(amount("12.x").unwrap_err(), r#""12.x" is not an amount"#);
        assert!(amount("$1,200").is_err());
        assert!(amount("1e5").is_err());
        assert_eq!(required_amount(" ").unwrap_err(), "empty: the amount is required");
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(whole("3").unwrap(), Some(3));
        assert_eq!(whole("2.0").unwrap(), Some(2));
        assert_eq!(whole("").unwrap(), None);
        assert_eq!(whole("1.5").unwrap_err(), r#""1.5" is not a whole number"#);
        assert!(whole("x").is_err());
        assert!(whole("99999999999").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(date("2017-12-14").unwrap(), "2017-12-14");
        assert_eq!(date("20171214").unwrap(), "2017-12-14");
        assert_eq!(date("2017-12-14 08:01:18").unwrap(), "2017-12-14");
        assert_eq!(date("2017-02-30").unwrap_err(), r#""2017-02-30" is not a date (YYYY-MM-DD)"#);
        assert!(date("12/14/2017").is_err());
        assert!(date("2017-12-145").is_err());
    }
}
