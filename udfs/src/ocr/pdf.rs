//! The PDF text layer: characters with their positions from pdf-extract, grouped into words.
//! Before any content is interpreted the file is checked: it parses, is not encrypted, has a
//! bounded page count, and its streams do not inflate past the limit.
use super::{Limits, OcrError};
use flate2::read::ZlibDecoder;
use lopdf::{Document, Object};
use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};
use schemas::records::{OcrPage, OcrWord};
use std::io::Read;

/// A checked PDF: its page count, its text layer and each page's scan resolution.
#[derive(Debug, Clone)]
pub struct PdfRead {
    pub pages: usize,
    pub text: Vec<OcrPage>,
    /// Per page (index 0 = page 1): the resolution of its largest embedded image, if any.
    pub native_dpi: Vec<Option<u32>>,
}

/// Parses a PDF once, checks it against the limits, reads its text layer and the resolution of
/// each page's scan.
pub fn read_pdf(bytes: &[u8], limits: &Limits) -> Result<PdfRead, OcrError> {
    let doc = load(bytes)?;
    if doc.is_encrypted() {
        return Err(OcrError::Encrypted);
    }
    let page_ids = doc.get_pages();
    let pages = page_ids.len();
    if pages == 0 {
        return Err(OcrError::CorruptPdf("no pages".into()));
    }
    if pages > limits.max_pages {
        return Err(OcrError::TooManyPages { pages, limit: limits.max_pages });
    }
    check_inflated_size(&doc, limits.max_inflated_bytes)?;
    let native_dpi = page_ids.values().map(|id| native_dpi(&doc, *id)).collect();
    let text = match text_layer(&doc) {
        Ok(text) => text,
        // The in-process reader maps fonts itself and gives up on some (a core font with its
        // own encoding, as a statement generator writes them): poppler reads those.
        Err(e) => {
            tracing::debug!(error = %e, "text layer: reading it with poppler instead");
            super::raster::poppler_text_layer(bytes, pages, limits)?
        }
    };
    Ok(PdfRead { pages, text, native_dpi })
}

fn load(bytes: &[u8]) -> Result<Document, OcrError> {
    // lopdf panics on some malformed inputs; a panic here is a corrupt file, not a crashed worker.
    match std::panic::catch_unwind(|| Document::load_mem(bytes)) {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e)) => Err(OcrError::CorruptPdf(e.to_string())),
        Err(_) => Err(OcrError::CorruptPdf("the parser gave up on malformed structure".into())),
    }
}

/// Inflates every Flate stream through a capped reader: the total is bounded before any stream
/// is fully decompressed.
fn check_inflated_size(doc: &Document, limit: u64) -> Result<(), OcrError> {
    let mut total = 0u64;
    for obj in doc.objects.values() {
        let Object::Stream(stream) = obj else { continue };
        let flate = match stream.dict.get(b"Filter") {
            Ok(Object::Name(n)) => n == b"FlateDecode",
            Ok(Object::Array(a)) => a.iter().any(|f| matches!(f, Object::Name(n) if n == b"FlateDecode")),
            _ => false,
        };
        if !flate {
            total += stream.content.len() as u64;
        } else {
            let mut sink = std::io::sink();
            let mut reader = ZlibDecoder::new(&stream.content[..]).take(limit - total.min(limit) + 1);
            total += std::io::copy(&mut reader, &mut sink).unwrap_or(0);
        }
        if total > limit {
            return Err(OcrError::DecompressionBomb { limit });
        }
    }
    Ok(())
}

/// Words of each page from the text layer; page boxes in points with the origin top-left.
fn text_layer(doc: &Document) -> Result<Vec<OcrPage>, OcrError> {
    let mut out = Collector::default();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pdf_extract::output_doc(doc, &mut out)));
    match run {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(OcrError::CorruptPdf(format!("text layer: {e}"))),
        Err(_) => return Err(OcrError::CorruptPdf("text layer: malformed content stream".into())),
    }
    out.flush_word();
    if let Some(page) = out.page.take() {
        out.pages.push(page);
    }
    Ok(out.pages)
}

#[derive(Default)]
struct Collector {
    pages: Vec<OcrPage>,
    page: Option<OcrPage>,
    height: f64,
    word: Option<WordBuf>,
}

struct WordBuf {
    text: String,
    x0: f64,
    x1: f64,
    top: f64,
    bottom: f64,
    baseline: f64,
    size: f64,
}

impl Collector {
    fn flush_word(&mut self) {
        let Some(w) = self.word.take() else { return };
        let text = w.text.trim();
        if text.is_empty() {
            return;
        }
        if let Some(page) = self.page.as_mut() {
            page.words.push(OcrWord {
                text: text.to_string(),
                x: w.x0 as f32,
                y: w.top as f32,
                w: (w.x1 - w.x0) as f32,
                h: (w.bottom - w.top) as f32,
                confidence: 1.0,
            });
        }
    }
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.flush_word();
        if let Some(page) = self.page.take() {
            self.pages.push(page);
        }
        self.height = media_box.ury - media_box.lly;
        self.page = Some(OcrPage {
            page_no: page_num as i32,
            width: (media_box.urx - media_box.llx) as f32,
            height: self.height as f32,
            words: vec![],
        });
        Ok(())
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        self.flush_word();
        Ok(())
    }
    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        ch: &str,
    ) -> Result<(), OutputError> {
        // The font size in page units: the text matrix applied to a (size, size) vector.
        let (vx, vy) = (font_size * (trm.m11 + trm.m21), font_size * (trm.m12 + trm.m22));
        let size = (vx * vy).abs().sqrt();
        let x = trm.m31;
        let baseline = self.height - trm.m32;
        let adv = width * size;
        // Spaces end words; so do jumps along the line or to another baseline, since generators
        // often place each cell with its own text operator and no space character.
        if ch.chars().all(char::is_whitespace) {
            self.flush_word();
            return Ok(());
        }
        if let Some(w) = &self.word {
            if (baseline - w.baseline).abs() > w.size * 0.3 || x > w.x1 + w.size * 0.15 || x < w.x0 - w.size * 0.1 {
                self.flush_word();
            }
        }
        let w = self.word.get_or_insert_with(|| WordBuf {
            text: String::new(),
            x0: x,
            x1: x,
            top: baseline - size * 0.75,
            bottom: baseline + size * 0.22,
            baseline,
            size,
        });
        w.text.push_str(ch);
        w.x1 = w.x1.max(x + adv);
        Ok(())
    }
    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        self.flush_word();
        Ok(())
    }
}

/// The resolution of a page's largest embedded image (a scanned page stored in a PDF), so the
/// page is rendered at the pixels it was scanned with: resampling a 200 dpi scan to 300 dpi blurs
/// strokes tesseract then misreads (a page read 0 of 19 lines resampled, 16 of 19 native).
fn native_dpi(doc: &Document, page_id: lopdf::ObjectId) -> Option<u32> {
    let width_pt = media_box_width(doc, page_id)?;
    let images = doc.get_page_images(page_id).ok()?;
    let widest = images.iter().map(|i| i.width).max()?;
    if width_pt <= 0.0 || widest <= 0 {
        return None;
    }
    Some((widest as f64 / (width_pt / 72.0)).round() as u32)
}

/// MediaBox width in points, inherited from the page tree when the page has none.
fn media_box_width(doc: &Document, page_id: lopdf::ObjectId) -> Option<f64> {
    let mut id = page_id;
    for _ in 0..32 {
        let dict = doc.get_dictionary(id).ok()?;
        if let Ok(Object::Array(b)) = dict.get(b"MediaBox") {
            let n: Vec<f64> = b
                .iter()
                .filter_map(|o| match o {
                    Object::Integer(i) => Some(*i as f64),
                    Object::Real(r) => Some(*r as f64),
                    _ => None,
                })
                .collect();
            return (n.len() == 4).then(|| (n[2] - n[0]).abs());
        }
        id = dict.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}
