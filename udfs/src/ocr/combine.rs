//! Two OCR engines' words of one page combined, by what each reads best (measured on the
//! published scans, BENCHMARKS.md "Tesseract against PP-OCRv4"): PP-OCRv4 read every code and
//! most amounts of a boxed 144 dpi table where tesseract misread half, and dropped or misread
//! lone one-digit quantities that tesseract read. So a word of three or more characters from the
//! second engine replaces the first engine's words it covers; shorter words, and words only one
//! engine found, are kept from whichever found them.
use schemas::records::{OcrPage, OcrWord};

/// Share of the smaller box's area two boxes must overlap to be the same printed word.
const SAME_WORD: f32 = 0.5;

fn overlap(a: &OcrWord, b: &OcrWord) -> f32 {
    let w = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
    let h = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
    if w <= 0.0 || h <= 0.0 {
        return 0.0;
    }
    let smaller = (a.w * a.h).min(b.w * b.h).max(f32::EPSILON);
    w * h / smaller
}

/// `first`'s page (tesseract) with `second`'s (PP-OCRv4) words of three or more characters in
/// place of the words they cover, and `second`'s words that cover nothing of `first` added.
pub fn combine(first: &OcrPage, second: &OcrPage) -> OcrPage {
    let long = |w: &OcrWord| w.text.chars().count() >= 3;
    let mut words: Vec<OcrWord> = first
        .words
        .iter()
        .filter(|t| !second.words.iter().any(|p| long(p) && overlap(t, p) >= SAME_WORD))
        .cloned()
        .collect();
    for p in &second.words {
        let covers_first = first.words.iter().any(|t| overlap(t, p) >= SAME_WORD);
        if long(p) || !covers_first {
            words.push(p.clone());
        }
    }
    words.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    OcrPage { words, ..first.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, x: f32, conf: f32) -> OcrWord {
        OcrWord { text: text.into(), x, y: 100.0, w: 10.0 * text.len() as f32, h: 20.0, confidence: conf }
    }

    fn page(words: Vec<OcrWord>) -> OcrPage {
        OcrPage { page_no: 1, width: 1000.0, height: 1000.0, words }
    }

    #[test]
    fn long_words_from_the_second_engine_short_ones_from_either() {
        // Tesseract: a misread code, a quantity. PP-OCRv4: the code right, the quantity as "7".
        let t = page(vec![w("42490", 0.0, 0.7), w("1", 300.0, 0.9)]);
        let p = page(vec![w("J3490", 0.0, 0.95), w("7", 300.0, 0.6), w("27.50", 200.0, 0.9)]);
        let c = combine(&t, &p);
        let texts: Vec<&str> = c.words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["J3490", "27.50", "1"]);
    }

    #[test]
    fn words_only_one_engine_found_are_kept() {
        let t = page(vec![w("Qty", 0.0, 0.9)]);
        let p = page(vec![w("4", 500.0, 0.9)]);
        let texts: Vec<String> = combine(&t, &p).words.into_iter().map(|w| w.text).collect();
        assert_eq!(texts, ["Qty", "4"]);
    }
}
