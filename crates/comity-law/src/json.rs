//! The serialized form of a legal-basis assessment (`comity_law::Assessment`), for the
//! API and the CLI's `law assess --json`: plain strings for every code, converted by hand.
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
    Finding, GroundKind, LanguageBasis, ParameterValue, RefusalGround,
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
    /// `requested_country`...): countries, measures, facts and dates as their codes, days
    /// as numbers, a cited safeguard rule as an object (absent where the catalog has none).
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
    /// A number of days.
    Days(i64),
    /// Several texts or codes: instrument ids, or the codes of the facts that raise a
    /// ground for refusal.
    List(Vec<String>),
    /// A catalog rule cited after the sentence.
    CitedRule(CitedRuleDto),
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
            ParameterValue::Days(days) => FindingParameterDto::Days(*days),
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
    /// Why it prevails.
    pub reason: String,
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
    /// Why.
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
    /// With its conditions.
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
}

/// A time limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeadlineDto {
    /// e.g. `decision`, `preservation_minimum`.
    pub kind: String,
    /// Days, where fixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
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
    /// Dual criminality per measure.
    pub dual_criminality: Vec<DualCriminalityDto>,
    /// Warnings and notes raised by the facts.
    pub warnings: Vec<FindingDto>,
    /// Grounds for refusal of the prevailing instrument.
    pub refusal_grounds: Vec<RefusalGroundDto>,
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
            parameters: finding
                .parameters
                .iter()
                .filter_map(|parameter| {
                    FindingParameterDto::from_value(&parameter.value)
                        .map(|value| (parameter.name.code().to_string(), value))
                })
                .collect(),
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
            citation: (&ground.citation).into(),
        }
    }
}

impl From<&DeadlineFinding> for DeadlineDto {
    fn from(deadline: &DeadlineFinding) -> Self {
        DeadlineDto {
            kind: deadline.kind.code().to_string(),
            days: deadline.days,
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
                    citation: (&prevailing.citation).into(),
                }),
            fallback: assessment.fallback.as_ref().map(FindingDto::from),
            measure_bases: assessment
                .measure_bases
                .iter()
                .map(|basis| MeasureBasisDto {
                    measure: basis.measure.code().to_string(),
                    instrument_id: basis.instrument_id.clone(),
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
