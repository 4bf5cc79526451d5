//! Pixels: PDF pages rendered by poppler's `pdftoppm` in a child process (so a hostile PDF costs
//! at most the child's address-space limit and the page deadline, and is killed past them), and
//! uploaded images decoded under pixel and allocation limits.
use super::{Limits, OcrError};
use image::{GrayImage, ImageReader};
use std::io::{Cursor, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space the rasterizer child may use.
const RASTER_MEMORY: u64 = 2 << 30;

/// Renders one page (1-based) of a PDF in grayscale at `dpi`.
pub fn rasterize_pdf_page(pdf: &[u8], page: u32, dpi: u32, limits: &Limits) -> Result<GrayImage, OcrError> {
    let fail = |reason: String| OcrError::Raster { page, reason };
    let mut cmd = Command::new("pdftoppm");
    cmd.args(["-f", &page.to_string(), "-l", &page.to_string(), "-r", &dpi.to_string()])
        .args(["-gray", "-singlefile"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    limit_memory(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| fail(format!("cannot start pdftoppm (install poppler-utils): {e}")))?;
    // Feed stdin and drain stdout on threads so neither pipe can block the other.
    let mut stdin = child.stdin.take().ok_or_else(|| fail("no stdin".into()))?;
    let input = pdf.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().ok_or_else(|| fail("no stdout".into()))?;
    let max_out = limits.max_pixels + 64;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.by_ref().take(max_out).read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_millis(limits.page_timeout_ms);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(OcrError::Timeout { page, ms: limits.page_timeout_ms });
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
        return Err(fail(format!("{status}: {}", err.trim())));
    }
    if out.len() as u64 > limits.max_pixels {
        return Err(fail(format!("page renders to more than {} pixels", limits.max_pixels)));
    }
    decode_image(&out, limits).map_err(|e| fail(e.to_string()))
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
