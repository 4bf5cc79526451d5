//! Turns the amounts of one row or JSON standard charge into `RefPrice` records: one per amount
//! and per code of the item (a row with a CPT and a revenue code gives two of each).
//!
//! Invariants: source is "MRF", scope is `hospital:<hospital_name>` unless the caller set one,
//! `effective_from` is the file's MRF date as YYYY-MM-DD; an amount of 999999999 (nine 9s) is a
//! placeholder, never a price: it is counted in "placeholder_amounts" and not emitted.
use super::validate::NINE_NINES;
use crate::feed::{Ctx, Item, Out, Tally};
use rust_decimal::Decimal;
use schemas::RefPrice;
use std::collections::HashSet;

/// What an amount is (`RefPrice::amount_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Gross charge (chargemaster price).
    Gross,
    /// Discounted cash price.
    Cash,
    /// Payer-specific negotiated charge in dollars.
    Negotiated,
    /// De-identified minimum negotiated charge.
    Min,
    /// De-identified maximum negotiated charge.
    Max,
    /// v2.x estimated allowed amount (removed in v3.0).
    Estimated,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Gross => "gross",
            Kind::Cash => "cash",
            Kind::Negotiated => "negotiated",
            Kind::Min => "negotiated_min",
            Kind::Max => "negotiated_max",
            Kind::Estimated => "estimated",
        }
    }
}

/// The per-file part of every price, and the counts kept while emitting.
pub(crate) struct Emitter {
    scope: String,
    effective_from: String,
    source_file: String,
    /// Distinct "payer | plan" labels with a payer-specific charge.
    payers: HashSet<String>,
    /// Whether any payer-specific charge (dollar, percentage or algorithm) was seen.
    pub(crate) any_payer_charge: bool,
    prices: u64,
    placeholders: u64,
    without_dollar: u64,
}

/// What an item's amount applies to, besides its codes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The item's `(code, code type)` pairs: one price each.
    pub(crate) codes: &'a [(&'a str, &'a str)],
    pub(crate) modifier: Option<&'a str>,
    pub(crate) setting: Option<&'static str>,
    pub(crate) payer: Option<&'a str>,
}

impl Emitter {
    /// `hospital_name` gives the scope unless `ctx.scope` is set.
    pub(crate) fn new(ctx: &Ctx, hospital_name: &str, effective_from: String) -> Self {
        let scope = match &ctx.scope {
            Some(s) if !s.trim().is_empty() => s.trim().to_string(),
            _ => format!("hospital:{}", hospital_name.trim()),
        };
        Emitter {
            scope,
            effective_from,
            source_file: ctx.source_file.clone(),
            payers: HashSet::new(),
            any_payer_charge: false,
            prices: 0,
            placeholders: 0,
            without_dollar: 0,
        }
    }

    /// Notes a payer-specific charge for `payer` (any of dollar, percentage, algorithm).
    pub(crate) fn payer_charge(&mut self, payer: &str) {
        self.any_payer_charge = true;
        if !self.payers.contains(payer) {
            self.payers.insert(payer.to_string());
        }
    }

    /// Notes a payer-specific charge given only as a percentage or an algorithm: no dollar amount
    /// to load, but it is counted ("charges_without_dollar_amount").
    pub(crate) fn without_dollar(&mut self) {
        self.without_dollar += 1;
    }

    /// Emits `amount` for each of the item's codes; `at` locates it for a reject or warning.
    pub(crate) fn emit(
        &mut self,
        out: Out<'_>,
        tally: &mut Tally,
        at: &dyn Fn() -> String,
        t: &Target<'_>,
        kind: Kind,
        amount: Decimal,
    ) {
        if amount == NINE_NINES {
            self.placeholders += 1;
            // The estimated amount has its own CMS alert (raised by the validation).
            if kind != Kind::Estimated {
                tally.warn(at(), "999999999 (nine 9s) is a placeholder, not a price: not loaded");
            }
            return;
        }
        for (code, code_type) in t.codes {
            let price = RefPrice {
                source: "MRF".to_string(),
                code: (*code).to_string(),
                code_type: (*code_type).to_string(),
                modifier: t.modifier.map(str::to_string),
                scope: self.scope.clone(),
                payer: t.payer.map(str::to_string),
                setting: t.setting.map(str::to_string),
                amount_kind: kind.as_str().to_string(),
                amount,
                effective_from: self.effective_from.clone(),
                effective_to: None,
                source_file: self.source_file.clone(),
            };
            if tally.emit(out, at, Item::Price(price)) {
                self.prices += 1;
            }
        }
    }

    /// Adds the file's counts to the tally: "prices", "payer_plans", "charges_without_dollar_amount",
    /// "placeholder_amounts" (the last three only when not zero).
    pub(crate) fn finish(&self, tally: &mut Tally) {
        tally.count("prices", self.prices);
        for (kind, n) in [
            ("payer_plans", self.payers.len() as u64),
            ("charges_without_dollar_amount", self.without_dollar),
            ("placeholder_amounts", self.placeholders),
        ] {
            if n > 0 {
                tally.count(kind, n);
            }
        }
    }
}
