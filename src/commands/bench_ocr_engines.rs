//! `billstream bench ocr-engines`: tesseract against PaddleOCR (PP-OCRv4 through ONNX Runtime,
//! `dataflows::intake::paddle`) on the scanned pages of published statements, each engine on the
//! identical page image, rendered as the intake pipeline renders it (`udfs::ocr::prepare` decides
//! the resolution: twice a scan's own below 200 dpi). Accuracy is over the tokens a line item is
//! read from, taken from the golden files (tests/golden/real): for each transcribed line on a
//! page, its charge, its code and charge-master number, and its units. A token is found when a
//! word of the page's OCR equals it once `$`, `,`, surrounding punctuation and case are set aside;
//! each word counts for one token (a charge printed once is not found for two lines).
use anyhow::{anyhow, bail, Context, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use dataflows::intake::paddle::{self, PaddleOcr};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;
use udfs::ocr::{decode_image, ocr_page, prepare, rasterize_pdf_page, Engine, Limits, Prepared};

/// The published statements that are scans (the others have a text layer and no OCR).
const DOCUMENTS: &[&str] = &[
    "Sample-Itemized-Billing-Statement-VCU.pdf",
    "Sample-Itemized-Billing-Statement-Sentara.pdf",
    "ssm-health-sample-hospital-bill.pdf",
    "stanford-health-care_statement-front_1728679915072.jpg",
    "stanford-health-care_statement-back_1728680002072.jpg",
];
const GOLDEN_DIR: &str = "tests/golden/real";

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Tally {
    pub expected: usize,
    pub found: usize,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.expected += o.expected;
        self.found += o.found;
    }
    /// None where nothing was expected (a page without line items).
    pub fn accuracy(&self) -> Option<f64> {
        (self.expected > 0).then(|| self.found as f64 / self.expected as f64)
    }
}

/// One engine over one document (or, in `totals`, over all of them).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub document: String,
    pub engine: &'static str,
    pub pages: usize,
    /// Resolution of each page as rendered (the assumed one for an image).
    pub dpi: Vec<u32>,
    /// Recognition only: rendering is done once, before either engine runs.
    pub seconds: f64,
    pub pages_per_s: f64,
    pub tokens: Tally,
    pub accuracy: Option<f64>,
    pub charges: Tally,
    pub codes: Tally,
    pub units: Tally,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
    pub totals: Vec<Row>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Charge,
    Code,
    Units,
}

/// A page as rendered for OCR.
struct Page {
    no: u32,
    dpi: u32,
    img: image::GrayImage,
}

pub fn run(docs: &Path, json: bool) -> Result<Report> {
    let limits = Limits::default();
    let mut tesseract = Engine::new("eng").map_err(|e| anyhow!("tesseract: {e}"))?;
    let mut paddle = PaddleOcr::open(&paddle::model_dir()).map_err(|e| anyhow!("PaddleOCR: {e}"))?;
    let mut rows = Vec::new();
    for name in DOCUMENTS {
        let path = docs.join(name);
        let bytes = std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        let expected = golden_tokens(&Path::new(GOLDEN_DIR).join(golden_name(name)))?;
        let pages = render(&bytes, &limits).with_context(|| name.to_string())?;
        let mut tess = |p: &Page| ocr_page(&mut tesseract, &p.img, p.dpi, p.no, &limits).map_err(|e| anyhow!("{e}"));
        rows.push(measure(name, "tesseract", &pages, &expected, &mut tess)?);
        let mut pp = |p: &Page| paddle.recognize(&p.img, p.no).map_err(|e| anyhow!(e));
        rows.push(measure(name, "paddleocr", &pages, &expected, &mut pp)?);
    }
    let totals = ["tesseract", "paddleocr"].map(|engine| total(engine, &rows)).to_vec();
    let report = Report { rows, totals };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(report)
}

fn golden_name(document: &str) -> String {
    let stem = Path::new(document).file_stem().map_or(document.into(), |s| s.to_string_lossy());
    format!("{stem}.expected.json")
}

/// The pages of a scanned document, rendered exactly as the intake pipeline does.
fn render(bytes: &[u8], limits: &Limits) -> Result<Vec<Page>> {
    let Prepared::Ocr(jobs) = prepare(bytes, limits)? else { bail!("has a text layer: nothing to OCR") };
    jobs.iter()
        .map(|j| {
            let img =
                if j.pdf { rasterize_pdf_page(bytes, j.page_no, j.dpi, limits)? } else { decode_image(bytes, limits)? };
            Ok(Page { no: j.page_no, dpi: j.dpi, img })
        })
        .collect()
}

/// Each page's expected tokens, by page number: charge, code, charge-master number, units.
fn golden_tokens(path: &Path) -> Result<HashMap<u32, Vec<(Kind, String)>>> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| format!("{}", path.display()))?;
    let lines = v["lines"].as_array().ok_or_else(|| anyhow!("{}: no \"lines\"", path.display()))?;
    let mut pages: HashMap<u32, Vec<(Kind, String)>> = HashMap::new();
    for l in lines {
        let page = l["page"].as_u64().ok_or_else(|| anyhow!("{}: a line without \"page\"", path.display()))? as u32;
        let tokens = pages.entry(page).or_default();
        let text = |k: &str| l[k].as_str().map(str::to_string).or_else(|| l[k].as_u64().map(|n| n.to_string()));
        // "7383.00" as printed "7,383.00" or "$7,383.00": the same token once `$` and `,` go.
        tokens.extend(text("charge").map(|c| (Kind::Charge, norm(&c))));
        tokens.extend(["code", "cdm_code"].iter().filter_map(|k| text(k)).map(|c| (Kind::Code, norm(&c))));
        tokens.extend(text("units").map(|u| (Kind::Units, norm(&u))));
    }
    Ok(pages)
}

/// A word or token as compared: without `$` and `,`, trimmed of surrounding punctuation, upper case.
fn norm(s: &str) -> String {
    let kept: String = s.chars().filter(|c| !matches!(c, '$' | ',')).collect();
    kept.trim_matches(|c: char| !c.is_alphanumeric()).to_uppercase()
}

/// The expected tokens found among the words, each word used once.
fn tally(words: &[schemas::records::OcrWord], expected: &[(Kind, String)], kind: Kind) -> Tally {
    let mut bag: HashMap<String, usize> = HashMap::new();
    for w in words {
        *bag.entry(norm(&w.text)).or_default() += 1;
    }
    let mut t = Tally::default();
    // Kinds are scored apart, so a word may count once per kind; kinds never share a token here
    // (codes are 5+ characters, units are short integers, charges have cents).
    for (_, tok) in expected.iter().filter(|(k, _)| *k == kind) {
        t.expected += 1;
        if let Some(n) = bag.get_mut(tok).filter(|n| **n > 0) {
            *n -= 1;
            t.found += 1;
        }
    }
    t
}

fn measure(
    document: &str,
    engine: &'static str,
    pages: &[Page],
    expected: &HashMap<u32, Vec<(Kind, String)>>,
    ocr: &mut dyn FnMut(&Page) -> Result<schemas::records::OcrPage>,
) -> Result<Row> {
    let (mut seconds, mut charges, mut codes, mut units) = (0.0, Tally::default(), Tally::default(), Tally::default());
    for p in pages {
        let started = Instant::now();
        let page = ocr(p).with_context(|| format!("{document}: {engine}, page {}", p.no))?;
        seconds += started.elapsed().as_secs_f64();
        let want = expected.get(&p.no).map_or(&[][..], Vec::as_slice);
        charges.add(tally(&page.words, want, Kind::Charge));
        codes.add(tally(&page.words, want, Kind::Code));
        units.add(tally(&page.words, want, Kind::Units));
    }
    Ok(row(
        document.to_string(),
        engine,
        pages.len(),
        pages.iter().map(|p| p.dpi).collect(),
        seconds,
        [charges, codes, units],
    ))
}

fn row(
    document: String,
    engine: &'static str,
    pages: usize,
    dpi: Vec<u32>,
    seconds: f64,
    [charges, codes, units]: [Tally; 3],
) -> Row {
    let mut tokens = charges;
    tokens.add(codes);
    tokens.add(units);
    let pages_per_s = if seconds > 0.0 { pages as f64 / seconds } else { 0.0 };
    Row {
        document,
        engine,
        pages,
        dpi,
        seconds,
        pages_per_s,
        tokens,
        accuracy: tokens.accuracy(),
        charges,
        codes,
        units,
    }
}

fn total(engine: &'static str, rows: &[Row]) -> Row {
    let mine: Vec<&Row> = rows.iter().filter(|r| r.engine == engine).collect();
    let mut kinds = [Tally::default(); 3];
    for r in &mine {
        kinds[0].add(r.charges);
        kinds[1].add(r.codes);
        kinds[2].add(r.units);
    }
    let pages = mine.iter().map(|r| r.pages).sum();
    let seconds = mine.iter().map(|r| r.seconds).sum();
    row("total".into(), engine, pages, vec![], seconds, kinds)
}

fn print(report: &Report) {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "document",
        "engine",
        "pages",
        "dpi",
        "s",
        "pages/s",
        "tokens found",
        "accuracy",
        "charges",
        "codes",
        "units",
    ]);
    let num = |v: String| Cell::new(v).set_alignment(CellAlignment::Right);
    let pct = |t: &Tally| t.accuracy().map_or("-".to_string(), |a| format!("{:.1}%", a * 100.0));
    let frac = |t: &Tally| format!("{}/{}", t.found, t.expected);
    for r in report.rows.iter().chain(&report.totals) {
        let dpi: Vec<String> = r.dpi.iter().map(u32::to_string).collect();
        t.add_row(vec![
            Cell::new(&r.document),
            Cell::new(r.engine),
            num(r.pages.to_string()),
            Cell::new(dpi.join(",")),
            num(format!("{:.1}", r.seconds)),
            num(format!("{:.2}", r.pages_per_s)),
            num(frac(&r.tokens)),
            num(pct(&r.tokens)),
            num(format!("{} {}", frac(&r.charges), pct(&r.charges))),
            num(format!("{} {}", frac(&r.codes), pct(&r.codes))),
            num(format!("{} {}", frac(&r.units), pct(&r.units))),
        ]);
    }
    println!("{t}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_without_currency_and_punctuation() {
        assert_eq!(norm("$7,383.00"), "7383.00");
        assert_eq!(norm("(114.60)"), "114.60");
        assert_eq!(norm("j3490,"), "J3490");
    }

    #[test]
    fn each_word_counts_for_one_token() {
        let w = |t: &str| schemas::records::OcrWord { text: t.into(), x: 0.0, y: 0.0, w: 1.0, h: 1.0, confidence: 1.0 };
        let words = [w("$114.60"), w("99213"), w("1")];
        let want = vec![
            (Kind::Charge, "114.60".to_string()),
            (Kind::Charge, "114.60".to_string()),
            (Kind::Units, "1".to_string()),
        ];
        let charges = tally(&words, &want, Kind::Charge);
        assert_eq!((charges.expected, charges.found), (2, 1));
        assert_eq!(tally(&words, &want, Kind::Units).found, 1);
        assert_eq!(golden_name("a-b.pdf"), "a-b.expected.json");
    }
}
