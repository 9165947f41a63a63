//! Which applicable instrument prevails, which governs each measure, and whether the
//! request cites the right one.

use super::{Candidate, Engine, cite, short_title};
use crate::assessment::{Citation, Finding, FindingKind, MeasureBasis, Prevailing, Severity};
use crate::model::{Instrument, PrecedenceTarget};
use crate::wording::{FindingCode, FindingParameter, ParameterName, ParameterValue, Sentence};

impl<'a> Engine<'a> {
    pub(super) fn measure_bases(
        &mut self,
        candidates: &[Candidate<'a>],
        prevailing: Option<usize>,
    ) -> Vec<MeasureBasis> {
        let fallback = self.catalog.fallback();
        let mut bases = Vec::new();
        for &measure in &self.measures {
            let specific = candidates.iter().find(|candidate| {
                candidate.instrument.specific_measures.contains(&measure)
                    && candidate.covers(measure)
            });
            let basis = if let Some(candidate) = specific {
                Some((
                    candidate.instrument,
                    Sentence::new(
                        FindingCode::MeasureSpecificRegime,
                        vec![
                            FindingParameter::new(
                                ParameterName::Instrument,
                                candidate.instrument.title.as_str(),
                            ),
                            FindingParameter::new(ParameterName::Measure, measure),
                        ],
                    ),
                ))
            } else if let Some(index) = prevailing {
                if candidates[index].covers(measure) {
                    Some((
                        candidates[index].instrument,
                        Sentence::new(
                            FindingCode::MeasureCoveredByPrevailing,
                            vec![FindingParameter::new(
                                ParameterName::Instrument,
                                candidates[index].instrument.title.as_str(),
                            )],
                        ),
                    ))
                } else {
                    let mut others: Vec<&Candidate<'_>> = candidates
                        .iter()
                        .filter(|candidate| candidate.covers(measure))
                        .collect();
                    others.sort_by(|left, right| {
                        (left.instrument.kind, &left.instrument.id)
                            .cmp(&(right.instrument.kind, &right.instrument.id))
                    });
                    others.first().map(|candidate| {
                        (
                            candidate.instrument,
                            Sentence::new(
                                FindingCode::MeasureCoveredByOther,
                                vec![
                                    FindingParameter::new(
                                        ParameterName::PrevailingInstrument,
                                        candidates[index].instrument.title.as_str(),
                                    ),
                                    FindingParameter::new(
                                        ParameterName::Instrument,
                                        candidate.instrument.title.as_str(),
                                    ),
                                ],
                            ),
                        )
                    })
                }
            } else if fallback.covers(measure) {
                Some((
                    fallback,
                    Sentence::new(FindingCode::MeasureByReciprocity, Vec::new()),
                ))
            } else {
                None
            };
            match basis {
                Some((instrument, sentence)) => {
                    let (code, parameters, explanation) = sentence.into_parts();
                    bases.push(MeasureBasis {
                        measure,
                        instrument_id: Some(instrument.id.clone()),
                        code,
                        parameters,
                        explanation,
                    });
                }
                None => {
                    let citing = prevailing.map_or(fallback, |index| candidates[index].instrument);
                    self.warnings.push(Finding::new(
                        FindingKind::MeasureNotCovered,
                        Severity::Warning,
                        FindingCode::MeasureNotCovered,
                        vec![FindingParameter::new(ParameterName::Measure, measure)],
                        cite(citing, &citing.basis_article),
                    ));
                    let (code, parameters, explanation) =
                        Sentence::new(FindingCode::MeasureUncovered, Vec::new()).into_parts();
                    bases.push(MeasureBasis {
                        measure,
                        instrument_id: None,
                        code,
                        parameters,
                        explanation,
                    });
                }
            }
        }
        bases
    }

    pub(super) fn legal_basis_mismatch(&mut self, prevailing: Option<&Prevailing>) {
        let Some(prevailing) = prevailing else {
            return;
        };
        let basis = &self.request.legal_basis;
        if basis.is_empty() || basis.contains(&prevailing.instrument_id) {
            return;
        }
        self.warnings.push(Finding::new(
            FindingKind::LegalBasisMismatch,
            Severity::Warning,
            FindingCode::LegalBasisMismatch,
            vec![
                FindingParameter::new(
                    ParameterName::LegalBasis,
                    ParameterValue::Texts(basis.clone()),
                ),
                FindingParameter::new(ParameterName::Instrument, prevailing.title.as_str()),
            ],
            prevailing.citation.clone(),
        ));
    }
}

/// How the prevailing instrument was chosen.
pub(super) struct Decision {
    pub(super) reason: Sentence,
    pub(super) citation: Citation,
}

/// Why `winner` beats `loser`, if a rule of either says so.
fn beats(winner: &Instrument, loser: &Instrument) -> Option<Citation> {
    if let Some(rule) = winner
        .prevails_over
        .iter()
        .find(|rule| rule.target == PrecedenceTarget::Instrument(loser.id.clone()))
    {
        return Some(cite(winner, &rule.article));
    }
    let winner_defers_generally = winner
        .gives_way_to
        .iter()
        .any(|rule| rule.target == PrecedenceTarget::AnyMlaTreaty);
    loser
        .gives_way_to
        .iter()
        .find(|rule| match &rule.target {
            PrecedenceTarget::Instrument(id) => *id == winner.id,
            PrecedenceTarget::AnyMlaTreaty => !winner_defers_generally,
        })
        .map(|rule| cite(loser, &rule.article))
}

/// The prevailing candidate's index, and why it prevails; `None` without candidates.
pub(super) fn choose_prevailing(candidates: &[Candidate<'_>]) -> Option<(usize, Decision)> {
    if candidates.is_empty() {
        return None;
    }
    let beaten = |index: usize| {
        candidates.iter().enumerate().any(|(other, candidate)| {
            other != index && beats(candidate.instrument, candidates[index].instrument).is_some()
        })
    };
    let mut unbeaten: Vec<usize> = (0..candidates.len()).filter(|&i| !beaten(i)).collect();
    if unbeaten.is_empty() {
        unbeaten = (0..candidates.len()).collect();
    }
    unbeaten.sort_by(|&left, &right| {
        let key = |i: usize| (candidates[i].instrument.kind, &candidates[i].instrument.id);
        key(left).cmp(&key(right))
    });
    let winner_index = unbeaten[0];
    let winner = candidates[winner_index].instrument;
    let mut rules: Vec<(String, Citation)> = Vec::new();
    let title = || FindingParameter::new(ParameterName::Instrument, winner.title.as_str());
    for candidate in candidates {
        if candidate.instrument.id == winner.id {
            continue;
        }
        if let Some(citation) = beats(winner, candidate.instrument) {
            rules.push((short_title(candidate.instrument).to_string(), citation));
        }
    }
    // The winner's own precedence clause (EIO art. 34(1)) decides more specifically than
    // another instrument's general deference (UNTOC art. 18(7)), whatever the load order.
    rules.sort_by_key(|(_, citation)| citation.instrument_id != winner.id);
    let decision = if candidates.len() == 1 {
        Decision {
            reason: Sentence::new(FindingCode::PrevailsAsOnlyInstrument, vec![title()]),
            citation: cite(winner, &winner.basis_article),
        }
    } else if let Some((_, citation)) = rules.first() {
        let others: Vec<Sentence> = rules
            .iter()
            .map(|(title, citation)| {
                Sentence::new(
                    FindingCode::PrecedenceRule,
                    vec![
                        FindingParameter::new(ParameterName::Instrument, title.as_str()),
                        FindingParameter::new(ParameterName::Article, citation.article.as_str()),
                        FindingParameter::new(
                            ParameterName::InstrumentId,
                            citation.instrument_id.as_str(),
                        ),
                        FindingParameter::new(
                            ParameterName::Rule,
                            precedence_text(candidates, citation),
                        ),
                    ],
                )
            })
            .collect();
        let code = if unbeaten.len() > 1 {
            FindingCode::PrevailsOverOthersAvailable
        } else {
            FindingCode::PrevailsOver
        };
        Decision {
            reason: Sentence::new(
                code,
                vec![
                    title(),
                    FindingParameter::new(ParameterName::Others, ParameterValue::Sentences(others)),
                ],
            ),
            citation: citation.clone(),
        }
    } else {
        Decision {
            reason: Sentence::new(
                FindingCode::PrevailsAsMostSpecific,
                vec![
                    title(),
                    FindingParameter::new(ParameterName::InstrumentKind, winner.kind.code()),
                ],
            ),
            citation: cite(winner, &winner.basis_article),
        }
    };
    Some((winner_index, decision))
}

fn precedence_text(candidates: &[Candidate<'_>], citation: &Citation) -> String {
    candidates
        .iter()
        .filter(|candidate| candidate.instrument.id == citation.instrument_id)
        .flat_map(|candidate| {
            candidate
                .instrument
                .prevails_over
                .iter()
                .chain(candidate.instrument.gives_way_to.iter())
        })
        .find(|rule| rule.article == citation.article)
        .map(|rule| rule.text.clone())
        .unwrap_or_default()
}
