//! Words with boxes from a document: the PDF text layer where there is one, tesseract on
//! rasterized pages and images where there is not. Every step is bounded (bytes, pages, pixels,
//! decompressed size, time per page) so a hostile file is an error, never a crash or a hang.
use thiserror::Error;

pub mod combine;
mod document;
mod pdf;
mod preprocess;
mod raster;
mod tesseract;

pub use document::{prepare, read_document, sniff_mime, PageJob, Prepared};
pub use pdf::{read_pdf, PdfRead};
pub use preprocess::{deskew_angle, prepare_for_ocr, prepare_with, unskew, PreparedImage, Steps};
pub use raster::{decode_image, rasterize_pdf_page};
pub use tesseract::{ocr_page, Engine};

/// Bounds on what one document may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_pages: usize,
    /// Pixels of one decoded image or rendered page (pixel bombs).
    pub max_pixels: u64,
    /// Bytes all the PDF's streams may inflate to (decompression bombs).
    pub max_inflated_bytes: u64,
    /// Wall time for rendering or recognising one page.
    pub page_timeout_ms: u64,
    /// Resolution PDF pages are rendered at for OCR when they hold no scan of known resolution.
    pub dpi: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 25 << 20,
            max_pages: 50,
            max_pixels: 60_000_000,
            max_inflated_bytes: 256 << 20,
            page_timeout_ms: 60_000,
            dpi: 300,
        }
    }
}

#[derive(Debug, Error)]
pub enum OcrError {
    #[error("empty document (0 bytes)")]
    Empty,
    #[error("document is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("unsupported document type {0}: upload a PDF, PNG, JPEG or TIFF, or paste the bill as text")]
    Unsupported(String),
    #[error("document has {pages} pages, over the {limit}-page limit")]
    TooManyPages { pages: usize, limit: usize },
    #[error("image of {width}x{height} pixels is over the {limit}-pixel limit")]
    TooManyPixels { width: u64, height: u64, limit: u64 },
    #[error("PDF streams inflate past {limit} bytes (decompression bomb)")]
    DecompressionBomb { limit: u64 },
    #[error("PDF is encrypted: upload an unprotected copy")]
    Encrypted,
    #[error("PDF cannot be read: {0}")]
    CorruptPdf(String),
    #[error("image cannot be decoded: {0}")]
    CorruptImage(String),
    #[error("page {page} took longer than {ms} ms")]
    Timeout { page: u32, ms: u64 },
    #[error("rasterizer failed on page {page}: {reason}")]
    Raster { page: u32, reason: String },
    #[error("tesseract: {0}")]
    Tesseract(String),
}

impl OcrError {
    /// Retrying the same bytes gives the same answer for every error but a tesseract failure to
    /// start (missing language data, out of memory).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Tesseract(_))
    }
}
