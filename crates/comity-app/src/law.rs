//! The legal-basis engine in the use cases: assessing drafts, gating approval on the
//! mandatory content, and checking that a refusal cites the prevailing instrument.

use std::sync::{Arc, OnceLock};

use comity_domain::{Action, RequestContent, RequestId, Role, TransitionCommand};
use comity_law::{Assessment, Catalog};

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
    format!(
        "{} art. {}",
        ground.citation.instrument_id, ground.citation.article
    )
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

    /// The legal checks a transition must pass: approval needs the mandatory content
    /// (unless a supervisor overrides with a recorded justification), and a refusal must
    /// cite grounds of the prevailing instrument. Returns the reason to record, which
    /// carries an override's justification.
    pub(crate) fn legal_gate(
        &self,
        content: &RequestContent,
        command: &TransitionCommand,
        role: Role,
        override_justification: Option<&str>,
    ) -> Result<Option<String>, AppError> {
        match command.action {
            Action::Approve => {
                let assessment = self.assess(content);
                let missing = assessment.missing_mandatory_content();
                if missing.is_empty() {
                    return Ok(command.reason.clone());
                }
                let listed: Vec<String> = missing
                    .iter()
                    .map(|check| {
                        format!(
                            "{} ({} art. {})",
                            check.explanation, check.citation.instrument_id, check.citation.article
                        )
                    })
                    .collect();
                let justification = override_justification
                    .map(str::trim)
                    .filter(|text| !text.is_empty());
                match (role, justification) {
                    (Role::Supervisor, Some(justification)) => Ok(Some(format!(
                        "supervisor override of missing mandatory content [{}]: {justification}",
                        listed.join("; ")
                    ))),
                    (_, Some(_)) => Err(AppError::Forbidden(
                        "only a supervisor may override missing mandatory content".into(),
                    )),
                    (_, None) => Err(AppError::LegalGate(format!(
                        "mandatory content is missing: {}",
                        listed.join("; ")
                    ))),
                }
            }
            Action::Refuse => {
                let assessment = self.assess(content);
                let known: Vec<String> = assessment
                    .refusal_grounds
                    .iter()
                    .flat_map(|ground| {
                        [
                            ground_reference(ground).to_lowercase(),
                            format!("{}:{}", ground.citation.instrument_id, ground.code)
                                .to_lowercase(),
                        ]
                    })
                    .collect();
                if known.is_empty() {
                    return Ok(command.reason.clone());
                }
                for (index, ground) in command.grounds.iter().enumerate() {
                    if !known.contains(&ground.trim().to_lowercase()) {
                        let offered: Vec<String> = assessment
                            .refusal_grounds
                            .iter()
                            .map(ground_reference)
                            .collect();
                        return Err(AppError::invalid(
                            format!("grounds[{index}]"),
                            format!(
                                "`{ground}` is not a ground of the prevailing instrument; cite one of: {}",
                                offered.join(", ")
                            ),
                        ));
                    }
                }
                Ok(command.reason.clone())
            }
            _ => Ok(command.reason.clone()),
        }
    }
}
