//! Which instruments bind both states, are in force and cover the request.

use comity_domain::MeasureKind;

use super::{Candidate, Engine, cite};
use crate::assessment::{Finding, FindingKind, Severity};
use crate::model::{Instrument, InstrumentRole};
use crate::wording::{FindingCode, FindingParameter, ParameterName};

impl<'a> Engine<'a> {
    fn binds_both(&self, instrument: &Instrument) -> Option<bool> {
        instrument.parties.binds_pair(
            self.request.requesting_country,
            self.request.requested_country,
            self.today,
        )
    }

    fn supplements_of(&self, base: &Instrument) -> Vec<&'a Instrument> {
        self.catalog
            .instruments()
            .iter()
            .filter(|instrument| {
                instrument.role == InstrumentRole::Supplement
                    && instrument.supplements.as_deref() == Some(base.id.as_str())
                    && instrument.in_force_on(self.today)
                    && self.binds_both(instrument).is_some()
            })
            .collect()
    }

    fn in_scope(&mut self, instrument: &Instrument, supplements: &[&Instrument]) -> bool {
        let Some(scope) = &instrument.scope else {
            return true;
        };
        let by_measure = self
            .measures
            .iter()
            .any(|measure| scope.measures.contains(measure));
        let mut by_offence = false;
        for offence in &self.request.offences {
            let listed = scope.offence_categories.contains(&offence.category)
                || supplements
                    .iter()
                    .any(|supplement| supplement.adds_scope_categories.contains(&offence.category));
            let serious = scope.min_penalty_months.is_some_and(|threshold| {
                offence
                    .maximum_penalty_months
                    .is_some_and(|months| months >= threshold)
            });
            by_offence |= listed || serious;
        }
        if by_offence
            && !by_measure
            && let Some(note) = &scope.note
        {
            self.warnings.push(Finding::new(
                FindingKind::ScopeAssumption,
                Severity::Info,
                FindingCode::ScopeAssumption,
                vec![
                    FindingParameter::new(ParameterName::Instrument, instrument.title.as_str()),
                    FindingParameter::new(ParameterName::Rule, note.as_str()),
                ],
                cite(instrument, &scope.article),
            ));
        }
        by_offence || by_measure
    }

    pub(super) fn candidates(&mut self) -> Vec<Candidate<'a>> {
        let mut candidates = Vec::new();
        let catalog = self.catalog;
        for instrument in catalog.instruments() {
            if instrument.role != InstrumentRole::LegalBasis || !instrument.in_force_on(self.today)
            {
                continue;
            }
            let Some(dates_verified) = self.binds_both(instrument) else {
                continue;
            };
            let supplements = self.supplements_of(instrument);
            let covered: Vec<MeasureKind> = self
                .measures
                .iter()
                .copied()
                .filter(|&measure| {
                    instrument.covers(measure)
                        || supplements
                            .iter()
                            .any(|supplement| supplement.covers(measure))
                })
                .collect();
            if !self.measures.is_empty() && covered.is_empty() {
                continue;
            }
            // Scope notes are only worth raising for instruments that otherwise apply.
            let warnings_before = self.warnings.len();
            if !self.in_scope(instrument, &supplements) {
                self.warnings.truncate(warnings_before);
                continue;
            }
            candidates.push(Candidate {
                instrument,
                supplements,
                covered,
                dates_verified,
            });
        }
        candidates
    }
}
