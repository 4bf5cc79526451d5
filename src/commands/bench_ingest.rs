//! `billstream bench ingest`: loader throughput over feed files (MB/s, records/s and, for X12,
//! segments/s), parsing and validating exactly as `billstream ingest --dry-run` does.
use anyhow::Result;
use connectors::ingest::{Feed, Ingest, Options};
use std::path::PathBuf;
use std::time::Instant;

pub fn run(feed: Feed, files: Vec<PathBuf>, repeat: usize, json: bool) -> Result<()> {
    let mut bytes = 0u64;
    let mut records = 0u64;
    let mut rejected = 0u64;
    let mut segments = 0u64;
    for f in &files {
        segments += x12_segments(f)?;
    }
    let start = Instant::now();
    for _ in 0..repeat.max(1) {
        let mut ingest = Ingest::new(feed, Options { dry_run: true, ..Options::default() }, None)?;
        let mut files = files.clone();
        Ingest::order(&mut files);
        for f in &files {
            let s = ingest.file(f, &mut |_| {});
            if s.status != "loaded" {
                anyhow::bail!("{}: {} ({})", f.display(), s.status, s.error.unwrap_or_default());
            }
            bytes += s.bytes;
            records += s.tally.produced;
            rejected += s.tally.rejected;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let repeat = repeat.max(1) as u64;
    let out = serde_json::json!({
        "bench": "ingest", "feed": feed, "files": files.len(), "repeat": repeat,
        "bytes": bytes, "seconds": secs, "mb_per_s": (bytes as f64 / 1e6 / secs * 10.0).round() / 10.0,
        "records": records, "records_per_s": (records as f64 / secs).round(), "rejected": rejected,
        "x12_segments": segments * repeat,
        "x12_segments_per_s": if segments > 0 { Some((segments as f64 * repeat as f64 / secs).round()) } else { None },
    });
    if json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// Segments of an X12 file, counted independently of the loader: occurrences of the segment
/// terminator the ISA declares (its 106th character). 0 for other files; streamed, so counting
/// does not hold the file in memory.
fn x12_segments(path: &PathBuf) -> Result<u64> {
    use std::io::Read;
    let mut f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut head = [0u8; 512];
    let n = f.read(&mut head)?;
    let head = &head[..n];
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF)) else {
        return Ok(0);
    };
    if !head[start..].starts_with(b"ISA") || head.len() < start + 106 {
        return Ok(0);
    }
    let term = head[start + 105];
    let mut count = head.iter().filter(|b| **b == term).count() as u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(count);
        }
        count += buf[..n].iter().filter(|b| **b == term).count() as u64;
    }
}
