//! The FHIR loader: walks the document (`bundle`), maps each Claim/EOB (`claim`), resolves
//! provider NPIs against the Bundle (`providers`), counts, rejects and emits.
//!
//! Invariants: lines are emitted in file order (a line waiting for its provider holds back the
//! lines after it, so the EOB line that upserts a Claim line still comes after it); memory holds
//! one entry, the Bundle's Practitioners/Organizations and at most `MAX_WAITING` lines.
use super::bundle::{for_each_resource, Found};
use super::claim::{header, item_line, ItemOutcome, Kind};
use super::providers::{Directory, Providers, Resolved, MAX_WAITING};
use super::resources::{ClaimResource, Contained};
use crate::feed::{Ctx, Item, LoadError, Out, Tally};
use schemas::ClaimLine;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::BufRead;

/// Reads a FHIR JSON file (a Bundle of any type, or one resource) and emits a claim line per
/// CPT/HCPCS-coded item of every Claim and ExplanationOfBenefit. See the module docs.
pub fn load(_ctx: &Ctx, input: &mut dyn BufRead, out: Out<'_>, tally: &mut Tally) -> Result<(), LoadError> {
    let mut state = State { out, tally, directory: Directory::default(), waiting: VecDeque::new(), claims: 0 };
    let doc = for_each_resource(input, &mut |found, resource| state.resource(found, resource))?;
    state.finish();
    if state.claims == 0 {
        let what = match (&doc.resource_type, &doc.bundle_type) {
            (Some(t), Some(bt)) if t == "Bundle" => format!("this {bt} Bundle of {} entries", doc.entries),
            (Some(t), _) => format!("this file (resourceType {t})"),
            (None, _) => "this file (no resourceType)".to_string(),
        };
        state.tally.warn("file", format!("{what} holds no Claim or ExplanationOfBenefit: nothing to load"));
    }
    Ok(())
}

struct State<'a, 't> {
    out: Out<'a>,
    tally: &'t mut Tally,
    directory: Directory,
    waiting: VecDeque<Waiting>,
    /// Claim and EOB resources read.
    claims: u64,
}

/// A line whose provider may still appear later in the Bundle.
struct Waiting {
    line: ClaimLine,
    providers: Providers,
    at: String,
}

impl State<'_, '_> {
    fn resource(&mut self, found: Found, resource: Value) {
        if resource.is_null() {
            self.tally.count("entries_without_resource", 1);
            return;
        }
        let Some(resource_type) = resource.get("resourceType").and_then(Value::as_str).map(str::to_string) else {
            self.tally.reject(found.describe("resource", None), "no resourceType: not a FHIR resource");
            return;
        };
        let id = resource.get("id").and_then(Value::as_str).map(str::to_string);
        let at = found.describe(&resource_type, id.as_deref());
        match resource_type.as_str() {
            "Claim" => self.claim(Kind::Claim, at, resource),
            "ExplanationOfBenefit" => self.claim(Kind::Eob, at, resource),
            other => {
                if matches!(other, "Practitioner" | "Organization") {
                    if let Ok(p) = serde_json::from_value::<Contained>(resource) {
                        self.directory.add(found.full_url.as_deref(), other, p.id.as_deref(), &p.identifier);
                    }
                }
                self.tally.count(&format!("skipped.{other}"), 1);
            }
        }
    }

    fn claim(&mut self, kind: Kind, at: String, resource: Value) {
        self.claims += 1;
        self.tally.count(if kind == Kind::Claim { "claims" } else { "eobs" }, 1);
        let r: ClaimResource = match serde_json::from_value(resource) {
            Ok(r) => r,
            Err(e) => return self.tally.reject(at, format!("not a readable {}: {e}", kind.resource_type())),
        };
        if r.item.is_empty() {
            let reason = format!("the {} has no items: no service line to check", kind.resource_type());
            return self.tally.reject(at, reason);
        }
        let h = match header(kind, &r) {
            Ok(h) => h,
            Err(reason) => return self.tally.reject(at, reason),
        };
        for (i, item) in r.item.iter().enumerate() {
            self.tally.count("service_lines", 1);
            self.tally.count("adjustments", item.adjudication.len() as u64);
            let at_item = match item.sequence {
                Some(s) => format!("{at}, item[{i}] (sequence {s})"),
                None => format!("{at}, item[{i}]"),
            };
            match item_line(&h, &r, item) {
                ItemOutcome::NoProcedureCode(label) => {
                    self.tally.count("lines_without_procedure_code", 1);
                    self.tally.count(&format!("lines_without_procedure_code.{label}"), 1);
                }
                ItemOutcome::Reject(reason) => self.tally.reject(at_item, reason),
                ItemOutcome::Line { line, providers, extra_modifiers } => {
                    if extra_modifiers > 0 {
                        self.tally.count("modifiers_beyond_first", extra_modifiers as u64);
                    }
                    self.push(Waiting { line: *line, providers, at: at_item });
                }
            }
        }
    }

    /// Emits the line now if nothing waits before it and its provider is settled; else queues it.
    fn push(&mut self, w: Waiting) {
        if self.waiting.is_empty() {
            match self.directory.resolve(&w.providers) {
                Resolved::Unknown { may_come_later: true } => {}
                _ => return self.release(w),
            }
        }
        self.waiting.push_back(w);
        if self.waiting.len() > MAX_WAITING {
            if let Some(oldest) = self.waiting.pop_front() {
                self.tally.count("providers_not_awaited", 1);
                self.release(oldest);
            }
        }
    }

    /// Emits a line with its NPI as known now, or the provider reference's text.
    fn release(&mut self, mut w: Waiting) {
        w.line.provider_npi = match self.directory.resolve(&w.providers) {
            Resolved::Npi(npi) => npi,
            Resolved::Unknown { .. } => w.providers.fallback,
        };
        let at = w.at;
        self.tally.emit(&mut *self.out, || at, Item::Claim(w.line));
    }

    fn finish(&mut self) {
        while let Some(w) = self.waiting.pop_front() {
            self.release(w);
        }
    }
}
