//! The serialized form of a legal-basis assessment (`comity_law::Assessment`), for the
//! API and the CLI's `law assess --json`: plain strings for every code, converted by hand.
//! Every sentence is given in English (`explanation`, `reason`) and as a `code` with
//! `parameters` (`reason_code`, `reason_parameters` for the prevailing instrument), from
//! which a client writes it in its own language.
//!
//! It lives with the law rather than in `comity-wire` so that storage, which never needs
//! the law, does not depend on `comity-law` (an edit of the catalog then rebuilds only the
//! crates that read it).
//!
//! Output only: assessments are recomputed from the request and the catalog, never read
//! back, so these types serialize but do not deserialize.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    Assessment, ChannelUse, Citation, ContentCheck, DeadlineFinding, DualCriminalityFinding,
    Finding, FindingParameter, GroundKind, LanguageBasis, ParameterValue, RefusalGround, Sentence,
};

/// Where a conclusion comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CitationDto {
    /// Catalog id of the instrument, e.g. `eio`.
    pub instrument_id: String,
    /// The article, e.g. `11(1)(g)`.
    pub article: String,
    /// Where the text can be read.
    pub source_url: String,
}

/// A warning or note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FindingDto {
    /// e.g. `asylum_disclosure`, `refusal_ground_raised`.
    pub kind: String,
    /// `info`, `warning` or `blocking`.
    pub severity: String,
    /// The form of the sentence, kebab-case and stable, e.g. `minor-prosecuted`: with
    /// `parameters`, what a client needs to write the finding in its own language.
    pub code: String,
    /// The values the sentence refers to, by name (`instrument`, `article`, `measure`,
    /// `requested_country`...): countries, measures, facts, channels and dates as their
    /// codes, days and months as numbers, a cited safeguard rule as an object, a sentence
    /// nested in this one as an object with its own `code` and `parameters` (either absent
    /// where there is none).
    pub parameters: BTreeMap<String, FindingParameterDto>,
    /// In plain English.
    pub explanation: String,
    /// The rule.
    pub citation: CitationDto,
}

/// The value of one parameter of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum FindingParameterDto {
    /// Text as written in the catalog or the request, or a code: an ISO 3166-1 country,
    /// a measure code, a `YYYY-MM-DD` date.
    Text(String),
    /// A number: of days, or of months.
    Number(i64),
    /// Several texts or codes: instrument ids, language codes, names of persons, or the
    /// codes of the facts that raise a ground for refusal.
    List(Vec<String>),
    /// A catalog rule cited after the sentence.
    CitedRule(CitedRuleDto),
    /// A sentence nested in this one.
    Sentence(SentenceDto),
    /// Sentences nested in this one, written as clauses of one list.
    Sentences(Vec<SentenceDto>),
}

/// A sentence not yet written in any language: its form and the values it refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SentenceDto {
    /// The form of the sentence, kebab-case and stable, e.g. `offence-not-listed`.
    pub code: String,
    /// The values it refers to, by name, as in a finding's `parameters`.
    #[schema(no_recursion)]
    pub parameters: BTreeMap<String, FindingParameterDto>,
}

impl From<&Sentence> for SentenceDto {
    fn from(sentence: &Sentence) -> Self {
        SentenceDto {
            code: sentence.code.code().to_string(),
            parameters: parameters_dto(&sentence.parameters),
        }
    }
}

/// The wire form of a sentence's parameters, by name; values the catalog does not have
/// are left out.
fn parameters_dto(parameters: &[FindingParameter]) -> BTreeMap<String, FindingParameterDto> {
    parameters
        .iter()
        .filter_map(|parameter| {
            FindingParameterDto::from_value(&parameter.value)
                .map(|value| (parameter.name.code().to_string(), value))
        })
        .collect()
}

/// A catalog rule cited inside a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CitedRuleDto {
    /// The instrument's short title.
    pub instrument: String,
    /// The article.
    pub article: String,
    /// The rule as the catalog words it.
    pub rule: String,
}

impl FindingParameterDto {
    /// The wire form of a parameter's value; `None` for a rule the catalog does not have.
    fn from_value(value: &ParameterValue) -> Option<Self> {
        Some(match value {
            ParameterValue::Text(text) => FindingParameterDto::Text(text.clone()),
            ParameterValue::Texts(texts) => FindingParameterDto::List(texts.clone()),
            ParameterValue::Country(country) => {
                FindingParameterDto::Text(country.as_str().to_string())
            }
            ParameterValue::Date(date) => FindingParameterDto::Text(date.to_string()),
            ParameterValue::Measure(measure) => {
                FindingParameterDto::Text(measure.code().to_string())
            }
            ParameterValue::Days(days) => FindingParameterDto::Number(*days),
            ParameterValue::Months(months) => FindingParameterDto::Number(*months),
            ParameterValue::Channel(channel) => {
                FindingParameterDto::Text(channel.code().to_string())
            }
            ParameterValue::Sentence(sentence) => {
                FindingParameterDto::Sentence(SentenceDto::from(sentence.as_deref()?))
            }
            ParameterValue::Sentences(sentences) => {
                FindingParameterDto::Sentences(sentences.iter().map(SentenceDto::from).collect())
            }
            ParameterValue::Triggers(triggers) => FindingParameterDto::List(
                triggers
                    .iter()
                    .map(|trigger| trigger.code().to_string())
                    .collect(),
            ),
            ParameterValue::CitedRule(rule) => {
                let rule = rule.as_ref()?;
                FindingParameterDto::CitedRule(CitedRuleDto {
                    instrument: rule.instrument.clone(),
                    article: rule.article.clone(),
                    rule: rule.text.clone(),
                })
            }
        })
    }
}

/// An instrument binding both states and covering the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicableInstrumentDto {
    /// Catalog id.
    pub instrument_id: String,
    /// Title.
    pub title: String,
    /// Measure codes it covers.
    pub covered_measures: Vec<String>,
    /// Ids of supplements in force between the two states.
    pub supplements: Vec<String>,
}

/// The prevailing instrument and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PrevailingDto {
    /// Catalog id.
    pub instrument_id: String,
    /// Title.
    pub title: String,
    /// Why it prevails, in plain English.
    pub reason: String,
    /// The form of the sentence saying why, e.g. `prevails-over`.
    pub reason_code: String,
    /// The values that sentence refers to, by name.
    pub reason_parameters: BTreeMap<String, FindingParameterDto>,
    /// The deciding rule.
    pub citation: CitationDto,
}

/// Which instrument governs one measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MeasureBasisDto {
    /// Measure code.
    pub measure: String,
    /// Governing instrument id, absent when none covers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrument_id: Option<String>,
    /// The form of the sentence, e.g. `measure-covered-by-prevailing`.
    pub code: String,
    /// The values the sentence refers to, by name.
    pub parameters: BTreeMap<String, FindingParameterDto>,
    /// Why, in plain English.
    pub explanation: String,
}

/// A channel the request may take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelDto {
    /// `central_authority`, `direct_judicial`, `interpol`, `network247` or `diplomatic`.
    pub kind: String,
    /// `primary`, `alternative`, `urgent` or `for_measure`.
    pub usage: String,
    /// For `for_measure`: the measure code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    /// The form of the sentence, e.g. `channel-with-conditions`.
    pub code: String,
    /// The values the sentence refers to, by name.
    pub parameters: BTreeMap<String, FindingParameterDto>,
    /// With its conditions, in plain English.
    pub explanation: String,
    /// The rule.
    pub citation: CitationDto,
}

/// Accepted languages of the requested state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LanguagesDto {
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    /// `declared`, `official_language_not_verified` or `unknown`.
    pub basis: String,
    /// For `declared`: the declaration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<CitationDto>,
    /// The form of the sentence, e.g. `languages-declared`.
    pub code: String,
    /// The values the sentence refers to, by name.
    pub parameters: BTreeMap<String, FindingParameterDto>,
    /// In plain English.
    pub explanation: String,
}

/// One item of mandatory content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContentCheckDto {
    /// e.g. `summary_of_facts`.
    pub item: String,
    /// Present, or not needed.
    pub satisfied: bool,
    /// Required only where possible (a gap does not block approval).
    pub where_possible: bool,
    /// The form of the sentence, e.g. `content-facts-missing`.
    pub code: String,
    /// The values the sentence refers to, by name.
    pub parameters: BTreeMap<String, FindingParameterDto>,
    /// In plain English.
    pub explanation: String,
    /// The rule.
    pub citation: CitationDto,
}

/// Dual criminality for one measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DualCriminalityDto {
    /// Measure code.
    pub measure: String,
    /// `not_required`, `list_exception`, `exempt_measure`, `optional_ground` or `required`.
    pub outcome: String,
    /// `info`, `warning` or `blocking`.
    pub severity: String,
    /// The form of the sentence, e.g. `dual-criminality-not-coercive`.
    pub code: String,
    /// The values the sentence refers to, by name.
    pub parameters: BTreeMap<String, FindingParameterDto>,
    /// In plain English.
    pub explanation: String,
    /// The rule.
    pub citation: CitationDto,
}

/// A ground for refusal of the prevailing instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RefusalGroundDto {
    /// Code within the instrument.
    pub code: String,
    /// `mandatory` or `optional`.
    pub kind: String,
    /// The ground.
    pub description: String,
    /// Whether the facts raise it.
    pub raised_by_facts: bool,
    /// Codes of the facts that raise it.
    pub triggers: Vec<String>,
    /// The supplement that removes it between the two states, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_by: Option<CitationDto>,
    /// The rule.
    pub citation: CitationDto,
    /// Where the requested side must consult the requesting side before refusing on
    /// this ground: the rule that says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consult_first: Option<CitationDto>,
}

/// A time limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeadlineDto {
    /// e.g. `decision`, `preservation_minimum`.
    pub kind: String,
    /// Days, where fixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Hours, where the time limit is counted in hours (an interception notice: 96).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    /// The form of the sentence, e.g. `deadline-rule`.
    pub code: String,
    /// The values the sentence refers to, by name.
    pub parameters: BTreeMap<String, FindingParameterDto>,
    /// In plain English.
    pub explanation: String,
    /// The rule.
    pub citation: CitationDto,
}

/// The day counts used to track the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeadlinePolicyDto {
    /// Days to acknowledge receipt.
    pub acknowledgement_days: i64,
    /// Days to decide.
    pub decision_days: i64,
    /// Days from the decision to execution.
    pub execution_days: i64,
}

/// A finding that blocks approval and dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BlockingFindingDto {
    /// `content:<item>`, `warning:<kind>` or `dual_criminality:<measure>`.
    pub key: String,
    /// In plain English.
    pub explanation: String,
    /// The rule.
    pub citation: CitationDto,
}

/// A legal-basis assessment of one request on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AssessmentDto {
    /// ISO 3166-1 alpha-2.
    pub requesting_country: String,
    /// ISO 3166-1 alpha-2.
    pub requested_country: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Instruments binding both states and covering the request.
    pub applicable: Vec<ApplicableInstrumentDto>,
    /// Absent when no instrument applies (see `fallback`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prevailing: Option<PrevailingDto>,
    /// The reciprocity route, when no instrument applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<FindingDto>,
    /// Which instrument governs each measure.
    pub measure_bases: Vec<MeasureBasisDto>,
    /// Channels, the primary one first.
    pub channels: Vec<ChannelDto>,
    /// Accepted languages.
    pub languages: LanguagesDto,
    /// Mandatory content.
    pub checklist: Vec<ContentCheckDto>,
    /// Item codes of mandatory content that is missing (approval is blocked).
    pub missing_mandatory_content: Vec<String>,
    /// Every finding that stops approval and dispatch until a supervisor overrides it:
    /// missing content, blocking warnings, dual criminality that blocks a measure.
    pub blocking_findings: Vec<BlockingFindingDto>,
    /// Dual criminality per measure.
    pub dual_criminality: Vec<DualCriminalityDto>,
    /// Warnings and notes raised by the facts.
    pub warnings: Vec<FindingDto>,
    /// Grounds for refusal of the prevailing instrument.
    pub refusal_grounds: Vec<RefusalGroundDto>,
    /// Where the prevailing instrument requires reasons for any refusal: the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal_reasons: Option<CitationDto>,
    /// Time limits.
    pub deadlines: Vec<DeadlineDto>,
    /// Day counts used for tracking.
    pub deadline_policy: DeadlinePolicyDto,
    /// `info`, `warning` or `blocking`.
    pub highest_severity: String,
}

impl From<&Citation> for CitationDto {
    fn from(citation: &Citation) -> Self {
        CitationDto {
            instrument_id: citation.instrument_id.clone(),
            article: citation.article.clone(),
            source_url: citation.source_url.clone(),
        }
    }
}

impl From<&Finding> for FindingDto {
    fn from(finding: &Finding) -> Self {
        FindingDto {
            kind: finding.kind.code().to_string(),
            severity: finding.severity.code().to_string(),
            code: finding.code.code().to_string(),
            parameters: parameters_dto(&finding.parameters),
            explanation: finding.explanation.clone(),
            citation: (&finding.citation).into(),
        }
    }
}

impl From<&ContentCheck> for ContentCheckDto {
    fn from(check: &ContentCheck) -> Self {
        ContentCheckDto {
            item: check.item.code().to_string(),
            satisfied: check.satisfied,
            where_possible: check.where_possible,
            code: check.code.code().to_string(),
            parameters: parameters_dto(&check.parameters),
            explanation: check.explanation.clone(),
            citation: (&check.citation).into(),
        }
    }
}

impl From<&DualCriminalityFinding> for DualCriminalityDto {
    fn from(finding: &DualCriminalityFinding) -> Self {
        DualCriminalityDto {
            measure: finding.measure.code().to_string(),
            outcome: finding.outcome.code().to_string(),
            severity: finding.severity.code().to_string(),
            code: finding.code.code().to_string(),
            parameters: parameters_dto(&finding.parameters),
            explanation: finding.explanation.clone(),
            citation: (&finding.citation).into(),
        }
    }
}

impl From<&RefusalGround> for RefusalGroundDto {
    fn from(ground: &RefusalGround) -> Self {
        RefusalGroundDto {
            code: ground.code.clone(),
            kind: match ground.kind {
                GroundKind::Mandatory => "mandatory",
                GroundKind::Optional => "optional",
            }
            .to_string(),
            description: ground.description.clone(),
            raised_by_facts: ground.raised_by_facts,
            triggers: ground
                .triggers
                .iter()
                .map(|trigger| trigger.code().to_string())
                .collect(),
            removed_by: ground.removed_by.as_ref().map(CitationDto::from),
            consult_first: ground.consult_first.as_ref().map(CitationDto::from),
            citation: (&ground.citation).into(),
        }
    }
}

impl From<&DeadlineFinding> for DeadlineDto {
    fn from(deadline: &DeadlineFinding) -> Self {
        DeadlineDto {
            kind: deadline.kind.code().to_string(),
            days: deadline.days,
            hours: deadline.hours,
            code: deadline.code.code().to_string(),
            parameters: parameters_dto(&deadline.parameters),
            explanation: deadline.explanation.clone(),
            citation: (&deadline.citation).into(),
        }
    }
}

impl From<&Assessment> for AssessmentDto {
    fn from(assessment: &Assessment) -> Self {
        let policy = assessment.deadline_policy();
        AssessmentDto {
            requesting_country: assessment.requesting_country.as_str().to_string(),
            requested_country: assessment.requested_country.as_str().to_string(),
            date: assessment.date.to_string(),
            applicable: assessment
                .applicable
                .iter()
                .map(|applicable| ApplicableInstrumentDto {
                    instrument_id: applicable.instrument_id.clone(),
                    title: applicable.title.clone(),
                    covered_measures: applicable
                        .covered_measures
                        .iter()
                        .map(|measure| measure.code().to_string())
                        .collect(),
                    supplements: applicable.supplements.clone(),
                })
                .collect(),
            prevailing: assessment
                .prevailing
                .as_ref()
                .map(|prevailing| PrevailingDto {
                    instrument_id: prevailing.instrument_id.clone(),
                    title: prevailing.title.clone(),
                    reason: prevailing.reason.clone(),
                    reason_code: prevailing.reason_code.code().to_string(),
                    reason_parameters: parameters_dto(&prevailing.reason_parameters),
                    citation: (&prevailing.citation).into(),
                }),
            fallback: assessment.fallback.as_ref().map(FindingDto::from),
            measure_bases: assessment
                .measure_bases
                .iter()
                .map(|basis| MeasureBasisDto {
                    measure: basis.measure.code().to_string(),
                    instrument_id: basis.instrument_id.clone(),
                    code: basis.code.code().to_string(),
                    parameters: parameters_dto(&basis.parameters),
                    explanation: basis.explanation.clone(),
                })
                .collect(),
            channels: assessment
                .channels
                .iter()
                .map(|channel| {
                    let (usage, measure) = match channel.use_ {
                        ChannelUse::Primary => ("primary", None),
                        ChannelUse::Alternative => ("alternative", None),
                        ChannelUse::Urgent => ("urgent", None),
                        ChannelUse::ForMeasure(measure) => {
                            ("for_measure", Some(measure.code().to_string()))
                        }
                    };
                    ChannelDto {
                        kind: channel.kind.code().to_string(),
                        usage: usage.to_string(),
                        measure,
                        code: channel.code.code().to_string(),
                        parameters: parameters_dto(&channel.parameters),
                        explanation: channel.explanation.clone(),
                        citation: (&channel.citation).into(),
                    }
                })
                .collect(),
            languages: {
                let (basis, citation) = match &assessment.languages.basis {
                    LanguageBasis::Declared(citation) => ("declared", Some(citation.into())),
                    LanguageBasis::OfficialLanguageNotVerified => {
                        ("official_language_not_verified", None)
                    }
                    LanguageBasis::Unknown => ("unknown", None),
                };
                LanguagesDto {
                    languages: assessment.languages.languages.clone(),
                    basis: basis.to_string(),
                    citation,
                    code: assessment.languages.code.code().to_string(),
                    parameters: parameters_dto(&assessment.languages.parameters),
                    explanation: assessment.languages.explanation.clone(),
                }
            },
            checklist: assessment
                .checklist
                .iter()
                .map(ContentCheckDto::from)
                .collect(),
            missing_mandatory_content: assessment
                .missing_mandatory_content()
                .iter()
                .map(|check| check.item.code().to_string())
                .collect(),
            blocking_findings: assessment
                .blocking_findings()
                .iter()
                .map(|finding| BlockingFindingDto {
                    key: finding.key.clone(),
                    explanation: finding.explanation.clone(),
                    citation: (&finding.citation).into(),
                })
                .collect(),
            dual_criminality: assessment
                .dual_criminality
                .iter()
                .map(DualCriminalityDto::from)
                .collect(),
            warnings: assessment.warnings.iter().map(FindingDto::from).collect(),
            refusal_grounds: assessment
                .refusal_grounds
                .iter()
                .map(RefusalGroundDto::from)
                .collect(),
            refusal_reasons: assessment.refusal_reasons.as_ref().map(CitationDto::from),
            deadlines: assessment.deadlines.iter().map(DeadlineDto::from).collect(),
            deadline_policy: DeadlinePolicyDto {
                acknowledgement_days: policy.acknowledgement_days,
                decision_days: policy.decision_days,
                execution_days: policy.execution_days,
            },
            highest_severity: assessment.highest_severity().code().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{FindingCode, FindingKind, ParameterName, Severity};
    use comity_domain::MeasureKind;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_nested_sentence_is_an_object_with_its_own_code_and_parameters() {
        let reason = |provision: &str| {
            Sentence::new(
                FindingCode::OffenceNotListed,
                vec![FindingParameter::new(ParameterName::Provision, provision)],
            )
        };
        let dual = Sentence::new(
            FindingCode::DualCriminalityListExceptionFails,
            vec![
                FindingParameter::new(ParameterName::Rule, "Required."),
                FindingParameter::new(ParameterName::Measure, MeasureKind::SearchAndSeizure),
                FindingParameter::new(
                    ParameterName::Reasons,
                    ParameterValue::Sentences(vec![reason("art. 1"), reason("art. 2")]),
                ),
                FindingParameter::new(ParameterName::Baseline, ParameterValue::Sentence(None)),
            ],
        );
        let finding = Finding::new(
            FindingKind::CoerciveWithoutDualCriminality,
            Severity::Warning,
            FindingCode::CoerciveWithoutDualCriminality,
            vec![
                FindingParameter::new(ParameterName::Measure, MeasureKind::SearchAndSeizure),
                FindingParameter::new(ParameterName::Instrument, "MLAT"),
                FindingParameter::new(ParameterName::DualCriminality, dual),
            ],
            Citation {
                instrument_id: "mlat".into(),
                article: "5".into(),
                source_url: String::new(),
            },
        );
        let wire = serde_json::to_value(FindingDto::from(&finding)).expect("json");
        assert_eq!(wire["code"], "coercive-without-dual-criminality");
        assert_eq!(
            wire["parameters"]["dual_criminality"],
            json!({
                "code": "dual-criminality-list-exception-fails",
                "parameters": {
                    "rule": "Required.",
                    "measure": "search_and_seizure",
                    "reasons": [
                        {"code": "offence-not-listed", "parameters": {"provision": "art. 1"}},
                        {"code": "offence-not-listed", "parameters": {"provision": "art. 2"}},
                    ],
                },
            })
        );
        assert!(
            wire["explanation"]
                .as_str()
                .is_some_and(|text| text.ends_with("art. 2 is not a listed category."))
        );
    }
}
