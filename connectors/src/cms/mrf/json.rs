//! A JSON MRF (v2.x or v3.0), streamed: `serde_json::Deserializer::from_reader` drives a
//! `DeserializeSeed` over the root object that keeps the small root fields (hospital_name,
//! last_updated_on, version, license_information, attestation, …) and hands each element of
//! `standard_charge_information` to the loader as soon as it is parsed, so only one item is in
//! memory at a time.
//!
//! Invariants: the hpt-validator's JSON schema checks (types, required properties, enumerations,
//! `exclusiveMinimum: 0`, the conditionals) are applied by hand, each finding located by its JSON
//! pointer (`/standard_charge_information/4/drug_information/unit`). A root-level finding rejects
//! the file (a `modifier_information` entry only itself); an item-level one the item's prices;
//! one inside `standard_charges/j` that standard charge's; one inside `payers_information/k` only
//! that payer's. Alerts go to warnings. When the array comes before hospital_name,
//! last_updated_on and version (JSON does not order keys), its items are spooled to a temporary
//! file, one per line, and loaded once the root is read.
use super::emit::{Emitter, Kind, Target};
use super::header::{choose_rules, mrf_date, Rules};
use super::json_schema::{check_header, check_item, check_modifier, objects, Check};
use super::validate::{self, json_number, SETTINGS};
use crate::feed::{Ctx, LoadError, Out, Tally};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt::{self, Write as _};
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::PathBuf;

/// Loads a JSON MRF.
pub(crate) fn load(ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut st = State {
        ctx,
        out,
        tally,
        header: Map::new(),
        sci_seen: false,
        items: 0,
        prepared: None,
        spool: None,
        fatal: None,
    };
    let mut de = serde_json::Deserializer::from_reader(Chunked { inner: input, buf: vec![0; 1 << 16], pos: 0, len: 0 });
    let res = RootSeed { st: &mut st }.deserialize(&mut de).and_then(|()| de.end());
    if let Some(fatal) = st.fatal.take() {
        return Err(fatal);
    }
    if let Err(e) = res {
        return Err(json_error(e));
    }
    st.finish()
}

fn json_error(e: serde_json::Error) -> LoadError {
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        serde_json::error::Category::Io => LoadError::Io(e.into()),
        serde_json::error::Category::Syntax => LoadError::rejected(at, format!("not valid JSON: {e}")),
        serde_json::error::Category::Eof => LoadError::rejected(at, format!("the JSON ends early: {e}")),
        serde_json::error::Category::Data => LoadError::rejected(at, format!("not a JSON MRF: {e}")),
    }
}

/// Reads the input through a local buffer so serde_json's byte-at-a-time reads are inlined
/// copies instead of a virtual call each.
struct Chunked<'a> {
    inner: &'a mut dyn BufRead,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
}

impl Read for Chunked<'_> {
    #[inline]
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.len {
            self.len = self.inner.read(&mut self.buf)?;
            self.pos = 0;
            if self.len == 0 {
                return Ok(0);
            }
        }
        let n = dst.len().min(self.len - self.pos);
        dst[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// What the root fields decided: the rules and the per-file part of every price.
struct Prepared {
    rules: Rules,
    em: Emitter,
}

struct State<'a, 'o> {
    ctx: &'a Ctx,
    out: Out<'o>,
    tally: &'a mut Tally,
    /// The root fields other than `standard_charge_information`.
    header: Map<String, Value>,
    sci_seen: bool,
    items: usize,
    prepared: Option<Prepared>,
    spool: Option<Spool>,
    /// Set when the file must be rejected while the parser is still running.
    fatal: Option<LoadError>,
}

impl State<'_, '_> {
    /// The array starts: load its items directly when the root fields needed are known.
    fn begin_items(&mut self) -> Result<(), LoadError> {
        if self.sci_seen {
            return Err(LoadError::rejected(
                "/standard_charge_information",
                "standard_charge_information appears twice",
            ));
        }
        self.sci_seen = true;
        if ["hospital_name", "last_updated_on", "version"].iter().all(|k| self.header.contains_key(*k)) {
            self.prepared = Some(self.prepare(true)?);
        } else {
            self.spool = Some(Spool::new()?);
        }
        Ok(())
    }

    fn item(&mut self, value: Value) -> Result<(), LoadError> {
        let i = self.items;
        self.items += 1;
        match (&mut self.prepared, &mut self.spool) {
            (Some(p), _) => item(p, i, &value, &mut *self.out, &mut *self.tally),
            (None, Some(spool)) => spool.push(&value)?,
            (None, None) => {}
        }
        Ok(())
    }

    /// Decides the rules and checks the root fields (`partial`: some may still come).
    fn prepare(&mut self, partial: bool) -> Result<Prepared, LoadError> {
        let h = &self.header;
        let v3 = ["attestation", "location_name", "type_2_npi"].iter().any(|k| h.contains_key(*k));
        let v2 = ["affirmation", "hospital_location"].iter().any(|k| h.contains_key(*k));
        let declared = h.get("version").and_then(Value::as_str);
        let (rules, alert) = choose_rules(declared, v3, v2).map_err(|m| {
            let missing: Vec<String> =
                ["hospital_name", "last_updated_on", "version", "hospital_address", "license_information"]
                    .iter()
                    .filter(|k| !h.contains_key(**k))
                    .map(|k| format!("'{k}'"))
                    .collect();
            if missing.is_empty() {
                LoadError::rejected("/version", m)
            } else {
                LoadError::rejected(
                    "/",
                    format!("root fields: must have required properties {}; {m}", missing.join(", ")),
                )
            }
        })?;
        let problems = check_header(h, rules, partial, self.sci_seen, self.items);
        if let Some((at, first)) = problems.first() {
            let mut reason = format!("root fields: {first}");
            for (a, m) in problems.iter().skip(1) {
                let _ = write!(reason, "; also {a}: {m}");
            }
            return Err(LoadError::rejected(at.as_str(), reason));
        }
        if let Some(alert) = alert {
            self.tally.warn("/version", alert);
        }
        let name = h.get("hospital_name").and_then(Value::as_str).unwrap_or("");
        let date =
            h.get("last_updated_on").and_then(Value::as_str).and_then(|d| mrf_date(d, false)).unwrap_or_default();
        Ok(Prepared { rules, em: Emitter::new(self.ctx, name, date) })
    }

    fn finish(mut self) -> Result<(), LoadError> {
        let p = match self.prepared.take() {
            Some(p) => {
                // Root fields after the array may still be wrong.
                let problems = check_header(&self.header, p.rules, false, self.sci_seen, self.items);
                if let Some((at, first)) = problems.first() {
                    let rest: Vec<String> = problems.iter().skip(1).map(|(a, m)| format!("{a}: {m}")).collect();
                    let reason =
                        if rest.is_empty() { first.clone() } else { format!("{first}; also {}", rest.join("; ")) };
                    return Err(LoadError::rejected(at.as_str(), format!("root fields: {reason}")));
                }
                p
            }
            None => {
                let mut p = self.prepare(false)?;
                if let Some(spool) = self.spool.take() {
                    spool.replay(|i, v| item(&mut p, i, &v, &mut *self.out, &mut *self.tally))?;
                }
                p
            }
        };
        for (statement, confirm) in [("affirmation", "confirm_affirmation"), ("attestation", "confirm_attestation")] {
            if self.header.get(statement).and_then(|s| s.get(confirm)) == Some(&Value::Bool(false)) {
                self.tally.warn(
                    format!("/{statement}/{confirm}"),
                    format!("the {statement} is false: a value of true is required to meet 45 CFR 180.50(a)(3)"),
                );
            }
        }
        // Each modifier_information entry is like a CSV modifier-only row: its errors reject it,
        // not the file (it has no price of its own).
        let mods = objects(self.header.get("modifier_information"));
        for (n, m) in mods.iter().enumerate() {
            let mut problems = Vec::new();
            check_modifier(p.rules, n, m, &mut problems);
            if let Some((at, first)) = problems.first() {
                let mut reason = first.clone();
                for (a, m) in problems.iter().skip(1) {
                    let _ = write!(reason, "; also {a}: {m}");
                }
                self.tally.reject(at.as_str(), reason);
            }
        }
        if !mods.is_empty() {
            self.tally.count("modifiers", mods.len() as u64);
        }
        if !p.em.any_payer_charge {
            self.tally.warn("/standard_charge_information", "File does not have any payer-specific charges.");
        }
        self.tally.count("items", self.items as u64);
        p.em.finish(self.tally);
        Ok(())
    }
}

/// The root object: root fields are kept, the items streamed.
struct RootSeed<'s, 'a, 'o> {
    st: &'s mut State<'a, 'o>,
}

impl<'de> DeserializeSeed<'de> for RootSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RootSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object with hospital_name, last_updated_on, version and standard_charge_information")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "standard_charge_information" {
                if let Err(e) = self.st.begin_items() {
                    self.st.fatal = Some(e);
                    return Err(de::Error::custom("rejected"));
                }
                map.next_value_seed(ItemsSeed { st: &mut *self.st })?;
            } else {
                let v: Value = map.next_value()?;
                self.st.header.insert(key, v);
            }
        }
        Ok(())
    }
}

struct ItemsSeed<'s, 'a, 'o> {
    st: &'s mut State<'a, 'o>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("standard_charge_information as an array of standard charge information objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            if let Err(e) = self.st.item(v) {
                self.st.fatal = Some(e);
                return Err(de::Error::custom("rejected"));
            }
        }
        Ok(())
    }
}

/// Items parked on disk until the root fields they need are read.
struct Spool {
    path: PathBuf,
    w: Option<BufWriter<std::fs::File>>,
}

impl Spool {
    fn new() -> io::Result<Spool> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!("billstream-mrf-{}-{nanos}-{}.jsonl", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        let f = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        Ok(Spool { path, w: Some(BufWriter::new(f)) })
    }
    fn push(&mut self, v: &Value) -> io::Result<()> {
        if let Some(w) = &mut self.w {
            serde_json::to_writer(&mut *w, v)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }
    fn replay(mut self, mut f: impl FnMut(usize, Value)) -> io::Result<()> {
        if let Some(mut w) = self.w.take() {
            w.flush()?;
        }
        let r = io::BufReader::new(std::fs::File::open(&self.path)?);
        for (i, line) in r.lines().enumerate() {
            f(i, serde_json::from_str(&line?)?);
        }
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.w = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Checks item `i` and emits the prices of its parts without errors.
fn item(p: &mut Prepared, i: usize, v: &Value, out: Out<'_>, tally: &mut Tally) {
    let mut c = Check::default();
    check_item(p.rules, i, v, &mut c);
    // Which parts the errors reject.
    let errors = || c.found.iter().filter(|f| !f.alert);
    let item_rejected = errors().any(|f| f.loc.j.is_none());
    let charge_rejected = |j: usize| item_rejected || errors().any(|f| f.loc.j == Some(j) && f.loc.k.is_none());
    let payer_rejected =
        |j: usize, k: usize| charge_rejected(j) || errors().any(|f| f.loc.j == Some(j) && f.loc.k == Some(k));
    for f in c.found.iter().filter(|f| f.alert) {
        tally.warn(f.loc.path(f.field), f.msg.clone());
    }
    // One reject per rejected part, with all its messages.
    let mut reported: Vec<(Option<usize>, Option<usize>)> = Vec::new();
    for f in errors() {
        let unit = if item_rejected {
            (None, None)
        } else if f.loc.j.is_some_and(charge_rejected) {
            (f.loc.j, None)
        } else {
            (f.loc.j, f.loc.k)
        };
        if reported.contains(&unit) {
            continue;
        }
        reported.push(unit);
        let mut reason = f.msg.clone();
        for g in errors().filter(|g| !std::ptr::eq(*g, f)) {
            let same = match unit {
                (None, None) => true,
                (j, None) => g.loc.j == j,
                (j, k) => g.loc.j == j && g.loc.k == k,
            };
            if same {
                let _ = write!(reason, "; also {}: {}", g.loc.path(g.field), g.msg);
            }
        }
        tally.reject(f.loc.path(f.field), reason);
    }
    if item_rejected {
        return;
    }
    let Some(o) = v.as_object() else { return };
    let codes: Vec<(&str, &str)> = objects(o.get("code_information"))
        .iter()
        .filter_map(|ci| {
            let code = ci.get("code")?.as_str()?;
            let ty = validate::code_type(p.rules, ci.get("type")?.as_str()?, true)?;
            Some((code, ty))
        })
        .collect();
    let mut label = String::new();
    for (j, sc) in objects(o.get("standard_charges")).iter().enumerate() {
        if charge_rejected(j) {
            continue;
        }
        let Some(sc) = sc.as_object() else { continue };
        let setting = sc.get("setting").and_then(Value::as_str).and_then(|s| validate::one_of(&SETTINGS, s, true));
        let modifier =
            objects(sc.get("modifier_code")).iter().filter_map(Value::as_str).map(str::trim).find(|m| !m.is_empty());
        let at = || format!("/standard_charge_information/{i}/standard_charges/{j}");
        let t = Target { codes: &codes, modifier, setting, payer: None };
        for (key, kind) in [
            ("gross_charge", Kind::Gross),
            ("discounted_cash", Kind::Cash),
            ("minimum", Kind::Min),
            ("maximum", Kind::Max),
        ] {
            if let Some(Ok(d)) = sc.get(key).and_then(Value::as_number).map(json_number) {
                p.em.emit(out, tally, &at, &t, kind, d);
            }
        }
        for (k, pi) in objects(sc.get("payers_information")).iter().enumerate() {
            if payer_rejected(j, k) {
                continue;
            }
            let Some(pi) = pi.as_object() else { continue };
            label.clear();
            label.push_str(pi.get("payer_name").and_then(Value::as_str).unwrap_or("").trim());
            label.push_str(" | ");
            label.push_str(pi.get("plan_name").and_then(Value::as_str).unwrap_or("").trim());
            let dollar = pi.get("standard_charge_dollar").and_then(Value::as_number).map(json_number);
            let pct_or_algo =
                pi.contains_key("standard_charge_percentage") || pi.contains_key("standard_charge_algorithm");
            if dollar.is_some() || pct_or_algo {
                p.em.payer_charge(&label);
            }
            if dollar.is_none() && pct_or_algo {
                p.em.without_dollar();
            }
            let t = Target { payer: Some(label.as_str()), ..t };
            if let Some(Ok(d)) = dollar {
                p.em.emit(out, tally, &at, &t, Kind::Negotiated, d);
            }
            if p.rules == Rules::V2 {
                if let Some(Ok(d)) = pi.get("estimated_amount").and_then(Value::as_number).map(json_number) {
                    p.em.emit(out, tally, &at, &t, Kind::Estimated, d);
                }
            }
        }
    }
}
