//! The mandatory content of the request, item by item.

use comity_domain::MeasureKind;

use super::{Engine, cite, short_title};
use crate::assessment::ContentCheck;
use crate::model::{ContentItem, Instrument};

impl<'a> Engine<'a> {
    pub(super) fn checklist(&self, base: &Instrument) -> Vec<ContentCheck> {
        let (source, baseline_note) = match base.content.is_empty() {
            false => (base, None),
            true => match base
                .content_from
                .as_deref()
                .and_then(|id| self.catalog.instrument(id))
            {
                Some(baseline) => (
                    baseline,
                    Some(format!(
                        " ({}'s own list of contents is not in the catalog; {} is used as a baseline.)",
                        short_title(base),
                        short_title(baseline)
                    )),
                ),
                None => (base, None),
            },
        };
        source
            .content
            .iter()
            .map(|rule| {
                let (satisfied, mut explanation) = self.check_item(rule.item);
                if let Some(note) = &baseline_note {
                    explanation.push_str(note);
                }
                ContentCheck {
                    item: rule.item,
                    satisfied,
                    where_possible: rule.where_possible,
                    explanation,
                    citation: cite(source, &rule.article),
                }
            })
            .collect()
    }

    fn service_only(&self) -> bool {
        !self.measures.is_empty()
            && self
                .measures
                .iter()
                .all(|&measure| measure == MeasureKind::ServiceOfDocuments)
    }

    fn check_item(&self, item: ContentItem) -> (bool, String) {
        let request = self.request;
        let filled = |text: &str| !text.trim().is_empty();
        match item {
            ContentItem::RequestingAuthority => (
                true,
                format!("The requesting authority is {}.", request.requesting_authority),
            ),
            ContentItem::SubjectMatter => match filled(&request.subject_matter) {
                true => (true, "The subject matter and nature of the proceedings are stated.".into()),
                false => (false, "State the subject matter and nature of the investigation, prosecution or proceeding.".into()),
            },
            ContentItem::ConductingAuthority => match filled(&request.conducting_authority) {
                true => (true, "The authority conducting the proceedings is named.".into()),
                false => (false, "Name the authority conducting the proceedings and its functions.".into()),
            },
            ContentItem::SummaryOfFacts => {
                if self.service_only() {
                    (true, "Not needed: the request seeks only service of documents.".into())
                } else if filled(&request.summary_of_facts) {
                    (true, "A summary of the relevant facts is given.".into())
                } else {
                    (false, "Give a summary of the relevant facts.".into())
                }
            }
            ContentItem::OffenceDescription => {
                if self.service_only() {
                    (true, "Not needed: the request seeks only service of documents.".into())
                } else if !request.offences.is_empty()
                    && request
                        .offences
                        .iter()
                        .all(|offence| filled(&offence.national_provision))
                {
                    (true, "The offences and the provisions of law are stated.".into())
                } else {
                    (false, "State each offence and the provision of law that defines and punishes it.".into())
                }
            }
            ContentItem::MeasuresDescribed => {
                if request.measures.is_empty() {
                    (false, "Describe the assistance sought: no measure is listed.".into())
                } else if let Some(measure) = request
                    .measures
                    .iter()
                    .find(|measure| !filled(&measure.description))
                {
                    (
                        false,
                        format!(
                            "Describe what exactly is sought for \"{}\" and any procedure to follow.",
                            measure.kind.label()
                        ),
                    )
                } else {
                    (true, "Each measure sought is described.".into())
                }
            }
            ContentItem::PersonsIdentity => {
                let incomplete: Vec<&str> = request
                    .persons
                    .iter()
                    .filter(|person| {
                        person.nationalities.is_empty()
                            || person.full_name.trim().eq_ignore_ascii_case("unknown")
                            || person.location.as_deref().is_none_or(|place| place.trim().is_empty())
                    })
                    .map(|person| person.full_name.as_str())
                    .collect();
                if incomplete.is_empty() {
                    (true, "Identity, location and nationality are given for every person named.".into())
                } else {
                    (
                        false,
                        format!(
                            "Where possible, give identity, location and nationality of: {}.",
                            incomplete.join(", ")
                        ),
                    )
                }
            }
            ContentItem::Purpose => match filled(&request.purpose) {
                true => (true, "The purpose of the request is stated.".into()),
                false => (false, "State the purpose for which the evidence or information is sought.".into()),
            },
            ContentItem::LegalBasis => {
                let unknown: Vec<&str> = request
                    .legal_basis
                    .iter()
                    .filter(|id| self.catalog.instrument(id).is_none())
                    .map(String::as_str)
                    .collect();
                if request.legal_basis.is_empty() {
                    (false, "Name the instrument the request relies on.".into())
                } else if !unknown.is_empty() {
                    (false, format!("Unknown legal basis: {}.", unknown.join(", ")))
                } else {
                    (true, "The legal basis is named.".into())
                }
            }
        }
    }
}
