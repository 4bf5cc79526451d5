//! The second OCR engine on the pages where it reads better: pages whose text is small in pixels
//! (a scan stored under 200 dpi, a small image) are read by tesseract and by PP-OCRv4, and the
//! words combined (`udfs::ocr::combine`: codes and amounts from PP-OCRv4, lone digits from
//! tesseract — what each read best on the published scans, BENCHMARKS.md). Every other page is
//! tesseract's alone: there tesseract alone read the generated corpus at F1 ≥ 0.97, and PP-OCRv4
//! costs five times as long a page on a CPU.
//!
//! The engine is opened on first use. Where its models or ONNX Runtime are not installed (see
//! scripts/setup.sh), or `BILLSTREAM_SECOND_OCR=off`, pages are tesseract's alone and that is
//! said once in the log; a page the second engine fails on keeps tesseract's reading.
use super::paddle::{model_dir, PaddleOcr};
use schemas::records::OcrPage;
use udfs::ocr::{combine::combine, ocr_page, Engine, Limits, PageJob};

#[derive(Default)]
pub enum SecondEngine {
    #[default]
    Unopened,
    Ready(Box<PaddleOcr>),
    Unavailable,
}

impl SecondEngine {
    fn get(&mut self) -> Option<&mut PaddleOcr> {
        if matches!(self, Self::Unopened) {
            let off = std::env::var("BILLSTREAM_SECOND_OCR").is_ok_and(|v| v == "off");
            *self = match (off, PaddleOcr::open(&model_dir())) {
                (true, _) => Self::Unavailable,
                (false, Ok(p)) => Self::Ready(Box::new(p)),
                (false, Err(e)) => {
                    tracing::warn!(error = %e, "second OCR engine unavailable: small-text pages are read by tesseract alone");
                    Self::Unavailable
                }
            };
        }
        match self {
            Self::Ready(p) => Some(p),
            _ => None,
        }
    }

    /// One page's words: tesseract's, combined with the second engine's where the text is small.
    pub fn read_page(
        &mut self,
        job: &PageJob,
        bytes: &[u8],
        tess: &mut Engine,
        limits: &Limits,
    ) -> Result<OcrPage, String> {
        let _span = tracing::debug_span!("ocr_page", page = job.page_no).entered();
        let img = job.render(bytes, limits).map_err(|e| e.to_string())?;
        let first = ocr_page(tess, &img, job.dpi, job.page_no, limits).map_err(|e| e.to_string())?;
        if !job.small_text(&img) {
            return Ok(first);
        }
        let Some(paddle) = self.get() else { return Ok(first) };
        match paddle.recognize(&img, job.page_no) {
            Ok(second) => Ok(combine(&first, &second)),
            Err(e) => {
                tracing::warn!(page = job.page_no, error = %e, "second OCR engine failed on the page: tesseract's reading kept");
                Ok(first)
            }
        }
    }
}
