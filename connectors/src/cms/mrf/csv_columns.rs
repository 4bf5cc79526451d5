//! Row 3 of a CMS CSV MRF: the item and charge column headers. Tells the tall layout (one payer
//! and plan per row, in `payer_name`/`plan_name`) from the wide one (payer and plan inside the
//! headers, `standard_charge|<payer>|<plan>|negotiated_dollar`), and maps every column the
//! loader reads to its index.
//!
//! Invariants: headers are compared after `header::normalize`; blank headers are skipped (as the
//! validator does); a missing required column, a duplicate, an unreplaced template placeholder or
//! an ambiguous layout is a problem of the file as a whole. Unknown headers are allowed (hospitals
//! may add their own elements, e.g. `billing_class`) and ignored.
use super::header::{normalize, squeezed, Rules};
use std::collections::HashSet;

/// The columns of one payer and plan: in the tall layout the one group whose payer and plan are
/// read from each row, in the wide layout one group per payer-plan pair of the headers.
#[derive(Debug, Default, Clone)]
pub(crate) struct Group {
    /// Wide: "Payer | Plan" as the headers write it.
    pub(crate) payer: Option<String>,
    pub(crate) dollar: Option<usize>,
    pub(crate) percentage: Option<usize>,
    pub(crate) algorithm: Option<usize>,
    pub(crate) methodology: Option<usize>,
    /// v2.x only.
    pub(crate) estimated: Option<usize>,
    /// v3.0 only: median, 10th and 90th percentile allowed amounts, count of allowed amounts.
    pub(crate) median: Option<usize>,
    pub(crate) p10: Option<usize>,
    pub(crate) p90: Option<usize>,
    pub(crate) count: Option<usize>,
    /// Where an explanation goes: `additional_payer_notes|…` (wide), `additional_generic_notes` (tall).
    pub(crate) notes: Option<usize>,
}

#[derive(Debug, Default)]
pub(crate) struct Columns {
    pub(crate) tall: bool,
    /// Each column's header as written (for messages).
    pub(crate) names: Vec<String>,
    pub(crate) description: Option<usize>,
    pub(crate) setting: Option<usize>,
    pub(crate) gross: Option<usize>,
    pub(crate) cash: Option<usize>,
    pub(crate) min: Option<usize>,
    pub(crate) max: Option<usize>,
    pub(crate) generic_notes: Option<usize>,
    pub(crate) modifiers: Option<usize>,
    pub(crate) drug_unit: Option<usize>,
    pub(crate) drug_type: Option<usize>,
    pub(crate) payer_name: Option<usize>,
    pub(crate) plan_name: Option<usize>,
    /// `(code|i, code|i|type)` for i = 1, 2, …
    pub(crate) codes: Vec<(Option<usize>, Option<usize>)>,
    pub(crate) groups: Vec<Group>,
}

impl Columns {
    /// The header of column `i` as written, for messages.
    pub(crate) fn name(&self, i: Option<usize>) -> &str {
        i.and_then(|i| self.names.get(i)).map(String::as_str).unwrap_or("")
    }
}

/// Which per-payer element a wide header or a tall single header is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PayerField {
    Dollar,
    Percentage,
    Algorithm,
    Methodology,
    Estimated,
    Median,
    P10,
    P90,
    Count,
    Notes,
}

impl PayerField {
    fn slot(self, g: &mut Group) -> &mut Option<usize> {
        match self {
            PayerField::Dollar => &mut g.dollar,
            PayerField::Percentage => &mut g.percentage,
            PayerField::Algorithm => &mut g.algorithm,
            PayerField::Methodology => &mut g.methodology,
            PayerField::Estimated => &mut g.estimated,
            PayerField::Median => &mut g.median,
            PayerField::P10 => &mut g.p10,
            PayerField::P90 => &mut g.p90,
            PayerField::Count => &mut g.count,
            PayerField::Notes => &mut g.notes,
        }
    }
    /// The element's header, with `payer|plan` in the wide layout.
    fn label(self, payer_plan: Option<&str>) -> String {
        let (prefix, suffix) = match self {
            PayerField::Dollar => ("standard_charge", Some("negotiated_dollar")),
            PayerField::Percentage => ("standard_charge", Some("negotiated_percentage")),
            PayerField::Algorithm => ("standard_charge", Some("negotiated_algorithm")),
            PayerField::Methodology => ("standard_charge", Some("methodology")),
            PayerField::Estimated => ("estimated_amount", None),
            PayerField::Median => ("median_amount", None),
            PayerField::P10 => ("10th_percentile", None),
            PayerField::P90 => ("90th_percentile", None),
            PayerField::Count => ("count", None),
            PayerField::Notes => ("additional_payer_notes", None),
        };
        match (payer_plan, suffix) {
            (Some(pp), Some(s)) => format!("{prefix}|{pp}|{s}"),
            (Some(pp), None) => format!("{prefix}|{pp}"),
            (None, Some(s)) => format!("{prefix}|{s}"),
            (None, None) => prefix.to_string(),
        }
    }
    /// The elements every payer group must have under `rules`.
    fn required(rules: Rules, tall: bool) -> Vec<PayerField> {
        let mut v = vec![PayerField::Dollar, PayerField::Percentage, PayerField::Algorithm, PayerField::Methodology];
        if !tall {
            v.push(PayerField::Notes);
        }
        match rules {
            Rules::V2 => v.push(PayerField::Estimated),
            Rules::V3 => v.extend([PayerField::Median, PayerField::P10, PayerField::P90, PayerField::Count]),
        }
        v
    }
}

/// The per-payer element of a wide 3- or 4-part header, if it is one.
fn wide_field(rules: Rules, parts: &[&str]) -> Option<PayerField> {
    match parts {
        ["standard_charge", _, _, kind] => match *kind {
            "negotiated_dollar" => Some(PayerField::Dollar),
            "negotiated_percentage" => Some(PayerField::Percentage),
            "negotiated_algorithm" => Some(PayerField::Algorithm),
            "methodology" => Some(PayerField::Methodology),
            _ => None,
        },
        [kind, _, _] => match (*kind, rules) {
            ("additional_payer_notes", _) => Some(PayerField::Notes),
            ("estimated_amount", _) => Some(PayerField::Estimated),
            ("median_amount", Rules::V3) => Some(PayerField::Median),
            ("10th_percentile", Rules::V3) => Some(PayerField::P10),
            ("90th_percentile", Rules::V3) => Some(PayerField::P90),
            ("count", Rules::V3) => Some(PayerField::Count),
            _ => None,
        },
        _ => None,
    }
}

fn is_placeholder(part: &str) -> bool {
    part.starts_with('[') && part.ends_with(']')
}

/// The mapped columns and the alerts about them, or the problems `(column, message)` that make
/// the header unusable.
pub(crate) type Mapped = Result<(Columns, Vec<(usize, String)>), Vec<(Option<usize>, String)>>;

/// Maps the row-3 headers `raw` (as written) under `rules`.
pub(crate) fn map(rules: Rules, raw: &[&str]) -> Mapped {
    let mut cols = Columns { names: raw.iter().map(|s| s.trim().to_string()).collect(), ..Default::default() };
    let mut errors: Vec<(Option<usize>, String)> = Vec::new();
    let mut alerts: Vec<(usize, String)> = Vec::new();
    // Lower-case payer|plan key → group index.
    let mut wide_keys: Vec<String> = Vec::new();
    let mut tall_group = Group::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut unknown: Vec<(usize, String)> = Vec::new();

    for (i, raw_header) in raw.iter().enumerate() {
        let norm = normalize(raw_header);
        if norm.is_empty() {
            continue;
        }
        if !seen.insert(norm.clone()) {
            errors
                .push((Some(i), format!("column {} {:?} repeats an earlier column header", i + 1, raw_header.trim())));
            continue;
        }
        let parts: Vec<&str> = norm.split('|').collect();
        let single = |slot: &mut Option<usize>| *slot = Some(i);
        match parts.as_slice() {
            ["description"] => single(&mut cols.description),
            ["setting"] => single(&mut cols.setting),
            ["modifiers"] => single(&mut cols.modifiers),
            ["drug_unit_of_measurement"] => single(&mut cols.drug_unit),
            ["drug_type_of_measurement"] => single(&mut cols.drug_type),
            ["payer_name"] => single(&mut cols.payer_name),
            ["plan_name"] => single(&mut cols.plan_name),
            ["additional_generic_notes"] => single(&mut cols.generic_notes),
            ["standard_charge", "gross"] => single(&mut cols.gross),
            ["standard_charge", "discounted_cash"] => single(&mut cols.cash),
            ["standard_charge", "min"] => single(&mut cols.min),
            ["standard_charge", "max"] => single(&mut cols.max),
            ["standard_charge", "negotiated_dollar"] => single(&mut tall_group.dollar),
            ["standard_charge", "negotiated_percentage"] => single(&mut tall_group.percentage),
            ["standard_charge", "negotiated_algorithm"] => single(&mut tall_group.algorithm),
            ["standard_charge", "methodology"] => single(&mut tall_group.methodology),
            ["estimated_amount"] => single(&mut tall_group.estimated),
            ["median_amount"] if rules == Rules::V3 => single(&mut tall_group.median),
            ["10th_percentile"] if rules == Rules::V3 => single(&mut tall_group.p10),
            ["90th_percentile"] if rules == Rules::V3 => single(&mut tall_group.p90),
            ["count"] if rules == Rules::V3 => single(&mut tall_group.count),
            ["code", n] | ["code", n, "type"] => {
                let is_type = parts.len() == 3;
                match n.parse::<usize>() {
                    Ok(k) if (1..=1000).contains(&k) => {
                        if cols.codes.len() < k {
                            cols.codes.resize(k, (None, None));
                        }
                        let slot = &mut cols.codes[k - 1];
                        if is_type {
                            slot.1 = Some(i);
                        } else {
                            slot.0 = Some(i);
                        }
                    }
                    _ if is_placeholder(n) => errors.push((
                        Some(i),
                        format!(
                            "column {} {:?} still has the template placeholder {n}: replace it with 1, 2, …",
                            i + 1,
                            raw_header.trim()
                        ),
                    )),
                    _ => errors.push((
                        Some(i),
                        format!("column {} {:?}: {n:?} is not a code number (1, 2, …)", i + 1, raw_header.trim()),
                    )),
                }
            }
            _ => match wide_field(rules, &parts) {
                Some(field) => {
                    let (payer, plan) = (parts[1], parts[2]);
                    if is_placeholder(payer) || is_placeholder(plan) {
                        errors.push((
                            Some(i),
                            format!(
                                "column {} {:?} still has the template placeholders [payer_name]/[plan_name]: \
                                 replace them with the payer and plan",
                                i + 1,
                                raw_header.trim()
                            ),
                        ));
                        continue;
                    }
                    let key = format!("{payer}|{plan}");
                    let g = match wide_keys.iter().position(|k| *k == key) {
                        Some(g) => g,
                        None => {
                            // Keep the payer and plan as the header writes them.
                            let written: Vec<&str> = raw_header.split('|').map(str::trim).collect();
                            let label =
                                format!("{} | {}", written.get(1).unwrap_or(&payer), written.get(2).unwrap_or(&plan));
                            wide_keys.push(key);
                            cols.groups.push(Group { payer: Some(label), ..Default::default() });
                            cols.groups.len() - 1
                        }
                    };
                    if field == PayerField::Estimated && rules == Rules::V3 {
                        alerts.push((i, format!("Column {} found in column headers.", raw_header.trim())));
                        continue;
                    }
                    *field.slot(&mut cols.groups[g]) = Some(i);
                }
                None => unknown.push((i, squeezed(&norm))),
            },
        }
    }

    let wide = !cols.groups.is_empty();
    cols.tall = cols.payer_name.is_some() && cols.plan_name.is_some();
    if cols.tall == wide {
        errors.push((
            None,
            if wide {
                "row 3 has both payer_name/plan_name columns (tall layout) and payer-specific headers \
                 standard_charge|<payer>|<plan>|… (wide layout): a file must use one layout"
                    .to_string()
            } else {
                "row 3 has neither payer_name and plan_name columns (tall layout) nor payer-specific headers \
                 standard_charge|<payer>|<plan>|… (wide layout)"
                    .to_string()
            },
        ));
        return Err(errors);
    }
    if cols.tall {
        tall_group.notes = cols.generic_notes;
        if tall_group.estimated.is_some() && rules == Rules::V3 {
            let i = tall_group.estimated.take().unwrap_or_default();
            alerts.push((i, format!("Column {} found in column headers.", cols.name(Some(i)))));
        }
        cols.groups = vec![tall_group];
    }

    // Required columns.
    let mut missing: Vec<String> = Vec::new();
    for (slot, label) in [
        (cols.description, "description"),
        (cols.setting, "setting"),
        (cols.gross, "standard_charge|gross"),
        (cols.cash, "standard_charge|discounted_cash"),
        (cols.min, "standard_charge|min"),
        (cols.max, "standard_charge|max"),
        (cols.generic_notes, "additional_generic_notes"),
        (cols.drug_unit, "drug_unit_of_measurement"),
        (cols.drug_type, "drug_type_of_measurement"),
        (cols.modifiers, "modifiers"),
    ] {
        if slot.is_none() {
            missing.push(label.to_string());
        }
    }
    if cols.codes.is_empty() {
        cols.codes.push((None, None));
    }
    for (k, (code, ty)) in cols.codes.iter().enumerate() {
        if code.is_none() {
            missing.push(format!("code|{}", k + 1));
        }
        if ty.is_none() {
            missing.push(format!("code|{}|type", k + 1));
        }
    }
    if cols.tall {
        for (slot, label) in [(cols.payer_name, "payer_name"), (cols.plan_name, "plan_name")] {
            if slot.is_none() {
                missing.push(label.to_string());
            }
        }
    }
    for g in cols.groups.iter_mut() {
        for field in PayerField::required(rules, cols.tall) {
            if field.slot(g).is_none() {
                missing.push(field.label(g.payer.as_deref().map(|p| p.replace(" | ", "|")).as_deref()));
            }
        }
    }
    for label in missing {
        let near = unknown.iter().find(|(_, sq)| *sq == squeezed(&label));
        errors.push(match near {
            Some((i, _)) => (
                Some(*i),
                format!(
                    "required column {label:?} is missing; column {} {:?} is close but has a space inside a \
                     name (only spaces around `|` and at the ends are tolerated; CMS's hpt-validator rejects it too)",
                    i + 1,
                    cols.name(Some(*i))
                ),
            ),
            None => {
                (None, format!("required column {label:?} is missing (rules of the {} data dictionary)", rules.name()))
            }
        });
    }
    if errors.is_empty() {
        Ok((cols, alerts))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V3_TALL: &str = "description,code | 1,code | 1 | type,code | 2,code | 2 | type,setting,drug_unit_of_measurement,drug_type_of_measurement,standard_charge | gross,standard_charge | discounted_cash,payer_name,plan_name,modifiers,standard_charge | negotiated_dollar,standard_charge | negotiated_percentage,standard_charge | negotiated_algorithm,median_amount,10th_percentile,90th_percentile,count,standard_charge | min,standard_charge | max,standard_charge | methodology,additional_generic_notes";

    #[test]
    fn tall_with_spaces_around_pipes() {
        let raw: Vec<&str> = V3_TALL.split(',').collect();
        let (cols, alerts) = map(Rules::V3, &raw).unwrap();
        assert!(cols.tall && alerts.is_empty());
        assert_eq!(cols.codes, vec![(Some(1), Some(2)), (Some(3), Some(4))]);
        assert_eq!(cols.groups.len(), 1);
        assert_eq!(cols.groups[0].count, Some(19));
        assert_eq!(cols.groups[0].notes, Some(23));
    }

    #[test]
    fn wide_groups_keep_payer_and_plan_as_written() {
        let mut raw = vec![
            "description",
            "code|1",
            "code|1|type",
            "setting",
            "drug_unit_of_measurement",
            "drug_type_of_measurement",
            "modifiers",
            "standard_charge|gross",
            "standard_charge|discounted_cash",
            "standard_charge|min",
            "standard_charge|max",
            "additional_generic_notes",
        ];
        for kind in ["negotiated_dollar", "negotiated_percentage", "negotiated_algorithm", "methodology"] {
            raw.push(Box::leak(format!("standard_charge|Payer A|PPO|{kind}").into_boxed_str()));
        }
        raw.extend(["estimated_amount|Payer A|PPO", "additional_payer_notes|payer a|ppo"]);
        let (cols, _) = map(Rules::V2, &raw).unwrap();
        assert!(!cols.tall);
        assert_eq!(cols.groups.len(), 1);
        assert_eq!(cols.groups[0].payer.as_deref(), Some("Payer A | PPO"));
        // v3 needs median, percentiles and count for each payer.
        let err = map(Rules::V3, &raw).unwrap_err();
        assert!(err.iter().any(|(_, m)| m.contains("median_amount|Payer A|PPO")), "{err:?}");
    }

    #[test]
    fn the_cms_typo_is_rejected_with_a_hint() {
        let raw: Vec<&str> = V3_TALL.split(',').collect();
        let raw: Vec<&str> = raw
            .into_iter()
            .map(|h| if h.contains("negotiated_algorithm") { "standard _charge|negotiated_algorithm" } else { h })
            .collect();
        let err = map(Rules::V3, &raw).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].0, Some(15));
        assert!(err[0].1.contains("space inside"), "{}", err[0].1);
    }

    #[test]
    fn placeholders_and_ambiguity() {
        let err = map(Rules::V3, &["description", "code|[i]", "code|[i]|type", "setting"]).unwrap_err();
        assert!(err.iter().any(|(_, m)| m.contains("neither")), "{err:?}");
        let raw: Vec<&str> = V3_TALL.split(',').map(|h| if h == "code | 2" { "code | [i]" } else { h }).collect();
        let err = map(Rules::V3, &raw).unwrap_err();
        assert!(err.iter().any(|(_, m)| m.contains("placeholder [i]")), "{err:?}");
    }
}
