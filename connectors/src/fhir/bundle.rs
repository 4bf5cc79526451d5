//! Streams a FHIR JSON document resource by resource: a Bundle's `entry` array is read one
//! element at a time (a `DeserializeSeed` over the array), so memory holds one entry, never the
//! Bundle. Any other resource at the top level is handed over whole (resources are small).
//!
//! Invariants: keys may come in any order (the Inferno search Bundle writes `resourceType` last),
//! so the top-level object is read without knowing its type until its end; entries are handed
//! over in file order as soon as each is parsed; a JSON syntax error anywhere rejects the file
//! with serde_json's line and column (what was handed over before it is not to be trusted).
use crate::feed::LoadError;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;
use std::io::BufRead;

/// Where a resource was found, for messages: `entry[3]` or the top level.
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    /// Position in the Bundle's `entry` array (0-based, as FHIRPath writes it); `None` at the top.
    pub entry: Option<usize>,
    pub full_url: Option<String>,
}

impl Found {
    /// `entry[3] ExplanationOfBenefit/abc` or `ExplanationOfBenefit/abc`.
    pub fn describe(&self, resource_type: &str, id: Option<&str>) -> String {
        let what = match id {
            Some(id) => format!("{resource_type}/{id}"),
            None => resource_type.to_string(),
        };
        match self.entry {
            Some(i) => format!("entry[{i}] {what}"),
            None => what,
        }
    }
}

/// What the top level of the document was.
#[derive(Debug, Default)]
pub(crate) struct Document {
    pub resource_type: Option<String>,
    /// `Bundle.type`: collection, transaction, batch, searchset, ...
    pub bundle_type: Option<String>,
    /// Elements of `entry` read (with or without a `resource`).
    pub entries: usize,
}

/// Reads one JSON document from `input`, calling `each` for every resource in file order.
pub(crate) fn for_each_resource(
    input: &mut dyn BufRead,
    each: &mut dyn FnMut(Found, Value),
) -> Result<Document, LoadError> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let mut entries = 0usize;
    let top = TopSeed { each: &mut *each, entries: &mut entries }.deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    let resource_type = top.get("resourceType").and_then(Value::as_str).map(str::to_string);
    let bundle_type = top.get("type").and_then(Value::as_str).map(str::to_string);
    if resource_type.as_deref() != Some("Bundle") {
        each(Found::default(), Value::Object(top));
    }
    Ok(Document { resource_type, bundle_type, entries })
}

/// serde_json's error as a file-level reject: `line 3, column 7` and what was wrong.
fn json_error(e: serde_json::Error) -> LoadError {
    if e.is_io() {
        return LoadError::Io(e.into());
    }
    let at = format!("line {}, column {}", e.line(), e.column());
    let text = e.to_string();
    // serde_json appends " at line L column C"; `at` already says it.
    let what = text.rsplit_once(" at line ").map_or(text.as_str(), |(head, _)| head);
    let reason = if e.is_eof() {
        format!("the JSON ends early: {what}")
    } else if e.is_syntax() {
        format!("not valid JSON: {what}")
    } else {
        format!("not a FHIR resource: {what}")
    };
    LoadError::rejected(at, reason)
}

/// The top-level object: `entry` is streamed, everything else is kept (small: id, type, meta).
struct TopSeed<'a> {
    each: &'a mut dyn FnMut(Found, Value),
    entries: &'a mut usize,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = Map<String, Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = Map<String, Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a FHIR resource or Bundle (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "entry" {
                map.next_value_seed(EntriesSeed { each: &mut *self.each, entries: &mut *self.entries })?;
            } else {
                let value: Value = map.next_value()?;
                kept.insert(key, value);
            }
        }
        Ok(kept)
    }
}

/// `Bundle.entry`: each element is parsed, handed over and dropped before the next is read.
struct EntriesSeed<'a> {
    each: &'a mut dyn FnMut(Found, Value),
    entries: &'a mut usize,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "fullUrl")]
    full_url: Option<String>,
    resource: Option<Value>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Bundle.entry as an array of entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Entry>()? {
            let index = *self.entries;
            *self.entries += 1;
            let found = Found { entry: Some(index), full_url: entry.full_url };
            // An entry without a resource (a deleted one in a history Bundle) is handed over as
            // Null so the caller can count it.
            (self.each)(found, entry.resource.unwrap_or(Value::Null));
        }
        Ok(())
    }
}
