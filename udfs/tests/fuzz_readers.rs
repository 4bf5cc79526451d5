//! Mutated documents through every reader of document bytes: the PDF checks and text layer, the
//! image decoder, pasted text, and the layout reading of whatever words come out. Each input
//! must end in words or a clear error, never a panic. The seeds are committed
//! (tests/fuzz-corpus: small PDFs, a PNG, a JPEG, pasted text); proptest mutates them (bit
//! flips, overwrites, insertions, deletions, truncation, splices of two seeds).
//!
//! CI runs `PROPTEST_CASES` inputs (default 600); a longer run: `PROPTEST_CASES=20000 cargo test
//! -p billstream-udfs --release --test fuzz_readers -- --nocapture` prints how many inputs were
//! tried. A panic escaping a reader fails the run with the input that caused it (shrunk); each
//! one found has a unit test beside the code it was in.
use billstream_udfs as udfs;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use udfs::extract::{extract, pasted::text_pages};
use udfs::ocr::{decode_image, prepare, Limits, Prepared};

fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(seeds.len() >= 5, "fuzz corpus too small: {}", seeds.len());
    seeds
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Splice(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..256).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>(), any::<usize>()).prop_map(|(s, a, b)| Mutation::Splice(s, a, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, m: &Mutation, seeds: &[Vec<u8>]) -> Vec<u8> {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match m {
        Mutation::Flip(i, b) if !bytes.is_empty() => {
            let i = at(*i, bytes.len());
            bytes[i] ^= 1 << b;
        }
        Mutation::Set(i, b) if !bytes.is_empty() => {
            let i = at(*i, bytes.len());
            bytes[i] = *b;
        }
        Mutation::Insert(i, v) => {
            let i = at(*i, bytes.len() + 1);
            bytes.splice(i..i, v.iter().copied());
        }
        Mutation::Delete(i, n) if !bytes.is_empty() => {
            let i = at(*i, bytes.len());
            bytes.drain(i..(i + n).min(bytes.len()));
        }
        Mutation::Truncate(i) => bytes.truncate(at(*i, bytes.len() + 1)),
        Mutation::Splice(s, a, b) => {
            let other = &seeds[s % seeds.len()];
            let (a, b) = (at(*a, bytes.len() + 1), at(*b, other.len() + 1));
            bytes.truncate(a);
            bytes.extend_from_slice(&other[b..]);
        }
        _ => {}
    }
    bytes
}

static TRIED: AtomicUsize = AtomicUsize::new(0);
static READ: AtomicUsize = AtomicUsize::new(0);

/// Every reader the bytes reach, as the intake stage runs them (rasterizing and recognising a
/// scanned PDF page are child processes and tesseract, bounded by the page deadline and left to
/// the hostile-document tests).
fn read_all(bytes: &[u8]) {
    TRIED.fetch_add(1, Ordering::Relaxed);
    let limits = Limits { max_pages: 8, max_pixels: 4_000_000, ..Limits::default() };
    match prepare(bytes, &limits) {
        Ok(Prepared::Text(pages)) => {
            READ.fetch_add(1, Ordering::Relaxed);
            let _ = extract(&pages, None);
        }
        Ok(Prepared::Ocr(jobs)) => {
            if jobs.first().is_some_and(|j| !j.pdf) {
                let _ = decode_image(bytes, &limits);
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    // The same bytes as a pasted bill, however little text they hold.
    let text = String::from_utf8_lossy(bytes);
    let _ = extract(&text_pages(&text), None);
}

/// Inputs per run: `PROPTEST_CASES`, else 600 (about ten seconds in a debug build).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(600)
}

/// Panics raised and caught inside a dependency (pdf-extract's font handling) while the inputs
/// ran: counted and reported, since the reader falls back to poppler for those files.
static CAUGHT: AtomicUsize = AtomicUsize::new(0);

#[test]
fn mutated_documents_never_panic() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_dependency =
            info.location().is_some_and(|l| l.file().contains("pdf-extract") || l.file().contains("lopdf"));
        if in_dependency {
            CAUGHT.fetch_add(1, Ordering::Relaxed);
        }
        if !in_dependency || std::env::var_os("FUZZ_SHOW_PANICS").is_some() {
            default_hook(info);
        }
    }));
    let seeds = seeds();
    let config = ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = (any::<usize>(), proptest::collection::vec(mutation(), 1..6));
    let result = runner.run(&strategy, |(seed, ms)| {
        let mut bytes = seeds[seed % seeds.len()].clone();
        for m in &ms {
            bytes = apply(bytes, m, &seeds);
        }
        read_all(&bytes);
        Ok(())
    });
    let _ = std::panic::take_hook();
    eprintln!(
        "fuzz readers: {} mutated inputs tried, {} read as text layers, 0 panics escaped; {} panics caught inside pdf-extract (those files are read by poppler)",
        TRIED.load(Ordering::Relaxed),
        READ.load(Ordering::Relaxed),
        CAUGHT.load(Ordering::Relaxed)
    );
    result.unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "(?s).{0,400}") {
        let _ = extract(&text_pages(&text), None);
    }
}

#[test]
fn every_seed_is_read() {
    for (i, s) in seeds().iter().enumerate() {
        read_all(s);
        assert!(prepare(s, &Limits::default()).is_ok(), "seed {i} is a readable document");
    }
}
