//! Transparency-in-Coverage payer files (JSON, schema v1.x and v2.x) → `reference.prices`
//! (source `TIC`).
//!
//! * In-network rate files: each `in_network[]` item's `negotiated_rates[].negotiated_prices[]`
//!   becomes one price per billing code modifier (or one without a modifier). Dollar types
//!   `negotiated`, `derived` and `fee schedule` have amount kind `negotiated`; `per diem` has
//!   `negotiated_per_diem` (dollars per day, against a line's days); `percentage` (a percent of
//!   billed charges, no amount) is counted as `percentage_rates` and not produced.
//! * Allowed-amount files: each `out_of_network[].allowed_amounts[].payments[]` becomes one price
//!   of kind `allowed_oon`. An empty `out_of_network` loads with 0 records.
//! * A table of contents (`reporting_structure`) and a provider-reference file (`provider_groups`)
//!   carry no prices: the load fails with a message naming what to load instead. XML files are
//!   rejected (this reads the JSON format).
//!
//! Invariants: the file is streamed with `serde_json::Deserializer::from_reader`; the root object
//! is visited key by key and each `in_network`/`out_of_network` element is deserialized, turned
//! into prices and dropped before the next is read (`provider_references` and provider lists are
//! skipped, never stored). Scope is `payer:<reporting_entity_name>` unless `ctx.scope` says;
//! `payer` is the file's `plan_name`; `effective_from` is `last_updated_on`; `effective_to` the
//! `expiration_date` unless it is the open-ended `9999-12-31`. The schema puts the entity and
//! date before `in_network`; a file that puts them after has its prices held until they arrive
//! (up to `MAX_PENDING`).
use crate::feed::{Ctx, Item, LoadError, Out, Tally};
use rust_decimal::Decimal;
use schemas::RefPrice;
use serde::de::{self, DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::io::BufRead;
use std::str::FromStr;

/// Prices held while waiting for `last_updated_on`/`reporting_entity_name` further down the file.
const MAX_PENDING: usize = 100_000;

/// Whether `name`/`head` look like a Transparency-in-Coverage file (JSON, or the XML variant
/// this module rejects with a reason).
pub fn sniff(_name: &str, head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    if text.contains("json-schema.org") {
        return false; // the schemas themselves, in JSON or the XML rendition
    }
    let json = text.trim_start_matches('\u{feff}').trim_start().starts_with('{');
    let keys = ["in_network", "out_of_network", "reporting_structure", "reporting_entity_name"];
    if json {
        keys.iter().any(|k| text.contains(&format!("\"{k}\"")))
            || (text.contains("\"provider_groups\"") && text.contains("\"version\""))
    } else {
        text.trim_start().starts_with('<') && text.contains("<reporting_entity_name>")
    }
}

/// Loads an in-network rate or allowed-amount file.
pub fn load(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    // serde_json does not skip a byte-order mark; XML is told apart by its first character.
    let head = input.fill_buf()?;
    if head.starts_with(b"\xef\xbb\xbf") {
        input.consume(3);
    }
    let head = input.fill_buf()?;
    if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return Err(LoadError::rejected(
            "line 1",
            "an XML Transparency-in-Coverage file: this loader reads the JSON format of the schema",
        ));
    }
    let mut st =
        State { ctx, out, tally, entity: None, plan: None, updated: None, pending: Vec::new(), seen: Seen::default() };
    let mut de = serde_json::Deserializer::from_reader(input);
    de.deserialize_map(Root { st: &mut st }).map_err(json_error)?;
    de.end().map_err(json_error)?;
    st.finish()
}

/// A serde_json error as a file-level error: I/O stays retryable, the rest says where.
pub(crate) fn json_error(e: serde_json::Error) -> LoadError {
    if e.is_io() {
        return LoadError::Io(e.into());
    }
    let at = format!("line {}, column {}", e.line(), e.column());
    if e.is_eof() {
        return LoadError::rejected(at, "the JSON ends early (a truncated file?)");
    }
    LoadError::rejected(at, e.to_string())
}

/// Which top-level parts the file had.
#[derive(Default)]
struct Seen {
    in_network: bool,
    out_of_network: bool,
    toc: Option<(u64, u64)>,
    provider_groups: bool,
    json_schema: bool,
}

struct State<'a, 'o> {
    ctx: &'a Ctx,
    out: Out<'o>,
    tally: &'a mut Tally,
    entity: Option<String>,
    plan: Option<String>,
    updated: Option<String>,
    pending: Vec<Rate>,
    seen: Seen,
}

/// A price read from the file, before the file-level fields are applied.
struct Rate {
    at: String,
    code: String,
    code_type: String,
    modifier: Option<String>,
    setting: Option<String>,
    kind: &'static str,
    amount: Decimal,
    to: Option<String>,
}

impl State<'_, '_> {
    fn ready(&self) -> bool {
        self.updated.is_some() && (self.entity.is_some() || self.ctx.scope.is_some())
    }

    fn push(&mut self, r: Rate) -> Result<(), String> {
        if self.ready() {
            self.flush();
            self.emit(r);
        } else if self.pending.len() >= MAX_PENDING {
            return Err(format!(
                "{MAX_PENDING} prices read and still no last_updated_on or reporting_entity_name: the schema puts them \
                 before in_network"
            ));
        } else {
            self.pending.push(r);
        }
        Ok(())
    }

    fn flush(&mut self) {
        for r in std::mem::take(&mut self.pending) {
            self.emit(r);
        }
    }

    fn emit(&mut self, r: Rate) {
        let scope = match (&self.ctx.scope, &self.entity) {
            (Some(s), _) => s.clone(),
            (None, Some(e)) => format!("payer:{e}"),
            (None, None) => return, // not ready; `push` holds it
        };
        let price = RefPrice {
            source: "TIC".into(),
            code: r.code,
            code_type: r.code_type,
            modifier: r.modifier,
            scope,
            payer: self.plan.clone(),
            setting: r.setting,
            amount_kind: r.kind.into(),
            amount: r.amount,
            effective_from: self.updated.clone().unwrap_or_default(),
            effective_to: r.to,
            source_file: self.ctx.source_file.clone(),
        };
        let at = r.at;
        if self.tally.emit(self.out, || at, Item::Price(price)) {
            self.tally.count("prices", 1);
        }
    }

    /// One `in_network[]` item: its negotiated prices.
    fn in_network(&mut self, i: usize, item: InNetworkItem) -> Result<(), String> {
        self.tally.count("in_network_items", 1);
        let at = format!("in_network[{i}]");
        let Some((code, code_type)) = self.code(&at, item.billing_code, item.billing_code_type) else { return Ok(()) };
        for (j, rate) in item.negotiated_rates.unwrap_or_default().into_iter().enumerate() {
            for (k, p) in rate.negotiated_prices.unwrap_or_default().into_iter().enumerate() {
                let at = format!("{at}.negotiated_rates[{j}].negotiated_prices[{k}]");
                self.tally.count("negotiated_prices", 1);
                let kind = match p.negotiated_type.as_deref().map(str::trim) {
                    Some("negotiated" | "derived" | "fee schedule") => "negotiated",
                    Some("per diem") => "negotiated_per_diem",
                    Some("percentage") => {
                        self.tally.count("percentage_rates", 1);
                        continue;
                    }
                    other => {
                        self.tally.reject(
                            at,
                            format!(
                                "negotiated_type {other:?} is not negotiated, derived, fee schedule, percentage or per diem"
                            ),
                        );
                        continue;
                    }
                };
                let Some(amount) = self.amount(&at, "negotiated_rate", p.negotiated_rate) else { continue };
                let to = p.expiration_date.filter(|d| d.trim() != "9999-12-31");
                for modifier in modifiers(p.billing_code_modifier) {
                    let rate = Rate {
                        at: at.clone(),
                        code: code.clone(),
                        code_type: code_type.clone(),
                        modifier,
                        setting: p.setting.clone(),
                        kind,
                        amount,
                        to: to.clone(),
                    };
                    self.push(rate)?;
                }
            }
        }
        Ok(())
    }

    /// One `out_of_network[]` item: its allowed amounts.
    fn out_of_network(&mut self, i: usize, item: OutOfNetworkItem) -> Result<(), String> {
        self.tally.count("out_of_network_items", 1);
        let at = format!("out_of_network[{i}]");
        let Some((code, code_type)) = self.code(&at, item.billing_code, item.billing_code_type) else { return Ok(()) };
        for (j, allowed) in item.allowed_amounts.unwrap_or_default().into_iter().enumerate() {
            for (k, p) in allowed.payments.unwrap_or_default().into_iter().enumerate() {
                let at = format!("{at}.allowed_amounts[{j}].payments[{k}]");
                self.tally.count("payments", 1);
                let Some(amount) = self.amount(&at, "allowed_amount", p.allowed_amount) else { continue };
                for modifier in modifiers(p.billing_code_modifier) {
                    let rate = Rate {
                        at: at.clone(),
                        code: code.clone(),
                        code_type: code_type.clone(),
                        modifier,
                        setting: allowed.setting.clone(),
                        kind: "allowed_oon",
                        amount,
                        to: None,
                    };
                    self.push(rate)?;
                }
            }
        }
        Ok(())
    }

    fn code(&mut self, at: &str, code: Option<Scalar>, code_type: Option<String>) -> Option<(String, String)> {
        let code = code.map(Scalar::text).unwrap_or_default();
        let code_type = code_type.unwrap_or_default().trim().to_string();
        if code.is_empty() || code_type.is_empty() {
            self.tally.reject(at, "no billing_code or billing_code_type");
            return None;
        }
        Some((code, code_type))
    }

    fn amount(&mut self, at: &str, field: &str, value: Option<Scalar>) -> Option<Decimal> {
        let text = value.map(Scalar::text).unwrap_or_default();
        match Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)) {
            Ok(d) => Some(d),
            Err(_) => {
                self.tally.reject(at, format!("{field} {text:?} is not an amount"));
                None
            }
        }
    }

    fn finish(mut self) -> Result<(), LoadError> {
        if let Some((files, allowed)) = self.seen.toc {
            return Err(LoadError::rejected(
                "reporting_structure",
                format!(
                    "table of contents: lists {files} in-network files and {allowed} allowed-amount files, load those"
                ),
            ));
        }
        if !self.seen.in_network && !self.seen.out_of_network {
            let reason = if self.seen.json_schema {
                "a JSON Schema (it describes the files), not a Transparency-in-Coverage data file"
            } else if self.seen.provider_groups {
                "provider-reference file: it lists the provider groups an in-network file refers to and has no \
                 rates, load the in-network file"
            } else {
                "not a Transparency-in-Coverage in-network or allowed-amount file: no in_network or out_of_network array"
            };
            return Err(LoadError::rejected("root", reason));
        }
        if self.updated.is_none() {
            return Err(LoadError::rejected("last_updated_on", "missing: it is the rates' effective date"));
        }
        if self.entity.is_none() && self.ctx.scope.is_none() {
            return Err(LoadError::rejected(
                "reporting_entity_name",
                "missing: it names the payer the rates belong to (or give a scope)",
            ));
        }
        self.flush();
        Ok(())
    }
}

/// One price per listed modifier (the rate applies with each), or one without.
fn modifiers(list: Option<Vec<String>>) -> Vec<Option<String>> {
    let list: Vec<Option<String>> = list
        .unwrap_or_default()
        .into_iter()
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .map(Some)
        .collect();
    if list.is_empty() {
        vec![None]
    } else {
        list
    }
}

/// A string or a number (codes and amounts are written both ways in the wild).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Number(serde_json::Number),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Text(s) => s.trim().to_string(),
            Scalar::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct InNetworkItem {
    billing_code: Option<Scalar>,
    billing_code_type: Option<String>,
    negotiated_rates: Option<Vec<NegotiatedRate>>,
}

#[derive(Deserialize)]
struct NegotiatedRate {
    negotiated_prices: Option<Vec<NegotiatedPrice>>,
}

#[derive(Deserialize)]
struct NegotiatedPrice {
    negotiated_type: Option<String>,
    negotiated_rate: Option<Scalar>,
    expiration_date: Option<String>,
    setting: Option<String>,
    billing_code_modifier: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct OutOfNetworkItem {
    billing_code: Option<Scalar>,
    billing_code_type: Option<String>,
    allowed_amounts: Option<Vec<AllowedAmount>>,
}

#[derive(Deserialize)]
struct AllowedAmount {
    setting: Option<String>,
    payments: Option<Vec<Payment>>,
}

#[derive(Deserialize)]
struct Payment {
    allowed_amount: Option<Scalar>,
    billing_code_modifier: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TocEntry {
    in_network_files: Option<Vec<IgnoredAny>>,
    allowed_amount_file: Option<IgnoredAny>,
}

/// The root object, visited key by key.
struct Root<'s, 'a, 'o> {
    st: &'s mut State<'a, 'o>,
}

impl<'de> Visitor<'de> for Root<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Transparency-in-Coverage JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.st;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "reporting_entity_name" => st.entity = Some(map.next_value::<String>()?.trim().to_string()),
                "plan_name" => st.plan = map.next_value::<Option<String>>()?.filter(|p| !p.trim().is_empty()),
                "last_updated_on" => {
                    let d: String = map.next_value()?;
                    if !schemas::records::is_iso_date(d.trim()) {
                        return Err(de::Error::custom(format!("last_updated_on {d:?} is not YYYY-MM-DD")));
                    }
                    st.updated = Some(d.trim().to_string());
                }
                "in_network" => {
                    st.seen.in_network = true;
                    map.next_value_seed(Elements { st: &mut *st, list: List::InNetwork })?;
                }
                "out_of_network" => {
                    st.seen.out_of_network = true;
                    map.next_value_seed(Elements { st: &mut *st, list: List::OutOfNetwork })?;
                }
                "reporting_structure" => {
                    st.seen.toc = Some((0, 0));
                    map.next_value_seed(Elements { st: &mut *st, list: List::Toc })?;
                }
                "provider_references" => map.next_value_seed(Elements { st: &mut *st, list: List::Count })?,
                "provider_groups" => {
                    st.seen.provider_groups = true;
                    map.next_value::<IgnoredAny>()?;
                }
                "$schema" => {
                    st.seen.json_schema = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum List {
    InNetwork,
    OutOfNetwork,
    Toc,
    /// `provider_references`: counted, skipped.
    Count,
}

/// A top-level array, handled one element at a time.
struct Elements<'s, 'a, 'o> {
    st: &'s mut State<'a, 'o>,
    list: List,
}

impl<'de> DeserializeSeed<'de> for Elements<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(()) // `null`: nothing listed
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.st;
        let mut i = 0usize;
        match self.list {
            List::InNetwork => {
                while let Some(item) = seq.next_element::<InNetworkItem>()? {
                    st.in_network(i, item).map_err(de::Error::custom)?;
                    i += 1;
                }
            }
            List::OutOfNetwork => {
                while let Some(item) = seq.next_element::<OutOfNetworkItem>()? {
                    st.out_of_network(i, item).map_err(de::Error::custom)?;
                    i += 1;
                }
            }
            List::Toc => {
                while let Some(entry) = seq.next_element::<TocEntry>()? {
                    let (files, allowed) = st.seen.toc.unwrap_or_default();
                    let n = entry.in_network_files.map_or(0, |f| f.len() as u64);
                    st.seen.toc = Some((files + n, allowed + u64::from(entry.allowed_amount_file.is_some())));
                }
            }
            List::Count => {
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    i += 1;
                }
                st.tally.count("provider_references", i as u64);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, scope: Option<&str>) -> (Result<(), LoadError>, Vec<RefPrice>, Tally) {
        let ctx = Ctx { source_file: "rates.json".into(), scope: scope.map(str::to_string), ..Ctx::default() };
        let (r, got, tally) = crate::feed::run_loader(load, &ctx, text);
        (r, crate::feed::prices(got), tally)
    }

    #[test]
    fn in_network_prices_and_types() {
        let text = r#"{"reporting_entity_name": "Acme", "plan_name": "Gold", "last_updated_on": "2024-01-15",
          "provider_references": [{"provider_group_id": 1}, {"provider_group_id": 2}],
          "in_network": [
            {"billing_code": "99214", "billing_code_type": "CPT", "negotiated_rates": [{"provider_references": [1],
              "negotiated_prices": [
                {"negotiated_type": "negotiated", "negotiated_rate": 150.10, "expiration_date": "9999-12-31",
                 "billing_code_modifier": ["25", "59"], "setting": "outpatient"},
                {"negotiated_type": "percentage", "negotiated_rate": 65.0, "expiration_date": "2024-12-31"},
                {"negotiated_type": "per diem", "negotiated_rate": "5500", "expiration_date": "2024-12-31"},
                {"negotiated_type": "capitated", "negotiated_rate": 1, "expiration_date": "2024-12-31"}]}]},
            {"billing_code_type": "CPT", "negotiated_rates": []}
          ]}"#;
        let (r, got, tally) = run(text, None);
        r.unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].modifier.as_deref(), got[1].modifier.as_deref()), (Some("25"), Some("59")));
        // JSON numbers pass through f64 (no arbitrary_precision): the value, not the scale, is kept.
        assert_eq!(got[0].amount, Decimal::from_str("150.10").unwrap());
        assert_eq!(got[0].effective_to, None);
        assert_eq!((got[0].scope.as_str(), got[0].payer.as_deref()), ("payer:Acme", Some("Gold")));
        assert_eq!(
            (got[2].amount_kind.as_str(), got[2].effective_to.as_deref()),
            ("negotiated_per_diem", Some("2024-12-31"))
        );
        assert_eq!(tally.counts["percentage_rates"], 1);
        assert_eq!(tally.counts["provider_references"], 2);
        assert_eq!(tally.rejected, 2, "{:?}", tally.rejects);
        assert_eq!(tally.rejects[0].at, "in_network[0].negotiated_rates[0].negotiated_prices[3]");
    }

    #[test]
    fn header_after_rates_and_scope_override() {
        let text = r#"{"in_network": [{"billing_code": "27447", "billing_code_type": "CPT", "negotiated_rates":
            [{"negotiated_prices": [{"negotiated_type": "derived", "negotiated_rate": 1e2, "expiration_date": "2025-01-01"}]}]}],
            "last_updated_on": "2024-02-01"}"#;
        let (r, got, _) = run(text, Some("payer:Other"));
        r.unwrap();
        assert_eq!((got[0].scope.as_str(), got[0].effective_from.as_str()), ("payer:Other", "2024-02-01"));
        assert_eq!(got[0].amount, Decimal::from(100));
        let (r, got, _) = run(text, None);
        assert!(r.unwrap_err().to_string().contains("reporting_entity_name: missing"));
        assert!(got.is_empty());
    }

    #[test]
    fn whole_file_rejections() {
        let toc = r#"{"reporting_entity_name": "x", "reporting_structure": [{"in_network_files": [{}, {}],
            "allowed_amount_file": {}}, {"in_network_files": [{}]}]}"#;
        let err = run(toc, None).0.unwrap_err().to_string();
        assert!(err.contains("table of contents: lists 3 in-network files and 1 allowed-amount files"), "{err}");
        let err = run(r#"{"provider_groups": [], "version": "1.4.0"}"#, None).0.unwrap_err().to_string();
        assert!(err.contains("provider-reference file"), "{err}");
        let err = run("<?xml version=\"1.0\"?><root/>", None).0.unwrap_err().to_string();
        assert!(err.contains("XML"), "{err}");
        let err = run(r#"{"in_network": [{"billing_code": "1""#, None).0.unwrap_err().to_string();
        assert!(err.contains("ends early"), "{err}");
        let err = run(r#"{"last_updated_on": "08/27/2020", "in_network": []}"#, None).0.unwrap_err().to_string();
        assert!(err.contains("not YYYY-MM-DD"), "{err}");
        let (r, got, _) =
            run(r#"{"reporting_entity_name": "m", "last_updated_on": "2020-08-27", "out_of_network": []}"#, None);
        r.unwrap();
        assert!(got.is_empty());
    }
}
