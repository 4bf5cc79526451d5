//! Hostile and broken documents: each class gets a clear error, never a panic or a hang.
use billstream_udfs as udfs;
use testkit::fixtures::hostile::{pdf, pixel_bomb_png, zeros_stream};
use udfs::ocr::{prepare, read_document, Engine, Limits, OcrError, PageJob};

#[test]
fn zero_bytes() {
    assert!(matches!(prepare(&[], &Limits::default()), Err(OcrError::Empty)));
}

#[test]
fn wrong_type() {
    let err = prepare(b"PK\x03\x04\x14\x00\x06\x00 a zip archive", &Limits::default()).unwrap_err();
    assert!(matches!(err, OcrError::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("upload a PDF, PNG, JPEG or TIFF"));
}

#[test]
fn plain_text_is_a_pasted_bill() {
    let ok =
        prepare(b"Dear patient, this is your statement.\n03/14/2026  99213  $250.00\n", &Limits::default()).unwrap();
    assert!(matches!(ok, udfs::ocr::Prepared::Text(p) if p.len() == 1 && p[0].words.len() == 9));
}

#[test]
fn too_large() {
    let limits = Limits { max_bytes: 100, ..Limits::default() };
    let err = prepare(&pdf(3, None, false), &limits).unwrap_err();
    assert!(matches!(err, OcrError::TooLarge { limit: 100, .. }), "{err}");
}

#[test]
fn too_many_pages() {
    let err = prepare(&pdf(60, None, false), &Limits::default()).unwrap_err();
    assert!(matches!(err, OcrError::TooManyPages { pages: 60, limit: 50 }), "{err}");
    // Under the cap the same document is read from its text layer.
    let ok = prepare(&pdf(5, None, false), &Limits::default()).unwrap();
    assert!(matches!(ok, udfs::ocr::Prepared::Text(p) if p.len() == 5));
}

#[test]
fn decompression_bomb() {
    // 64 MiB of zeros deflate to ~64 KiB; the limit here is 16 MiB.
    let bomb = zeros_stream(64);
    let bytes = pdf(1, Some(bomb), false);
    assert!(bytes.len() < 1 << 20, "the file itself is small: {}", bytes.len());
    let limits = Limits { max_inflated_bytes: 16 << 20, ..Limits::default() };
    let err = prepare(&bytes, &limits).unwrap_err();
    assert!(matches!(err, OcrError::DecompressionBomb { .. }), "{err}");
}

#[test]
fn encrypted_pdf() {
    let err = prepare(&pdf(1, None, true), &Limits::default()).unwrap_err();
    assert!(matches!(err, OcrError::Encrypted), "{err}");
    assert!(err.to_string().contains("unprotected copy"));
}

#[test]
fn corrupt_pdf() {
    let mut bytes = pdf(2, None, false);
    bytes.truncate(bytes.len() / 3);
    let err = prepare(&bytes, &Limits::default()).unwrap_err();
    assert!(matches!(err, OcrError::CorruptPdf(_)), "{err}");
    let err = prepare(b"%PDF-1.7\n\x00\x01\x02 this is not a PDF body", &Limits::default()).unwrap_err();
    assert!(matches!(err, OcrError::CorruptPdf(_)), "{err}");
}

#[test]
fn pixel_bomb_png_is_refused_from_its_header() {
    // A PNG that claims 100000 x 100000 pixels (10 gigapixels) in a few dozen bytes.
    let png = pixel_bomb_png(100_000, 100_000);
    let mut engine = Engine::new("eng").unwrap();
    let err = read_document(&png, &mut engine, &Limits::default()).unwrap_err();
    assert!(matches!(err, OcrError::TooManyPixels { width: 100_000, height: 100_000, .. }), "{err}");
}

#[test]
fn corrupt_image() {
    let mut engine = Engine::new("eng").unwrap();
    let err = read_document(b"\xff\xd8\xff\xe0 truncated jpeg", &mut engine, &Limits::default()).unwrap_err();
    assert!(matches!(err, OcrError::CorruptImage(_)), "{err}");
}

#[test]
fn page_time_limits_stop_rasterizing_and_recognising() {
    // Rendering: a 1 ms deadline kills the rasterizer child.
    let bytes = pdf(1, None, false);
    let limits = Limits { page_timeout_ms: 1, ..Limits::default() };
    let mut engine = Engine::new("eng").unwrap();
    let err =
        PageJob { page_no: 1, pdf: true, dpi: 300, low_res: false }.run(&bytes, &mut engine, &limits).unwrap_err();
    assert!(matches!(err, OcrError::Timeout { page: 1, ms: 1 }), "{err}");
    // Recognition: a rendered page with a 1 ms deadline.
    let img = udfs::ocr::rasterize_pdf_page(&bytes, 1, 200, &Limits::default()).unwrap();
    let err = udfs::ocr::ocr_page(&mut engine, &img, 200, 1, &limits).unwrap_err();
    assert!(matches!(err, OcrError::Timeout { .. }), "{err}");
    // The engine is still usable afterwards.
    let page = udfs::ocr::ocr_page(&mut engine, &img, 200, 1, &Limits::default()).unwrap();
    let text: Vec<&str> = page.words.iter().map(|w| w.text.as_str()).collect();
    assert!(text.contains(&"Statement"), "{text:?}");
}
