//! A bill pasted as plain text (what a patient copies out of a portal or a PDF viewer) as pages
//! of words on a character grid, so the same layout reading applies: each character is half a
//! text height wide, so one space stays inside a cell and two or more separate columns. Text
//! copied out of a web table separates cells by tabs instead, one per cell, without lining them
//! up: there the n-th cell of every line starts where the widest n-th cell before it ends
//! (elastic tab stops), so a header's labels sit over their values. A form feed starts a new page.

use schemas::records::{OcrPage, OcrWord};

/// Height of a text line on the grid; a character is half as wide.
const LINE: f32 = 10.0;
const CHAR: f32 = LINE / 2.0;
/// Characters between two tab-separated cells.
const CELL_SPACING: usize = 3;

/// Whether the bytes are a plain-text document: UTF-8 without control characters other than
/// line breaks, tabs and form feeds, with some letters or digits in it.
pub fn is_plain_text(bytes: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(bytes) else { return false };
    let bad = s.chars().filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c')).count();
    bad == 0 && s.chars().any(char::is_alphanumeric)
}

/// The pages of a pasted bill, words with boxes on a character grid, confidence 1 (typed text).
pub fn text_pages(text: &str) -> Vec<OcrPage> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split('\x0c')
        .enumerate()
        .filter(|(_, page)| page.chars().any(char::is_alphanumeric))
        .map(|(i, page)| grid_page(i as i32 + 1, page))
        .collect()
}

fn grid_page(page_no: i32, text: &str) -> OcrPage {
    let lines: Vec<&str> = text.lines().collect();
    let stops = tab_stops(&lines);
    let mut words = Vec::new();
    let mut width = 0usize;
    for (row, line) in lines.iter().enumerate() {
        let y = row as f32 * LINE * 1.2;
        let cells: Vec<&str> = if stops.is_empty() { vec![line] } else { line.split('\t').collect() };
        for (i, cell) in cells.iter().enumerate() {
            let start = stops.get(i).copied().unwrap_or(0);
            width = width.max(place(cell, start, y, &mut words));
        }
    }
    OcrPage { page_no, width: width.max(1) as f32 * CHAR, height: lines.len().max(1) as f32 * LINE * 1.2, words }
}

/// Where each tab-separated cell starts, when the page is tab-separated (two or more lines
/// with tabs); empty otherwise.
fn tab_stops(lines: &[&str]) -> Vec<usize> {
    if lines.iter().filter(|l| l.contains('\t')).count() < 2 {
        return vec![];
    }
    let mut widths: Vec<usize> = vec![];
    for l in lines {
        for (i, cell) in l.split('\t').enumerate() {
            let w = cell.trim_end().chars().count();
            if i == widths.len() {
                widths.push(w);
            } else {
                widths[i] = widths[i].max(w);
            }
        }
    }
    let mut at = 0;
    widths
        .iter()
        .map(|w| {
            let start = at;
            at += w + CELL_SPACING;
            start
        })
        .collect()
}

/// The words of `text` from column `start` (tabs inside count as spaces); returns the column
/// after its last character.
fn place(text: &str, start: usize, y: f32, words: &mut Vec<OcrWord>) -> usize {
    let mut col = start;
    let mut word = String::new();
    let mut from = start;
    let mut push = |word: &mut String, from: usize, to: usize| {
        if !word.is_empty() {
            words.push(OcrWord {
                text: std::mem::take(word),
                x: from as f32 * CHAR,
                y,
                w: (to - from) as f32 * CHAR,
                h: LINE,
                confidence: 1.0,
            });
        }
    };
    for c in text.chars() {
        if c.is_whitespace() {
            push(&mut word, from, col);
        } else {
            if word.is_empty() {
                from = col;
            }
            word.push(c);
        }
        col += 1;
    }
    push(&mut word, from, col);
    col
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_place_words_on_the_grid() {
        let pages = text_pages("Date        Code   Charge\n03/14/2026  99213  $250.00\n");
        let w = &pages[0].words;
        assert_eq!(
            w.iter().map(|w| w.text.as_str()).collect::<Vec<_>>(),
            ["Date", "Code", "Charge", "03/14/2026", "99213", "$250.00"]
        );
        assert_eq!((w[1].x, w[4].x), (12.0 * CHAR, 12.0 * CHAR));
        assert!(w[3].y > w[0].y);
    }

    #[test]
    fn tab_separated_cells_line_up_under_their_labels() {
        let pages = text_pages("Date of Service\tCode\tCharges\n03/14/2026\t99213\t$250.00\n");
        let w = &pages[0].words;
        let x = |t: &str| w.iter().find(|w| w.text == t).unwrap().x;
        assert_eq!(x("Code"), x("99213"));
        assert_eq!(x("Charges"), x("$250.00"));
        assert_eq!(x("Code"), (15 + CELL_SPACING) as f32 * CHAR, "after the widest first cell");
    }

    #[test]
    fn form_feeds_split_pages_and_blank_pages_are_dropped() {
        let pages = text_pages("page one\x0c\n\n\x0cpage three");
        assert_eq!(pages.iter().map(|p| p.page_no).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn binary_is_not_text() {
        assert!(is_plain_text(b"Total charges 12.00\n"));
        assert!(!is_plain_text(b"\x00\x01PK\x03\x04"));
        assert!(!is_plain_text(&[0xff, 0xfe, 0x41]));
        assert!(!is_plain_text(b"   \n\t"));
    }
}
