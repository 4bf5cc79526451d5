//! Cell text to typed values. OCR confuses a few glyph pairs (O/0, l/1, S/5, B/8); inside a
//! cell that must be numeric the reading is repaired, anywhere else it is left alone.
use crate::codes::{classify, is_modifier, CodeSystem};
use crate::dates::parse_date;
use crate::money::parse_money;
use rust_decimal::Decimal;

/// Maps letters OCR confuses with digits to the digits, for cells that must be numeric.
fn digitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'O' | 'o' | 'D' | 'Q' => '0',
            'l' | 'I' | '|' | 'i' | '!' => '1',
            'S' | 's' | '§' => '5',
            'B' => '8',
            'Z' | 'z' => '2',
            'G' => '6',
            _ => c,
        })
        .collect()
}

/// An amount cell. When the whole cell is not an amount (a speck read as a letter beside it),
/// the one word of it that is an amount is taken; two different amounts are no answer.
pub fn money(text: &str) -> Option<Decimal> {
    money_exact(text).or_else(|| {
        let words: Vec<Decimal> = text.split_whitespace().filter_map(money_exact).collect();
        match words.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    })
}

fn money_exact(text: &str) -> Option<Decimal> {
    // Several tokens make one amount only when all but the last are signs ("$ 12.00", "- $12");
    // "4 14.66" is two numbers, not 414.66.
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens.len() > 1 && !tokens[..tokens.len() - 1].iter().all(|t| t.chars().all(|c| "$-(—–".contains(c))) {
        return None;
    }
    // Dashes OCR reads for a minus sign; a speck after the amount read as punctuation.
    let t: String = tokens.concat().replace(['—', '–', '‒', '−'], "-");
    let t = t.trim_end_matches(['.', ':', ';', ',', '\'', '`']).to_string();
    if let Some(v) = parse_money(&t) {
        return Some(v);
    }
    // Repairs only for text that is mostly digits already: "is" must not become 15.
    let digits = t.chars().filter(char::is_ascii_digit).count();
    if digits < 2 || digits * 2 < t.chars().count() {
        return None;
    }
    // "S250.00": a dollar sign read as S; then the digit repairs.
    let t = t.strip_prefix('S').map(|r| format!("${r}")).unwrap_or(t);
    let t = match t.strip_prefix('$') {
        Some(rest) => format!("${}", digitize(rest)),
        None => digitize(&t),
    };
    // A comma, colon or semicolon read for the decimal point: "250,00", "36:58".
    let t = t.replace([':', ';'], ".");
    let t = if t.len() > 3 && t.as_bytes()[t.len() - 3] == b',' && !t[..t.len() - 3].contains('.') {
        format!("{}.{}", &t[..t.len() - 3], &t[t.len() - 2..])
    } else {
        t
    };
    parse_money(&t)
}

/// An amount printed with cents whose decimal point was not read: "1175" → 11.75. The caller
/// takes it only when quantity and price confirm it (a whole-dollar "1200" stays 1200).
pub fn point_dropped(text: &str) -> Option<Decimal> {
    let t = text.trim().trim_start_matches('$');
    if t.len() < 3 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (head, tail) = t.split_at(t.len() - 2);
    parse_money(&format!("{head}.{tail}"))
}

/// See `point_dropped`; here the point was read as a digit.
pub fn point_read_as_digit(text: &str) -> Option<Decimal> {
    let t = text.trim().trim_start_matches('$');
    if t.len() < 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (head, tail) = t.split_at(t.len() - 3);
    parse_money(&format!("{head}.{}", &tail[1..]))
}

/// A date cell; with a stray token beside the date (a speck, a neighbour's digits), the one
/// token that is a date.
pub fn date(text: &str) -> Option<String> {
    date_exact(text)
        .or_else(|| {
            // A space OCR put inside the month ("11-J an-2026").
            let joined: String = text.split_whitespace().collect();
            date_exact(&joined).filter(|_| text.contains('-') || text.contains('/'))
        })
        .or_else(|| {
            let found: Vec<String> = text.split_whitespace().filter_map(date_exact).collect();
            (found.len() == 1).then(|| found[0].clone())
        })
}

fn date_exact(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['.', ',', ';', ':']).trim_start_matches(['‘', '\'', '`', '"', '“', '.', ',']);
    // The J of Jan/Jun/Jul read as a bracket, sometimes with a space: "11-) an-2026".
    let fixed;
    let t = if t.contains([')', ']', '}']) {
        fixed = t.replace(") ", ")").replace("] ", "]").replace("} ", "}").replace([')', ']', '}'], "J");
        fixed.as_str()
    } else {
        t
    };
    parse_date(t)
        .or_else(|| {
            // Keep month names intact ("14-Mar-2026"): only repair the digit groups.
            let repaired: Vec<String> = t
                .split_inclusive(['/', '-', ' '])
                .map(|part| {
                    if part.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 3 {
                        part.to_string()
                    } else {
                        digitize(part)
                    }
                })
                .collect();
            parse_date(&repaired.concat())
        })
        .map(|d| d.format("%Y-%m-%d").to_string())
}

pub fn units(text: &str) -> Option<i32> {
    // A lone "1" in a thin serif font comes back as "il", "it", "l" or "|": one glyph read as
    // one or two letters. Letters only, all of them one-like: it is a 1.
    let bare = text.trim().trim_end_matches(['.', ',', ';', ':']);
    if !bare.is_empty() && bare.len() <= 2 && bare.chars().all(|c| "ilIt|!jJT".contains(c)) {
        return Some(1);
    }
    // In a quantity cell a T or t is a 1 read with its serif.
    let t = digitize(text.trim().trim_end_matches(['.', ',', ';', ':'])).replace(['T', 't'], "1");
    if let Ok(n) = t.parse::<i32>() {
        return (n > 0).then_some(n);
    }
    // "1.00" units: whole numbers only.
    let d = parse_money(&t)?;
    if d.fract().is_zero() && d > Decimal::ZERO {
        d.trunc().normalize().to_string().parse().ok()
    } else {
        None
    }
}

pub fn revenue(text: &str) -> Option<String> {
    let t = digitize(text.trim().trim_matches(|c: char| !c.is_alphanumeric()));
    (t.len() == 4 && t.starts_with('0') && t.bytes().all(|b| b.is_ascii_digit())).then_some(t)
}

/// A code cell: the code and any modifiers printed with it ("99213-25", "99213 25 59").
pub fn code(text: &str) -> (Option<String>, CodeSystem, Vec<String>) {
    let parts: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == '-' || c == ',')
        .map(|p| {
            // The hook of a J read as a bracket, joined to the digits: "}7050" is J7050.
            let p = match p.strip_prefix(['}', ')', ']']) {
                Some(d) if d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()) => format!("J{d}"),
                _ => p.to_string(),
            };
            // Specks inside a code ("J.1100") are not part of it.
            p.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_uppercase()
        })
        .filter(|p| !p.is_empty())
        .collect();
    let Some(first) = parts.first() else { return (None, CodeSystem::Unknown, vec![]) };
    let mut used = 1;
    let mut code = repair_code(first);
    // A letter printed apart from its digits ("J 7050") is one HCPCS code.
    if classify(&code) == CodeSystem::Unknown && parts.len() > 1 {
        let joined = repair_code(&format!("{first}{}", parts[1]));
        if classify(&joined) != CodeSystem::Unknown {
            code = joined;
            used = 2;
        }
    }
    let system = classify(&code);
    let mods = parts[used..].iter().filter(|p| is_modifier(p)).cloned().collect();
    (Some(code), system, mods)
}

/// HCPCS codes are a letter and four digits, CPT five digits (or four and F/T): repair the
/// positions that must be digits.
fn repair_code(raw: &str) -> String {
    if !raw.is_ascii() {
        return raw.to_string();
    }
    // A speck read as a digit in front of a code: "4J1885", "985025".
    if raw.len() == 6
        && raw.as_bytes()[0].is_ascii_digit()
        && matches!(classify(&raw[1..]), CodeSystem::Hcpcs | CodeSystem::Cpt)
    {
        return raw[1..].to_string();
    }
    if raw.len() != 5 || classify(raw) != CodeSystem::Unknown {
        return raw.to_string();
    }
    let (head, tail) = raw.split_at(1);
    let fixed_tail = digitize(&tail[..3]) + &tail[3..];
    let hcpcs = format!("{head}{}", digitize(tail));
    let as_cpt = digitize(&format!("{head}{}", &tail[..3])) + &tail[3..];
    for candidate in [format!("{head}{fixed_tail}"), hcpcs, as_cpt, digitize(raw)] {
        if classify(&candidate) != CodeSystem::Unknown {
            return candidate;
        }
    }
    raw.to_string()
}

/// A charge-master number cell: hospitals use digits ("74000040") or letters and digits
/// ("HBG1004"); one token, kept as printed.
pub fn cdm(text: &str) -> Option<String> {
    let t = text.split_whitespace().next()?.trim_matches(|c: char| !c.is_alphanumeric());
    (t.len() >= 4 && t.chars().any(|c| c.is_ascii_digit())).then(|| t.to_uppercase())
}

pub fn modifiers(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '-')
        .map(|p| p.trim_matches(|c: char| !c.is_alphanumeric()).to_uppercase())
        .filter(|p| is_modifier(p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_repairs_ocr_confusions() {
        assert_eq!(money("$1,234.50"), Some(Decimal::new(123450, 2)));
        assert_eq!(money("S250.00"), Some(Decimal::new(25000, 2)));
        assert_eq!(money("$2O5.00"), Some(Decimal::new(20500, 2)));
        assert_eq!(money("250,00"), Some(Decimal::new(25000, 2)));
        assert_eq!(money("$36:58"), Some(Decimal::new(3658, 2)));
        assert_eq!(money("$36:58"), Some(Decimal::new(3658, 2)));
        assert_eq!(money("($12.00)"), Some(Decimal::new(-1200, 2)));
        assert_eq!(money("CBC"), None);
        assert_eq!(money("is"), None);
        assert_eq!(point_read_as_digit("931787"), Some(Decimal::new(93187, 2)));
        assert_eq!(point_read_as_digit("$161200"), Some(Decimal::new(16100, 2)));
        assert_eq!(point_read_as_digit("12.00"), None);
        assert_eq!(point_dropped("1175"), Some(Decimal::new(1175, 2)));
        assert_eq!(money("$ 12.00"), Some(Decimal::new(1200, 2)));
        assert_eq!(money("4 14.66"), None, "two numbers are not one amount");
        assert_eq!(money("$1,013.94."), Some(Decimal::new(101394, 2)));
        assert_eq!(money("Total"), None);
    }

    #[test]
    fn codes_and_modifiers() {
        assert_eq!(code("99213-25"), (Some("99213".into()), CodeSystem::Cpt, vec!["25".into()]));
        assert_eq!(code("J11O0").0.as_deref(), Some("J1100"));
        assert_eq!(code("8OO53").0.as_deref(), Some("80053"));
        assert_eq!(code("G0378").1, CodeSystem::Hcpcs);
        assert_eq!(code("J 7050"), (Some("J7050".into()), CodeSystem::Hcpcs, vec![]));
        assert_eq!(code("}7050").0.as_deref(), Some("J7050"));
        assert_eq!(code("4J1885").0.as_deref(), Some("J1885"));
        assert_eq!(code("985025").0.as_deref(), Some("85025"));
        assert_eq!(code("J.1100").0.as_deref(), Some("J1100"));
        // Found by the fuzz target: non-ASCII letters in a code cell.
        assert_eq!(code("ñ1O0").1, CodeSystem::Unknown);
        assert_eq!(code("Jé10").1, CodeSystem::Unknown);
        assert_eq!(money("$76.44 é"), Some(Decimal::new(7644, 2)));
        assert_eq!(money("$76.44 $12.00"), None);
        assert_eq!(modifiers("25, 59"), vec!["25".to_string(), "59".to_string()]);
    }

    #[test]
    fn dates_and_units() {
        assert_eq!(date("03/14/2026").as_deref(), Some("2026-03-14"));
        assert_eq!(date("O3/l4/2026").as_deref(), Some("2026-03-14"));
        assert_eq!(date("14-Mar-2026").as_deref(), Some("2026-03-14"));
        assert_eq!(date("‘04/16/2026").as_deref(), Some("2026-04-16"));
        assert_eq!(date("11-) an-2026").as_deref(), Some("2026-01-11"));
        assert_eq!(date("11-J an-2026").as_deref(), Some("2026-01-11"));
        assert_eq!(units("2"), Some(2));
        assert_eq!(units("1.00"), Some(1));
        assert_eq!(units("l"), Some(1));
        assert_eq!(units("il"), Some(1));
        assert_eq!(units("it"), Some(1));
        assert_eq!(units("11"), Some(11));
        assert_eq!(units("0"), None);
        assert_eq!(revenue("045O").as_deref(), Some("0450"));
        assert_eq!(revenue("1450"), None);
        assert_eq!(revenue("0305.").as_deref(), Some("0305"));
    }
}
