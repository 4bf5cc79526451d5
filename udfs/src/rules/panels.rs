//! The composition of the common laboratory panels (CMS: a panel's component tests billed on the
//! same day as the panel are included in it). Shipped so that a panel billed with its own
//! components is caught without the full quarterly NCCI PTP file; loading that file through
//! `billstream ingest edits` adds every other pair. Codes only — no CPT descriptor text.
use schemas::RefEdit;

/// (panel, its component tests).
pub const PANELS: &[(&str, &[&str])] = &[
    // Basic metabolic panel (calcium, total).
    ("80048", &["82310", "82374", "82435", "82565", "82947", "84132", "84295", "84520"]),
    // Basic metabolic panel (calcium, ionized).
    ("80047", &["82330", "82374", "82435", "82565", "82947", "84132", "84295", "84520"]),
    // Comprehensive metabolic panel.
    (
        "80053",
        &[
            "82040", "82247", "82310", "82374", "82435", "82565", "82947", "84075", "84132", "84155", "84295", "84450",
            "84460", "84520",
        ],
    ),
    // Electrolyte panel.
    ("80051", &["82374", "82435", "84132", "84295"]),
    // Lipid panel.
    ("80061", &["82465", "83718", "84478"]),
    // Hepatic function panel.
    ("80076", &["82040", "82247", "82248", "84075", "84155", "84450", "84460"]),
    // Renal function panel.
    ("80069", &["82040", "82310", "82374", "82435", "82565", "82947", "84100", "84132", "84295", "84520"]),
    // Complete blood count with automated differential.
    ("85025", &["85004", "85014", "85018", "85027", "85041", "85048", "85049"]),
];

/// Where the panel edits say they come from (evidence in findings).
pub const SOURCE: &str = "lab panel composition (CMS NCCI policy, Medicare laboratory panels)";

/// The panels as procedure-to-procedure edits: column one the panel, column two a component,
/// modifier indicator 1 (separately billable only when the test was truly separate).
pub fn panel_edits() -> Vec<RefEdit> {
    PANELS
        .iter()
        .flat_map(|(panel, parts)| {
            parts.iter().map(move |part| RefEdit {
                kind: "ptp".into(),
                code: (*panel).into(),
                code2: Some((*part).into()),
                modifier_indicator: Some("1".into()),
                mue_limit: None,
                mue_adjudication: None,
                description: None,
                effective_from: "2008-01-01".into(),
                effective_to: None,
                source_file: SOURCE.into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::line;
    use crate::rules::unbundled::check_pair;
    use schemas::Record;

    #[test]
    fn a_panel_with_its_own_component_is_an_unbundled_pair() {
        let edits = panel_edits();
        assert!(edits.iter().all(|e| e.validate().is_ok()));
        // The comprehensive panel contains the basic one's tests plus six.
        let cmp: Vec<&str> = PANELS.iter().find(|p| p.0 == "80053").unwrap().1.to_vec();
        let bmp: Vec<&str> = PANELS.iter().find(|p| p.0 == "80048").unwrap().1.to_vec();
        assert!(bmp.iter().all(|c| cmp.contains(c)) && cmp.len() == bmp.len() + 6);
        let edit = edits.iter().find(|e| e.code == "80053" && e.code2.as_deref() == Some("82947")).unwrap();
        let panel = line(1, "2026-03-14", "80053", 1, None, "150.00");
        let glucose = line(2, "2026-03-14", "82947", 1, None, "35.00");
        let f = check_pair("doc", &panel, &glucose, edit).unwrap();
        assert_eq!(f.kind, "unbundled_pair");
        assert!(f.evidence[0].source.contains("lab panel composition"));
    }
}
