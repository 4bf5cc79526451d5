//! Data rows (row 4 on) of a CMS CSV MRF, tall or wide: the hpt-validator's row checks, then one
//! `RefPrice` per amount and per code of each valid row.
//!
//! Invariants: a row with any error loads nothing and is one reject (located at the first error's
//! row and column, with every message); alerts only warn. Values are trimmed; a short row reads its
//! missing fields as blank (the validator does the same), with one warning per file. In the tall layout an
//! item's gross, cash, min and max repeat on each of its payer rows: they are emitted once for a run
//! of consecutive rows of the same item with the same amounts.
use super::csv_columns::{Columns, Group};
use super::emit::{Emitter, Kind, Target};
use super::header::Rules;
use super::validate::{self, Problems, DRUG_UNITS, METHODOLOGIES, SETTINGS};
use crate::feed::{Out, Tally};
use csv::StringRecord;

pub(crate) struct Rows<'c> {
    cols: &'c Columns,
    rules: Rules,
    pub(crate) em: Emitter,
    problems: Problems,
    /// The last emitted tall item's description, codes, setting, modifiers, drug and amounts.
    prev_item: String,
    item: String,
    label: String,
    modifier_rows: u64,
    short_rows: u64,
}

/// A row's trimmed value of column `c` ("" when the column or the field is absent).
fn get(rec: &StringRecord, c: Option<usize>) -> &str {
    c.and_then(|i| rec.get(i)).map(str::trim).unwrap_or("")
}

impl<'c> Rows<'c> {
    pub(crate) fn new(cols: &'c Columns, rules: Rules, em: Emitter) -> Self {
        Rows {
            cols,
            rules,
            em,
            problems: Problems::default(),
            prev_item: String::new(),
            item: String::new(),
            label: String::new(),
            modifier_rows: 0,
            short_rows: 0,
        }
    }

    fn at(&self, line: u64, c: Option<usize>) -> String {
        match c {
            Some(_) => format!("row {line}, column {:?}", self.cols.name(c)),
            None => format!("row {line}"),
        }
    }

    fn problem(&mut self, line: u64, c: Option<usize>, message: String) {
        let at = self.at(line, c);
        self.problems.push(at, message);
    }

    fn optional_number(&mut self, rec: &StringRecord, line: u64, c: Option<usize>) {
        let v = get(rec, c);
        if !v.is_empty() {
            if let Err(m) = validate::positive_number(v) {
                self.problem(line, c, m);
            }
        }
    }

    fn required(&mut self, rec: &StringRecord, line: u64, c: Option<usize>, why: &str) {
        if get(rec, c).is_empty() {
            let m = format!("a value is required{why}");
            self.problem(line, c, m);
        }
    }

    /// Checks and loads one data row (`line` is the file line it starts on).
    pub(crate) fn row(&mut self, rec: &StringRecord, line: u64, out: Out<'_>, tally: &mut Tally) {
        let cols = self.cols;
        tally.count("items", 1);
        if rec.len() < cols.names.len() {
            if self.short_rows == 0 {
                tally.warn(
                    format!("row {line}"),
                    format!(
                        "the row has {} fields, the column headers {}: the missing ones read as blank \
                         (further short rows are only counted, in \"short_rows\")",
                        rec.len(),
                        cols.names.len()
                    ),
                );
            }
            self.short_rows += 1;
        }
        self.problems.clear();
        self.check(rec, line, tally);
        if !self.problems.is_empty() {
            let (at, reason) = self.problems.reject_reason();
            tally.reject(at, reason);
            return;
        }
        self.load(rec, line, out, tally);
    }

    fn check(&mut self, rec: &StringRecord, line: u64, tally: &mut Tally) {
        let cols = self.cols;
        let rules = self.rules;
        self.required(rec, line, cols.description, "");
        // Code and code type come in pairs; the type must be a valid value.
        let mut has_code_info = false;
        let mut has_ndc = false;
        for &(code_col, type_col) in &cols.codes {
            let (code, ty) = (get(rec, code_col), get(rec, type_col));
            has_code_info |= !code.is_empty() || !ty.is_empty();
            if !ty.is_empty() && code.is_empty() {
                let m = format!(" when {} has one", cols.name(type_col));
                self.required(rec, line, code_col, &m);
            }
            if !code.is_empty() {
                if ty.is_empty() {
                    let m = format!(" when {} has one", cols.name(code_col));
                    self.required(rec, line, type_col, &m);
                } else if validate::code_type(rules, ty, false).is_none() {
                    let m = format!("{ty:?} is not a valid code type ({})", validate::code_types_list(rules));
                    self.problem(line, type_col, m);
                }
            }
            has_ndc |= ty.eq_ignore_ascii_case("NDC");
        }
        for c in [cols.gross, cols.cash, cols.min, cols.max] {
            self.optional_number(rec, line, c);
        }
        for g in &cols.groups {
            self.check_group_values(rec, line, g, tally);
        }
        // Drug unit and type come together; an NDC needs both.
        let (unit, ty) = (get(rec, cols.drug_unit), get(rec, cols.drug_type));
        if !unit.is_empty() || !ty.is_empty() {
            if unit.is_empty() {
                self.required(rec, line, cols.drug_unit, " when drug_type_of_measurement is present");
            } else {
                self.optional_number(rec, line, cols.drug_unit);
            }
            if ty.is_empty() {
                self.required(rec, line, cols.drug_type, " when drug_unit_of_measurement is present");
            } else if validate::one_of(&DRUG_UNITS, ty, false).is_none() {
                let m = format!("{ty:?} is not a valid drug type of measurement ({})", DRUG_UNITS.join(", "));
                self.problem(line, cols.drug_type, m);
            }
        } else if has_ndc {
            self.required(rec, line, cols.drug_unit, " when a code type is NDC");
        }
        if has_code_info {
            self.check_item(rec, line);
        } else if !get(rec, cols.modifiers).is_empty() {
            // A modifier-only row: a description and some information about the modifier.
            let any = cols.groups.iter().any(|g| {
                [g.dollar, g.percentage, g.algorithm, if cols.tall { None } else { g.notes }]
                    .iter()
                    .any(|c| !get(rec, *c).is_empty())
            }) || !get(rec, cols.generic_notes).is_empty();
            if !any {
                self.problem(
                    line,
                    cols.generic_notes,
                    "a modifier row without an item needs additional notes or a payer-specific negotiated charge"
                        .into(),
                );
            }
        } else {
            self.problem(
                line,
                None,
                "no code: a row needs a code and code type (code|1, code|1|type) unless it only lists a modifier"
                    .into(),
            );
            self.check_item(rec, line);
        }
    }

    /// Value checks of one payer group, and its alerts.
    fn check_group_values(&mut self, rec: &StringRecord, line: u64, g: &Group, tally: &mut Tally) {
        let rules = self.rules;
        for c in [g.dollar, g.percentage, g.estimated, g.median, g.p10, g.p90] {
            self.optional_number(rec, line, c);
        }
        let m = get(rec, g.methodology);
        if !m.is_empty() && validate::one_of(&METHODOLOGIES, m, false).is_none() {
            let msg = format!("{m:?} is not a valid methodology ({})", METHODOLOGIES.join(", "));
            self.problem(line, g.methodology, msg);
        }
        let count = get(rec, g.count);
        if !count.is_empty() && !validate::count_ok(count, false) {
            let msg = format!(
                "{count:?} is not a valid count of allowed amounts (0, 1 through 10, or a whole number from 11)"
            );
            self.problem(line, g.count, msg);
        }
        // Nine 9s alerts: the estimated amount (v2.2), the allowed amounts and count (v3.0).
        let nines: &[(Option<usize>, &str)] = match rules {
            Rules::V2 => &[(g.estimated, "estimated amount")],
            Rules::V3 => &[
                (g.count, "count"),
                (g.median, "median amount"),
                (g.p10, "10th percentile"),
                (g.p90, "90th percentile"),
            ],
        };
        for &(c, what) in nines {
            if validate::is_nine_nines(get(rec, c)) {
                tally.warn(self.at(line, c), format!("Nine 9s used for {what}."));
            }
        }
    }

    /// The conditional checks of a row that has an item (not only a modifier).
    fn check_item(&mut self, rec: &StringRecord, line: u64) {
        let cols = self.cols;
        let rules = self.rules;
        let setting = get(rec, cols.setting);
        if setting.is_empty() {
            self.required(rec, line, cols.setting, "");
        } else if validate::one_of(&SETTINGS, setting, false).is_none() {
            self.problem(
                line,
                cols.setting,
                format!("{setting:?} is not a valid setting (inpatient, outpatient, both)"),
            );
        }
        const WHEN: &str =
            " when a payer-specific negotiated charge is encoded as a dollar amount, percentage, or algorithm";
        let mut any_charge = !get(rec, cols.gross).is_empty() || !get(rec, cols.cash).is_empty();
        let mut any_dollar = false;
        for g in &cols.groups {
            let dollar = !get(rec, g.dollar).is_empty();
            let pct_or_algo = !get(rec, g.percentage).is_empty() || !get(rec, g.algorithm).is_empty();
            let charge = dollar || pct_or_algo;
            any_charge |= charge;
            any_dollar |= dollar;
            if charge {
                if cols.tall {
                    self.required(rec, line, cols.payer_name, WHEN);
                    self.required(rec, line, cols.plan_name, WHEN);
                }
                self.required(rec, line, g.methodology, WHEN);
            }
            let notes = !get(rec, g.notes).is_empty();
            if get(rec, g.methodology).eq_ignore_ascii_case("other") && !notes {
                self.problem(line, g.notes, "the methodology \"other\" needs an explanation in the notes".into());
            }
            let count = get(rec, g.count);
            match rules {
                Rules::V2 => {
                    if !dollar && pct_or_algo && get(rec, g.estimated).is_empty() {
                        self.required(
                            rec,
                            line,
                            g.estimated,
                            " when a negotiated charge is only a percentage or algorithm",
                        );
                    }
                }
                Rules::V3 => {
                    if pct_or_algo && count.is_empty() {
                        self.required(rec, line, g.count, " when a negotiated charge is a percentage or algorithm");
                    }
                    if pct_or_algo && count != "0" {
                        for c in [g.median, g.p10, g.p90] {
                            self.required(
                                rec,
                                line,
                                c,
                                " when a negotiated charge is a percentage or algorithm and the count of allowed amounts is not 0",
                            );
                        }
                    }
                    if count == "0" && !notes {
                        self.problem(
                            line,
                            g.notes,
                            "a count of allowed amounts of 0 needs an explanation in the notes".into(),
                        );
                    }
                    if cols.tall
                        && !charge
                        && !get(rec, cols.payer_name).is_empty()
                        && !get(rec, cols.plan_name).is_empty()
                    {
                        self.problem(
                            line,
                            cols.payer_name,
                            "a payer and plan need a payer-specific negotiated charge (dollar, percentage or algorithm)".into(),
                        );
                    }
                }
            }
        }
        if !any_charge {
            self.problem(
                line,
                cols.gross,
                "an item needs a gross charge, a discounted cash price or a payer-specific negotiated charge".into(),
            );
        }
        if any_dollar {
            for c in [cols.min, cols.max] {
                self.required(rec, line, c, " when a payer-specific negotiated charge is a dollar amount");
            }
        }
    }

    /// Emits the prices of a valid row.
    fn load(&mut self, rec: &StringRecord, line: u64, out: Out<'_>, tally: &mut Tally) {
        let cols = self.cols;
        let mut codes: Vec<(&str, &str)> = Vec::with_capacity(cols.codes.len());
        for &(code_col, type_col) in &cols.codes {
            let code = get(rec, code_col);
            if let Some(t) = validate::code_type(self.rules, get(rec, type_col), false) {
                if !code.is_empty() {
                    codes.push((code, t));
                }
            }
        }
        let modifiers = get(rec, cols.modifiers);
        if codes.is_empty() {
            // A modifier-only row: it says how a modifier changes other items' charges.
            self.modifier_rows += 1;
            return;
        }
        let modifier = modifiers.split('|').map(str::trim).find(|m| !m.is_empty());
        let setting = validate::one_of(&SETTINGS, get(rec, cols.setting), false);
        let at = || format!("row {line}");
        let t = Target { codes: &codes, modifier, setting, payer: None };

        // Item-level amounts, once per run of identical tall rows.
        let item_amounts =
            [(Kind::Gross, cols.gross), (Kind::Cash, cols.cash), (Kind::Min, cols.min), (Kind::Max, cols.max)];
        let repeat = cols.tall && {
            self.item.clear();
            for c in [cols.description, cols.setting, cols.modifiers, cols.drug_unit, cols.drug_type] {
                self.item.push_str(get(rec, c));
                self.item.push('\u{1f}');
            }
            for (code, ty) in &codes {
                self.item.push_str(code);
                self.item.push_str(ty);
                self.item.push('\u{1f}');
            }
            for (_, c) in item_amounts {
                self.item.push_str(get(rec, c));
                self.item.push('\u{1f}');
            }
            let same = self.item == self.prev_item;
            std::mem::swap(&mut self.item, &mut self.prev_item);
            same
        };
        if !repeat {
            for (kind, c) in item_amounts {
                if let Ok(amount) = validate::positive_number(get(rec, c)) {
                    self.em.emit(out, tally, &at, &t, kind, amount);
                }
            }
        }

        for g in &cols.groups {
            let dollar = get(rec, g.dollar);
            let pct_or_algo = !get(rec, g.percentage).is_empty() || !get(rec, g.algorithm).is_empty();
            let estimated = if self.rules == Rules::V2 { get(rec, g.estimated) } else { "" };
            let no_payer = cols.tall && get(rec, cols.payer_name).is_empty() && get(rec, cols.plan_name).is_empty();
            if no_payer || (dollar.is_empty() && !pct_or_algo && estimated.is_empty()) {
                continue;
            }
            self.label.clear();
            match &g.payer {
                Some(p) => self.label.push_str(p),
                None => {
                    self.label.push_str(get(rec, cols.payer_name));
                    self.label.push_str(" | ");
                    self.label.push_str(get(rec, cols.plan_name));
                }
            }
            if !dollar.is_empty() || pct_or_algo {
                self.em.payer_charge(&self.label);
            }
            if dollar.is_empty() && pct_or_algo {
                self.em.without_dollar();
            }
            let t = Target { payer: Some(self.label.as_str()), ..t };
            if let Ok(amount) = validate::positive_number(dollar) {
                self.em.emit(out, tally, &at, &t, Kind::Negotiated, amount);
            }
            if let Ok(amount) = validate::positive_number(estimated) {
                self.em.emit(out, tally, &at, &t, Kind::Estimated, amount);
            }
        }
    }

    /// Adds the counts to the tally, and the validator's alert when no row had a payer-specific charge.
    pub(crate) fn finish(&self, tally: &mut Tally) {
        for (kind, n) in [("modifier_rows", self.modifier_rows), ("short_rows", self.short_rows)] {
            if n > 0 {
                tally.count(kind, n);
            }
        }
        if !self.em.any_payer_charge {
            tally.warn("file", "File does not have any payer-specific charges");
        }
        self.em.finish(tally);
    }
}
