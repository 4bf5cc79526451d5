//! `invalid_code`: a billed HCPCS Level II code that the code set does not list for the date of
//! service (never issued, or terminated before it, or added after it). The dataflow joins bill
//! lines with the `code` edits of `reference.edits`; `known` is what the join found (none for an
//! unknown code). CPT codes are checked by shape only: their list is AMA's and is not shipped.
use super::{evidence, finding};
use crate::codes::{classify, CodeSystem};
use schemas::records::BillLine;
use schemas::{Finding, RefEdit};

pub fn check(doc_id: &str, line: &BillLine, known: &[&RefEdit]) -> Option<Finding> {
    let code = line.code.as_deref()?;
    let date = line.service_date.as_deref();
    let problem = match classify(code) {
        CodeSystem::Hcpcs if known.is_empty() => format!("{code} is not in the HCPCS Level II code set"),
        CodeSystem::Hcpcs => {
            let valid_on = |e: &&RefEdit| {
                date.is_none_or(|d| e.effective_from.as_str() <= d && e.effective_to.as_deref().is_none_or(|t| d <= t))
            };
            if known.iter().any(valid_on) {
                return None;
            }
            let e = known.iter().max_by_key(|e| e.effective_from.as_str())?;
            match (&e.effective_to, date) {
                (Some(to), Some(d)) if d > to.as_str() => {
                    format!("{code} was discontinued on {to}, before the service date {d}")
                }
                (_, Some(d)) => format!("{code} only took effect on {}, after the service date {d}", e.effective_from),
                _ => return None,
            }
        }
        CodeSystem::Cpt | CodeSystem::Rev | CodeSystem::Ndc | CodeSystem::Cdm => return None,
        CodeSystem::Unknown => format!("{code:?} is not shaped like a CPT or HCPCS code"),
    };
    let source = known.first().map(|e| format!("CMS HCPCS Level II ({})", e.source_file));
    Some(finding(
        doc_id,
        "invalid_code",
        // A code that only looks wrong may be a misread; one the code set rules out is an error.
        if line.flagged || classify(code) == CodeSystem::Unknown { "warning" } else { "error" },
        vec![line.line_no],
        line.charge,
        format!(
            "Line {}: {problem}. A charge under a code that is not valid cannot be checked or paid as billed; \
             ask the provider for the correct code.",
            line.line_no
        ),
        vec![evidence(source.as_deref().unwrap_or("CMS HCPCS Level II code set"), problem.clone())],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, line};

    fn code(c: &str, from: &str, to: Option<&str>) -> RefEdit {
        RefEdit {
            kind: "code".into(),
            code: c.into(),
            code2: None,
            modifier_indicator: None,
            mue_limit: None,
            mue_adjudication: None,
            description: Some("Elastic garment".into()),
            effective_from: from.into(),
            effective_to: to.map(String::from),
            source_file: "HCPC2019_CONTR_ANWEB.txt".into(),
        }
    }

    #[test]
    fn unknown_terminated_and_valid_hcpcs_codes() {
        let l = line(1, "2019-05-01", "A4466", 1, None, "80.00");
        assert!(check("doc", &l, &[&code("A4466", "2010-01-01", None)]).is_none());
        let f = check("doc", &l, &[&code("A4466", "2010-01-01", Some("2016-12-31"))]).unwrap();
        assert!(f.explanation.contains("discontinued on 2016-12-31"), "{}", f.explanation);
        assert_eq!((f.severity.as_str(), f.amount_at_issue), ("error", d("80.00")));
        let f = check("doc", &l, &[]).unwrap();
        assert!(f.explanation.contains("not in the HCPCS Level II code set"));
        let early = line(1, "2009-05-01", "A4466", 1, None, "80.00");
        assert!(check("doc", &early, &[&code("A4466", "2010-01-01", None)])
            .unwrap()
            .explanation
            .contains("only took effect"));
    }

    #[test]
    fn cpt_codes_by_shape_only() {
        assert!(check("doc", &line(1, "2026-03-14", "99213", 1, None, "100.00"), &[]).is_none());
        let f = check("doc", &line(1, "2026-03-14", "9921X", 1, None, "100.00"), &[]).unwrap();
        assert_eq!(f.severity, "warning");
    }
}
