//! Dual criminality, measure by measure.

use comity_domain::MeasureKind;

use super::{Engine, cite, short_title};
use crate::assessment::{
    DualCriminalityFinding, DualCriminalityOutcome, Finding, FindingKind, MeasureBasis, Severity,
};
use crate::model::{DualCriminalityMode, Instrument};
use crate::wording::{FindingCode, FindingParameter, ParameterName};

impl<'a> Engine<'a> {
    pub(super) fn dual_criminality(
        &mut self,
        measure_bases: &[MeasureBasis],
    ) -> Vec<DualCriminalityFinding> {
        let mut findings = Vec::new();
        for basis in measure_bases {
            let Some(instrument) = self.governing(basis) else {
                continue;
            };
            let finding = self.dual_criminality_for(instrument, basis.measure);
            if finding.outcome.is_required() && basis.measure.is_coercive() {
                self.warnings.push(Finding::new(
                    FindingKind::CoerciveWithoutDualCriminality,
                    Severity::Warning,
                    FindingCode::CoerciveWithoutDualCriminality,
                    vec![
                        FindingParameter::new(ParameterName::Measure, basis.measure),
                        FindingParameter::new(ParameterName::Instrument, short_title(instrument)),
                        FindingParameter::new(
                            ParameterName::DualCriminality,
                            finding.explanation.as_str(),
                        ),
                    ],
                    finding.citation.clone(),
                ));
            }
            findings.push(finding);
        }
        findings
    }

    fn dual_criminality_for(
        &self,
        instrument: &Instrument,
        measure: MeasureKind,
    ) -> DualCriminalityFinding {
        let label = measure.label();
        let finding =
            |outcome, severity, explanation: String, article: &str| DualCriminalityFinding {
                measure,
                outcome,
                severity,
                explanation,
                citation: cite(instrument, article),
            };
        let Some(rule) = &instrument.dual_criminality else {
            return finding(
                DualCriminalityOutcome::OptionalGround,
                Severity::Info,
                format!(
                    "The catalog does not record {}'s rule on dual criminality; check the treaty before \
                     relying on it for {label}.",
                    short_title(instrument)
                ),
                &instrument.basis_article,
            );
        };
        if let Some(exception) = rule
            .measure_exceptions
            .iter()
            .find(|exception| exception.measure == measure)
        {
            return finding(
                DualCriminalityOutcome::ExemptMeasure,
                Severity::Info,
                format!(
                    "Dual criminality is not required for {label} under {}.",
                    short_title(instrument)
                ),
                &exception.article,
            );
        }
        let coercive = measure.is_coercive();
        match rule.mode {
            DualCriminalityMode::NotRequired => finding(
                DualCriminalityOutcome::NotRequired,
                Severity::Info,
                format!("{} {}", short_title(instrument), rule.text),
                &rule.article,
            ),
            DualCriminalityMode::Required => finding(
                DualCriminalityOutcome::Required,
                if coercive {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                format!("For {label}: {}", rule.text),
                &rule.article,
            ),
            DualCriminalityMode::OptionalGround => finding(
                DualCriminalityOutcome::OptionalGround,
                if coercive {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                format!(
                    "For {label}: {}{}",
                    rule.text,
                    if coercive {
                        " As the measure is coercive, the requested state is likely to use that discretion."
                    } else {
                        ""
                    }
                ),
                &rule.article,
            ),
            DualCriminalityMode::RequiredForCoercive => {
                if !coercive {
                    let article = rule
                        .non_coercive_article
                        .as_deref()
                        .unwrap_or(&rule.article);
                    return finding(
                        DualCriminalityOutcome::ExemptMeasure,
                        Severity::Info,
                        format!(
                            "{label} is not coercive: dual criminality cannot be required for it under {}.",
                            short_title(instrument)
                        ),
                        article,
                    );
                }
                if let Some(exception) = &rule.list_exception {
                    let offences = &self.request.offences;
                    let qualifies = |months: Option<u32>, annex_d: bool| {
                        annex_d
                            && months.is_some_and(|months| months >= exception.min_penalty_months)
                    };
                    if !offences.is_empty()
                        && offences.iter().all(|offence| {
                            qualifies(
                                offence.maximum_penalty_months,
                                offence.category.is_annex_d(),
                            )
                        })
                    {
                        return finding(
                            DualCriminalityOutcome::ListException,
                            Severity::Info,
                            format!(
                                "Every offence is in a listed category and punishable in the requesting \
                                 state by at least {} months: dual criminality cannot be required for {label}.",
                                exception.min_penalty_months
                            ),
                            &exception.article,
                        );
                    }
                    let reasons: Vec<String> = offences
                        .iter()
                        .filter(|offence| {
                            !qualifies(
                                offence.maximum_penalty_months,
                                offence.category.is_annex_d(),
                            )
                        })
                        .map(|offence| {
                            if !offence.category.is_annex_d() {
                                format!("{} is not a listed category", offence.national_provision)
                            } else {
                                match offence.maximum_penalty_months {
                                    Some(months) => format!(
                                        "{} carries at most {months} months (threshold {})",
                                        offence.national_provision, exception.min_penalty_months
                                    ),
                                    None => format!(
                                        "{}: maximum penalty not stated",
                                        offence.national_provision
                                    ),
                                }
                            }
                        })
                        .collect();
                    let why = if offences.is_empty() {
                        "no offence is stated".to_string()
                    } else {
                        reasons.join("; ")
                    };
                    return finding(
                        DualCriminalityOutcome::Required,
                        Severity::Warning,
                        format!(
                            "{} The list exception does not apply to {label}: {why}.",
                            rule.text
                        ),
                        &exception.article,
                    );
                }
                finding(
                    DualCriminalityOutcome::Required,
                    Severity::Warning,
                    format!("For {label}: {}", rule.text),
                    &rule.article,
                )
            }
        }
    }
}
