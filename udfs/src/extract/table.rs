//! The line-item table: a header row sets the columns (kept across pages until a new header),
//! each later row's cells go to the column they sit under, a row with an amount is a line, a row
//! with only description words just below a line continues its description, and labelled amount
//! rows ("Total Charges", "Payments", "Balance Due") fill the totals block.
use super::fields;
use super::header::{header, stacked_header, Column, Field};
use super::rows::{cells, rows, unit, Row, Word};
use super::{Extraction, Line, Totals, REVIEW_THRESHOLD};
use crate::codes::{classify, is_cdm_number, CodeSystem};
use rust_decimal::Decimal;
use schemas::records::{DocumentKind, OcrPage};
use std::collections::BTreeMap;

/// Words closer than this many units belong to one cell.
const CELL_GAP: f32 = 0.8;

#[derive(Clone, Copy)]
enum TotalKind {
    /// A labelled amount the totals block does not keep (an EOB's plan-paid or allowed total).
    Other,
    Charges,
    Payments,
    Adjustments,
    Balance,
}

/// Totals labels, longest first so "total due" wins over "total".
const TOTAL_LABELS: &[(TotalKind, &str)] = &[
    (TotalKind::Balance, "total patient responsibility"),
    (TotalKind::Other, "total plan paid"),
    (TotalKind::Other, "total allowed"),
    (TotalKind::Other, "plan paid"),
    (TotalKind::Balance, "total responsibility"),
    (TotalKind::Balance, "amount you may owe"),
    (TotalKind::Balance, "you may owe"),
    (TotalKind::Balance, "your responsibility"),
    (TotalKind::Balance, "patient responsibility"),
    (TotalKind::Charges, "total estimated charges"),
    (TotalKind::Charges, "total estimated cost"),
    (TotalKind::Charges, "total amount billed"),
    (TotalKind::Balance, "please pay this amount"),
    (TotalKind::Adjustments, "contractual adjustments"),
    (TotalKind::Adjustments, "insurance adjustments"),
    (TotalKind::Payments, "insurance payments"),
    (TotalKind::Payments, "payments received"),
    (TotalKind::Payments, "patient payments"),
    (TotalKind::Charges, "estimated total"),
    (TotalKind::Charges, "total estimate"),
    (TotalKind::Charges, "total charges"),
    (TotalKind::Balance, "patient balance"),
    (TotalKind::Balance, "amount you owe"),
    (TotalKind::Payments, "insurance paid"),
    (TotalKind::Payments, "less payments"),
    (TotalKind::Charges, "total billed"),
    (TotalKind::Charges, "total amount"),
    (TotalKind::Balance, "balance due"),
    (TotalKind::Balance, "amount due"),
    (TotalKind::Balance, "your balance"),
    (TotalKind::Balance, "total due"),
    (TotalKind::Adjustments, "adjustments"),
    (TotalKind::Adjustments, "adjustment"),
    (TotalKind::Adjustments, "discounts"),
    (TotalKind::Payments, "payments"),
    (TotalKind::Payments, "payment"),
    (TotalKind::Balance, "you owe"),
    (TotalKind::Balance, "balance"),
    (TotalKind::Charges, "totals"),
    (TotalKind::Charges, "total"),
];

struct Open {
    line: Line,
    y: f32,
    page: u32,
}

/// Line items and totals of a document's pages. `kind` is the uploader's word; without it the
/// kind is read from the table's columns.
pub fn extract(pages: &[OcrPage], kind: Option<DocumentKind>) -> Extraction {
    let _span = tracing::debug_span!("extract", pages = pages.len()).entered();
    let mut st = State::default();
    for page in pages {
        read_page(page, &mut st);
    }
    let State { mut lines, totals, mut warnings, saw_eob_columns, saw_estimate, .. } = st;
    for (i, l) in lines.iter_mut().enumerate() {
        l.line_no = i as u32 + 1;
    }
    let kind = kind.unwrap_or(if saw_eob_columns {
        DocumentKind::Eob
    } else if saw_estimate {
        DocumentKind::Gfe
    } else {
        DocumentKind::Bill
    });
    if lines.is_empty() {
        warnings.push("no line items found: no table of charges with a header naming its columns".into());
    }
    check_totals(&lines, &totals, &mut warnings);
    Extraction { kind, lines, totals, warnings }
}

/// What reading carries from row to row and page to page.
#[derive(Default)]
struct State {
    lines: Vec<Line>,
    totals: Totals,
    warnings: Vec<String>,
    /// The charge table's columns, kept across pages until a new header.
    columns: Option<Vec<Column>>,
    saw_eob_columns: bool,
    saw_estimate: bool,
    /// The date a statement prints once above a group of lines ("Service Date 08/02/2023",
    /// "07/01/2020 to 07/01/2020 Visit #123"): lines under the date column without their own
    /// date take it.
    heading_date: Option<String>,
    /// How sure the reading of `heading_date` was.
    heading_conf: f32,
    /// A payer's remittance table was met: its rows are not charges until the next charge header.
    in_remittance: bool,
    /// First line after the last totals row.
    block_start: usize,
    /// The table was still open at the end of the last page (no totals row closed it): a page
    /// without a header of its own continues it.
    table_open: bool,
    /// Payments or adjustments were posted in the charge table: a bare "Total" after them is
    /// the balance, not the charges.
    saw_postings: bool,
}

fn read_page(page: &OcrPage, st: &mut State) {
    let u = unit(page);
    let page_rows = rows(page, u);
    // A page that repeats the header starts its table there; what is above it (a running
    // head: "Statement (continued)", the account number) is not in the table.
    let page_has_header = (0..page_rows.len()).any(|i| header_at(&page_rows, i, u).is_some());
    let mut in_table = st.columns.is_some() && st.table_open && !page_has_header && !st.in_remittance;
    // A page with a table of its own starts its groups afresh: a date printed once on an earlier
    // page (a due date beside its label) is not its lines' date.
    if page_has_header {
        st.heading_date = None;
    }
    // No header read anywhere so far (a bold header line OCR could not read): infer the
    // columns from the first rows that look like line items, and start the table there.
    let mut table_from = None;
    if st.columns.is_none() && !page_has_header {
        if let Some((i, cols)) = infer_columns(&page_rows, u) {
            st.warnings
                .push(format!("page {}: no header row read; columns inferred from the line items", page.page_no));
            st.saw_eob_columns |= eob_columns(&cols);
            st.columns = Some(cols);
            table_from = Some(i);
        }
    }
    let mut open: Option<Open> = None;
    let mut pitch: Vec<f32> = Vec::new();
    // Set when a totals row closed the table on this page: a dated line may reopen it.
    let mut resumable = false;
    let mut row_index = 0;
    while row_index < page_rows.len() {
        let at = row_index;
        row_index += 1;
        if table_from == Some(at) {
            in_table = true;
        }
        let row = &page_rows[at];
        tracing::trace!(page = row.page, y = row.y, text = %row.text(), "row");
        let lower = row.text().to_lowercase();
        st.saw_estimate |= lower.contains("good faith estimate");
        // Labels over a row of amounts and nothing else are an account summary, not a header.
        let over_amounts = |k: usize| page_rows.get(k).is_some_and(is_amount_row);
        if let Some((cols, taken)) = header_at(&page_rows, at, u).filter(|(_, t)| !over_amounts(at + 1 + t)) {
            row_index += taken;
            flush(&mut open, &mut st.lines);
            if cols.iter().any(|c| c.field == Field::Remit) {
                // A payer's adjudication (an 835 printed with the statement): its charges were
                // already read from the bill's own table.
                st.warnings.push(format!(
                    "page {}: a remittance table (the payer's adjudication) is not read as charges",
                    row.page
                ));
                st.in_remittance = true;
                in_table = false;
                continue;
            }
            st.saw_eob_columns |= eob_columns(&cols);
            st.saw_estimate |= lower.contains("estimat");
            st.columns = Some(cols);
            st.in_remittance = false;
            in_table = true;
            resumable = false;
            continue;
        }
        if st.in_remittance {
            continue;
        }
        let charges_before = st.totals.total_charges;
        if let Some(done) = totals_row(row, st.columns.as_deref(), u, st.saw_postings, &mut st.totals) {
            flush(&mut open, &mut st.lines);
            add_block_total(st, charges_before);
            if done {
                resumable = in_table;
                in_table = false;
            }
            continue;
        }
        if is_amount_row(row) && summary_block(&page_rows, at, u, &mut st.totals) {
            continue;
        }
        let Some(cols) = st.columns.as_deref() else {
            note_heading_date(row, &lower, st);
            continue;
        };
        // A subtotal under a revenue-code heading ("Total 0250 Pharmacy  81.22") is no line,
        // and does not close the table; a line item named "Total ..." has a procedure code.
        let first_word = lower.split_whitespace().next().unwrap_or_default();
        let coded = row.words.iter().any(|w| matches!(classify(&w.text), CodeSystem::Cpt | CodeSystem::Hcpcs));
        if matches!(first_word, "total" | "totals" | "subtotal" | "sub-total") && !coded {
            flush(&mut open, &mut st.lines);
            continue;
        }
        let assigned = assign(row, cols, u);
        if tracing::enabled!(tracing::Level::TRACE) {
            let cells: Vec<(Field, String)> = assigned.iter().map(|(f, ws)| (*f, join(Some(ws)))).collect();
            tracing::trace!(?cells, "cells");
        }
        // A table closed by a totals row goes on when another dated line follows under the
        // same columns (a statement's second visit or provider block).
        if !in_table {
            if !resumable {
                note_heading_date(row, &lower, st);
                continue;
            }
            let dated = assigned.get(&Field::Date).is_some_and(|ws| ws.iter().any(|w| fields::date(&w.text).is_some()));
            let charged = assigned.get(&Field::Charge).is_some_and(|ws| fields::money(&join(Some(ws))).is_some());
            if !(dated && charged) {
                note_heading_date(row, &lower, st);
                continue;
            }
            in_table = true;
        }
        let only_desc = assigned.keys().all(|f| matches!(f, Field::Desc | Field::RevDesc));
        if only_desc {
            if let Some(o) = open.as_mut() {
                let limit = typical_pitch(&pitch, u) * 1.3;
                if o.page == row.page && row.y - o.y <= limit {
                    let more = join(assigned.get(&Field::Desc));
                    o.line.description = format!("{} {}", o.line.description, more).trim().to_string();
                    o.y = row.y;
                    continue;
                }
            }
            continue;
        }
        // An amount alone (a page number under the amount column) is not a line item.
        let described = [Field::Date, Field::Code, Field::Rev, Field::Desc, Field::Cdm, Field::RevDesc]
            .iter()
            .any(|f| assigned.contains_key(f));
        if !described {
            continue;
        }
        match parse_line(&assigned, cols, row.page, st.heading_date.as_deref()) {
            Some(line) if is_transaction(&line) => {
                // A payment, adjustment or discount posted in the charge table is not a charge.
                st.saw_postings = true;
                flush(&mut open, &mut st.lines);
            }
            Some(line) if is_posting(&line, cols) => {
                st.saw_postings = true;
                flush(&mut open, &mut st.lines);
                st.warnings.push(format!(
                    "page {}: a row with no revenue code, procedure code or charge-master number is taken as a posting to the account, not a charge: {:?}",
                    row.page,
                    row.text()
                ));
            }
            Some(line) if is_prose(&line) => {
                flush(&mut open, &mut st.lines);
            }
            Some(mut line) => {
                if line.service_date.is_none()
                    && st.heading_date.is_some()
                    && cols.iter().any(|c| c.field == Field::Date)
                {
                    line.service_date.clone_from(&st.heading_date);
                    // As sure as the heading's date was read.
                    line.confidence = line.confidence.min(st.heading_conf);
                    line.flagged |= line.confidence < REVIEW_THRESHOLD;
                } else if line.service_date.is_some() {
                    st.heading_date.clone_from(&line.service_date);
                    st.heading_conf = line.confidence;
                }
                if let Some(o) = &open {
                    if o.page == row.page {
                        pitch.push(row.y - o.y);
                    }
                }
                flush(&mut open, &mut st.lines);
                open = Some(Open { line, y: row.y, page: row.page });
            }
            None => {
                if note_heading_date(row, &lower, st) {
                    flush(&mut open, &mut st.lines);
                } else if looks_like_item(&assigned) {
                    // Words under the amount columns that do not read as an amount: a line we
                    // cannot trust, kept visible with a warning rather than dropped.
                    st.warnings.push(format!("page {}: a row could not be read: {:?}", row.page, row.text()));
                }
            }
        }
    }
    flush(&mut open, &mut st.lines);
    st.table_open = in_table;
}

/// A statement with one block per visit or provider prints "Totals" under each: the block's
/// total joins the earlier blocks' when the lines since the last total add up to it.
fn add_block_total(st: &mut State, before: Option<Decimal>) {
    let (Some(prev), Some(now)) = (before, st.totals.total_charges) else {
        st.block_start = st.lines.len();
        return;
    };
    let block: Decimal = st.lines[st.block_start.min(st.lines.len())..].iter().map(|l| l.charge).sum();
    if st.block_start > 0 && st.block_start < st.lines.len() && block == now {
        st.totals.total_charges = Some(prev + now);
    }
    st.block_start = st.lines.len();
}

/// An account summary printed as labels over a row of amounts ("Charges | Insurance Payments and
/// Adjustments | Patient Payments and Adjustments | Total Balance" over "90,659.30 -81,529.70
/// 0.00 9,129.60"): each amount takes the words above it (up to two printed lines). Returns
/// whether row `at` was such a row of amounts.
fn is_amount_row(row: &Row) -> bool {
    row.words.len() >= 2 && row.words.iter().all(|w| w.text.contains('.') && fields::money(&w.text).is_some())
}

fn summary_block(rows: &[Row], at: usize, u: f32, totals: &mut Totals) -> bool {
    let row = &rows[at];
    let amounts: Vec<(Decimal, &Word)> =
        row.words.iter().filter_map(|w| fields::money(&w.text).map(|v| (v, w))).collect();
    let above: Vec<&Row> = rows[..at].iter().rev().take(2).filter(|r| row.y - r.y < u * 3.5).collect();
    let mut found = Totals::default();
    for (v, w) in &amounts {
        let label: String = above
            .iter()
            .rev()
            .flat_map(|r| r.words.iter())
            .filter(|l| l.x0 < w.x1 + u * 1.5 && l.x1 > w.x0 - u * 1.5)
            .map(|l| l.text.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        let add = |slot: &mut Option<Decimal>, v: Decimal| *slot = Some(slot.unwrap_or_default() + v);
        if label.contains("payment") || label.contains("adjust") {
            add(&mut found.payments, v.abs());
        } else if label.contains("balance") || label.contains("due") {
            found.balance_due = Some(*v);
        } else if label.contains("charge") {
            found.total_charges = Some(*v);
        }
    }
    let keep = |slot: &mut Option<Decimal>, v: Option<Decimal>| {
        if slot.is_none() {
            *slot = v;
        }
    };
    keep(&mut totals.total_charges, found.total_charges);
    keep(&mut totals.payments, found.payments);
    keep(&mut totals.balance_due, found.balance_due);
    found != Totals::default()
}

/// The header starting at row `at`, printed on one line or stacked over two or three ("Insurance"
/// over "Pmts/Adjs"), and how many rows below it belong to it.
fn header_at(rows: &[Row], at: usize, u: f32) -> Option<(Vec<Column>, usize)> {
    let single = header(&rows[at], u);
    let (merged, taken) = stacked_header(rows, at, u);
    match (single, taken) {
        (single, 0) => single.map(|c| (c, 0)),
        // The merged reading wins when it names at least the columns the first line did (a
        // description-only first line under "Description" is no part of the header).
        (single, taken) => match (header(&merged, u), single) {
            (Some(m), Some(s)) if m.len() < s.len() => Some((s, 0)),
            (Some(m), _) => Some((m, taken)),
            (None, s) => s.map(|c| (c, 0)),
        },
    }
}

fn eob_columns(cols: &[Column]) -> bool {
    cols.iter().any(|c| matches!(c.field, Field::Allowed | Field::PlanPaid | Field::PatientResp))
}

/// Dates a statement prints about itself, not about the care.
const NOT_SERVICE_DATES: &[&str] =
    &["statement", "due", "birth", "dob", "print", "bill date", "billing date", "pay by", "discharge", "admission"];

/// A row without an amount that prints a date (a visit heading, "Service Date 08/02/2023"):
/// the date of the lines below it. Returns whether the row was such a heading.
fn note_heading_date(row: &Row, lower: &str, st: &mut State) -> bool {
    if NOT_SERVICE_DATES.iter().any(|w| lower.contains(w))
        || row.words.iter().any(|w| w.text.contains('.') && fields::money(&w.text).is_some())
    {
        return false;
    }
    // A label and its date read as one word ("ServiceDate08/02/2023") still give the date.
    let date_in = |t: &str| {
        fields::date(t).or_else(|| fields::date(t.trim_start_matches(|c: char| c.is_alphabetic() || c == ':')))
    };
    let Some((d, w)) = row.words.iter().find_map(|w| date_in(&w.text).map(|d| (d, w))) else { return false };
    st.heading_date = Some(d);
    // An OCR'd two-digit year may be a four-digit one cut short ("08/02/20" read from
    // "08/02/2023" on SSM's sample statement): lines dated by it are flagged for checking.
    let short_year = w.text.rsplit(['/', '-']).next().is_some_and(|y| y.trim_end_matches(['.', ',']).len() == 2);
    st.heading_conf = if short_year && w.conf < 1.0 { w.conf.min(0.6) } else { w.conf };
    true
}

/// A hospital statement's charges carry revenue codes: in a table with that column, a dated
/// amount with no revenue code, procedure code or charge-master number (its description hidden
/// or unread) is a posting (a payment variance, an adjustment), not a charge.
fn is_posting(line: &Line, cols: &[Column]) -> bool {
    cols.iter().any(|c| c.field == Field::Rev)
        && line.revenue_code.is_none()
        && line.code.is_none()
        && line.cdm_code.is_none()
        && line.description.chars().filter(|c| c.is_alphabetic()).count() < 3
}

/// Function words of running text: a sentence that happens to sit over the amount column
/// ("... Monday through Friday, 8:30 a.m.") is not a line item.
const PROSE_WORDS: &[&str] = &[
    "the", "to", "for", "at", "of", "and", "through", "you", "your", "please", "our", "by", "with", "or", "if", "is",
    "are", "will", "may", "from", "this",
];

fn is_prose(line: &Line) -> bool {
    if line.code.is_some() || line.revenue_code.is_some() || line.cdm_code.is_some() {
        return false;
    }
    let words: Vec<String> = line
        .description
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
        .collect();
    let function = words.iter().filter(|w| PROSE_WORDS.contains(&w.as_str())).count();
    function >= 2 || (line.description.contains(':') && words.len() >= 4)
}

/// Words of the account's transactions rather than its charges.
const TRANSACTION_WORDS: &[&str] = &[
    "payment",
    "pymt",
    "pmt",
    "adjustment",
    "adj",
    "allowance",
    "contractual",
    "discount",
    "write",
    "refund",
    "variance",
    "transfer",
    "credit",
    "returned",
    "nsf",
    "copay received",
    "deposit",
];

/// A row of the charge table that is not a charge: a subtotal under a revenue-code heading
/// ("Total 0250 Pharmacy"), or money moving on the account (an insurance payment, a contractual
/// allowance, a discount) — no procedure or revenue code, and said in words or by a negative
/// amount.
fn is_transaction(line: &Line) -> bool {
    let d = line.description.to_lowercase();
    let first = d.split_whitespace().next().unwrap_or_default();
    if line.code.is_none() && matches!(first, "total" | "totals" | "subtotal" | "sub-total" | "sub") {
        return true;
    }
    if line.code.is_some() || line.revenue_code.is_some() || line.cdm_code.is_some() {
        return false;
    }
    let worded = d
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| TRANSACTION_WORDS.iter().any(|t| w == *t || (t.len() > 4 && w.starts_with(t))));
    worded || line.charge.is_sign_negative()
}

/// Columns from a line item's own cells when no header was read: a date, a revenue code, a
/// procedure code, a description, a small whole number (quantity) and amounts, by their shapes.
/// The template is the first row with a date or code and at least one amount; amounts map
/// right to left onto the charge (one or two amounts: price, charge; four: an EOB's billed,
/// allowed, plan paid, patient share).
fn infer_columns(rows: &[Row], unit: f32) -> Option<(usize, Vec<Column>)> {
    for (i, row) in rows.iter().enumerate() {
        let (mut cols, amounts) = row_shape(row, unit);
        let keyed = cols.iter().any(|c| matches!(c.field, Field::Date | Field::Code));
        if !keyed || amounts.is_empty() || amounts.len() == 3 || amounts.len() > 4 {
            continue;
        }
        // One row of that shape is not a table (an address with a ZIP code that reads as a
        // CPT code beside an amount due): another keyed row with its last amount under the
        // same right edge within the next few rows confirms it.
        let charge_x1 = amounts[amounts.len() - 1].1;
        let confirmed = rows[i + 1..].iter().take(4).any(|r| {
            let (c, a) = row_shape(r, unit);
            c.iter().any(|c| matches!(c.field, Field::Date | Field::Code))
                && a.last().is_some_and(|(_, x1)| (x1 - charge_x1).abs() < unit * 1.5)
        });
        if !confirmed {
            continue;
        }
        let names: &[Field] = match amounts.len() {
            1 => &[Field::Charge],
            2 => &[Field::UnitPrice, Field::Charge],
            _ => &[Field::Charge, Field::Allowed, Field::PlanPaid, Field::PatientResp],
        };
        for ((x0, x1), f) in amounts.iter().zip(names) {
            cols.push(Column { field: *f, x0: *x0, x1: *x1, words: 1 });
        }
        cols.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        return Some((i, cols));
    }
    None
}

/// The columns a row's cells suggest by their shapes, and the spans of its amounts.
fn row_shape(row: &Row, unit: f32) -> (Vec<Column>, Vec<(f32, f32)>) {
    let mut cols: Vec<Column> = Vec::new();
    let mut amounts: Vec<(f32, f32)> = Vec::new();
    for (a, b) in cells(row, unit * CELL_GAP) {
        let text: String = row.words[a..=b].iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
        let (x0, x1) = (row.words[a].x0, row.words[b].x1);
        let field = if fields::date(&text).is_some() {
            Some(Field::Date)
        } else if fields::revenue(&text).is_some() {
            Some(Field::Rev)
        } else if matches!(fields::code(&text).1, CodeSystem::Cpt | CodeSystem::Hcpcs) {
            Some(Field::Code)
        } else if text.contains('.') && fields::money(&text).is_some() {
            amounts.push((x0, x1));
            None
        } else if text.len() <= 3 && fields::units(&text).is_some() {
            Some(Field::Units)
        } else if text.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 3 {
            Some(Field::Desc)
        } else {
            None
        };
        if let Some(f) = field {
            if !cols.iter().any(|c| c.field == f) {
                cols.push(Column { field: f, x0, x1, words: 1 });
            }
        }
    }
    (cols, amounts)
}

fn flush(open: &mut Option<Open>, lines: &mut Vec<Line>) {
    if let Some(o) = open.take() {
        lines.push(o.line);
    }
}

fn typical_pitch(pitch: &[f32], unit: f32) -> f32 {
    if pitch.is_empty() {
        return unit * 2.0;
    }
    let mut p = pitch.to_vec();
    p.sort_by(f32::total_cmp);
    p[p.len() / 2].max(unit * 1.2)
}

fn join(words: Option<&Vec<&Word>>) -> String {
    words.map(|ws| ws.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn min_conf(words: Option<&Vec<&Word>>) -> f32 {
    words.map(|ws| ws.iter().map(|w| w.conf).fold(1.0f32, f32::min)).unwrap_or(1.0)
}

/// Each cell of the row goes to the column its span overlaps, else to the nearest column; a
/// cell overlapping several columns is split word by word.
fn assign<'a>(row: &'a Row, cols: &[Column], unit: f32) -> BTreeMap<Field, Vec<&'a Word>> {
    let mut out: BTreeMap<Field, Vec<&Word>> = BTreeMap::new();
    let overlap = |x0: f32, x1: f32, c: &Column| (x1.min(c.x1) - x0.max(c.x0)).max(0.0);
    let gap = |x0: f32, x1: f32, c: &Column| (c.x0 - x1).max(x0 - c.x1).max(0.0);
    let best = |x0: f32, x1: f32| -> Option<Field> {
        let by_overlap = cols
            .iter()
            .map(|c| (c, overlap(x0, x1, c)))
            .filter(|(_, o)| *o > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c.field);
        by_overlap.or_else(|| cols.iter().min_by(|a, b| gap(x0, x1, a).total_cmp(&gap(x0, x1, b))).map(|c| c.field))
    };
    // How far a cell is from lining up with a header: values sit flush left (text, codes),
    // flush right (amounts) or centred (quantities) under their label.
    let misalign = |x0: f32, x1: f32, c: &Column| {
        let mid = ((x0 + x1) - (c.x0 + c.x1)).abs() / 2.0;
        (x0 - c.x0).abs().min((x1 - c.x1).abs()).min(mid)
    };
    for (a, b) in cells(row, unit * CELL_GAP) {
        let (x0, x1) = (row.words[a].x0, row.words[b].x1);
        let hits = cols.iter().filter(|c| overlap(x0, x1, c) > 0.0).count();
        if hits <= 1 {
            let aligned =
                cols.iter().min_by(|p, q| misalign(x0, x1, p).total_cmp(&misalign(x0, x1, q))).map(|c| c.field);
            if let Some(f) = aligned.or_else(|| best(x0, x1)) {
                out.entry(f).or_default().extend(&row.words[a..=b]);
            }
        } else {
            // A run across two labels ("... INJ 10 MG 1" under Description and Qty): a word
            // under a label goes to it; a word under none stays with the word before it.
            let mut current = best(row.words[a].x0, row.words[a].x1);
            for w in &row.words[a..=b] {
                let under = cols
                    .iter()
                    .map(|c| (c, overlap(w.x0, w.x1, c)))
                    .filter(|(_, o)| *o > 0.0)
                    .max_by(|p, q| p.1.total_cmp(&q.1))
                    .map(|(c, _)| c.field);
                if under.is_some() {
                    current = under;
                }
                if let Some(f) = current {
                    out.entry(f).or_default().push(w);
                }
            }
        }
    }
    out
}

/// Digits under at least two of the numeric columns: a line item we failed to read, rather than
/// a page heading that happens to sit over the table's columns.
fn looks_like_item(assigned: &BTreeMap<Field, Vec<&Word>>) -> bool {
    let numeric = [Field::Date, Field::Code, Field::Rev, Field::Cdm, Field::Units, Field::UnitPrice, Field::Charge];
    let has_digit =
        |f: &Field| assigned.get(f).is_some_and(|ws| ws.iter().any(|w| w.text.chars().any(|c| c.is_ascii_digit())));
    numeric.iter().filter(|f| has_digit(f)).count() >= 2
}

fn parse_line(a: &BTreeMap<Field, Vec<&Word>>, cols: &[Column], page: u32, heading_date: Option<&str>) -> Option<Line> {
    let has = |f: Field| cols.iter().any(|c| c.field == f);
    // No date label read (a damaged "DOS"), yet the row starts with a date: it is the service
    // date, taken out of whichever cell it fell into.
    let mut owned: BTreeMap<Field, Vec<&Word>> = a.clone();
    let mut found_date = None;
    if !has(Field::Date) {
        'search: for f in [Field::Rev, Field::Code, Field::Desc] {
            if let Some(ws) = owned.get_mut(&f) {
                if let Some(i) = ws.iter().position(|w| fields::date(&w.text).is_some()) {
                    found_date = fields::date(&ws[i].text);
                    ws.remove(i);
                    if ws.is_empty() {
                        owned.remove(&f);
                    }
                    break 'search;
                }
            }
        }
    }
    let a = &owned;
    let text = |f: Field| join(a.get(&f));
    // A price column and no amount column: the price times the quantity is the charge.
    let price_only = !has(Field::Charge);
    let read_charge = if price_only {
        let price = fields::money(&text(Field::UnitPrice));
        let qty = if a.contains_key(&Field::Units) { fields::units(&text(Field::Units)) } else { Some(1) };
        price.zip(qty).map(|(p, q)| p * Decimal::from(q))
    } else {
        fields::money(&text(Field::Charge))
    };
    let mut conf = [Field::Date, Field::Code, Field::Rev, Field::Units, Field::UnitPrice, Field::Charge]
        .iter()
        .map(|f| min_conf(a.get(f)))
        .fold(1.0f32, f32::min);
    let mut checks_failed = false;
    let date_text = text(Field::Date);
    let service_date = found_date.or_else(|| fields::date(&date_text));
    // Letters only under the date label: the description starting left of its label.
    let date_is_words =
        !date_text.chars().any(|c| c.is_ascii_digit()) && date_text.chars().filter(|c| c.is_alphabetic()).count() >= 3;
    // An empty date cell under a date printed once for the group is that date (the caller fills it in).
    let date_missing = service_date.is_none() && (date_is_words || date_text.is_empty()) && heading_date.is_none();
    if has(Field::Date) && service_date.is_none() && (date_missing || !(date_is_words || date_text.is_empty())) {
        checks_failed = true;
    }
    let revenue_code = fields::revenue(&text(Field::Rev));
    if has(Field::Rev) && a.contains_key(&Field::Rev) && revenue_code.is_none() {
        checks_failed = true;
    }
    // Words under the code label that are plainly words (a drug name when the code cell is
    // empty and the description starts close to it) belong to the description.
    let code_text = text(Field::Code);
    let wordy = code_text.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 4
        && code_text.split_whitespace().next().is_some_and(|w| !w.chars().any(|c| c.is_ascii_digit()));
    let mut description = text(Field::Desc);
    if date_is_words {
        description = format!("{date_text} {description}").trim().to_string();
    }
    // A charge-master number in the code column (statements print one there when the item has
    // no CPT/HCPCS code) or in its own column: kept apart, never read as a code.
    let mut cdm_code = fields::cdm(&text(Field::Cdm));
    let code_is_cdm = code_text.split_whitespace().next().is_some_and(is_cdm_number);
    if code_is_cdm {
        cdm_code = code_text.split_whitespace().next().map(str::to_string);
    }
    let (code, mut code_system, mut modifiers) = if code_is_cdm {
        (None, CodeSystem::Cdm, vec![])
    } else if a.contains_key(&Field::Code) && !wordy {
        fields::code(&code_text)
    } else {
        if wordy {
            description = format!("{code_text} {description}").trim().to_string();
        }
        (None, CodeSystem::Unknown, vec![])
    };
    if code.is_some() && code_system == CodeSystem::Unknown {
        checks_failed = true;
    }
    // Pharmacy revenue codes (025x, 0636 drugs requiring detailed coding) take HCPCS drug and
    // solution codes: five digits there, led by the digits a J is read as ("41100", "47050"),
    // are that J. Flagged.
    let code = match (code, revenue_code.as_deref()) {
        (Some(c), Some(rev))
            if (rev.starts_with("025") || rev == "0636")
                && c.len() == 5
                && c.bytes().all(|b| b.is_ascii_digit())
                && matches!(c.as_bytes()[0], b'4' | b'1') =>
        {
            checks_failed = true;
            code_system = CodeSystem::Hcpcs;
            Some(format!("J{}", &c[1..]))
        }
        (c, _) => c,
    };
    // Four digits under the procedure-code label, not a revenue code: an HCPCS code whose J
    // (the hook OCR most often loses) was not read. The likeliest reading, flagged.
    let code = match code {
        Some(c) if c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()) && !c.starts_with('0') => {
            code_system = CodeSystem::Hcpcs;
            Some(format!("J{c}"))
        }
        other => other,
    };
    if code.is_none() && cdm_code.is_some() {
        code_system = CodeSystem::Cdm;
    } else if code.is_none() && revenue_code.is_some() {
        code_system = CodeSystem::Rev;
    }
    modifiers.extend(fields::modifiers(&text(Field::Mod)));
    let mut unit_price = a.get(&Field::UnitPrice).and_then(|_| fields::money(&text(Field::UnitPrice)));
    let mut read_units = if a.contains_key(&Field::Units) { fields::units(&text(Field::Units)) } else { None };
    // A quantity that landed in the price cell ("4 14.66", its own header unread): kept when
    // quantity x price is the amount.
    if unit_price.is_none() && read_units.is_none() {
        let cell = text(Field::UnitPrice);
        let nums: Vec<&str> = cell.split_whitespace().collect();
        if let [q, p] = nums.as_slice() {
            if let (Some(q), Some(p), Some(c)) = (fields::units(q), fields::money(p), read_charge) {
                if p * Decimal::from(q) == c {
                    read_units = Some(q);
                    unit_price = Some(p);
                }
            }
        }
    }
    // Bills print cents: an amount read without its decimal point ("200153" for 200.18) that
    // quantity x price contradicts is replaced by that product, flagged.
    let cents_lost = !price_only && !text(Field::Charge).contains(['.', ',']);
    // The decimal point itself read as a digit ("931787" for 931.87), often in both the price
    // and the amount of a one-unit line: taken when the repaired amounts agree with the
    // quantity (flagged, as every repair is).
    let mut read_charge = read_charge;
    if cents_lost {
        let charge_text = text(Field::Charge);
        let price_text = text(Field::UnitPrice);
        let charge_candidates = [fields::point_read_as_digit(&charge_text), fields::point_dropped(&charge_text)];
        let price_candidates =
            [unit_price, fields::point_read_as_digit(&price_text), fields::point_dropped(&price_text)];
        let q = Decimal::from(read_units.unwrap_or(1));
        let agreeing = charge_candidates
            .iter()
            .flatten()
            .find_map(|c| price_candidates.iter().flatten().find(|p| **p * q == *c).map(|p| (*c, *p)));
        if let Some((c2, p2)) = agreeing {
            read_charge = Some(c2);
            unit_price = Some(p2);
            checks_failed = true;
        }
    }
    let charge = match (read_charge, read_units, unit_price) {
        (Some(c), Some(u), Some(p)) if cents_lost && p * Decimal::from(u) != c => {
            checks_failed = true;
            p * Decimal::from(u)
        }
        (Some(c), _, _) => c,
        // The amount unreadable but quantity and price read: their product, flagged.
        (None, Some(u), Some(p)) => {
            checks_failed = true;
            p * Decimal::from(u)
        }
        _ => return None,
    };
    let units = match (read_units, unit_price) {
        (Some(u), _) => u,
        // No quantity printed (or none read) but price and amount are: the quantity they imply,
        // if whole. Derived, not read, so the line is flagged.
        (None, Some(p))
            if has(Field::Units) && !p.is_zero() && (charge / p).fract().is_zero() && charge / p > Decimal::ZERO =>
        {
            checks_failed = true;
            (charge / p).to_string().parse().unwrap_or(1)
        }
        (None, _) => {
            if has(Field::Units) {
                checks_failed = true;
            }
            1
        }
    };
    let mut units = units;
    if let Some(p) = unit_price {
        if p * Decimal::from(units) != charge {
            checks_failed = true;
            // An OCR'd quantity the recogniser was unsure of, where price and amount agree on
            // another whole quantity: that one, flagged. Text-layer quantities (confidence 1)
            // are never changed, so a real arithmetic error on a digital bill stays visible.
            let implied = if p.is_zero() { None } else { Some(charge / p) };
            if let Some(k) = implied.filter(|k| k.fract().is_zero() && *k >= Decimal::ONE) {
                if min_conf(a.get(&Field::Units)) < 0.9 {
                    units = k.to_string().parse().unwrap_or(units);
                }
            }
        }
    }
    let amount = |f: Field| a.get(&f).and_then(|_| fields::money(&text(f)));
    let (allowed, plan_paid, patient_responsibility) =
        (amount(Field::Allowed), amount(Field::PlanPaid), amount(Field::PatientResp));
    if let (Some(al), Some(pp), Some(pr)) = (allowed, plan_paid, patient_responsibility) {
        if al - pp != pr {
            checks_failed = true;
        }
    }
    if checks_failed {
        conf = conf.min(0.5);
    }
    if let Some(c) = &code {
        debug_assert!(classify(c) == code_system || code_system == CodeSystem::Unknown);
    }
    Some(Line {
        line_no: 0,
        page,
        service_date,
        code,
        code_system,
        revenue_code,
        cdm_code,
        modifiers,
        description,
        units,
        unit_price,
        charge,
        allowed,
        plan_paid,
        patient_responsibility,
        confidence: conf,
        flagged: conf < REVIEW_THRESHOLD,
    })
}

/// A labelled totals row: records its amount and returns whether it ends the table (`None`
/// when the row is not a totals row).
fn totals_row(
    row: &Row,
    cols: Option<&[Column]>,
    unit: f32,
    after_postings: bool,
    totals: &mut Totals,
) -> Option<bool> {
    let label: Vec<String> = row
        .words
        .iter()
        .take_while(|w| fields::money(&w.text).is_none())
        .flat_map(|w| w.text.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();
    // A label is a few words; a sentence that mentions a balance is not a totals row.
    if label.is_empty() || label.len() > 5 {
        return None;
    }
    let label = format!(" {} ", label.join(" "));
    // A line item whose description starts with "Total" ("TOTAL PROTEIN") has a code or a date.
    if row.words.iter().any(|w| fields::date(&w.text).is_some() || classify(&w.text) != CodeSystem::Unknown) {
        return None;
    }
    // OCR may also drop the space inside a label ("TOTALCHARGES").
    let compact = label.replace(' ', "");
    let (kind, found) = TOTAL_LABELS.iter().find(|(_, l)| {
        label.contains(&format!(" {l} ")) || (l.contains(' ') && compact.contains(&l.replace(' ', "")))
    })?;
    // A bare "Total" under the payments posted in the same column is what is left to pay.
    let kind = match (kind, *found, label.trim()) {
        (TotalKind::Charges, "total" | "totals", "total" | "totals") if after_postings => &TotalKind::Balance,
        _ => kind,
    };
    // Amounts word by word; a sign or dollar printed apart ("$ 12.00", "- 12.00") joins its number.
    let mut amounts: Vec<(Decimal, &Word)> = Vec::new();
    let mut i = 0;
    while i < row.words.len() {
        let w = &row.words[i];
        if let Some(v) = fields::money(&w.text) {
            amounts.push((v, w));
        } else if i + 1 < row.words.len() && matches!(w.text.as_str(), "$" | "-" | "-$" | "(" | "($") {
            let next = &row.words[i + 1];
            if let Some(v) = fields::money(&format!("{}{}", w.text, next.text)) {
                amounts.push((v, next));
                i += 1;
            }
        }
        i += 1;
    }
    // Totals print cents; a bare number beside one is a footnote or callout marker ("$313.50 11").
    if amounts.iter().any(|(_, w)| w.text.contains('.')) {
        amounts.retain(|(_, w)| w.text.contains('.'));
    }
    let (last, _) = *amounts.last()?;
    let set = |slot: &mut Option<Decimal>, v: Decimal| *slot = Some(v);
    match kind {
        TotalKind::Charges if amounts.len() > 1 => {
            // A totals row under an EOB's columns: each amount under its own column.
            let cols = cols.unwrap_or(&[]);
            for (v, w) in &amounts {
                let under = cols.iter().find(|c| w.x1 >= c.x0 - unit && w.x0 <= c.x1 + unit).map(|c| c.field);
                match under {
                    Some(Field::Charge) => set(&mut totals.total_charges, *v),
                    Some(Field::PatientResp) => set(&mut totals.balance_due, *v),
                    _ => {}
                }
            }
            if totals.total_charges.is_none() {
                set(&mut totals.total_charges, amounts[0].0);
            }
        }
        TotalKind::Other => {}
        TotalKind::Charges => set(&mut totals.total_charges, last),
        TotalKind::Payments => set(&mut totals.payments, last.abs()),
        TotalKind::Adjustments => set(&mut totals.adjustments, last.abs()),
        TotalKind::Balance => set(&mut totals.balance_due, last),
    }
    Some(true)
}

/// Disagreements between the lines and the totals block are worth a warning here (and a
/// finding later), since they are also how a misread line shows itself.
fn check_totals(lines: &[Line], totals: &Totals, warnings: &mut Vec<String>) {
    if let Some(t) = totals.total_charges {
        let sum: Decimal = lines.iter().map(|l| l.charge).sum();
        if sum != t && !lines.is_empty() {
            warnings.push(format!("lines add up to {sum}, the document's total charges are {t}"));
        }
    }
}
