//! Feeds onto the log: recognises a file's format, runs its loader, produces the records to
//! `claims.lines`, `reference.prices` or `reference.edits`, and every reject to the dead-letter
//! topic with where and why. The `billstream ingest` command and `POST /v1/feeds/...` both run
//! this, so a file checked with `--dry-run` is read exactly as it will be loaded.
//!
//! Invariants: a file is produced in the order it is read, each record keyed as its topic
//! expects (claims by claim id, prices by code, edits by code or code pair); `finish` returns only
//! when everything produced is durable on the broker. A file rejected as a whole produces one
//! dead letter naming the file and the reason; records produced before the whole-file error are
//! kept (they passed validation), and the summary says the file failed.
use crate::cms::pfs::GpciTable;
use crate::feed::{Ctx, Item, LoadError, Loader, Out, Tally, KEPT_REJECTS};
use crate::kafka::{sink::Sink, KafkaConfig};
use crate::{cms, csv_claims, fhir, x12, ConnectorError};
use schemas::topics::{CLAIMS_LINES, DLQ, REFERENCE_EDITS, REFERENCE_PRICES};
use schemas::DeadLetter;
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::Duration;

/// Which topic a command feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Feed {
    Claims,
    Prices,
    Edits,
}

impl std::str::FromStr for Feed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "claims" => Ok(Self::Claims),
            "prices" => Ok(Self::Prices),
            "edits" => Ok(Self::Edits),
            other => Err(format!("{other:?} is not claims, prices or edits")),
        }
    }
}

impl Feed {
    pub fn topic(self) -> &'static str {
        match self {
            Self::Claims => CLAIMS_LINES,
            Self::Prices => REFERENCE_PRICES,
            Self::Edits => REFERENCE_EDITS,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::Claims => "claims",
            Self::Prices => "prices",
            Self::Edits => "edits",
        }
    }
}

/// The formats the loaders read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// X12 837P/837I claims and 835 remittances.
    X12,
    /// FHIR Claim / ExplanationOfBenefit, alone or in bundles.
    Fhir,
    /// CSV claims (Tuva medical_claim or Billstream's own columns).
    CsvClaims,
    /// CMS hospital price-transparency MRF (v2/v3 CSV tall or wide, JSON; pre-2024 wide).
    HospitalMrf,
    /// Transparency-in-Coverage in-network rates or allowed amounts.
    Tic,
    /// Medicare PFS relative value file (needs the GPCI file in the same run).
    PfsRvu,
    /// Medicare geographic practice cost indices (read to price the PFS RVU file).
    Gpci,
    Clfs,
    /// Medicare Part B drug payment limits (the quarterly ASP pricing file).
    Asp,
    Opps,
    NcciPtp,
    MueCsv,
    MueJson,
    HcpcsLevel2,
}

impl Format {
    pub const ALL: [Format; 14] = [
        Self::X12,
        Self::Fhir,
        Self::CsvClaims,
        Self::HospitalMrf,
        Self::Tic,
        Self::PfsRvu,
        Self::Gpci,
        Self::Clfs,
        Self::Asp,
        Self::Opps,
        Self::NcciPtp,
        Self::MueCsv,
        Self::MueJson,
        Self::HcpcsLevel2,
    ];

    pub fn feed(self) -> Feed {
        match self {
            Self::X12 | Self::Fhir | Self::CsvClaims => Feed::Claims,
            Self::HospitalMrf | Self::Tic | Self::PfsRvu | Self::Gpci | Self::Clfs | Self::Asp | Self::Opps => {
                Feed::Prices
            }
            Self::NcciPtp | Self::MueCsv | Self::MueJson | Self::HcpcsLevel2 => Feed::Edits,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::X12 => "x12",
            Self::Fhir => "fhir",
            Self::CsvClaims => "csv_claims",
            Self::HospitalMrf => "hospital_mrf",
            Self::Tic => "tic",
            Self::PfsRvu => "pfs_rvu",
            Self::Gpci => "gpci",
            Self::Clfs => "clfs",
            Self::Asp => "asp",
            Self::Opps => "opps",
            Self::NcciPtp => "ncci_ptp",
            Self::MueCsv => "mue_csv",
            Self::MueJson => "mue_json",
            Self::HcpcsLevel2 => "hcpcs_level2",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    /// Whether the first bytes (and the file name, as a hint) look like this format.
    fn sniff(self, name: &str, head: &[u8]) -> bool {
        match self {
            Self::X12 => x12::sniff(name, head),
            Self::Fhir => fhir::sniff(head),
            Self::CsvClaims => csv_claims::sniff(head),
            Self::HospitalMrf => cms::mrf::sniff(name, head),
            Self::Tic => cms::tic::sniff(name, head),
            Self::PfsRvu => cms::pfs::sniff(name, head),
            Self::Gpci => cms::pfs::sniff_gpci(name, head),
            Self::Clfs => cms::clfs::sniff(name, head),
            Self::Asp => cms::asp::sniff(name, head),
            Self::Opps => cms::opps::sniff(name, head),
            Self::NcciPtp => cms::ncci::sniff_ptp(name, head),
            Self::MueCsv => cms::ncci::sniff_mue_csv(name, head),
            Self::MueJson => cms::ncci::sniff_mue_json(name, head),
            Self::HcpcsLevel2 => cms::hcpcs::sniff(name, head),
        }
    }

    fn loader(self) -> Option<Loader> {
        Some(match self {
            Self::X12 => x12::load,
            Self::Fhir => fhir::load,
            Self::CsvClaims => csv_claims::load,
            Self::HospitalMrf => cms::mrf::load,
            Self::Tic => cms::tic::load,
            Self::Clfs => cms::clfs::load,
            Self::Asp => cms::asp::load,
            Self::Opps => cms::opps::load,
            Self::NcciPtp => cms::ncci::load_ptp,
            Self::MueCsv => cms::ncci::load_mue_csv,
            Self::MueJson => cms::ncci::load_mue_json,
            Self::HcpcsLevel2 => cms::hcpcs::load,
            // Priced with the GPCI table (see `Ingest::run`).
            Self::PfsRvu | Self::Gpci => return None,
        })
    }
}

/// How many leading bytes format detection looks at.
pub const HEAD_BYTES: usize = 16 * 1024;

/// The format of a file from its first bytes and name; `None` when nothing recognises it.
pub fn detect(name: &str, head: &[u8]) -> Option<Format> {
    Format::ALL.into_iter().find(|f| f.sniff(name, head))
}

/// What the caller asks for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Parse and validate only: nothing is produced.
    pub dry_run: bool,
    /// Read every file as this format instead of detecting it.
    pub format: Option<Format>,
    /// Scope for price files that do not name their hospital or payer.
    pub scope: Option<String>,
    /// PFS: only these localities (`MAC-locality`, e.g. `01112-05`).
    pub localities: Vec<String>,
}

/// What happened to one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub file: String,
    pub format: Option<Format>,
    /// `loaded` (records may still have been rejected), `rejected` (the file as a whole), or
    /// `failed` (the broker or the disk failed; retrying may succeed).
    pub status: &'static str,
    pub error: Option<String>,
    pub bytes: u64,
    #[serde(flatten)]
    pub tally: Tally,
}

/// A run over one or more files of one feed.
pub struct Ingest {
    feed: Feed,
    opts: Options,
    producer: Option<Sink>,
    gpci: Option<GpciTable>,
}

impl Ingest {
    /// `kafka` is required unless `opts.dry_run`.
    pub fn new(feed: Feed, opts: Options, kafka: Option<&KafkaConfig>) -> Result<Self, ConnectorError> {
        let producer = match (opts.dry_run, kafka) {
            (true, _) => None,
            (false, Some(k)) => Some(Sink::new(k)?),
            (false, None) => {
                return Err(ConnectorError::Config { what: "ingest", reason: "no broker configured".into() })
            }
        };
        Ok(Self { feed, opts, producer, gpci: None })
    }

    /// Orders files so the ones others depend on come first (GPCI before the PFS RVU file).
    pub fn order(paths: &mut [std::path::PathBuf]) {
        paths.sort_by_key(|p| {
            let head = read_head(p).unwrap_or_default();
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            !matches!(detect(&name, &head), Some(Format::Gpci))
        });
    }

    /// Loads one file from disk; `progress` is called with the bytes read so far.
    pub fn file(&mut self, path: &Path, progress: &mut dyn FnMut(u64)) -> FileSummary {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match std::fs::File::open(path) {
            Ok(f) => self.reader(&name, &mut BufReader::with_capacity(256 * 1024, f), progress),
            Err(e) => FileSummary {
                file: name,
                format: None,
                status: "failed",
                error: Some(format!("cannot open {}: {e}", path.display())),
                bytes: 0,
                tally: Tally::default(),
            },
        }
    }

    /// Loads one file from a reader.
    pub fn reader(&mut self, name: &str, input: &mut dyn BufRead, progress: &mut dyn FnMut(u64)) -> FileSummary {
        self.reader_with(name, input, progress, &mut |_| {})
    }

    /// `reader`, also handing each validated record to `each` (after it was produced, if a
    /// producer is configured).
    fn reader_with(
        &mut self,
        name: &str,
        input: &mut dyn BufRead,
        progress: &mut dyn FnMut(u64),
        each: &mut dyn FnMut(&Item),
    ) -> FileSummary {
        let span = tracing::info_span!("ingest.file", file = name, feed = self.feed.name());
        let _e = span.enter();
        let mut counted = Counting { inner: input, bytes: 0, progress };
        let mut summary = FileSummary {
            file: name.to_string(),
            format: None,
            status: "loaded",
            error: None,
            bytes: 0,
            tally: Tally { keep_all: !self.opts.dry_run, ..Tally::default() },
        };
        let result = self.run(name, &mut counted, &mut summary, each);
        summary.bytes = counted.bytes;
        if let Err((status, at, reason)) = result {
            summary.status = status;
            summary.error = Some(if at.is_empty() { reason.clone() } else { format!("{at}: {reason}") });
            if status == "rejected" {
                self.dead_letter(name, &at, &reason);
            }
        }
        // Every rejected record goes to the dead-letter topic; the summary keeps the first few.
        let rejects = std::mem::take(&mut summary.tally.rejects);
        if !self.opts.dry_run {
            for r in &rejects {
                self.dead_letter(name, &r.at, &r.reason);
            }
        }
        summary.tally.rejects = rejects.into_iter().take(KEPT_REJECTS).collect();
        summary.tally.keep_all = false;
        // The command prints its own summary: this is for operators' logs (BILLSTREAM_LOG=debug).
        tracing::debug!(
            status = summary.status,
            produced = summary.tally.produced,
            rejected = summary.tally.rejected,
            bytes = summary.bytes,
            "file done"
        );
        summary
    }

    fn run(
        &mut self,
        name: &str,
        input: &mut Counting<'_>,
        summary: &mut FileSummary,
        each: &mut dyn FnMut(&Item),
    ) -> Result<(), (&'static str, String, String)> {
        let head = input.fill_buf().map_err(|e| ("failed", String::new(), e.to_string()))?;
        if head.is_empty() {
            return Err(("rejected", String::new(), "the file is empty".into()));
        }
        let head: Vec<u8> = head[..head.len().min(HEAD_BYTES)].to_vec();
        let format = match self.opts.format.or_else(|| detect(name, &head)) {
            Some(f) => f,
            None => {
                return Err((
                    "rejected",
                    String::new(),
                    "not a format Billstream reads (X12 837/835, FHIR Claim/EOB, CSV claims, CMS hospital \
                     price-transparency MRF, Transparency-in-Coverage, PFS RVU/GPCI, CLFS, OPPS Addendum B, \
                     NCCI PTP, MUE, HCPCS Level II)"
                        .into(),
                ))
            }
        };
        summary.format = Some(format);
        if format.feed() != self.feed {
            return Err((
                "rejected",
                String::new(),
                format!(
                    "this is a {} file, which feeds {}: use `billstream ingest {}`",
                    format.name(),
                    format.feed().topic(),
                    format.feed().name()
                ),
            ));
        }
        let ctx = Ctx {
            source_file: name.to_string(),
            scope: self.opts.scope.clone(),
            localities: self.opts.localities.clone(),
        };
        let topic = self.feed.topic();
        let mut send_error: Option<ConnectorError> = None;
        let producer = &mut self.producer;
        let mut out = |item: Item| {
            each(&item);
            let Some(p) = producer.as_mut() else { return };
            if send_error.is_some() {
                return;
            }
            let sent = encode(&item).and_then(|(key, bytes)| p.send(topic, key.as_bytes(), Some(&bytes)));
            if let Err(e) = sent {
                send_error = Some(e);
            }
        };
        let loaded = match format {
            Format::Gpci => GpciTable::read(input).map(|t| {
                summary.tally.count("localities", t.localities.len() as u64);
                self.gpci = Some(t);
            }),
            Format::PfsRvu => match &self.gpci {
                Some(g) => cms::pfs::load_rvu(&ctx, g, input, &mut out as Out<'_>, &mut summary.tally),
                None => Err(LoadError::rejected(
                    "",
                    "the PFS relative value file is priced per locality with the GPCI file: give the GPCI file \
                     (e.g. GPCI2026.csv) in the same command",
                )),
            },
            other => match other.loader() {
                Some(load) => load(&ctx, input, &mut out as Out<'_>, &mut summary.tally),
                None => Err(LoadError::rejected("", format!("no loader for {}", other.name()))),
            },
        };
        if let Some(e) = send_error {
            return Err(("failed", String::new(), format!("producing to {topic}: {e}")));
        }
        match loaded {
            Ok(()) => Ok(()),
            Err(LoadError::Rejected { at, reason }) => Err(("rejected", at, reason)),
            Err(LoadError::Io(e)) => Err(("failed", String::new(), format!("read: {e}"))),
        }
    }

    fn dead_letter(&mut self, file: &str, at: &str, reason: &str) {
        let Some(p) = self.producer.as_mut() else { return };
        let payload = serde_json::json!({"file": file, "at": at, "reason": reason}).to_string();
        let d = DeadLetter {
            stage: format!("ingest.{}", self.feed.name()),
            error: if at.is_empty() { format!("{file}: {reason}") } else { format!("{file}: {at}: {reason}") },
            source_topic: self.feed.topic().into(),
            source_partition: -1,
            source_offset: -1,
            key: Some(file.as_bytes().to_vec()),
            payload: payload.into_bytes(),
            at: chrono::Utc::now().timestamp_millis(),
        };
        match schemas::encode(&d) {
            Ok(bytes) => {
                if let Err(e) = p.send(DLQ, self.feed.topic().as_bytes(), Some(&bytes)) {
                    tracing::error!(error = %e, "dead letter not sent");
                }
            }
            Err(e) => tracing::error!(error = %e, "dead letter not encoded"),
        }
    }

    /// Waits until everything produced is durable.
    pub fn finish(mut self) -> Result<(), ConnectorError> {
        if let Some(p) = self.producer.as_mut() {
            p.flush(Duration::from_secs(120))?;
        }
        Ok(())
    }
}

/// Reads `paths` (any feed) with the same detection and loaders as `billstream ingest`, producing
/// nothing, and hands each validated record to `each`: reference data for in-process runs (the
/// findings bench, tests). GPCI tables are read before PFS RVU files. One summary per file, in
/// the order read.
pub fn read_files(paths: &[std::path::PathBuf], opts: &Options, each: &mut dyn FnMut(Item)) -> Vec<FileSummary> {
    let mut paths = paths.to_vec();
    Ingest::order(&mut paths);
    // One dry-run `Ingest` per feed, kept across files (the prices one holds the GPCI table).
    let mut runs: Vec<Ingest> = Vec::new();
    let mut summaries = Vec::new();
    for path in &paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let head = read_head(path).unwrap_or_default();
        let feed = opts.format.or_else(|| detect(&name, &head)).map_or(Feed::Edits, Format::feed);
        let ingest = match runs.iter().position(|r| r.feed == feed) {
            Some(i) => &mut runs[i],
            None => {
                runs.push(Ingest { feed, opts: Options { dry_run: true, ..opts.clone() }, producer: None, gpci: None });
                let last = runs.len() - 1;
                &mut runs[last]
            }
        };
        let summary = match std::fs::File::open(path) {
            Ok(f) => ingest.reader_with(
                &name,
                &mut BufReader::with_capacity(256 * 1024, f),
                &mut |_| {},
                &mut |item: &Item| each(item.clone()),
            ),
            Err(e) => FileSummary {
                file: name,
                format: None,
                status: "failed",
                error: Some(format!("cannot open {}: {e}", path.display())),
                bytes: 0,
                tally: Tally::default(),
            },
        };
        summaries.push(summary);
    }
    summaries
}

/// The record's topic key and its framed bytes.
fn encode(item: &Item) -> Result<(String, Vec<u8>), ConnectorError> {
    Ok(match item {
        Item::Claim(c) => (c.claim_id.clone(), schemas::encode(c)?),
        Item::Price(p) => (p.key().to_string(), schemas::encode(p)?),
        Item::Edit(e) => (e.key(), schemas::encode(e)?),
    })
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0u8; HEAD_BYTES];
    let mut f = std::fs::File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    head.truncate(n);
    Ok(head)
}

/// A reader that reports how many bytes were consumed (progress bars, MB/s).
struct Counting<'a> {
    inner: &'a mut dyn BufRead,
    bytes: u64,
    progress: &'a mut dyn FnMut(u64),
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        (self.progress)(self.bytes);
        Ok(n)
    }
}

impl BufRead for Counting<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.bytes += amt as u64;
        // Report about every 64 KiB: a progress bar need not hear of every line.
        if self.bytes & 0xffff < amt as u64 {
            (self.progress)(self.bytes);
        }
    }
}
