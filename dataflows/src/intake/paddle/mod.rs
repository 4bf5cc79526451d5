//! A second OCR engine: PaddleOCR's PP-OCRv4 text detection and recognition through ONNX Runtime,
//! with the pre- and post-processing of rapidocr-onnxruntime 1.4.4 (whose wheel also ships the two
//! models). Its output has tesseract's shape (`udfs::ocr::ocr_page`): one `OcrWord` per word with
//! a box in the page's pixels, so extraction reads either.
//!
//! ONNX Runtime is loaded at run time (`ort`'s `load-dynamic`) from the library
//! `scripts/setup.sh` copies out of the `onnxruntime` wheel; nothing is downloaded at run time.
//! Where: `ORT_DYLIB_PATH`, else `/var/cache/billstream/tools/lib/libonnxruntime.so.1.31.1`; the
//! models: `BILLSTREAM_PPOCR_DIR`, else `/var/cache/billstream/tools/models/ppocr-v4`.
//!
//! Differences from rapidocr, all for deskewed horizontal statements: no angle classifier (pages
//! are upright); crops are cut from the page at full resolution rather than from the detector's
//! reduced copy; a crop taller than wide is not turned as vertical text (a one-digit quantity
//! cell is such a crop).
mod det;
mod rec;

use image::{GrayImage, Luma};
use ort::environment::Environment;
use ort::ep::{self, ExecutionProvider};
use ort::session::Session;
use schemas::records::{OcrPage, OcrWord};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const DET_MODEL: &str = "ch_PP-OCRv4_det_infer.onnx";
pub const REC_MODEL: &str = "ch_PP-OCRv4_rec_infer.onnx";
const DEFAULT_MODEL_DIR: &str = "/var/cache/billstream/tools/models/ppocr-v4";
const DEFAULT_LIBRARY: &str = "/var/cache/billstream/tools/lib/libonnxruntime.so.1.31.1";
/// Lines recognised with a lower score are dropped (rapidocr's `text_score`).
const TEXT_SCORE: f32 = 0.5;

/// The two PP-OCRv4 sessions and the recogniser's classes. One per worker thread, like
/// tesseract's `Engine`: each session runs on one thread.
pub struct PaddleOcr {
    det: Session,
    rec: Session,
    /// Blank, the model's dictionary, space: the recogniser's output classes in order.
    classes: Vec<String>,
}

/// The model directory: `BILLSTREAM_PPOCR_DIR`, else where `scripts/setup.sh` puts it.
pub fn model_dir() -> PathBuf {
    std::env::var_os("BILLSTREAM_PPOCR_DIR").map_or_else(|| PathBuf::from(DEFAULT_MODEL_DIR), PathBuf::from)
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH`, else where `scripts/setup.sh` puts it.
pub fn runtime_library() -> PathBuf {
    std::env::var_os("ORT_DYLIB_PATH").map_or_else(|| PathBuf::from(DEFAULT_LIBRARY), PathBuf::from)
}

fn missing(what: &str, path: &Path) -> String {
    format!(
        "{what} not found at {}: run scripts/setup.sh (it installs the PP-OCRv4 models and ONNX Runtime)",
        path.display()
    )
}

/// ONNX Runtime allows one environment per process, and the library is loaded once: every
/// `PaddleOcr` shares this one (a failure is kept too, so every caller gets the same message).
fn environment() -> Result<&'static Environment, String> {
    static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let lib = runtime_library();
        if !lib.is_file() {
            return Err(missing("the ONNX Runtime library", &lib));
        }
        ort::init_from(&lib)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", lib.display()))?
            .with_name("billstream-ppocr")
            .build()
            .map_err(|e| format!("ONNX Runtime: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A session on one intra-op thread (pages run in parallel across workers instead, as with
/// tesseract). CUDA is registered when this ONNX Runtime build has it, otherwise the list is empty
/// and ONNX Runtime runs on the CPU: one code path either way.
fn session(env: &Environment, path: &Path) -> Result<Session, String> {
    if !path.is_file() {
        return Err(missing("the PP-OCRv4 model", path));
    }
    let cuda = ep::CUDA::is_available().unwrap_or(false);
    let providers = if cuda { vec![ep::CUDA::default().build()] } else { vec![] };
    tracing::debug!(model = %path.display(), cuda, "opening an ONNX Runtime session");
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    Session::builder(env)
        .map_err(|e| fail(&e))?
        .with_intra_threads(1)
        .map_err(|e| fail(&e))?
        .with_execution_providers(providers)
        .map_err(|e| fail(&e))?
        .commit_from_file(path)
        .map_err(|e| fail(&e))
}

/// The recogniser's classes: CTC blank, the dictionary stored in the model's metadata
/// (`character`, one entry a line), then a space (rapidocr's `CTCLabelDecode`).
fn classes(rec: &Session, path: &Path) -> Result<Vec<String>, String> {
    let meta = rec.metadata().map_err(|e| format!("{}: metadata: {e}", path.display()))?;
    let dict = meta
        .custom("character")
        .ok_or_else(|| format!("{}: no \"character\" dictionary in its metadata", path.display()))?;
    let mut classes = vec!["<blank>".to_string()];
    classes.extend(dict.lines().map(str::to_string));
    classes.push(" ".to_string());
    Ok(classes)
}

impl PaddleOcr {
    /// Both models from `model_dir` (see `model_dir()`), on the ONNX Runtime of `runtime_library()`.
    pub fn open(model_dir: &Path) -> Result<Self, String> {
        let env = environment()?;
        let det = session(env, &model_dir.join(DET_MODEL))?;
        let rec_path = model_dir.join(REC_MODEL);
        let rec = session(env, &rec_path)?;
        let classes = classes(&rec, &rec_path)?;
        Ok(Self { det, rec, classes })
    }

    /// Characters the recogniser knows (its dictionary, without the blank and the space).
    pub fn dictionary_len(&self) -> usize {
        self.classes.len() - 2
    }

    /// Words of a page image, boxes in its pixels.
    pub fn recognize(&mut self, img: &GrayImage, page_no: u32) -> Result<OcrPage, String> {
        let page = |e: String| format!("page {page_no}: {e}");
        let started = std::time::Instant::now();
        let quads = det::detect(&mut self.det, img).map_err(page)?;
        let detected = started.elapsed();
        let crops: Vec<GrayImage> = quads.iter().map(|q| crop(img, q)).collect();
        let lines = rec::recognize(&mut self.rec, &self.classes, &crops).map_err(page)?;
        tracing::debug!(
            page_no,
            boxes = quads.len(),
            det_ms = detected.as_millis() as u64,
            rec_ms = (started.elapsed() - detected).as_millis() as u64,
            "PP-OCRv4 page"
        );
        let words = quads
            .iter()
            .zip(&lines)
            .filter(|(_, l)| l.confidence >= TEXT_SCORE)
            .flat_map(|(q, l)| split_words(q, l))
            .collect();
        Ok(OcrPage { page_no: page_no as i32, width: img.width() as f32, height: img.height() as f32, words })
    }
}

/// `imageops::resize` by way of `DynamicImage`: the generic function is then instantiated in the
/// `image` crate, which is optimised in debug builds too (Cargo.toml), rather than in this crate,
/// where a page took 2.5 s to scale in a debug build.
fn scaled(img: &GrayImage, w: u32, h: u32) -> GrayImage {
    image::DynamicImage::ImageLuma8(img.clone()).resize_exact(w, h, image::imageops::FilterType::Triangle).into_luma8()
}

/// The box's pixels as an upright image, its width and height those of the box (the longer of
/// each pair of opposite sides), sampled bilinearly; outside the page the edge repeats.
fn crop(img: &GrayImage, q: &det::Quad) -> GrayImage {
    let len = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let w = len(q[0], q[1]).max(len(q[3], q[2])).max(1.0) as u32;
    let h = len(q[0], q[3]).max(len(q[1], q[2])).max(1.0) as u32;
    GrayImage::from_fn(w, h, |x, y| {
        let p = at(q, (x as f32 + 0.5) / w as f32, (y as f32 + 0.5) / h as f32);
        Luma([bilinear(img, p[0] - 0.5, p[1] - 0.5)])
    })
}

/// The point at fractions `s` along and `t` down the box.
fn at(q: &det::Quad, s: f32, t: f32) -> [f32; 2] {
    let top = [q[0][0] + (q[1][0] - q[0][0]) * s, q[0][1] + (q[1][1] - q[0][1]) * s];
    let bottom = [q[3][0] + (q[2][0] - q[3][0]) * s, q[3][1] + (q[2][1] - q[3][1]) * s];
    [top[0] + (bottom[0] - top[0]) * t, top[1] + (bottom[1] - top[1]) * t]
}

fn bilinear(img: &GrayImage, x: f32, y: f32) -> u8 {
    let (mx, my) = ((img.width() - 1) as f32, (img.height() - 1) as f32);
    let (x, y) = (x.clamp(0.0, mx), y.clamp(0.0, my));
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let px = |xx: f32, yy: f32| img.get_pixel(xx.min(mx) as u32, yy.min(my) as u32).0[0] as f32;
    let top = px(x0, y0) * (1.0 - fx) + px(x0 + 1.0, y0) * fx;
    let bottom = px(x0, y0 + 1.0) * (1.0 - fx) + px(x0 + 1.0, y0 + 1.0) * fx;
    (top * (1.0 - fy) + bottom * fy).round() as u8
}

/// A recognised line as tesseract would give it: one word per run of non-spaces, each spanning
/// the part of the box its characters' positions in the line take, with the line's confidence.
fn split_words(q: &det::Quad, line: &rec::Line) -> Vec<OcrWord> {
    let chars: Vec<char> = line.text.chars().collect();
    let n = chars.len() as f32;
    let mut words = Vec::new();
    let mut start = None;
    for i in 0..=chars.len() {
        match (start, chars.get(i).is_some_and(|c| !c.is_whitespace())) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let text: String = chars[s..i].iter().collect();
                words.push(word(q, s as f32 / n, i as f32 / n, text, line.confidence));
                start = None;
            }
            _ => {}
        }
    }
    words
}

/// The axis-aligned box around the part of `q` from fraction `a` to `b` along it.
fn word(q: &det::Quad, a: f32, b: f32, text: String, confidence: f32) -> OcrWord {
    let (lo, hi) = det::bounds(&[at(q, a, 0.0), at(q, b, 0.0), at(q, b, 1.0), at(q, a, 1.0)]);
    OcrWord { text, x: lo[0], y: lo[1], w: hi[0] - lo[0], h: hi[1] - lo[1], confidence }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_splits_into_words_by_character_position() {
        let q = [[100.0, 10.0], [300.0, 10.0], [300.0, 30.0], [100.0, 30.0]];
        // 20 characters over 200 pixels: 10 per character.
        let words = split_words(&q, &rec::Line { text: "03/14/2026  99213 1 ".into(), confidence: 0.9 });
        let got: Vec<_> = words.iter().map(|w| (w.text.as_str(), w.x, w.w)).collect();
        assert_eq!(got, vec![("03/14/2026", 100.0, 100.0), ("99213", 220.0, 50.0), ("1", 280.0, 10.0)]);
        assert!(words.iter().all(|w| w.y == 10.0 && w.h == 20.0 && w.confidence == 0.9));
    }

    #[test]
    fn crop_of_an_axis_aligned_box_is_its_pixels() {
        let img = GrayImage::from_fn(40, 20, |x, y| Luma([(x * 5 + y) as u8]));
        let c = crop(&img, &[[10.0, 5.0], [20.0, 5.0], [20.0, 9.0], [10.0, 9.0]]);
        assert_eq!(c.dimensions(), (10, 4));
        assert_eq!(c.get_pixel(0, 0).0[0], img.get_pixel(10, 5).0[0]);
        assert_eq!(c.get_pixel(9, 3).0[0], img.get_pixel(19, 8).0[0]);
    }

    /// The engine from the installed models, or `None` (with a note) where setup.sh has not run.
    fn engine() -> Option<PaddleOcr> {
        let dir = model_dir();
        if !dir.join(REC_MODEL).is_file() || !runtime_library().is_file() {
            eprintln!("skipped: no PP-OCRv4 models in {} or no ONNX Runtime (run scripts/setup.sh)", dir.display());
            return None;
        }
        Some(PaddleOcr::open(&dir).expect("the installed models open"))
    }

    #[test]
    fn a_missing_model_names_its_path_and_the_fix() {
        let dir = Path::new("/nonexistent/ppocr-v4");
        let Err(e) = PaddleOcr::open(dir) else { panic!("opened models that do not exist") };
        assert!(e.contains("scripts/setup.sh"), "{e}");
        if runtime_library().is_file() {
            assert!(e.contains("/nonexistent/ppocr-v4/ch_PP-OCRv4_det_infer.onnx"), "{e}");
        }
    }

    #[test]
    fn dictionary_comes_from_the_model() {
        let Some(ocr) = engine() else { return };
        assert!(ocr.dictionary_len() > 6000, "{} characters", ocr.dictionary_len());
        assert_eq!(ocr.classes.last().map(String::as_str), Some(" "));
    }

    #[test]
    fn reads_a_rendered_statement() {
        let Some(mut ocr) = engine() else { return };
        let pdf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../udfs/tests/fuzz-corpus/handwritten-helvetica.pdf");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("page");
        let status = std::process::Command::new("pdftoppm")
            .args(["-r", "200", "-gray", "-singlefile"])
            .arg(&pdf)
            .arg(&out)
            .status()
            .expect("pdftoppm runs (poppler-utils, installed by scripts/setup.sh)");
        assert!(status.success());
        let img = image::open(out.with_extension("pgm")).unwrap().to_luma8();
        let page = ocr.recognize(&img, 1).unwrap();
        let texts: Vec<&str> = page.words.iter().map(|w| w.text.as_str()).collect();
        assert!(texts.contains(&"99213") && texts.contains(&"250.00"), "{texts:?}");
        let w = page.words.iter().find(|w| w.text == "99213").unwrap();
        assert!(w.x > 0.0 && w.x + w.w <= img.width() as f32 && w.confidence > 0.5, "{w:?}");
    }
}
