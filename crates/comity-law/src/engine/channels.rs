//! The channels the request may take and the languages the requested state accepts.

use super::{Candidate, Engine, cite, short_title};
use crate::assessment::{ChannelFinding, ChannelUse, LanguageAdvice, LanguageBasis, MeasureBasis};
use crate::model::{ChannelKind, ChannelRule, ChannelWhen, Instrument};

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
        let describe = |instrument: &Instrument, rule: &ChannelRule| {
            let mut text = format!(
                "{} under {}",
                channel_label(rule.kind),
                short_title(instrument)
            );
            if !rule.text.is_empty() {
                text.push_str(": ");
                text.push_str(&rule.text);
            }
            text
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
                                push(ChannelFinding {
                                    kind: rule.kind,
                                    use_: ChannelUse::ForMeasure(measure),
                                    explanation: describe(instrument, rule),
                                    citation: cite(instrument, &rule.article),
                                });
                            }
                        }
                        continue;
                    }
                };
                push(ChannelFinding {
                    kind: rule.kind,
                    use_,
                    explanation: describe(instrument, rule),
                    citation: cite(instrument, &rule.article),
                });
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
                    push(ChannelFinding {
                        kind: rule.kind,
                        use_: ChannelUse::ForMeasure(basis.measure),
                        explanation: describe(instrument, rule),
                        citation: cite(instrument, &rule.article),
                    });
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
                    return LanguageAdvice {
                        languages: declaration.languages.clone(),
                        basis: LanguageBasis::Declared(cite(instrument, &declaration.article)),
                        explanation: format!(
                            "{} declared under {} art. {} that it accepts requests in: {} (source: {}).",
                            requested.english_name(),
                            short_title(instrument),
                            declaration.article,
                            declaration.languages.join(", "),
                            declaration.source
                        ),
                    };
                }
            }
        }
        match self.catalog.official_languages(requested) {
            Some(languages) => LanguageAdvice {
                languages: languages.to_vec(),
                basis: LanguageBasis::OfficialLanguageNotVerified,
                explanation: format!(
                    "Official language(s) of {}: {}. No declaration on accepted languages is verified \
                     in the catalog; confirm with the central authority.",
                    requested.english_name(),
                    languages.join(", ")
                ),
            },
            None => LanguageAdvice {
                languages: Vec::new(),
                basis: LanguageBasis::Unknown,
                explanation: format!(
                    "The catalog holds no language information for {}; ask its central authority.",
                    requested.english_name()
                ),
            },
        }
    }
}

fn channel_label(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::CentralAuthority => "Between central authorities",
        ChannelKind::DirectJudicial => "Directly between judicial authorities",
        ChannelKind::Interpol => "Through INTERPOL",
        ChannelKind::Network247 => "Through the 24/7 network of contact points",
        ChannelKind::Diplomatic => "Through the diplomatic channel",
    }
}
