//! `billstream generate claims`: synthetic claim lines onto `claims.lines` (demo data, load).
use anyhow::Result;
use connectors::kafka::sink::Sink;
use connectors::kafka::KafkaConfig;
use indicatif::{ProgressBar, ProgressStyle};
use schemas::records::ClaimLine;
use schemas::topics::CLAIMS_LINES;
use std::time::Duration;

/// Produces `lines` (keyed by claim id, so versions of a claim stay in order) and waits until
/// all are durable.
pub fn produce(kafka: &KafkaConfig, lines: &[ClaimLine], progress: bool) -> Result<()> {
    let mut sink = Sink::new(kafka)?;
    let bar = if progress { ProgressBar::new(lines.len() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} claim lines {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for (i, l) in lines.iter().enumerate() {
        sink.send(CLAIMS_LINES, l.claim_id.as_bytes(), Some(&schemas::encode(l)?))?;
        if i % 10_000 == 9_999 {
            sink.flush(Duration::from_secs(120))?;
            bar.set_position(i as u64 + 1);
        }
    }
    sink.flush(Duration::from_secs(120))?;
    bar.finish_and_clear();
    Ok(())
}

pub fn run(kafka: &KafkaConfig, lines: usize, seed: u64, changes: usize) -> Result<()> {
    let base = testkit::generate::claim_lines(seed, lines);
    produce(kafka, &base, true)?;
    let later = testkit::generate::replacements_and_voids(seed, &base, changes);
    produce(kafka, &later, true)?;
    eprintln!("produced {} claim lines and {} replacements/voids to {CLAIMS_LINES}", base.len(), later.len());
    Ok(())
}

/// The same lines as `run` would produce, in the same order, as CSV (for peers such as pandas).
pub fn to_csv(path: &std::path::Path, lines: usize, seed: u64, changes: usize) -> Result<()> {
    use std::io::Write;
    let base = testkit::generate::claim_lines(seed, lines);
    let later = testkit::generate::replacements_and_voids(seed, &base, changes);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "claim_id,line_no,frequency_code,code,modifier,place_of_service,units,charge")?;
    for l in base.iter().chain(later.iter()) {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{}",
            l.claim_id,
            l.line_no,
            l.frequency_code,
            l.code,
            l.modifier.as_deref().unwrap_or(""),
            l.place_of_service,
            l.units,
            l.charge
        )?;
    }
    w.flush()?;
    eprintln!("wrote {} claim lines to {}", base.len() + later.len(), path.display());
    Ok(())
}

/// `billstream generate eval-set`: the labeled findings evaluation set (`testkit::evalset`) over the
/// reference data in `reference`, written as `cases.jsonl` (one case a line) and
/// `observed_benchmarks.jsonl` (the observed charge statistics its outlier cases rest on).
pub fn eval_set(out: &std::path::Path, reference: &std::path::Path, seed: u64) -> Result<()> {
    use std::io::Write;
    let (refs, _) = dataflows::findings::reference::load_dir(reference, None)
        .map_err(|e| anyhow::anyhow!("loading the reference data from {}: {e}", reference.display()))?;
    let set = testkit::evalset::generate(&refs.edits, &refs.benchmarks, seed, testkit::evalset::Sizes::default())?;
    std::fs::create_dir_all(out)?;
    let write = |name: &str, rows: Vec<String>| -> Result<()> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(out.join(name))?);
        for r in rows {
            writeln!(w, "{r}")?;
        }
        w.flush()?;
        Ok(())
    };
    let cases = set.cases.iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?;
    let observed = set.observed.iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?;
    write(dataflows::findings::eval::CASES_FILE, cases)?;
    write(dataflows::findings::eval::OBSERVED_FILE, observed)?;
    let labels: usize = set.cases.iter().map(|c| c.labels.len()).sum();
    eprintln!(
        "wrote {} cases ({labels} labels) and {} observed benchmarks to {}",
        set.cases.len(),
        set.observed.len(),
        out.display()
    );
    Ok(())
}
