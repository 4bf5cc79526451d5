//! Tesseract through its C API. The safe `tesseract` crate does not expose the progress monitor,
//! and the monitor's deadline is what bounds a page's recognition time, so this calls
//! `tesseract-sys` directly; the unsafe surface is this file.
use super::preprocess::{prepare_for_ocr, unskew};
use super::{Limits, OcrError};
use image::GrayImage;
use schemas::records::{OcrPage, OcrWord};
use std::ffi::{CStr, CString};
use std::time::Instant;
use tesseract_sys as sys;

/// One initialised tesseract instance (language data loaded once, ~100 ms); one per worker thread.
pub struct Engine {
    api: *mut sys::TessBaseAPI,
}

// SAFETY: a TessBaseAPI may move between threads; it is never shared (no Sync).
unsafe impl Send for Engine {}

impl Engine {
    pub fn new(lang: &str) -> Result<Self, OcrError> {
        single_threaded();
        let lang = CString::new(lang).map_err(|e| OcrError::Tesseract(e.to_string()))?;
        // SAFETY: create/init are called once on a fresh handle; on failure the handle is deleted.
        unsafe {
            let api = sys::TessBaseAPICreate();
            if api.is_null() {
                return Err(OcrError::Tesseract("cannot create an instance".into()));
            }
            if sys::TessBaseAPIInit3(api, std::ptr::null(), lang.as_ptr()) != 0 {
                sys::TessBaseAPIDelete(api);
                return Err(OcrError::Tesseract(format!(
                    "cannot load language {:?} (install tesseract-ocr-eng)",
                    lang
                )));
            }
            // A uniform block of text: bill tables are rows, and rows are rebuilt from word boxes
            // afterwards, so page layout analysis only risks dropping cells.
            sys::TessBaseAPISetPageSegMode(api, sys::TessPageSegMode_PSM_SINGLE_BLOCK);
            Ok(Self { api })
        }
    }

    /// Words of a grayscale image with boxes in its pixels, within `timeout_ms`.
    pub fn recognize(
        &mut self,
        img: &GrayImage,
        dpi: u32,
        timeout_ms: u64,
        page: u32,
    ) -> Result<Vec<OcrWord>, OcrError> {
        let (w, h) = (img.width() as i32, img.height() as i32);
        let start = Instant::now();
        // SAFETY: the image buffer outlives the call (tesseract copies it in SetImage); the
        // monitor and returned text are freed here; Clear resets the instance for the next page.
        let tsv = unsafe {
            sys::TessBaseAPISetImage(self.api, img.as_raw().as_ptr(), w, h, 1, w);
            sys::TessBaseAPISetSourceResolution(self.api, dpi as i32);
            let monitor = sys::TessMonitorCreate();
            sys::TessMonitorSetDeadlineMSecs(monitor, timeout_ms.min(i32::MAX as u64) as i32);
            let rc = sys::TessBaseAPIRecognize(self.api, monitor);
            sys::TessMonitorDelete(monitor);
            if start.elapsed().as_millis() as u64 >= timeout_ms {
                sys::TessBaseAPIClear(self.api);
                return Err(OcrError::Timeout { page, ms: timeout_ms });
            }
            if rc != 0 {
                sys::TessBaseAPIClear(self.api);
                return Err(OcrError::Tesseract(format!("recognition failed on page {page}")));
            }
            let ptr = sys::TessBaseAPIGetTsvText(self.api, 0);
            let text = if ptr.is_null() { String::new() } else { CStr::from_ptr(ptr).to_string_lossy().into_owned() };
            if !ptr.is_null() {
                sys::TessDeleteText(ptr);
            }
            sys::TessBaseAPIClear(self.api);
            text
        };
        Ok(parse_tsv(&tsv))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the handle came from TessBaseAPICreate and is dropped once.
        unsafe {
            sys::TessBaseAPIEnd(self.api);
            sys::TessBaseAPIDelete(self.api);
        }
    }
}

/// Tesseract's OpenMP threads spin against each other and against the other workers: on two
/// cores a page took 5 s with them and 0.9 s without. Pages run in parallel across workers
/// instead, one thread each. libgomp reads OMP_THREAD_LIMIT when it loads, before `main`, and
/// tesseract's `num_threads` clauses override `omp_set_num_threads`, so the variable must be in
/// the environment the process starts with: the `billstream` binary re-executes itself with it,
/// and `.cargo/config.toml` sets it for tests.
fn single_threaded() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var("OMP_THREAD_LIMIT").ok().as_deref() != Some("1") {
            tracing::warn!("OMP_THREAD_LIMIT is not 1: tesseract's threads will contend (several times slower OCR)");
        }
    });
}

/// Word rows (level 5) of tesseract's TSV: level page block par line word left top width height conf text.
fn parse_tsv(tsv: &str) -> Vec<OcrWord> {
    tsv.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.splitn(12, '\t').collect();
            if f.len() < 12 || f[0] != "5" {
                return None;
            }
            let text = f[11].trim();
            let conf: f32 = f[10].parse().ok()?;
            if text.is_empty() || conf < 0.0 {
                return None;
            }
            Some(OcrWord {
                text: text.to_string(),
                x: f[6].parse().ok()?,
                y: f[7].parse().ok()?,
                w: f[8].parse().ok()?,
                h: f[9].parse().ok()?,
                confidence: (conf / 100.0).clamp(0.0, 1.0),
            })
        })
        .collect()
}

/// OCR of one page image: preprocessing, recognition, boxes mapped back to the input's pixels.
pub fn ocr_page(
    engine: &mut Engine,
    img: &GrayImage,
    dpi: u32,
    page: u32,
    limits: &Limits,
) -> Result<OcrPage, OcrError> {
    let p = prepare_for_ocr(img);
    let words = engine.recognize(&p.img, (dpi as f32 * p.scale) as u32, limits.page_timeout_ms, page)?;
    let (pw, ph) = (p.img.width() as f32, p.img.height() as f32);
    let inv = 1.0 / p.scale;
    Ok(OcrPage {
        page_no: page as i32,
        width: pw * inv,
        height: ph * inv,
        words: words
            .into_iter()
            .map(|w| {
                // Boxes on the straightened, unscaled page (see `PreparedImage::skew`).
                let (cx, cy) = unskew(w.x + w.w / 2.0, w.y + w.h / 2.0, pw, ph, p.skew);
                OcrWord { x: (cx - w.w / 2.0) * inv, y: (cy - w.h / 2.0) * inv, w: w.w * inv, h: w.h * inv, ..w }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_word_rows_only() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t96.5\t99213\n\
                   5\t1\t1\t1\t1\t2\t50\t20\t30\t12\t-1\t \n";
        let words = parse_tsv(tsv);
        assert_eq!(words.len(), 1);
        assert_eq!(words[0].text, "99213");
        assert!((words[0].confidence - 0.965).abs() < 1e-6);
        assert_eq!((words[0].x, words[0].y, words[0].w, words[0].h), (10.0, 20.0, 30.0, 12.0));
    }
}
