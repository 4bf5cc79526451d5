//! Words into rows and rows into cells. Rows follow their words left to right, so a row that
//! drifts a little up or down across the page (a phone photo's perspective) stays one row.
use schemas::records::{OcrPage, OcrWord};

/// A word with its box edges.
#[derive(Debug, Clone)]
pub struct Word {
    pub text: String,
    pub x0: f32,
    pub x1: f32,
    pub y0: f32,
    pub y1: f32,
    pub conf: f32,
}

impl Word {
    fn from_ocr(w: &OcrWord) -> Self {
        Self { text: w.text.clone(), x0: w.x, x1: w.x + w.w, y0: w.y, y1: w.y + w.h, conf: w.confidence }
    }
    pub fn cy(&self) -> f32 {
        (self.y0 + self.y1) / 2.0
    }
}

/// Words on one line of the page, left to right.
#[derive(Debug, Clone)]
pub struct Row {
    pub page: u32,
    pub words: Vec<Word>,
    pub y: f32,
}

impl Row {
    pub fn text(&self) -> String {
        self.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
    }
}

/// The typical word height on a page: the unit for every gap and distance.
pub fn unit(page: &OcrPage) -> f32 {
    let mut hs: Vec<f32> = page.words.iter().map(|w| w.h).filter(|h| *h > 0.0).collect();
    if hs.is_empty() {
        return 10.0;
    }
    hs.sort_by(f32::total_cmp);
    hs[hs.len() / 2]
}

/// Groups a page's words into rows, top to bottom.
/// The hook of a J at bill sizes reads as "}", ")" or "]": such a mark just left of four digits
/// is the J of an HCPCS code ("} 7030" is J7030). Merged, with lowered confidence.
fn rejoin_hcpcs_j(words: &mut Vec<Word>, unit: f32) {
    let mut i = 0;
    while i < words.len() {
        let is_hook = matches!(words[i].text.as_str(), "}" | ")" | "]" | "J)" | "J}");
        if is_hook {
            let (x1, cy) = (words[i].x1, words[i].cy());
            let next = words.iter().position(|w| {
                w.x0 >= x1 - unit * 0.1
                    && w.x0 - x1 < unit * 1.2
                    && (w.cy() - cy).abs() < unit * 0.5
                    && w.text.len() == 4
                    && w.text.bytes().all(|b| b.is_ascii_digit())
            });
            if let Some(j) = next {
                let digits = words[j].text.clone();
                let merged = Word {
                    text: format!("J{digits}"),
                    x0: words[i].x0,
                    x1: words[j].x1,
                    y0: words[i].y0.min(words[j].y0),
                    y1: words[i].y1.max(words[j].y1),
                    conf: words[i].conf.min(words[j].conf).min(0.6),
                };
                words[j] = merged;
                words.remove(i);
                continue;
            }
        }
        i += 1;
    }
}

pub fn rows(page: &OcrPage, unit: f32) -> Vec<Row> {
    let mut raw: Vec<Word> = page.words.iter().filter(|w| !w.text.trim().is_empty()).map(Word::from_ocr).collect();
    rejoin_hcpcs_j(&mut raw, unit);
    let mut words: Vec<Word> = raw
        .into_iter()
        // Rules and specks read as punctuation or as short low-confidence letters; they belong
        // to no cell. A word with a digit is kept whatever its confidence (it may be an amount).
        .filter(|w| w.text.chars().any(|c| c.is_alphanumeric() || c == '$'))
        .filter(|w| {
            let t = &w.text;
            // Printed bill text is upper case and digits; specks read as short lower-case or
            // accented fragments ("sn", "é", "a8"). A lone capital ("J" of "J 7050") is kept.
            let printed = t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "$.,-/()".contains(c));
            w.conf >= 0.45 || printed || t.chars().count() > 3
        })
        .collect();
    words.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let mut rows: Vec<Vec<Word>> = Vec::new();
    for w in words {
        // The row whose rightmost word so far is closest in height, if close enough.
        let best = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let last = r.last()?;
                // Boxes may overlap sideways (a speck widens one); height alone decides.
                let dy = (last.cy() - w.cy()).abs();
                (dy < unit * 0.55).then_some((i, dy))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, _)) => rows[i].push(w),
            None => rows.push(vec![w]),
        }
    }
    let mut out: Vec<Row> = rows
        .into_iter()
        .map(|words| {
            let y = words.iter().map(Word::cy).sum::<f32>() / words.len() as f32;
            Row { page: page.page_no.max(1) as u32, words, y }
        })
        .collect();
    out.sort_by(|a, b| a.y.total_cmp(&b.y));
    merge_split_rows(out, unit)
}

/// Two pieces of one printed row that drifted apart across a wide gap (residual skew of a
/// photo): nearly the same height and side by side, never overlapping. A wrapped description
/// line sits a full line lower and under its own column, so it is not merged.
fn merge_split_rows(rows: Vec<Row>, unit: f32) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(prev) = out.last_mut() {
            let (a0, a1) = (prev.words[0].x0, prev.words[prev.words.len() - 1].x1);
            let (b0, b1) = (row.words[0].x0, row.words[row.words.len() - 1].x1);
            let apart = b0 > a1 || b1 < a0;
            if apart && (row.y - prev.y).abs() < unit * 0.9 {
                let n = (prev.words.len() + row.words.len()) as f32;
                prev.y = (prev.y * prev.words.len() as f32 + row.y * row.words.len() as f32) / n;
                prev.words.extend(row.words);
                prev.words.sort_by(|a, b| a.x0.total_cmp(&b.x0));
                continue;
            }
        }
        out.push(row);
    }
    out
}

/// Digits, money marks and nothing else: an amount, a quantity, a code.
fn numeric(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit()) && text.chars().all(|c| c.is_ascii_digit() || "$.,-()".contains(c))
}

/// Runs of words separated by less than `gap` (a phrase or an amount) as (first, last) indices.
pub fn cells(row: &Row, gap: f32) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=row.words.len() {
        // Two numbers side by side are two columns however close ("8 6.14": quantity, price).
        let split = i < row.words.len()
            && (row.words[i].x0 - row.words[i - 1].x1 > gap
                || (numeric(&row.words[i].text) && numeric(&row.words[i - 1].text)));
        if i == row.words.len() || split {
            out.push((start, i - 1));
            start = i;
        }
    }
    out
}
