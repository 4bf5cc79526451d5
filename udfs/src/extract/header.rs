//! Table headers in the words bills really use. A header row is one where most words belong to
//! known column labels, naming at least three columns including an amount.
use super::rows::{Row, Word};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Date,
    Rev,
    Code,
    Mod,
    Desc,
    Units,
    UnitPrice,
    Charge,
    Allowed,
    PlanPaid,
    PatientResp,
    /// The hospital's charge-master number ("CDM Code").
    Cdm,
    /// The revenue code's own name ("Revenue Code Description"): a heading of the charge, not
    /// its description.
    RevDesc,
    /// Payments and adjustments posted to the account ("Payment/Adjustments", "Insurance
    /// Pmts/Adjs"): amounts there are not charges.
    Payments,
    /// The running or patient balance of a statement table.
    Balance,
    /// A payer's adjudication columns (allowed/reimbursed, group and reason codes, remarks): the
    /// table is a remittance printed with the bill, not its charges.
    Remit,
}

/// Labels per field, lower case, longest first where one is a prefix of another.
const LABELS: &[(Field, &str)] = &[
    // Statement columns next to the charges: payments, adjustments and balances.
    (Field::Payments, "insurance pmts/adjs"),
    (Field::Payments, "patient pmts/adjs"),
    (Field::Payments, "payments/adjustments"),
    (Field::Payments, "payment/adjustments"),
    (Field::Payments, "payments/adjs"),
    (Field::Payments, "pmts/adjs"),
    (Field::Payments, "payment/"),
    (Field::Balance, "patient balance"),
    (Field::Balance, "account balance"),
    (Field::Balance, "balance"),
    (Field::Remit, "allow/reim"),
    (Field::Remit, "remark codes"),
    (Field::Remit, "remark code"),
    (Field::Remit, "reason codes"),
    (Field::Remit, "apc/hipps"),
    (Field::Remit, "rsn"),
    (Field::Remit, "reim"),
    (Field::Cdm, "cdm code"),
    (Field::Cdm, "cdm number"),
    (Field::Cdm, "charge code"),
    (Field::Cdm, "cdm"),
    (Field::RevDesc, "revenue code description"),
    (Field::RevDesc, "rev code description"),
    (Field::RevDesc, "revenue description"),
    (Field::Desc, "charge description"),
    (Field::Date, "svc dt"),
    (Field::Date, "srv date"),
    (Field::Date, "serv date"),
    (Field::Date, "post date"),
    (Field::Rev, "rev cd"),
    (Field::Code, "cpt cd"),
    (Field::Code, "cpt(r)/hcpcs code"),
    (Field::Code, "cpt(r)/hcpcs"),
    (Field::Code, "cpt®/hcpcs"),
    (Field::Code, "cpt/hcps"),
    (Field::Code, "hcps"),
    (Field::PatientResp, "patient responsibility"),
    (Field::PatientResp, "your responsibility"),
    (Field::PatientResp, "amount you owe"),
    (Field::PatientResp, "patient resp"),
    (Field::PatientResp, "you owe"),
    (Field::PatientResp, "what you owe"),
    (Field::PatientResp, "your cost"),
    (Field::PatientResp, "your share"),
    (Field::PlanPaid, "insurance paid"),
    (Field::PlanPaid, "plan payment"),
    (Field::PlanPaid, "plan paid"),
    (Field::PlanPaid, "paid by plan"),
    (Field::Allowed, "allowed amount"),
    (Field::Allowed, "plan allowed"),
    (Field::Allowed, "allowed"),
    (Field::Date, "date of service"),
    (Field::Date, "service date"),
    // "Date of Service" with the "of" lost.
    (Field::Date, "date service"),
    (Field::Date, "svc date"),
    (Field::Date, "from date"),
    (Field::Date, "dates"),
    (Field::Date, "date"),
    (Field::Date, "dos"),
    // "DOS" as OCR reads it in a bold header.
    (Field::Date, "bos"),
    (Field::Date, "d0s"),
    (Field::Date, "oos"),
    (Field::Rev, "revenue code"),
    (Field::Rev, "rev code"),
    (Field::Rev, "revenue"),
    (Field::Rev, "rev"),
    (Field::Code, "cpt/hcpcs code"),
    (Field::Code, "cpt/hcpcs"),
    (Field::Code, "procedure code"),
    (Field::Code, "cpt code"),
    (Field::Code, "hcpcs code"),
    (Field::Code, "procedure"),
    (Field::Code, "hcpcs"),
    (Field::Code, "cpt"),
    (Field::Code, "code"),
    (Field::Code, "proc"),
    (Field::Mod, "modifiers"),
    (Field::Mod, "modifier"),
    (Field::Mod, "mods"),
    (Field::Mod, "mod"),
    (Field::Desc, "service description"),
    (Field::Desc, "description of service"),
    (Field::Desc, "description"),
    (Field::Desc, "services"),
    (Field::Desc, "service"),
    (Field::Desc, "item"),
    (Field::Desc, "desc"),
    (Field::UnitPrice, "unit price"),
    (Field::UnitPrice, "unit cost"),
    (Field::UnitPrice, "price each"),
    (Field::UnitPrice, "rate"),
    (Field::UnitPrice, "price"),
    (Field::Units, "quantity"),
    (Field::Units, "units"),
    (Field::Units, "qty"),
    (Field::Charge, "estimated cost"),
    (Field::Charge, "est amount"),
    (Field::Charge, "est cost"),
    (Field::Charge, "est charge"),
    (Field::Charge, "estimated amount"),
    (Field::Charge, "estimated charge"),
    (Field::Charge, "amount billed"),
    (Field::Charge, "provider charges"),
    (Field::Charge, "amount charged"),
    (Field::Charge, "billed amount"),
    (Field::Charge, "total charges"),
    (Field::Charge, "charges"),
    (Field::Charge, "charge"),
    (Field::Charge, "amount"),
    (Field::Charge, "billed"),
    (Field::Charge, "estimate"),
    (Field::Charge, "total"),
];

/// A column of the table: its field and the horizontal span of its label.
#[derive(Debug, Clone)]
pub struct Column {
    pub field: Field,
    pub x0: f32,
    pub x1: f32,
    /// Words in the label: a field named twice keeps its fuller label ("Service Description"
    /// over a stray "Service").
    pub words: usize,
}

fn norm(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '/').to_lowercase()
}

/// The columns a row names, if it is a header row.
pub fn header(row: &Row, unit: f32) -> Option<Vec<Column>> {
    let words: Vec<String> = row.words.iter().map(|w| norm(&w.text)).collect();
    let mut cols: Vec<Column> = Vec::new();
    let mut used = 0usize;
    let mut i = 0;
    while i < words.len() {
        let mut matched = None;
        for (field, label) in LABELS {
            // OCR drops the space inside a label ("RevCode", "UnitPrice"): one word may carry it.
            // A speck may stick to its front ("~—SPlanPaid").
            let compact = label.replace(' ', "");
            let w = &words[i];
            if label.contains(' ')
                && (*w == compact || *w == *label || (w.ends_with(&compact) && w.len() <= compact.len() + 2))
            {
                matched = Some((*field, 1));
                break;
            }
            let parts: Vec<&str> = label.split(' ').collect();
            if i + parts.len() > words.len() {
                continue;
            }
            let same = parts.iter().enumerate().all(|(k, p)| words[i + k] == *p);
            // The words of one label sit close together; far apart they are two columns.
            let close = (1..parts.len()).all(|k| row.words[i + k].x0 - row.words[i + k - 1].x1 < unit * 1.2);
            if same && close {
                matched = Some((*field, parts.len()));
                break;
            }
        }
        // One misread letter in a longer label ("Descriptlon", "Quantlty").
        if matched.is_none() && words[i].len() >= 5 {
            matched = LABELS
                .iter()
                .find(|(_, l)| !l.contains(' ') && l.len() >= 5 && within_one_edit(&words[i], l))
                .map(|(f, _)| (*f, 1));
        }
        if matched.is_none() && (words[i].starts_with("cpt") && words[i].contains("hcpcs")) {
            matched = Some((Field::Code, 1));
        }
        match matched {
            Some((field, n)) => {
                let (x0, x1) = (row.words[i].x0, row.words[i + n - 1].x1);
                let no_rev = !cols.iter().any(|c| c.field == Field::Rev);
                match cols.iter_mut().find(|c| c.field == field) {
                    None => cols.push(Column { field, x0, x1, words: n }),
                    // "Code ... HCPCS": a bare "Code" left of the procedure code is the revenue
                    // code's column (hospital bills print "Rev Code", sometimes as just "Code").
                    Some(c) if field == Field::Code && no_rev && words[i] != "code" => {
                        c.field = Field::Rev;
                        cols.push(Column { field, x0, x1, words: n });
                    }
                    Some(c) if n > c.words => *c = Column { field, x0, x1, words: n },
                    Some(_) => {}
                }
                used += n;
                i += n;
            }
            None => i += 1,
        }
    }
    // A price column without an amount column (price x quantity is the charge) names the amount.
    let has_amount = cols.iter().any(|c| matches!(c.field, Field::Charge | Field::UnitPrice));
    // Specks read as digits or marks are not words of the header.
    // So are smudges read as words with low confidence ("Meco ioe," between two labels).
    let wordy = words
        .iter()
        .zip(&row.words)
        .filter(|(w, orig)| w.chars().any(|c| c.is_alphabetic()) && (orig.conf >= 0.6 || labels_word(w)))
        .count();
    // Four or more columns named: a header even with a few labels OCR damaged ("nsurance").
    let labelled = used * 10 >= wordy * 7 || (cols.len() >= 4 && used * 2 >= wordy);
    if cols.len() >= 3 && has_amount && labelled {
        cols.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        Some(cols)
    } else {
        None
    }
}

/// Whether a word is part of some label (counted however unsure OCR was of it).
fn labels_word(w: &str) -> bool {
    LABELS.iter().any(|(_, l)| l.split(' ').any(|p| p == w))
}

/// Whether `a` becomes `b` by at most one substitution, insertion or deletion.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
    prefix + suffix + 1 >= a.len().max(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit() {
        assert!(within_one_edit("descriptlon", "description"));
        assert!(within_one_edit("quantty", "quantity"));
        assert!(within_one_edit("charges", "charges"));
        assert!(!within_one_edit("allowed", "billed"));
        assert!(!within_one_edit("amount", "account"));
    }
}

#[cfg(test)]
mod header_tests {
    use super::*;
    use crate::extract::rows::{Row, Word};

    fn row(text: &str) -> Row {
        let mut x = 0.0;
        let words = text
            .split(' ')
            .map(|t| {
                let w = Word { text: t.into(), x0: x, x1: x + t.len() as f32 * 5.0, y0: 0.0, y1: 10.0, conf: 1.0 };
                x += t.len() as f32 * 5.0 + 4.0;
                w
            })
            .collect();
        Row { page: 1, words, y: 5.0 }
    }

    #[test]
    fn eob_header_with_unlabelled_words() {
        let cols = header(&row("Date HCPCS Service Provider Charges Plan Allowed Plan Paid Your Cost"), 10.0).unwrap();
        let fields: Vec<Field> = cols.iter().map(|c| c.field).collect();
        assert!(fields.contains(&Field::PatientResp), "{fields:?}");
    }

    #[test]
    fn bare_code_before_hcpcs_is_the_revenue_code() {
        let cols = header(&row("DOS Code HCPCS Service Description Qty Unit Price Charge"), 10.0).unwrap();
        let fields: Vec<Field> = cols.iter().map(|c| c.field).collect();
        assert_eq!(&fields[..3], &[Field::Date, Field::Rev, Field::Code], "{fields:?}");
    }
}

/// A header printed over two or three lines ("Insurance / Pmts/Adjs", "Rev / Code"): the rows
/// just below a header whose words are all labels-like text (no digits) and each sit under a
/// word of the row above join that word, so "Patient" over "Balance" is one label. Returns the
/// merged row and how many rows below were taken.
pub fn stacked_header(rows: &[Row], at: usize, unit: f32) -> (Row, usize) {
    let mut merged = rows[at].clone();
    let mut taken = 0;
    while let Some(next) = rows.get(at + 1 + taken) {
        let close = next.y - merged.y < unit * (2.3 + 1.2 * taken as f32) && next.page == merged.page;
        let textual = next.words.iter().all(|w| !w.text.chars().any(|c| c.is_ascii_digit()));
        // The label above that the word overlaps most (within half a text height of its edges).
        let under = |above: &[Word], w: &Word| {
            let reach = |a: &Word| w.x1.min(a.x1 + unit * 0.5) - w.x0.max(a.x0 - unit * 0.5);
            (0..above.len())
                .filter(|&i| reach(&above[i]) > 0.0)
                .max_by(|&i, &j| reach(&above[i]).total_cmp(&reach(&above[j])))
        };
        if !close || !textual || next.words.iter().any(|w| under(&merged.words, w).is_none()) {
            break;
        }
        for w in &next.words {
            // A word under two words of one phrase ("Description" under "Revenue Code") joins
            // the whole phrase.
            let spans: Vec<usize> = (0..merged.words.len())
                .filter(|&i| w.x1.min(merged.words[i].x1) > w.x0.max(merged.words[i].x0))
                .collect();
            if let [first, .., last] = spans[..] {
                let gaps_small = (first + 1..=last).all(|k| merged.words[k].x0 - merged.words[k - 1].x1 < unit * 0.8);
                if gaps_small {
                    let joined: Vec<Word> = merged.words.drain(first + 1..=last).collect();
                    let a = &mut merged.words[first];
                    for b in joined {
                        a.text = format!("{} {}", a.text, b.text);
                        a.x1 = a.x1.max(b.x1);
                        a.conf = a.conf.min(b.conf);
                    }
                }
            }
            let Some(i) = under(&merged.words, w) else { continue };
            let a = &mut merged.words[i];
            let sep = if a.text.ends_with('/') { "" } else { " " };
            a.text = format!("{}{sep}{}", a.text, w.text);
            a.x0 = a.x0.min(w.x0);
            a.x1 = a.x1.max(w.x1);
            a.conf = a.conf.min(w.conf);
        }
        taken += 1;
    }
    (merged, taken)
}
