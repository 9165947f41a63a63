//! The rules an instrument sets for one measure (conditions, a person's consent, further
//! grounds for refusal), and the limits on the use of what the requesting state receives.

use super::{Candidate, Engine, cite, short_title};
use crate::assessment::{Finding, FindingKind, MeasureBasis, RefusalGround, Severity};
use crate::model::{Instrument, MeasureRule};
use crate::wording::{FindingCode, FindingParameter, ParameterName, ParameterValue, Sentence};

impl<'a> Engine<'a> {
    /// Records each governing instrument's rules for the measures it governs (with those of
    /// its supplements binding both states), and returns the further grounds for refusal
    /// those rules add.
    pub(super) fn measure_rules(
        &mut self,
        candidates: &[Candidate<'a>],
        measure_bases: &[MeasureBasis],
    ) -> Vec<RefusalGround> {
        let mut grounds = Vec::new();
        for basis in measure_bases {
            let Some(instrument) = self.governing(basis) else {
                continue;
            };
            let supplements = candidates
                .iter()
                .find(|candidate| candidate.instrument.id == instrument.id)
                .map(|candidate| candidate.supplements.clone())
                .unwrap_or_default();
            for source in std::iter::once(instrument).chain(supplements) {
                for rule in &source.measure_rules {
                    if rule.measure == basis.measure {
                        self.measure_rule(source, rule, &mut grounds);
                    }
                }
            }
        }
        grounds
    }

    fn measure_rule(
        &mut self,
        instrument: &Instrument,
        rule: &MeasureRule,
        grounds: &mut Vec<RefusalGround>,
    ) {
        let title = || FindingParameter::new(ParameterName::Instrument, short_title(instrument));
        let measure = || FindingParameter::new(ParameterName::Measure, rule.measure);
        let mut parameters = vec![
            measure(),
            title(),
            FindingParameter::new(ParameterName::Article, rule.article.as_str()),
            FindingParameter::new(ParameterName::Rule, rule.text.as_str()),
        ];
        let code = if rule.grounds.is_empty() {
            FindingCode::MeasureCondition
        } else {
            let sentences = rule
                .grounds
                .iter()
                .map(|ground| {
                    Sentence::new(
                        FindingCode::MeasureGround,
                        vec![
                            FindingParameter::new(ParameterName::Rule, ground.text.as_str()),
                            FindingParameter::new(ParameterName::Article, ground.article.as_str()),
                        ],
                    )
                })
                .collect();
            parameters.push(FindingParameter::new(
                ParameterName::Grounds,
                ParameterValue::Sentences(sentences),
            ));
            FindingCode::MeasureConditionWithGrounds
        };
        self.warnings.push(Finding::new(
            FindingKind::MeasureCondition,
            Severity::Info,
            code,
            parameters,
            cite(instrument, &rule.article),
        ));
        for ground in &rule.grounds {
            grounds.push(RefusalGround {
                code: format!("{}:{}", rule.measure.code(), ground.code),
                kind: ground.kind,
                description: ground.text.clone(),
                raised_by_facts: false,
                triggers: Vec::new(),
                removed_by: None,
                citation: cite(instrument, &ground.article),
                consult_first: ground
                    .consult_first
                    .as_deref()
                    .map(|article| cite(instrument, article)),
            });
        }
        let Some(consent) = &rule.consent else {
            return;
        };
        let persons: Vec<String> = self
            .request
            .persons
            .iter()
            .filter(|person| consent.of.is_empty() || consent.of.contains(&person.role))
            .map(|person| person.full_name.clone())
            .collect();
        // Consent limited to some roles (the suspect or accused heard by video conference)
        // is needed only where such a person is named.
        if persons.is_empty() && !consent.of.is_empty() {
            return;
        }
        let mut parameters = vec![
            measure(),
            title(),
            FindingParameter::new(ParameterName::Article, consent.article.as_str()),
            FindingParameter::new(ParameterName::Rule, consent.text.as_str()),
        ];
        let code = if persons.is_empty() {
            FindingCode::ConsentRequiredUnnamed
        } else {
            parameters.push(FindingParameter::new(
                ParameterName::Persons,
                ParameterValue::Texts(persons),
            ));
            FindingCode::ConsentRequired
        };
        self.warnings.push(Finding::new(
            FindingKind::ConsentRequired,
            Severity::Warning,
            code,
            parameters,
            cite(instrument, &consent.article),
        ));
    }

    /// The limits the prevailing instrument (and its supplements binding both states) puts
    /// on the use of what the requesting state receives.
    pub(super) fn use_rules(&mut self, base: &Instrument, supplements: &[&Instrument]) {
        for instrument in std::iter::once(base).chain(supplements.iter().copied()) {
            for rule in &instrument.use_rules {
                self.warnings.push(Finding::new(
                    FindingKind::UseRestriction,
                    Severity::Info,
                    FindingCode::UseRestriction,
                    vec![
                        FindingParameter::new(ParameterName::Instrument, short_title(instrument)),
                        FindingParameter::new(ParameterName::Article, rule.article.as_str()),
                        FindingParameter::new(ParameterName::Rule, rule.text.as_str()),
                    ],
                    cite(instrument, &rule.article),
                ));
            }
        }
    }
}
