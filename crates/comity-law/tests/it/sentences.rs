//! Checks every sentence of an assessment holds: its English text is its code and
//! parameters through the English wording, and its template (and that of every sentence
//! nested in its parameters) has a parameter for each placeholder.

use comity_law::wording::ENGLISH;
use comity_law::{Assessment, FindingCode, FindingParameter, ParameterValue};

/// Every sentence of `assessment`: where it is, its code, its parameters, its English text.
fn sentences(assessment: &Assessment) -> Vec<(String, FindingCode, &[FindingParameter], &str)> {
    let mut all: Vec<(String, FindingCode, &[FindingParameter], &str)> = Vec::new();
    if let Some(prevailing) = &assessment.prevailing {
        all.push((
            "prevailing".into(),
            prevailing.reason_code,
            &prevailing.reason_parameters,
            &prevailing.reason,
        ));
    }
    for finding in assessment.fallback.iter().chain(&assessment.warnings) {
        let place = format!("warning {}", finding.kind);
        all.push((
            place,
            finding.code,
            &finding.parameters,
            &finding.explanation,
        ));
    }
    for basis in &assessment.measure_bases {
        let place = format!("measure basis {}", basis.measure.code());
        all.push((place, basis.code, &basis.parameters, &basis.explanation));
    }
    for channel in &assessment.channels {
        let place = format!("channel {}", channel.kind.code());
        all.push((
            place,
            channel.code,
            &channel.parameters,
            &channel.explanation,
        ));
    }
    let languages = &assessment.languages;
    all.push((
        "languages".into(),
        languages.code,
        &languages.parameters,
        &languages.explanation,
    ));
    for check in &assessment.checklist {
        let place = format!("checklist {}", check.item.code());
        all.push((place, check.code, &check.parameters, &check.explanation));
    }
    for finding in &assessment.dual_criminality {
        let place = format!("dual criminality {}", finding.measure.code());
        all.push((
            place,
            finding.code,
            &finding.parameters,
            &finding.explanation,
        ));
    }
    for deadline in &assessment.deadlines {
        let place = format!("deadline {}", deadline.kind.code());
        all.push((
            place,
            deadline.code,
            &deadline.parameters,
            &deadline.explanation,
        ));
    }
    all
}

/// The placeholders of `code`'s English template without a parameter, and likewise for
/// every sentence nested in `parameters`, each as `code: {name}`.
fn unfilled(code: FindingCode, parameters: &[FindingParameter]) -> Vec<String> {
    let template = ENGLISH
        .templates
        .iter()
        .find(|(candidate, _)| *candidate == code)
        .map(|(_, template)| *template);
    let Some(template) = template else {
        return vec![format!("{code}: no English template")];
    };
    let mut missing = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if !parameters
            .iter()
            .any(|parameter| parameter.name.code() == name)
        {
            missing.push(format!("{code}: {{{name}}}"));
        }
        rest = &rest[open + close + 1..];
    }
    for parameter in parameters {
        match &parameter.value {
            ParameterValue::Sentence(Some(nested)) => {
                missing.extend(unfilled(nested.code, &nested.parameters));
            }
            ParameterValue::Sentences(nested) => {
                for sentence in nested {
                    missing.extend(unfilled(sentence.code, &sentence.parameters));
                }
            }
            _ => {}
        }
    }
    missing
}

/// What is wrong with the sentences of `assessment`; empty when nothing is.
pub fn sentence_problems(assessment: &Assessment) -> Vec<String> {
    let mut problems = Vec::new();
    for (place, code, parameters, english) in sentences(assessment) {
        let rendered = comity_law::render(code, parameters, &ENGLISH);
        if rendered != english {
            problems.push(format!(
                "{place}: {code} renders {rendered:?}, not {english:?}"
            ));
        }
        if english.trim().is_empty() {
            problems.push(format!("{place}: {code} says nothing"));
        }
        for missing in unfilled(code, parameters) {
            problems.push(format!("{place}: no parameter for {missing}"));
        }
    }
    problems
}
