//! `billstream ingest claims|prices|edits FILE...`: feeds onto the log with a progress bar and a
//! summary; `--dry-run --json` checks files without producing anything.
use anyhow::Result;
use comfy_table::Table;
use connectors::ingest::{FileSummary, Format, Ingest, Options};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

pub struct Args {
    pub feed: connectors::ingest::Feed,
    pub files: Vec<PathBuf>,
    pub dry_run: bool,
    pub json: bool,
    pub format: Option<String>,
    pub scope: Option<String>,
    pub localities: Vec<String>,
}

/// Returns whether every file loaded (records may still have been rejected, as the summary says).
pub fn run(cfg: &crate::config::Config, mut a: Args) -> Result<bool> {
    let format = match a.format.as_deref() {
        None => None,
        Some(f) => Some(Format::from_name(f).ok_or_else(|| {
            let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
            anyhow::anyhow!("unknown format {f:?}; one of: {}", names.join(", "))
        })?),
    };
    let opts = Options { dry_run: a.dry_run, format, scope: a.scope.clone(), localities: a.localities.clone() };
    let kafka = cfg.kafka();
    if !a.dry_run && cfg.kafka.brokers.is_empty() {
        anyhow::bail!("no broker: set kafka.brokers (or --brokers), or run `billstream up` first");
    }
    let mut ingest = Ingest::new(a.feed, opts, Some(&kafka))?;
    Ingest::order(&mut a.files);
    let mut summaries: Vec<FileSummary> = vec![];
    for path in &a.files {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        // indicatif draws only on a terminal, so --json output and CI logs stay clean.
        let pb = ProgressBar::new(len).with_message(path.display().to_string());
        pb.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let s = ingest.file(path, &mut |n| pb.set_position(n));
        pb.finish_and_clear();
        if !a.json {
            eprintln!(
                "{}: {} ({} produced, {} rejected)",
                path.display(),
                s.status,
                s.tally.produced,
                s.tally.rejected
            );
        }
        summaries.push(s);
    }
    ingest.finish()?;
    let ok = summaries.iter().all(|s| s.status == "loaded");
    if a.json {
        let produced: u64 = summaries.iter().map(|s| s.tally.produced).sum();
        let rejected: u64 = summaries.iter().map(|s| s.tally.rejected).sum();
        let out = serde_json::json!({
            "feed": a.feed, "topic": a.feed.topic(), "dry_run": a.dry_run,
            "produced": produced, "rejected": rejected, "files": summaries,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_summary(&summaries, a.dry_run, a.feed.topic());
    }
    Ok(ok)
}

fn print_summary(summaries: &[FileSummary], dry_run: bool, topic: &str) {
    let mut t = Table::new();
    t.set_header(["file", "format", "status", "records", "produced", "rejected"]);
    for s in summaries {
        let counts: Vec<String> = s.tally.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        t.add_row([
            s.file.clone(),
            s.format.map(|f| f.name()).unwrap_or("-").to_string(),
            s.status.to_string(),
            counts.join(", "),
            s.tally.produced.to_string(),
            s.tally.rejected.to_string(),
        ]);
    }
    println!("{t}");
    for s in summaries {
        if let Some(e) = &s.error {
            println!("{}: {}", s.file, e);
        }
        // The most frequent reasons, so a large file's rejects read as a diagnosis, not a dump.
        let mut reasons: std::collections::BTreeMap<&str, (u64, &str)> = Default::default();
        for r in &s.tally.rejects {
            let e = reasons.entry(r.reason.as_str()).or_insert((0, r.at.as_str()));
            e.0 += 1;
        }
        let mut reasons: Vec<_> = reasons.into_iter().collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1 .0));
        for (reason, (n, at)) in reasons.into_iter().take(10) {
            println!("{}: rejected {n}× (first at {at}): {reason}", s.file);
        }
        for w in s.tally.warnings.iter().take(10) {
            println!("{}: warning at {}: {}", s.file, w.at, w.reason);
        }
    }
    let produced: u64 = summaries.iter().map(|s| s.tally.produced).sum();
    let rejected: u64 = summaries.iter().map(|s| s.tally.rejected).sum();
    if dry_run {
        println!("dry run: {produced} records would be produced to {topic}; {rejected} rejected");
    } else {
        println!("{produced} records produced to {topic}; {rejected} rejected (sent to dlq with the reason)");
    }
}
