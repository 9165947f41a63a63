//! The channels the request may take and the languages the requested state accepts.

use super::{Candidate, Engine, cite, short_title};
use crate::assessment::{ChannelFinding, ChannelUse, LanguageAdvice, LanguageBasis, MeasureBasis};
use crate::model::{ChannelRule, ChannelWhen, Instrument};
use crate::wording::{FindingCode, FindingParameter, ParameterName, ParameterValue, Sentence};

impl<'a> Engine<'a> {
    pub(super) fn channels(
        &self,
        base: &Instrument,
        supplements: &[&Instrument],
        candidates: &[Candidate<'a>],
        measure_bases: &[MeasureBasis],
    ) -> Vec<ChannelFinding> {
        let urgent = self.request.urgency.is_urgent();
        let mut channels: Vec<ChannelFinding> = Vec::new();
        let mut push = |finding: ChannelFinding| {
            let duplicate = channels
                .iter()
                .any(|existing| existing.kind == finding.kind && existing.use_ == finding.use_);
            if !duplicate {
                channels.push(finding);
            }
        };
        let finding = |instrument: &Instrument, rule: &ChannelRule, use_: ChannelUse| {
            let mut parameters = vec![
                FindingParameter::new(ParameterName::Channel, rule.kind),
                FindingParameter::new(ParameterName::Instrument, short_title(instrument)),
            ];
            let code = if rule.text.is_empty() {
                FindingCode::Channel
            } else {
                parameters.push(FindingParameter::new(
                    ParameterName::Rule,
                    rule.text.as_str(),
                ));
                FindingCode::ChannelWithConditions
            };
            let (code, parameters, explanation) = Sentence::new(code, parameters).into_parts();
            ChannelFinding {
                kind: rule.kind,
                use_,
                code,
                parameters,
                explanation,
                citation: cite(instrument, &rule.article),
            }
        };
        let mut primary_taken = false;
        for instrument in std::iter::once(base).chain(supplements.iter().copied()) {
            for rule in &instrument.channels {
                let use_ = match rule.when {
                    ChannelWhen::Always if !primary_taken => {
                        primary_taken = true;
                        ChannelUse::Primary
                    }
                    ChannelWhen::Always => ChannelUse::Alternative,
                    ChannelWhen::Urgent if urgent => ChannelUse::Urgent,
                    ChannelWhen::Urgent => continue,
                    ChannelWhen::ForMeasures => {
                        for &measure in &self.measures {
                            if rule.measures.contains(&measure) {
                                push(finding(instrument, rule, ChannelUse::ForMeasure(measure)));
                            }
                        }
                        continue;
                    }
                };
                push(finding(instrument, rule, use_));
            }
        }
        // Channels of instruments that govern single measures (the 24/7 network...).
        for basis in measure_bases {
            let Some(instrument) = self.governing(basis) else {
                continue;
            };
            if instrument.id == base.id
                || !candidates
                    .iter()
                    .any(|candidate| candidate.instrument.id == instrument.id)
            {
                continue;
            }
            for rule in &instrument.channels {
                let applies = match rule.when {
                    ChannelWhen::ForMeasures => rule.measures.contains(&basis.measure),
                    ChannelWhen::Urgent => urgent,
                    ChannelWhen::Always => false,
                };
                if applies {
                    push(finding(
                        instrument,
                        rule,
                        ChannelUse::ForMeasure(basis.measure),
                    ));
                }
            }
        }
        channels
    }

    pub(super) fn languages(
        &self,
        base: &Instrument,
        supplements: &[&Instrument],
    ) -> LanguageAdvice {
        let requested = self.request.requested_country;
        for instrument in std::iter::once(base).chain(supplements.iter().copied()) {
            for declaration in &instrument.declarations {
                if declaration.state == requested && !declaration.languages.is_empty() {
                    let (code, parameters, explanation) = Sentence::new(
                        FindingCode::LanguagesDeclared,
                        vec![
                            FindingParameter::new(ParameterName::RequestedCountry, requested),
                            FindingParameter::new(
                                ParameterName::Instrument,
                                short_title(instrument),
                            ),
                            FindingParameter::new(
                                ParameterName::Article,
                                declaration.article.as_str(),
                            ),
                            FindingParameter::new(
                                ParameterName::Languages,
                                ParameterValue::Texts(declaration.languages.clone()),
                            ),
                            FindingParameter::new(
                                ParameterName::Source,
                                declaration.source.as_str(),
                            ),
                        ],
                    )
                    .into_parts();
                    return LanguageAdvice {
                        languages: declaration.languages.clone(),
                        basis: LanguageBasis::Declared(cite(instrument, &declaration.article)),
                        code,
                        parameters,
                        explanation,
                    };
                }
            }
        }
        let country = FindingParameter::new(ParameterName::RequestedCountry, requested);
        let (languages, basis, sentence) = match self.catalog.official_languages(requested) {
            Some(languages) => (
                languages.to_vec(),
                LanguageBasis::OfficialLanguageNotVerified,
                Sentence::new(
                    FindingCode::LanguagesOfficial,
                    vec![
                        country,
                        FindingParameter::new(
                            ParameterName::Languages,
                            ParameterValue::Texts(languages.to_vec()),
                        ),
                    ],
                ),
            ),
            None => (
                Vec::new(),
                LanguageBasis::Unknown,
                Sentence::new(FindingCode::LanguagesUnknown, vec![country]),
            ),
        };
        let (code, parameters, explanation) = sentence.into_parts();
        LanguageAdvice {
            languages,
            basis,
            code,
            parameters,
            explanation,
        }
    }
}
