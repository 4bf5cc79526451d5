//! Documents named on the command line: a path, or `-` for standard input (a bill pasted into
//! a terminal). JSON line items are recognised here and read without OCR.
use anyhow::{Context, Result};
use schemas::records::DocumentKind;
use std::io::Read;
use std::path::Path;
use udfs::extract::Extraction;

pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

pub fn read(path: &Path) -> Result<Input> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("standard input: cannot read")?;
        return Ok(Input { name: "stdin".into(), bytes });
    }
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("{name}: cannot read the file"))?;
    Ok(Input { name, bytes })
}

impl Input {
    /// JSON line items: a `.json` file, or text that starts with `{` or `[`.
    pub fn is_json(&self) -> bool {
        self.name.rsplit_once('.').is_some_and(|(_, e)| e.eq_ignore_ascii_case("json"))
            || matches!(self.bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
    }

    /// The line items of a JSON input (see `udfs::extract::items` for the shapes taken).
    pub fn json_items(&self, kind: DocumentKind) -> Result<Extraction> {
        udfs::extract::items::from_json(&self.bytes, kind).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e} (give the JSON that `billstream extract --json` prints, or {{\"lineItems\": [...]}})",
                self.name
            )
        })
    }
}
