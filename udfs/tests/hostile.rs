//! Hostile and broken documents: each class gets a clear error, never a panic or a hang.
use billstream_udfs as udfs;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream};
use std::io::Write;
use udfs::ocr::{prepare, read_document, Engine, Limits, OcrError, PageJob};

/// A PDF with `pages` pages of one line of text each, plus optional extra stream content.
fn pdf(pages: usize, extra_stream: Option<Stream>, encrypt: bool) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica"});
    let resources_id = doc.add_object(dictionary! {"Font" => dictionary! {"F1" => font_id}});
    let mut kids = vec![];
    for i in 0..pages {
        let content = Content {
            operations: vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 12.into()]),
                Operation::new("Td", vec![72.into(), 700.into()]),
                Operation::new(
                    "Tj",
                    vec![Object::string_literal(format!(
                        "Statement page {i} of the account for services in March 2026"
                    ))],
                ),
                Operation::new("ET", vec![]),
            ],
        };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        kids.push(
            doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id, "Contents" => content_id}).into(),
        );
    }
    if let Some(s) = extra_stream {
        doc.add_object(s);
    }
    let pages_dict = dictionary! {
        "Type" => "Pages", "Kids" => kids, "Count" => pages as i64, "Resources" => resources_id,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    };
    doc.objects.insert(pages_id, Object::Dictionary(pages_dict));
    let catalog_id = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog_id);
    if encrypt {
        let enc = doc.add_object(dictionary! {
            "Filter" => "Standard", "V" => 2, "R" => 3, "Length" => 128, "P" => -44,
            "O" => Object::string_literal(vec![7u8; 32]), "U" => Object::string_literal(vec![9u8; 32]),
        });
        doc.trailer.set("Encrypt", enc);
        doc.trailer.set("ID", vec![Object::string_literal(vec![1u8; 16]), Object::string_literal(vec![1u8; 16])]);
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend(crc.sum().to_be_bytes());
}

#[test]
fn zero_bytes() {
    assert!(matches!(prepare(&[], &Limits::default()), Err(OcrError::Empty)));
}

#[test]
fn wrong_type() {
    let err = prepare(b"Dear patient, this is not a bill image", &Limits::default()).unwrap_err();
    assert!(matches!(err, OcrError::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("upload a PDF, PNG, JPEG or TIFF"));
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
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..64 {
        z.write_all(&block).unwrap();
    }
    let bomb = Stream::new(dictionary! {"Filter" => "FlateDecode"}, z.finish().unwrap());
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
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = vec![];
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &ihdr);
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    z.write_all(&[0u8; 1024]).unwrap();
    png_chunk(&mut png, b"IDAT", &z.finish().unwrap());
    png_chunk(&mut png, b"IEND", &[]);
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
    let err = PageJob { page_no: 1, pdf: true }.run(&bytes, &mut engine, &limits).unwrap_err();
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
