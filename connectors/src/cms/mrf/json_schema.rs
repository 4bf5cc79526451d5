//! The JSON schema of CMS's hpt-validator, applied by hand to a JSON MRF's parts: the root fields,
//! one `standard_charge_information` item (with its standard charges and payers), one
//! `modifier_information` entry. Findings carry the JSON pointer of the value and ajv's wording
//! (the validator's schema engine), e.g. `must have required property 'count'`.
//!
//! Invariants: v2.x files are checked against the v2.2 schema, v3 files against v3.0 (string
//! elements get `minLength: 1`, `drug_information.unit` becomes a number, `count` and the allowed
//! amounts replace `estimated_amount`); enumerations are exact (JSON schema `enum`); numbers must be
//! > 0 (`exclusiveMinimum: 0`); alerts are findings flagged `alert`, never errors.
use super::header::{mrf_date, Rules, AFFIRMATION, ATTESTATION};
use super::validate::{self, json_number, DRUG_UNITS, METHODOLOGIES, NINE_NINES, SETTINGS};
use serde_json::{Map, Value};
use std::fmt::Write as _;

pub(super) fn objects(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// Where a finding is: item `i`, its standard charge `j`, that charge's payer `k`, and a nested
/// object (`code_information/0`, `drug_information`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Loc {
    pub(super) i: usize,
    pub(super) j: Option<usize>,
    pub(super) k: Option<usize>,
    pub(super) sub: Option<(&'static str, Option<usize>)>,
}

impl Loc {
    pub(super) fn path(&self, field: &str) -> String {
        let mut s = format!("/standard_charge_information/{}", self.i);
        if let Some(j) = self.j {
            let _ = write!(s, "/standard_charges/{j}");
        }
        if let Some(k) = self.k {
            let _ = write!(s, "/payers_information/{k}");
        }
        if let Some((name, n)) = self.sub {
            s.push('/');
            s.push_str(name);
            if let Some(n) = n {
                let _ = write!(s, "/{n}");
            }
        }
        if !field.is_empty() {
            s.push('/');
            s.push_str(field);
        }
        s
    }
}

pub(super) struct Finding {
    pub(super) loc: Loc,
    pub(super) field: &'static str,
    pub(super) msg: String,
    pub(super) alert: bool,
}

/// Collects findings with the messages of ajv (the validator's JSON schema engine).
#[derive(Default)]
pub(super) struct Check {
    pub(super) found: Vec<Finding>,
}

impl Check {
    fn err(&mut self, loc: Loc, field: &'static str, msg: impl Into<String>) {
        self.found.push(Finding { loc, field, msg: msg.into(), alert: false });
    }
    fn alert(&mut self, loc: Loc, field: &'static str, msg: impl Into<String>) {
        self.found.push(Finding { loc, field, msg: msg.into(), alert: true });
    }
    fn required(&mut self, loc: Loc, key: &'static str) {
        self.err(loc, "", format!("must have required property '{key}'"));
    }
    fn string<'v>(
        &mut self,
        o: &'v Map<String, Value>,
        loc: Loc,
        key: &'static str,
        required: bool,
        min1: bool,
    ) -> Option<&'v str> {
        match o.get(key) {
            None => {
                if required {
                    self.required(loc, key);
                }
                None
            }
            Some(Value::String(s)) => {
                if min1 && s.is_empty() {
                    self.err(loc, key, "must NOT have fewer than 1 characters");
                }
                Some(s.as_str())
            }
            Some(_) => {
                self.err(loc, key, "must be string");
                None
            }
        }
    }
    fn number(
        &mut self,
        o: &Map<String, Value>,
        loc: Loc,
        key: &'static str,
        required: bool,
    ) -> Option<rust_decimal::Decimal> {
        match o.get(key) {
            None => {
                if required {
                    self.required(loc, key);
                }
                None
            }
            Some(Value::Number(n)) => match json_number(n) {
                Ok(d) if d > rust_decimal::Decimal::ZERO => Some(d),
                Ok(_) => {
                    self.err(loc, key, "must be > 0");
                    None
                }
                Err(m) => {
                    self.err(loc, key, m);
                    None
                }
            },
            Some(_) => {
                self.err(loc, key, "must be number");
                None
            }
        }
    }
    fn one_of(
        &mut self,
        o: &Map<String, Value>,
        loc: Loc,
        key: &'static str,
        allowed: &[&'static str],
    ) -> Option<&'static str> {
        let s = self.string(o, loc, key, true, false)?;
        let v = validate::one_of(allowed, s, true);
        if v.is_none() {
            self.err(loc, key, format!("must be equal to one of the allowed values ({}): {s:?}", allowed.join(", ")));
        }
        v
    }
    /// An array of strings with at least one item.
    fn strings(&mut self, o: &Map<String, Value>, loc: Loc, key: &'static str, min1: bool) {
        match o.get(key) {
            None => {}
            Some(Value::Array(a)) => {
                if a.is_empty() {
                    self.err(loc, key, "must NOT have fewer than 1 items");
                }
                for v in a {
                    match v {
                        Value::String(s) if min1 && s.is_empty() => {
                            self.err(loc, key, "items must NOT have fewer than 1 characters")
                        }
                        Value::String(_) => {}
                        _ => self.err(loc, key, "items must be string"),
                    }
                }
            }
            Some(_) => self.err(loc, key, "must be array"),
        }
    }
}

pub(super) fn check_item(rules: Rules, i: usize, v: &Value, c: &mut Check) {
    let loc = Loc { i, j: None, k: None, sub: None };
    let Some(o) = v.as_object() else {
        c.err(loc, "", "must be object");
        return;
    };
    c.string(o, loc, "description", true, true);
    let mut has_ndc = false;
    match o.get("code_information") {
        None => c.required(loc, "code_information"),
        Some(Value::Array(a)) => {
            if a.is_empty() {
                c.err(loc, "code_information", "must NOT have fewer than 1 items");
            }
            for (n, ci) in a.iter().enumerate() {
                let l = Loc { sub: Some(("code_information", Some(n))), ..loc };
                let Some(ci) = ci.as_object() else {
                    c.err(l, "", "must be object");
                    continue;
                };
                c.string(ci, l, "code", true, true);
                match ci.get("type") {
                    None => c.required(l, "type"),
                    Some(Value::String(t)) => {
                        has_ndc |= t == "NDC";
                        if validate::code_type(rules, t, true).is_none() {
                            c.err(
                                l,
                                "type",
                                format!(
                                    "must be equal to one of the allowed values ({}): {t:?}",
                                    validate::code_types_list(rules)
                                ),
                            );
                        }
                    }
                    Some(_) => c.err(l, "type", "must be string"),
                }
            }
        }
        Some(_) => c.err(loc, "code_information", "must be array"),
    }
    match o.get("drug_information") {
        None if has_ndc => c.err(
            loc,
            "",
            "must have required property 'drug_information' (a code of type NDC needs the drug unit and type)",
        ),
        None => {}
        Some(Value::Object(d)) => {
            let l = Loc { sub: Some(("drug_information", None)), ..loc };
            match rules {
                Rules::V2 => {
                    c.string(d, l, "unit", true, true);
                }
                Rules::V3 => {
                    c.number(d, l, "unit", true);
                }
            }
            c.one_of(d, l, "type", &DRUG_UNITS);
        }
        Some(_) => c.err(loc, "drug_information", "must be object"),
    }
    match o.get("standard_charges") {
        None => c.required(loc, "standard_charges"),
        Some(Value::Array(a)) => {
            if a.is_empty() {
                c.err(loc, "standard_charges", "must NOT have fewer than 1 items");
            }
            for (j, sc) in a.iter().enumerate() {
                check_charge(rules, Loc { j: Some(j), ..loc }, sc, c);
            }
        }
        Some(_) => c.err(loc, "standard_charges", "must be array"),
    }
}

fn check_charge(rules: Rules, loc: Loc, v: &Value, c: &mut Check) {
    let Some(o) = v.as_object() else {
        c.err(loc, "", "must be object");
        return;
    };
    c.one_of(o, loc, "setting", &SETTINGS);
    for key in ["minimum", "maximum", "gross_charge", "discounted_cash"] {
        c.number(o, loc, key, false);
    }
    c.string(o, loc, "additional_generic_notes", false, rules == Rules::V3);
    if rules == Rules::V3 {
        c.strings(o, loc, "modifier_code", true);
    }
    let payers = match o.get("payers_information") {
        None => None,
        Some(Value::Array(a)) => {
            if a.is_empty() {
                c.err(loc, "payers_information", "must NOT have fewer than 1 items");
            }
            Some(a.as_slice())
        }
        Some(_) => {
            c.err(loc, "payers_information", "must be array");
            None
        }
    };
    let mut any_dollar = false;
    let mut every_payer_has_charge = true;
    for (k, pv) in payers.unwrap_or(&[]).iter().enumerate() {
        let (charge, dollar) = check_payer(rules, Loc { k: Some(k), ..loc }, pv, c);
        every_payer_has_charge &= charge;
        any_dollar |= dollar;
    }
    let payer_branch = payers.is_some_and(|p| !p.is_empty()) && every_payer_has_charge;
    if !(o.contains_key("gross_charge") || o.contains_key("discounted_cash") || payer_branch) {
        c.err(
            loc,
            "",
            "must match a schema in anyOf: a standard charge needs gross_charge, discounted_cash, or payers_information \
             whose every entry has a standard_charge_dollar, _percentage or _algorithm",
        );
    }
    if any_dollar {
        for key in ["minimum", "maximum"] {
            if !o.contains_key(key) {
                c.err(loc, "", format!("must have required property '{key}' (a payer-specific dollar amount needs the de-identified minimum and maximum)"));
            }
        }
    }
}

/// Checks one payers_information entry; returns whether it has a payer-specific charge and a dollar one.
fn check_payer(rules: Rules, loc: Loc, v: &Value, c: &mut Check) -> (bool, bool) {
    let Some(o) = v.as_object() else {
        c.err(loc, "", "must be object");
        return (false, false);
    };
    c.string(o, loc, "payer_name", true, true);
    c.string(o, loc, "plan_name", true, true);
    let methodology = c.one_of(o, loc, "methodology", &METHODOLOGIES);
    let v3 = rules == Rules::V3;
    c.string(o, loc, "additional_payer_notes", false, v3);
    c.number(o, loc, "standard_charge_dollar", false);
    c.number(o, loc, "standard_charge_percentage", false);
    c.string(o, loc, "standard_charge_algorithm", false, v3);
    let has = |k: &str| o.contains_key(k);
    let dollar = has("standard_charge_dollar");
    let pct_or_algo = has("standard_charge_percentage") || has("standard_charge_algorithm");
    let notes = has("additional_payer_notes");
    if methodology == Some("other") && !notes {
        c.err(
            loc,
            "",
            "must have required property 'additional_payer_notes' (the methodology \"other\" needs an explanation)",
        );
    }
    match rules {
        Rules::V2 => {
            let estimated = c.number(o, loc, "estimated_amount", false);
            if estimated == Some(NINE_NINES) {
                c.alert(loc, "estimated_amount", "Nine 9s used for estimated amount.");
            }
            if pct_or_algo && !dollar && !has("estimated_amount") {
                c.err(
                    loc,
                    "",
                    "must have required property 'estimated_amount' (a charge given only as a percentage or algorithm needs the estimated allowed amount)",
                );
            }
        }
        Rules::V3 => {
            for (key, what) in [
                ("median_amount", "median amount"),
                ("10th_percentile", "10th percentile"),
                ("90th_percentile", "90th percentile"),
            ] {
                if c.number(o, loc, key, false) == Some(NINE_NINES) {
                    c.alert(loc, key, format!("Nine 9s used for {what}."));
                }
            }
            let count = match o.get("count") {
                None => None,
                Some(Value::String(s)) => {
                    if !validate::count_ok(s, true) {
                        c.err(
                            loc,
                            "count",
                            format!("must match pattern \"^(0|1 through 10|1[1-9]|[2-9]\\d+|[1-9]\\d{{2,}})$\": {s:?}"),
                        );
                    } else if validate::is_nine_nines(s) {
                        c.alert(loc, "count", "Nine 9s used for count.");
                    }
                    Some(s.as_str())
                }
                Some(_) => {
                    c.err(loc, "count", "must be string");
                    Some("")
                }
            };
            if has("estimated_amount") {
                c.alert(loc, "estimated_amount", "Estimated amount present in payers information object.");
            }
            if !dollar && !pct_or_algo {
                c.err(loc, "", "must match a schema in anyOf: needs standard_charge_dollar, standard_charge_percentage or standard_charge_algorithm");
            }
            if pct_or_algo && count.is_none() {
                c.err(loc, "", "must have required property 'count' (a percentage or algorithm needs the count of allowed amounts)");
            }
            if pct_or_algo && count != Some("0") {
                for key in ["median_amount", "10th_percentile", "90th_percentile"] {
                    if !has(key) {
                        c.err(
                            loc,
                            "",
                            format!("must have required property '{key}' (a percentage or algorithm with a count of allowed amounts other than 0)"),
                        );
                    }
                }
            }
            if count == Some("0") && !notes {
                c.err(loc, "", "must have required property 'additional_payer_notes' (a count of allowed amounts of 0 needs an explanation)");
            }
        }
    }
    (dollar || pct_or_algo, dollar)
}

/// The schema's checks of the root fields. `partial`: fields not read yet are not missing.
pub(super) fn check_header(
    h: &Map<String, Value>,
    rules: Rules,
    partial: bool,
    sci_seen: bool,
    items: usize,
) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = Vec::new();
    let mut required: Vec<&str> =
        vec!["hospital_name", "last_updated_on", "version", "hospital_address", "license_information"];
    required.extend(match rules {
        Rules::V2 => &["hospital_location", "affirmation"][..],
        Rules::V3 => &["location_name", "type_2_npi", "attestation"][..],
    });
    if !partial {
        for key in &required {
            if !h.contains_key(*key) {
                p.push(("/".into(), format!("must have required property '{key}'")));
            }
        }
        if !sci_seen {
            p.push(("/".into(), "must have required property 'standard_charge_information'".into()));
        } else if items == 0 {
            p.push(("/standard_charge_information".into(), "must NOT have fewer than 1 items".into()));
        }
    }
    let v3 = rules == Rules::V3;
    for key in ["hospital_name", "version"] {
        match h.get(key) {
            None => {}
            Some(Value::String(s)) if s.trim().is_empty() => {
                p.push((format!("/{key}"), "must NOT have fewer than 1 characters".into()))
            }
            Some(Value::String(_)) => {}
            Some(_) => p.push((format!("/{key}"), "must be string".into())),
        }
    }
    match h.get("last_updated_on") {
        None => {}
        Some(Value::String(s)) if mrf_date(s, false).is_some() => {}
        Some(Value::String(s)) => {
            p.push(("/last_updated_on".into(), format!("must match format \"date\" (YYYY-MM-DD): {s:?}")))
        }
        Some(_) => p.push(("/last_updated_on".into(), "must be string".into())),
    }
    let arrays: &[&str] = match rules {
        Rules::V2 => &["hospital_address", "hospital_location"],
        Rules::V3 => &["hospital_address", "location_name", "type_2_npi"],
    };
    for key in arrays {
        match h.get(*key) {
            None => {}
            Some(Value::Array(a)) => {
                if a.is_empty() {
                    p.push((format!("/{key}"), "must NOT have fewer than 1 items".into()));
                }
                for (n, v) in a.iter().enumerate() {
                    match v {
                        Value::String(s) if v3 && s.is_empty() => {
                            p.push((format!("/{key}/{n}"), "must NOT have fewer than 1 characters".into()))
                        }
                        Value::String(_) => {}
                        _ => p.push((format!("/{key}/{n}"), "must be string".into())),
                    }
                }
            }
            Some(_) => p.push((format!("/{key}"), "must be array".into())),
        }
    }
    match h.get("license_information") {
        None => {}
        Some(Value::Object(l)) => {
            match l.get("state") {
                None => p.push(("/license_information".into(), "must have required property 'state'".into())),
                Some(Value::String(s)) if validate::is_state(s) && s.len() == 2 && s.to_uppercase() == *s => {}
                Some(s) => p.push((
                    "/license_information/state".into(),
                    format!("must be equal to one of the allowed values (a two-letter state code): {s}"),
                )),
            }
            match l.get("license_number") {
                None => {}
                Some(Value::String(s)) if !s.is_empty() => {}
                Some(Value::String(_)) => p.push((
                    "/license_information/license_number".into(),
                    "must NOT have fewer than 1 characters".into(),
                )),
                Some(_) => p.push(("/license_information/license_number".into(), "must be string".into())),
            }
        }
        Some(_) => p.push(("/license_information".into(), "must be object".into())),
    }
    let (statement_key, text_key, confirm_key, text) = match rules {
        Rules::V2 => ("affirmation", "affirmation", "confirm_affirmation", AFFIRMATION),
        Rules::V3 => ("attestation", "attestation", "confirm_attestation", ATTESTATION),
    };
    match h.get(statement_key) {
        None => {}
        Some(Value::Object(s)) => {
            match s.get(text_key) {
                None => p.push((format!("/{statement_key}"), format!("must have required property '{text_key}'"))),
                Some(Value::String(t)) if t == text => {}
                Some(_) => p.push((
                    format!("/{statement_key}/{text_key}"),
                    format!("must be equal to constant (the CMS {statement_key} statement)"),
                )),
            }
            match s.get(confirm_key) {
                None => p.push((format!("/{statement_key}"), format!("must have required property '{confirm_key}'"))),
                Some(Value::Bool(_)) => {}
                Some(_) => p.push((format!("/{statement_key}/{confirm_key}"), "must be boolean".into())),
            }
            if v3 {
                match s.get("attester_name") {
                    None => p.push(("/attestation".into(), "must have required property 'attester_name'".into())),
                    Some(Value::String(n)) if !n.is_empty() => {}
                    Some(Value::String(_)) => {
                        p.push(("/attestation/attester_name".into(), "must NOT have fewer than 1 characters".into()))
                    }
                    Some(_) => p.push(("/attestation/attester_name".into(), "must be string".into())),
                }
            }
        }
        Some(_) => p.push((format!("/{statement_key}"), "must be object".into())),
    }
    match h.get("modifier_information") {
        Some(Value::Array(mods)) if v3 && mods.is_empty() => {
            p.push(("/modifier_information".into(), "must NOT have fewer than 1 items".into()))
        }
        None | Some(Value::Array(_)) => {}
        Some(_) => p.push(("/modifier_information".into(), "must be array".into())),
    }
    p
}

pub(super) fn check_modifier(rules: Rules, n: usize, m: &Value, p: &mut Vec<(String, String)>) {
    let base = format!("/modifier_information/{n}");
    let Some(m) = m.as_object() else {
        p.push((base, "must be object".into()));
        return;
    };
    fn string(p: &mut Vec<(String, String)>, o: &Map<String, Value>, at: &str, key: &str) {
        match o.get(key) {
            None => p.push((at.to_string(), format!("must have required property '{key}'"))),
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(Value::String(_)) => p.push((format!("{at}/{key}"), "must NOT have fewer than 1 characters".into())),
            Some(_) => p.push((format!("{at}/{key}"), "must be string".into())),
        }
    }
    string(p, m, &base, "description");
    string(p, m, &base, "code");
    match m.get("modifier_payer_information") {
        None => p.push((base.clone(), "must have required property 'modifier_payer_information'".into())),
        Some(Value::Array(a)) => {
            if a.is_empty() {
                p.push((format!("{base}/modifier_payer_information"), "must NOT have fewer than 1 items".into()));
            }
            for (k, mp) in a.iter().enumerate() {
                let at = format!("{base}/modifier_payer_information/{k}");
                match mp.as_object() {
                    Some(o) => {
                        for key in ["payer_name", "plan_name", "description"] {
                            string(p, o, &at, key);
                        }
                    }
                    None => p.push((at, "must be object".into())),
                }
            }
        }
        Some(_) => p.push((format!("{base}/modifier_payer_information"), "must be array".into())),
    }
    if rules == Rules::V3 {
        match m.get("setting") {
            None => {}
            Some(Value::String(s)) if validate::one_of(&SETTINGS, s, true).is_some() => {}
            Some(s) => p.push((
                format!("{base}/setting"),
                format!("must be equal to one of the allowed values (inpatient, outpatient, both): {s}"),
            )),
        }
    }
}
