//! Pixels: PDF pages rendered by poppler's `pdftoppm` in a child process (so a hostile PDF costs
//! at most the child's address-space limit and the page deadline, and is killed past them), and
//! uploaded images decoded under pixel and allocation limits.
use super::{Limits, OcrError};
use image::{GrayImage, ImageReader};
use schemas::records::{OcrPage, OcrWord};
use std::io::{Cursor, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space the rasterizer child may use.
const RASTER_MEMORY: u64 = 2 << 30;

/// Renders one page (1-based) of a PDF in grayscale at `dpi`.
pub fn rasterize_pdf_page(pdf: &[u8], page: u32, dpi: u32, limits: &Limits) -> Result<GrayImage, OcrError> {
    let fail = |reason: String| OcrError::Raster { page, reason };
    let (p, r) = (page.to_string(), dpi.to_string());
    let args = ["-f", &p, "-l", &p, "-r", &r, "-gray", "-singlefile"];
    let out = run_poppler("pdftoppm", &args, pdf, limits.max_pixels + 64, limits.page_timeout_ms, page)?;
    if out.len() as u64 > limits.max_pixels {
        return Err(fail(format!("page renders to more than {} pixels", limits.max_pixels)));
    }
    decode_image(&out, limits).map_err(|e| fail(e.to_string()))
}

/// The text layer's words with their boxes as poppler's `pdftotext -bbox` reads them, in the
/// same bounded child process as rendering (one page's deadline per page). Used where the
/// in-process reader gives up on a file (fonts it cannot map).
pub fn poppler_text_layer(pdf: &[u8], pages: usize, limits: &Limits) -> Result<Vec<OcrPage>, OcrError> {
    let deadline = limits.page_timeout_ms.saturating_mul(pages.max(1) as u64);
    let out = run_poppler("pdftotext", &["-bbox", "-enc", "UTF-8", "-", "-"], pdf, 64 << 20, deadline, 0)?;
    Ok(parse_bbox(&String::from_utf8_lossy(&out)))
}

/// `pdftotext -bbox` output: `<page width=".." height="..">` then `<word xMin=".." yMin=".."
/// xMax=".." yMax="..">text</word>`, coordinates in points from the top-left corner.
fn parse_bbox(xhtml: &str) -> Vec<OcrPage> {
    let attr = |tag: &str, name: &str| -> f32 {
        tag.split_once(&format!("{name}=\""))
            .and_then(|(_, r)| r.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let mut pages: Vec<OcrPage> = Vec::new();
    for part in xhtml.split('<').skip(1) {
        let Some((tag, rest)) = part.split_once('>') else { continue };
        if tag.starts_with("page ") {
            let page_no = pages.len() as i32 + 1;
            pages.push(OcrPage { page_no, width: attr(tag, "width"), height: attr(tag, "height"), words: vec![] });
        } else if tag.starts_with("word ") {
            let Some(page) = pages.last_mut() else { continue };
            let text = unescape(rest.trim());
            if text.is_empty() {
                continue;
            }
            let (x0, y0) = (attr(tag, "xMin"), attr(tag, "yMin"));
            let (w, h) = (attr(tag, "xMax") - x0, attr(tag, "yMax") - y0);
            page.words.push(OcrWord { text, x: x0, y: y0, w, h, confidence: 1.0 });
        }
    }
    pages
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Runs a poppler tool on `input` (stdin) under the address-space limit, killed at the deadline;
/// at most `max_out` bytes of its output are kept.
fn run_poppler(
    tool: &str,
    args: &[&str],
    input: &[u8],
    max_out: u64,
    timeout_ms: u64,
    page: u32,
) -> Result<Vec<u8>, OcrError> {
    let fail = |reason: String| OcrError::Raster { page, reason };
    let mut cmd = Command::new(tool);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    limit_memory(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| fail(format!("cannot start {tool} (install poppler-utils): {e}")))?;
    // Feed stdin and drain stdout on threads so neither pipe can block the other.
    let mut stdin = child.stdin.take().ok_or_else(|| fail("no stdin".into()))?;
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().ok_or_else(|| fail("no stdout".into()))?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.by_ref().take(max_out).read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(OcrError::Timeout { page, ms: timeout_ms });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(fail(e.to_string())),
        }
    };
    let _ = writer.join();
    let out = reader.join().map_err(|_| fail("reader thread panicked".into()))?;
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(fail(format!("{tool}: {status}: {}", err.trim())));
    }
    Ok(out)
}

#[cfg(unix)]
fn limit_memory(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit { rlim_cur: RASTER_MEMORY as libc::rlim_t, rlim_max: RASTER_MEMORY as libc::rlim_t };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn limit_memory(_cmd: &mut Command) {}

/// Decodes PNG, JPEG, TIFF or PGM bytes to grayscale, refusing images over the pixel limit from
/// their header, before any pixel is allocated.
pub fn decode_image(bytes: &[u8], limits: &Limits) -> Result<GrayImage, OcrError> {
    let open = || {
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| OcrError::CorruptImage(e.to_string()))
    };
    let (w, h) = open()?.into_dimensions().map_err(|e| OcrError::CorruptImage(e.to_string()))?;
    if w as u64 * h as u64 > limits.max_pixels {
        return Err(OcrError::TooManyPixels { width: w as u64, height: h as u64, limit: limits.max_pixels });
    }
    let mut reader = open()?;
    let mut img_limits = image::Limits::default();
    img_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(img_limits);
    let img = reader.decode().map_err(|e| OcrError::CorruptImage(e.to_string()))?;
    Ok(img.into_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_output_becomes_pages_of_words() {
        let x = r#"<doc><page width="612.000000" height="792.000000">
<word xMin="33.5" yMin="88.0" xMax="64.0" yMax="96.3">Sample</word>
<word xMin="66.5" yMin="88.0" xMax="97.5" yMax="96.3">A&amp;B</word>
</page><page width="612.000000" height="792.000000"></page></doc>"#;
        let pages = parse_bbox(x);
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].words[1].text, "A&B");
        assert_eq!((pages[0].words[0].x, pages[0].words[0].y), (33.5, 88.0));
        assert!((pages[0].words[0].w - 30.5).abs() < 1e-4);
        assert_eq!(pages[1].page_no, 2);
    }
}
