//! Which CSV layout a header is, and where each column the mapping reads sits. Names compare
//! trimmed and lower-cased, after a UTF-8 byte order mark.
//!
//! Invariants: a Tuva header needs its key columns and may carry any others (Tuva's table has
//! about 150, most unused here); a Billstream header may hold only ClaimLine field names, so a
//! misspelt column is an error rather than silently empty data; no name may appear twice.
use super::billstream::{self, BillstreamColumns};
use super::tuva::{self, TuvaColumns};
use std::collections::HashMap;

pub(crate) enum Layout {
    Tuva(TuvaColumns),
    Billstream(BillstreamColumns),
}

/// Header names as compared: trimmed, lower-case, without a BOM.
pub(crate) fn normalize(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let n = if i == 0 { n.trim_start_matches('\u{feff}') } else { n };
            n.trim().to_ascii_lowercase()
        })
        .collect()
}

/// Column positions by name.
pub(crate) struct Header {
    positions: HashMap<String, usize>,
    pub names: Vec<String>,
}

impl Header {
    pub fn new(names: Vec<String>) -> Result<Self, String> {
        let mut positions = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                continue;
            }
            if positions.insert(n.clone(), i).is_some() {
                return Err(format!("column {n:?} appears twice"));
            }
        }
        Ok(Self { positions, names })
    }
    pub fn get(&self, name: &str) -> Option<usize> {
        self.positions.get(name).copied()
    }
    pub fn has(&self, name: &str) -> bool {
        self.positions.contains_key(name)
    }
    /// The required names that are absent.
    pub fn missing(&self, required: &[&str]) -> Vec<String> {
        required.iter().filter(|n| !self.has(n)).map(|n| n.to_string()).collect()
    }
}

/// The layout of a header, or why it is neither.
pub(crate) fn detect(names: Vec<String>) -> Result<Layout, String> {
    let h = Header::new(names)?;
    if h.has("claim_line_number") || h.has("hcpcs_code") {
        return tuva::columns(&h).map(Layout::Tuva);
    }
    if h.has("line_no") {
        return billstream::columns(&h).map(Layout::Billstream);
    }
    Err(format!(
        "the header is neither Tuva's medical_claim (claim_id, claim_line_number, claim_type, hcpcs_code, \
         charge_amount, ...) nor the Billstream claim line CSV ({}); it starts {:?}",
        billstream::COLUMNS.join(","),
        h.names.iter().take(5).cloned().collect::<Vec<_>>().join(",")
    ))
}

/// Whether a header line (possibly cut short) names one of the two layouts.
pub(crate) fn looks_like_claims(first_line: &str) -> bool {
    let names: Vec<&str> = first_line.split(',').map(|n| n.trim().trim_matches('"')).collect();
    let names = normalize(&names);
    let has = |n: &str| names.iter().any(|x| x == n);
    has("claim_id") && (has("claim_line_number") || (has("line_no") && has("code")))
}
