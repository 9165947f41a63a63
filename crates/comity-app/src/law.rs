//! The legal-basis engine in the use cases: assessing drafts, gating approval and
//! dispatch on the blocking findings, and checking that a refusal cites the prevailing
//! instrument.

use std::sync::{Arc, OnceLock};

use comity_domain::{
    Action, Actor, RequestContent, RequestId, Role, TransitionCommand, TransitionRecord,
};
use comity_law::{Assessment, BlockingFinding, Catalog};

use crate::{App, AppError, Principal};

/// The catalog embedded in the binary, parsed once per process.
pub fn embedded_catalog() -> Result<Arc<Catalog>, AppError> {
    static CATALOG: OnceLock<Result<Arc<Catalog>, String>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            Catalog::embedded()
                .map(Arc::new)
                .map_err(|error| error.to_string())
        })
        .clone()
        .map_err(AppError::Catalog)
}

/// How a refusal names a ground: `"{instrument} art. {article}"`, e.g. `untoc art. 18(21)(b)`,
/// or `"{instrument}:{code}"`.
pub fn ground_reference(ground: &comity_law::RefusalGround) -> String {
    ground.reference()
}

impl App {
    /// The engine's assessment of request content, as of today.
    pub fn assess(&self, content: &RequestContent) -> Assessment {
        let today = self.now().date().unwrap_or(comity_domain::Date::UNIX_EPOCH);
        comity_law::assess(&self.catalog, content, today)
    }

    /// Assesses draft content without storing anything (live guidance while drafting).
    pub async fn assess_draft(
        &self,
        principal: &Principal,
        input: &comity_wire::RequestContentDto,
    ) -> Result<Assessment, AppError> {
        let mut tx = self.store().begin().await?;
        let content = crate::requests::parse_content(self, &mut tx, principal, input).await?;
        Ok(self.assess(&content))
    }

    /// The assessment of a stored request the principal's authority holds.
    pub async fn request_assessment(
        &self,
        principal: &Principal,
        request_id: &RequestId,
    ) -> Result<Assessment, AppError> {
        let details = self.request_details(principal, request_id).await?;
        Ok(self.assess(&details.request.content))
    }

    /// The legal checks a transition must pass: approval and dispatch stop at every
    /// blocking finding (missing mandatory content, a blocking warning, dual criminality
    /// that blocks a measure) unless a supervisor overrides it with a recorded
    /// justification, and a refusal must cite grounds of the prevailing instrument.
    /// Returns the reason to record, which carries an override's justification.
    ///
    /// A dispatch needs no second override when a supervisor approved the request and
    /// every finding that blocks it now already blocked it on the day of that approval
    /// (the content cannot change after approval, so the approval overrode them).
    pub(crate) fn legal_gate(
        &self,
        content: &RequestContent,
        history: &[TransitionRecord],
        command: &TransitionCommand,
        role: Role,
        override_justification: Option<&str>,
    ) -> Result<Option<String>, AppError> {
        match command.action {
            Action::Approve | Action::Dispatch => {
                let blocking = self.blocking_findings_for(content, history, command.action);
                if blocking.is_empty() {
                    return Ok(command.reason.clone());
                }
                let listed: Vec<String> = blocking
                    .iter()
                    .map(|finding| {
                        format!("{} ({})", finding.explanation, finding.citation.reference())
                    })
                    .collect();
                let action = match command.action {
                    Action::Approve => "approval",
                    _ => "dispatch",
                };
                match supervisor_justification(
                    role,
                    override_justification,
                    "override blocking findings",
                )? {
                    Some(justification) => Ok(Some(format!(
                        "supervisor override of blocking findings [{}]: {justification}",
                        listed.join("; ")
                    ))),
                    None => Err(AppError::LegalGate(format!(
                        "{action} is blocked until these are resolved or a supervisor overrides them: {}",
                        listed.join("; ")
                    ))),
                }
            }
            Action::Refuse => {
                let assessment = self.assess(content);
                if assessment.refusal_grounds.is_empty() {
                    return Ok(command.reason.clone());
                }
                let proposed = assessment.proposed_refusal(&command.grounds);
                if let Some((index, refused)) = proposed
                    .iter()
                    .enumerate()
                    .find(|(_, proposed)| !proposed.is_allowed())
                {
                    let offered: Vec<String> = assessment
                        .refusal_grounds
                        .iter()
                        .map(ground_reference)
                        .collect();
                    return Err(AppError::invalid(
                        format!("grounds[{index}]"),
                        format!(
                            "`{}` is not a ground of the prevailing instrument; cite one of: {}",
                            refused.cited,
                            offered.join(", ")
                        ),
                    ));
                }
                let to_consult: Vec<String> = proposed
                    .iter()
                    .filter_map(|proposed| {
                        proposed
                            .consult_first()
                            .map(|rule| format!("{} ({})", proposed.cited, rule.reference()))
                    })
                    .collect();
                if to_consult.is_empty() || consulted_in_the_system(history) {
                    return Ok(command.reason.clone());
                }
                // Consultation may have happened outside the system (a call, a meeting):
                // a supervisor says how, and it is recorded with the refusal.
                match supervisor_justification(
                    role,
                    override_justification,
                    "record a consultation held outside the system",
                )? {
                    Some(how) => Ok(Some(format!(
                        "{} [the requesting side was consulted before refusing on {}: {how}]",
                        command.reason.as_deref().unwrap_or_default(),
                        to_consult.join("; ")
                    ))),
                    None => Err(AppError::LegalGate(format!(
                        "before refusing on {}, the requesting side must be consulted: ask it for additional information first, or a supervisor records how it was consulted",
                        to_consult.join("; ")
                    ))),
                }
            }
            _ => Ok(command.reason.clone()),
        }
    }

    /// The findings that stop `action` on a request with this content and history now:
    /// every blocking finding for an approval, those a supervisor's approval did not
    /// already override for a dispatch, none for any other action.
    pub fn blocking_findings_for(
        &self,
        content: &RequestContent,
        history: &[TransitionRecord],
        action: Action,
    ) -> Vec<BlockingFinding> {
        if !matches!(action, Action::Approve | Action::Dispatch) {
            return Vec::new();
        }
        let blocking = self.assess(content).blocking_findings();
        if action == Action::Dispatch && self.overridden_at_approval(content, history, &blocking) {
            return Vec::new();
        }
        blocking
    }

    /// Whether a supervisor's approval of this content already overrode every finding in
    /// `blocking`: they all blocked it on the day of the latest approval.
    fn overridden_at_approval(
        &self,
        content: &RequestContent,
        history: &[TransitionRecord],
        blocking: &[BlockingFinding],
    ) -> bool {
        let Some(approval) = history
            .iter()
            .rev()
            .find(|record| record.action == Action::Approve)
        else {
            return false;
        };
        let by_supervisor = matches!(
            approval.actor,
            Actor::User {
                role: Role::Supervisor,
                ..
            }
        );
        let Some(day) = approval.at.date() else {
            return false;
        };
        if !by_supervisor {
            return false;
        }
        let then = comity_law::assess(&self.catalog, content, day).blocking_findings();
        blocking
            .iter()
            .all(|finding| then.iter().any(|earlier| earlier.key == finding.key))
    }
}

/// The justification given for going past a legal gate: `Some` from a supervisor, `None`
/// when none was given (blank counts as none), refused from anyone else; `what` says what
/// only a supervisor may do.
fn supervisor_justification<'a>(
    role: Role,
    given: Option<&'a str>,
    what: &str,
) -> Result<Option<&'a str>, AppError> {
    match given.map(str::trim).filter(|text| !text.is_empty()) {
        Some(_) if role != Role::Supervisor => {
            Err(AppError::Forbidden(format!("only a supervisor may {what}")))
        }
        justification => Ok(justification),
    }
}

/// Whether this side consulted the other in the system before refusing: it asked for
/// additional information, which the other side answers in the same conversation.
fn consulted_in_the_system(history: &[TransitionRecord]) -> bool {
    history.iter().any(|record| {
        record.action == Action::RequestAdditionalInformation
            && record.origin == comity_domain::Origin::Local
    })
}
