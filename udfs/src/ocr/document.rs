//! A document split into work: the text layer when the PDF has one, else one OCR job per page.
//! Jobs carry only the page number so they can be exchanged between workers cheaply; each worker
//! holds the document's bytes (fetched by content address) when it runs a job.
use super::pdf::read_pdf;
use super::raster::{decode_image, rasterize_pdf_page};
use super::tesseract::{ocr_page, Engine};
use super::{Limits, OcrError};
use schemas::records::{OcrMethod, OcrPage};
use serde::{Deserialize, Serialize};

/// Fewer text-layer words per page than this means a scanned PDF (a stray header or page number
/// in the text layer does not make a page readable).
const MIN_TEXT_WORDS_PER_PAGE: usize = 8;

/// The document type from its first bytes (plain text from all of them); the declared type of
/// an upload is not trusted.
pub fn sniff_mime(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some("image/tiff")
    } else if crate::extract::pasted::is_plain_text(bytes) {
        Some("text/plain")
    } else {
        None
    }
}

/// One page to rasterize (PDF) or decode (image) and recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageJob {
    pub page_no: u32,
    pub pdf: bool,
    /// Resolution a PDF page is rendered at (its scan's own, within 150-400 dpi, else 300);
    /// the resolution assumed for an image.
    pub dpi: u32,
    /// A PDF page scanned under 200 dpi (rendered at twice its resolution).
    #[serde(default)]
    pub low_res: bool,
}

/// The resolution pages without a scan of known resolution are rendered at, and images (which
/// carry no reliable resolution) are taken to have: what scanners and phones approximate.
const DEFAULT_DPI: u32 = 300;

/// A checked document: either read already (text layer) or split into OCR jobs.
#[derive(Debug, Clone)]
pub enum Prepared {
    Text(Vec<OcrPage>),
    Ocr(Vec<PageJob>),
}

/// Checks a document against the limits and decides how to read it.
pub fn prepare(bytes: &[u8], limits: &Limits) -> Result<Prepared, OcrError> {
    if bytes.is_empty() {
        return Err(OcrError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(OcrError::TooLarge { size: bytes.len(), limit: limits.max_bytes });
    }
    match sniff_mime(bytes) {
        Some("application/pdf") => {
            let pdf = read_pdf(bytes, limits)?;
            let words: usize = pdf.text.iter().map(|p| p.words.len()).sum();
            if pdf.text.len() == pdf.pages && words >= MIN_TEXT_WORDS_PER_PAGE * pdf.pages {
                return Ok(Prepared::Text(pdf.text));
            }
            // A scanned page is rendered at its own resolution: resampling a 225 dpi scan to
            // 300 dpi blurred strokes enough that a page read 0 of 19 lines (16 of 19 native).
            // A scan below 200 dpi is rendered at twice its resolution: at a published 144 dpi
            // statement's own resolution tesseract read quantities "1" as "4" on a third of the
            // lines, at 288 dpi it read them all (measured on the VCU sample statement).
            let native = |i: usize| pdf.native_dpi.get(i).copied().flatten();
            let dpi = |i: usize| native(i).map(|d| if d < 200 { d * 2 } else { d }).map(|d| d.clamp(150, 400));
            Ok(Prepared::Ocr(
                (0..pdf.pages)
                    .map(|i| PageJob {
                        page_no: i as u32 + 1,
                        pdf: true,
                        dpi: dpi(i).unwrap_or(limits.dpi),
                        low_res: native(i).is_some_and(|d| d < 200),
                    })
                    .collect(),
            ))
        }
        // A pasted bill: its characters on a grid, read like a text layer.
        Some("text/plain") => {
            let text = String::from_utf8_lossy(bytes);
            Ok(Prepared::Text(crate::extract::pasted::text_pages(&text)))
        }
        Some(_) => Ok(Prepared::Ocr(vec![PageJob { page_no: 1, pdf: false, dpi: DEFAULT_DPI, low_res: false }])),
        None => Err(OcrError::Unsupported(describe(bytes))),
    }
}

fn describe(bytes: &[u8]) -> String {
    let head: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("(first bytes {head})")
}

/// Pages whose text is small in pixels: a scan stored under 200 dpi (rendered at twice that), or
/// an image narrower than this. Where a second OCR engine is installed, these pages are read by
/// both (`combine`); pages above it were read as well by tesseract alone.
const SMALL_IMAGE_WIDTH: u32 = 1200;

impl PageJob {
    /// Renders or decodes the page.
    pub fn render(&self, bytes: &[u8], limits: &Limits) -> Result<image::GrayImage, OcrError> {
        if self.pdf {
            rasterize_pdf_page(bytes, self.page_no, self.dpi, limits)
        } else {
            decode_image(bytes, limits)
        }
    }

    /// Whether the page's text is small in pixels (see `SMALL_IMAGE_WIDTH`).
    pub fn small_text(&self, img: &image::GrayImage) -> bool {
        self.low_res || (!self.pdf && img.width() < SMALL_IMAGE_WIDTH)
    }

    /// Renders or decodes the page and recognises its words.
    pub fn run(&self, bytes: &[u8], engine: &mut Engine, limits: &Limits) -> Result<OcrPage, OcrError> {
        let _span = tracing::debug_span!("ocr_page", page = self.page_no).entered();
        let img = self.render(bytes, limits)?;
        ocr_page(engine, &img, self.dpi, self.page_no, limits)
    }
}

/// Reads a whole document on this thread: the one-shot path and tests. The dataflow runs the
/// same `prepare` and `PageJob::run` with pages spread over workers.
pub fn read_document(
    bytes: &[u8],
    engine: &mut Engine,
    limits: &Limits,
) -> Result<(OcrMethod, Vec<OcrPage>), OcrError> {
    match prepare(bytes, limits)? {
        Prepared::Text(pages) => Ok((OcrMethod::TextLayer, pages)),
        Prepared::Ocr(jobs) => {
            let pages = jobs.iter().map(|j| j.run(bytes, engine, limits)).collect::<Result<Vec<_>, _>>()?;
            Ok((OcrMethod::Ocr, pages))
        }
    }
}
