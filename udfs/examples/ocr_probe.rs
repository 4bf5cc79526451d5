//! Tuning aid: OCR one image with chosen preprocessing steps and print the rows as read.
//! `cargo run -p billstream-udfs --example ocr_probe -- IMAGE [upscale,flatten,deskew]`
use billstream_udfs as udfs;
use udfs::ocr::{decode_image, prepare_with, Engine, Limits, Steps};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1])?;
    let steps_arg = args.get(2).cloned().unwrap_or_else(|| "upscale,flatten,deskew".into());
    let steps = Steps {
        dewarp: steps_arg.contains("dewarp"),
        upscale: steps_arg.contains("upscale"),
        flatten: steps_arg.contains("flatten"),
        deskew: steps_arg.contains("deskew"),
        rules: steps_arg.contains("rules"),
    };
    let img = decode_image(&bytes, &Limits::default())?;
    let t = std::time::Instant::now();
    let p = prepare_with(&img, steps);
    let prep = t.elapsed();
    let mut engine = Engine::new("eng")?;
    let t = std::time::Instant::now();
    let words = engine.recognize(&p.img, (300.0 * p.scale) as u32, 60_000, 1)?;
    let rec = t.elapsed();
    let (pw, ph) = (p.img.width() as f32, p.img.height() as f32);
    let words = words
        .into_iter()
        .map(|w| {
            let (cx, cy) = udfs::ocr::unskew(w.x + w.w / 2.0, w.y + w.h / 2.0, pw, ph, p.skew);
            schemas::records::OcrWord { x: cx - w.w / 2.0, y: cy - w.h / 2.0, ..w }
        })
        .collect();
    let page = schemas::records::OcrPage { page_no: 1, width: pw, height: ph, words };
    let ex = udfs::extract::extract(std::slice::from_ref(&page), None);
    if std::env::var("VERBOSE").is_ok() {
        for l in &ex.lines {
            println!(
                "{:?} {:?} {:?} {} {:?} {} {:.2}",
                l.service_date, l.code, l.revenue_code, l.units, l.unit_price, l.charge, l.confidence
            );
        }
        println!("totals {:?}", ex.totals);
        for w in &ex.warnings {
            println!("warning: {w}");
        }
    }
    let truth_path = args[1].rsplit_once('.').map(|(stem, _)| format!("{stem}.truth.json")).unwrap_or_default();
    let matched = match std::fs::read(&truth_path) {
        Ok(t) => {
            let truth: udfs::extract::Extraction = serde_json::from_slice(&t)?;
            let s = udfs::extract::score::score(&ex, &truth);
            format!("{}/{} matched, {} read, totals {}", s.matched, s.truth, s.predicted, s.totals_ok)
        }
        Err(_) => format!("{} lines", ex.lines.len()),
    };
    eprintln!("{steps_arg}: preprocess {prep:?}, recognise {rec:?}, {matched}");
    Ok(())
}
