//! Time limits, and the deadline policy used to track the request.

use comity_domain::{DeadlinePolicy, MeasureKind};

use super::{Candidate, Engine, cite, short_title};
use crate::assessment::{DeadlineFinding, Finding, FindingKind, MeasureBasis, Severity};
use crate::model::{DeadlineRuleKind, Instrument};
use crate::wording::{FindingCode, FindingParameter, ParameterName, ParameterValue, Sentence};

impl<'a> Engine<'a> {
    pub(super) fn deadlines(
        &mut self,
        base: &Instrument,
        candidates: &[Candidate<'a>],
        measure_bases: &[MeasureBasis],
    ) -> (Vec<DeadlineFinding>, DeadlinePolicy) {
        let urgent = self.request.urgency.is_urgent();
        let mut findings: Vec<DeadlineFinding> = Vec::new();
        let mut push_rules = |instrument: &Instrument, only: Option<MeasureKind>| {
            for rule in &instrument.deadlines {
                if rule.kind == DeadlineRuleKind::Urgent && !urgent {
                    continue;
                }
                let measure_ok = match (only, rule.measures.is_empty()) {
                    (_, true) => only.is_none(),
                    (Some(measure), false) => rule.measures.contains(&measure),
                    (None, false) => self.measures.iter().any(|m| rule.measures.contains(m)),
                };
                if !measure_ok {
                    continue;
                }
                let duplicate = findings.iter().any(|existing| {
                    existing.kind == rule.kind
                        && existing.citation.instrument_id == instrument.id
                        && existing.citation.article == rule.article
                });
                if duplicate {
                    continue;
                }
                let (code, parameters, explanation) = Sentence::new(
                    FindingCode::DeadlineRule,
                    vec![
                        FindingParameter::new(ParameterName::Rule, rule.text.as_str()),
                        FindingParameter::new(ParameterName::Instrument, short_title(instrument)),
                        FindingParameter::new(ParameterName::Article, rule.article.as_str()),
                    ],
                )
                .into_parts();
                findings.push(DeadlineFinding {
                    kind: rule.kind,
                    days: rule.days,
                    hours: rule.hours,
                    code,
                    parameters,
                    explanation,
                    citation: cite(instrument, &rule.article),
                });
            }
        };
        push_rules(base, None);
        for basis in measure_bases {
            if let Some(instrument) = self.governing(basis)
                && instrument.id != base.id
                && candidates
                    .iter()
                    .any(|candidate| candidate.instrument.id == instrument.id)
            {
                push_rules(instrument, Some(basis.measure));
            }
        }
        let days = |kind: DeadlineRuleKind| {
            // Rules tied to measures (the 96 hours of an interception notice...) do not
            // change the request's general time limits.
            base.deadlines
                .iter()
                .find(|rule| rule.kind == kind && rule.measures.is_empty())
                .and_then(|rule| rule.days)
                .map(i64::from)
        };
        let defaults = DeadlinePolicy::default();
        let acknowledgement = days(DeadlineRuleKind::Acknowledgement);
        let decision = days(DeadlineRuleKind::Decision);
        let execution = days(DeadlineRuleKind::Execution);
        if acknowledgement.is_none() && decision.is_none() && execution.is_none() {
            self.warnings.push(Finding::new(
                FindingKind::NoFixedDeadlines,
                Severity::Info,
                FindingCode::NoFixedDeadlines,
                vec![
                    FindingParameter::new(ParameterName::Instrument, short_title(base)),
                    FindingParameter::new(
                        ParameterName::AcknowledgementDays,
                        ParameterValue::Days(defaults.acknowledgement_days),
                    ),
                    FindingParameter::new(
                        ParameterName::DecisionDays,
                        ParameterValue::Days(defaults.decision_days),
                    ),
                    FindingParameter::new(
                        ParameterName::ExecutionDays,
                        ParameterValue::Days(defaults.execution_days),
                    ),
                ],
                cite(
                    base,
                    base.deadlines
                        .first()
                        .map_or(base.basis_article.as_str(), |rule| rule.article.as_str()),
                ),
            ));
        }
        let policy = DeadlinePolicy {
            acknowledgement_days: acknowledgement.unwrap_or(defaults.acknowledgement_days),
            decision_days: decision.unwrap_or(defaults.decision_days),
            execution_days: execution.unwrap_or(defaults.execution_days),
        };
        (findings, policy)
    }
}
