//! Which applicable instrument prevails, which governs each measure, and whether the
//! request cites the right one.

use super::{Candidate, Engine, cite, short_title};
use crate::assessment::{Citation, Finding, FindingKind, MeasureBasis, Prevailing, Severity};
use crate::model::{Instrument, PrecedenceTarget};
use crate::wording::{FindingCode, FindingParameter, ParameterName, ParameterValue};

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
                    format!(
                        "{} is the specific regime for {}.",
                        candidate.instrument.title,
                        measure.label()
                    ),
                ))
            } else if let Some(index) = prevailing {
                if candidates[index].covers(measure) {
                    Some((
                        candidates[index].instrument,
                        format!(
                            "Covered by the prevailing {}.",
                            candidates[index].instrument.title
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
                            format!(
                                "Not covered by the prevailing {}; {} covers it between the two states.",
                                candidates[index].instrument.title, candidate.instrument.title
                            ),
                        )
                    })
                }
            } else if fallback.covers(measure) {
                Some((
                    fallback,
                    "No instrument applies: letters rogatory on reciprocity.".to_string(),
                ))
            } else {
                None
            };
            match basis {
                Some((instrument, explanation)) => bases.push(MeasureBasis {
                    measure,
                    instrument_id: Some(instrument.id.clone()),
                    explanation,
                }),
                None => {
                    let citing = prevailing.map_or(fallback, |index| candidates[index].instrument);
                    self.warnings.push(Finding::new(
                        FindingKind::MeasureNotCovered,
                        Severity::Warning,
                        FindingCode::MeasureNotCovered,
                        vec![FindingParameter::new(ParameterName::Measure, measure)],
                        cite(citing, &citing.basis_article),
                    ));
                    bases.push(MeasureBasis {
                        measure,
                        instrument_id: None,
                        explanation: "Not covered by any applicable instrument.".to_string(),
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
    pub(super) reason: String,
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
    for candidate in candidates {
        if candidate.instrument.id == winner.id {
            continue;
        }
        if let Some(citation) = beats(winner, candidate.instrument) {
            rules.push((short_title(candidate.instrument).to_string(), citation));
        }
    }
    let decision = if candidates.len() == 1 {
        Decision {
            reason: format!(
                "{} is the only instrument in the catalog that binds both states, is in force and covers \
                 the request.",
                winner.title
            ),
            citation: cite(winner, &winner.basis_article),
        }
    } else if let Some((_, citation)) = rules.first() {
        let others: Vec<String> = rules
            .iter()
            .map(|(title, citation)| {
                let rule = precedence_text(candidates, citation);
                format!(
                    "{title} (art. {} of {}: {rule})",
                    citation.article, citation.instrument_id
                )
            })
            .collect();
        let mut reason = format!("{} prevails over {}.", winner.title, others.join("; "));
        if unbeaten.len() > 1 {
            reason.push_str(" Other instruments remain available; the most specific one is used.");
        }
        Decision {
            reason,
            citation: citation.clone(),
        }
    } else {
        Decision {
            reason: format!(
                "{} and the other applicable instruments do not say which gives way; the most specific \
                 ({}) is used and the others remain available.",
                winner.title,
                winner.kind.code()
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
