//! The mandatory content of the request, item by item.

use comity_domain::MeasureKind;

use super::{Engine, cite, short_title};
use crate::assessment::ContentCheck;
use crate::model::{ContentItem, Instrument};
use crate::wording::{FindingCode, FindingParameter, ParameterName, ParameterValue, Sentence};

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
                    Some(Sentence::new(
                        FindingCode::ContentBaseline,
                        vec![
                            FindingParameter::new(ParameterName::Instrument, short_title(base)),
                            FindingParameter::new(
                                ParameterName::BaselineInstrument,
                                short_title(baseline),
                            ),
                        ],
                    )),
                ),
                None => (base, None),
            },
        };
        source
            .content
            .iter()
            .map(|rule| {
                let (satisfied, code, mut parameters) = self.check_item(rule.item);
                parameters.push(FindingParameter::new(
                    ParameterName::Baseline,
                    ParameterValue::Sentence(baseline_note.clone().map(Box::new)),
                ));
                let (code, parameters, explanation) = Sentence::new(code, parameters).into_parts();
                ContentCheck {
                    item: rule.item,
                    satisfied,
                    where_possible: rule.where_possible,
                    code,
                    parameters,
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

    /// Whether the item is satisfied, and the sentence saying so (without the baseline note).
    fn check_item(&self, item: ContentItem) -> (bool, FindingCode, Vec<FindingParameter>) {
        let request = self.request;
        let filled = |text: &str| !text.trim().is_empty();
        let plain = |satisfied: bool, code: FindingCode| (satisfied, code, Vec::new());
        match item {
            ContentItem::RequestingAuthority => (
                true,
                FindingCode::ContentRequestingAuthority,
                vec![FindingParameter::new(
                    ParameterName::Authority,
                    request.requesting_authority.to_string(),
                )],
            ),
            ContentItem::SubjectMatter => match filled(&request.subject_matter) {
                true => plain(true, FindingCode::ContentSubjectMatterStated),
                false => plain(false, FindingCode::ContentSubjectMatterMissing),
            },
            ContentItem::ConductingAuthority => match filled(&request.conducting_authority) {
                true => plain(true, FindingCode::ContentConductingAuthorityNamed),
                false => plain(false, FindingCode::ContentConductingAuthorityMissing),
            },
            ContentItem::SummaryOfFacts => {
                if self.service_only() {
                    plain(true, FindingCode::ContentNotNeededForService)
                } else if filled(&request.summary_of_facts) {
                    plain(true, FindingCode::ContentFactsGiven)
                } else {
                    plain(false, FindingCode::ContentFactsMissing)
                }
            }
            ContentItem::OffenceDescription => {
                if self.service_only() {
                    plain(true, FindingCode::ContentNotNeededForService)
                } else if !request.offences.is_empty()
                    && request
                        .offences
                        .iter()
                        .all(|offence| filled(&offence.national_provision))
                {
                    plain(true, FindingCode::ContentOffencesStated)
                } else {
                    plain(false, FindingCode::ContentOffencesMissing)
                }
            }
            ContentItem::MeasuresDescribed => {
                if request.measures.is_empty() {
                    plain(false, FindingCode::ContentNoMeasure)
                } else if let Some(measure) = request
                    .measures
                    .iter()
                    .find(|measure| !filled(&measure.description))
                {
                    (
                        false,
                        FindingCode::ContentMeasureUndescribed,
                        vec![FindingParameter::new(ParameterName::Measure, measure.kind)],
                    )
                } else {
                    plain(true, FindingCode::ContentMeasuresDescribed)
                }
            }
            ContentItem::PersonsIdentity => {
                let incomplete: Vec<String> = request
                    .persons
                    .iter()
                    .filter(|person| {
                        person.nationalities.is_empty()
                            || person.full_name.trim().eq_ignore_ascii_case("unknown")
                            || person
                                .location
                                .as_deref()
                                .is_none_or(|place| place.trim().is_empty())
                    })
                    .map(|person| person.full_name.clone())
                    .collect();
                if incomplete.is_empty() {
                    plain(true, FindingCode::ContentPersonsIdentified)
                } else {
                    (
                        false,
                        FindingCode::ContentPersonsIncomplete,
                        vec![FindingParameter::new(
                            ParameterName::Persons,
                            ParameterValue::Texts(incomplete),
                        )],
                    )
                }
            }
            ContentItem::Purpose => match filled(&request.purpose) {
                true => plain(true, FindingCode::ContentPurposeStated),
                false => plain(false, FindingCode::ContentPurposeMissing),
            },
            ContentItem::LegalBasis => {
                let unknown: Vec<String> = request
                    .legal_basis
                    .iter()
                    .filter(|id| self.catalog.instrument(id).is_none())
                    .cloned()
                    .collect();
                if request.legal_basis.is_empty() {
                    plain(false, FindingCode::ContentLegalBasisMissing)
                } else if !unknown.is_empty() {
                    (
                        false,
                        FindingCode::ContentLegalBasisUnknown,
                        vec![FindingParameter::new(
                            ParameterName::LegalBasis,
                            ParameterValue::Texts(unknown),
                        )],
                    )
                } else {
                    plain(true, FindingCode::ContentLegalBasisNamed)
                }
            }
        }
    }
}
