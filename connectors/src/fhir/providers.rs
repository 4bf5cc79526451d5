//! The provider NPI of a claim line: from a reference's logical identifier, a conditional
//! reference (`Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|123`), a contained resource,
//! or a Practitioner/Organization elsewhere in the Bundle. A `_include` search Bundle lists the
//! referenced resources after the EOBs, so lines whose provider may still appear wait in a FIFO
//! queue until the end of the Bundle (bounded: past `MAX_WAITING` the oldest goes out with the
//! reference text). Lines leave the queue in file order, so a Claim's line never overtakes the
//! EOB line that upserts it.
use super::codes::is_npi_system;
use super::resources::{Contained, Identifier, Reference};
use std::collections::HashMap;

/// Lines held at most while their provider may still appear later in the Bundle.
pub(crate) const MAX_WAITING: usize = 100_000;

/// One way to find a line's NPI, in order of preference.
#[derive(Debug, Clone)]
pub(crate) enum Candidate {
    /// Known without the Bundle (logical identifier, conditional reference, contained resource).
    Npi(String),
    /// A literal reference to look up among the Bundle's Practitioners and Organizations.
    Literal(String),
}

/// The candidates of a claim, in order, and the text used when none resolves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Providers {
    pub candidates: Vec<Candidate>,
    /// The first reference as written (`Organization/ProviderOrganization1`), or its display.
    pub fallback: String,
}

/// The NPI of a reference's target, if it can be known, and whether to look it up later.
pub(crate) fn candidate(r: &Reference, contained: &[Contained]) -> Option<Candidate> {
    if let Some(npi) = r.identifier.as_ref().and_then(npi_of) {
        return Some(Candidate::Npi(npi));
    }
    let text = r.reference.as_deref()?.trim();
    if let Some(local) = text.strip_prefix('#') {
        let c = contained.iter().find(|c| c.id.as_deref() == Some(local))?;
        return c.identifier.iter().find_map(npi_of).map(Candidate::Npi);
    }
    // `Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999955949`
    if let Some((_, query)) = text.split_once("?identifier=") {
        return match query.split_once('|') {
            Some((system, value)) if is_npi_system(system) && !value.trim().is_empty() => {
                Some(Candidate::Npi(value.trim().to_string()))
            }
            _ => None,
        };
    }
    (!text.is_empty()).then(|| Candidate::Literal(text.to_string()))
}

fn npi_of(i: &Identifier) -> Option<String> {
    let value = i.value.as_deref()?.trim();
    (is_npi_system(i.system.as_deref()?) && !value.is_empty()).then(|| value.to_string())
}

/// Practitioners and Organizations seen in the Bundle: reference → NPI (None: seen, no NPI).
#[derive(Debug, Default)]
pub(crate) struct Directory {
    known: HashMap<String, Option<String>>,
}

/// What the candidates say now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    Npi(String),
    /// Not resolvable (yet): the fallback text applies if nothing more can come.
    Unknown {
        may_come_later: bool,
    },
}

impl Directory {
    /// Notes a Practitioner or Organization under its fullUrl and `Type/id`.
    pub fn add(&mut self, full_url: Option<&str>, resource_type: &str, id: Option<&str>, identifiers: &[Identifier]) {
        let npi = identifiers.iter().find_map(npi_of);
        if let Some(url) = full_url {
            self.known.insert(url.to_string(), npi.clone());
        }
        if let Some(id) = id {
            self.known.insert(format!("{resource_type}/{id}"), npi);
        }
    }

    fn lookup(&self, reference: &str) -> Option<&Option<String>> {
        self.known.get(reference).or_else(|| self.known.get(&relative(reference)?))
    }

    pub fn resolve(&self, providers: &Providers) -> Resolved {
        let mut may_come_later = false;
        for c in &providers.candidates {
            match c {
                Candidate::Npi(npi) => return Resolved::Npi(npi.clone()),
                Candidate::Literal(r) => match self.lookup(r) {
                    Some(Some(npi)) => return Resolved::Npi(npi.clone()),
                    Some(None) => {}
                    None => may_come_later = true,
                },
            }
        }
        Resolved::Unknown { may_come_later }
    }
}

/// `http://server/fhir/Practitioner/1/_history/2` → `Practitioner/1`.
fn relative(reference: &str) -> Option<String> {
    let path = reference.split("/_history/").next().unwrap_or(reference);
    let mut parts = path.rsplit('/');
    let id = parts.next()?;
    let ty = parts.next()?;
    (ty.chars().next()?.is_ascii_uppercase() && !id.is_empty()).then(|| format!("{ty}/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> Reference {
        Reference { reference: Some(text.into()), ..Default::default() }
    }

    #[test]
    fn conditional_reference_names_the_npi() {
        let c = candidate(&reference("Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999955949"), &[]);
        assert!(matches!(c, Some(Candidate::Npi(n)) if n == "9999955949"));
        let c = candidate(&reference("Organization?identifier=https://github.com/synthetichealth/synthea|x"), &[]);
        assert!(c.is_none());
    }

    #[test]
    fn literal_references_resolve_through_the_directory() {
        let npi = Identifier {
            system: Some("http://hl7.org/fhir/sid/us-npi".into()),
            value: Some("123".into()),
            id_type: None,
        };
        let mut dir = Directory::default();
        let providers = Providers {
            candidates: vec![candidate(&reference("http://x/fhir/Organization/o1/_history/3"), &[]).unwrap()],
            fallback: "Organization/o1".into(),
        };
        assert_eq!(dir.resolve(&providers), Resolved::Unknown { may_come_later: true });
        dir.add(Some("http://y/Organization/o1"), "Organization", Some("o1"), &[npi]);
        assert_eq!(dir.resolve(&providers), Resolved::Npi("123".into()));
    }
}
