//! Cases: files that group an authority's requests.

use comity_domain::{Case, CaseId, Role};

use crate::{App, AppError, Principal};

/// Longest case reference or title, in characters (as the API's schema says).
const MAX_CASE_TEXT: usize = comity_wire::schema::MAX_CASE_TEXT_CHARS;

impl App {
    /// Opens a case for the principal's authority.
    pub async fn create_case(
        &self,
        principal: &Principal,
        input: &comity_wire::api::CaseInput,
    ) -> Result<Case, AppError> {
        principal.require_any(
            &[
                Role::RequestingProsecutor,
                Role::CentralAuthorityOfficer,
                Role::Supervisor,
            ],
            "open cases",
        )?;
        for (field, value) in [("reference", &input.reference), ("title", &input.title)] {
            // Checked as sent (a trailing line break is a control character too), stored
            // trimmed.
            comity_domain::text::check_name(value, MAX_CASE_TEXT)
                .map_err(|error| AppError::invalid(field, error.to_string()))?;
        }
        let case = Case {
            id: self.new_typed_id(),
            authority: principal.authority().clone(),
            reference: input.reference.trim().to_string(),
            title: input.title.trim().to_string(),
            created_at: self.now(),
        };
        let mut tx = self.store().begin().await?;
        tx.insert_case(&case).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// The cases of the principal's authority.
    pub async fn list_cases(&self, principal: &Principal) -> Result<Vec<Case>, AppError> {
        principal.require_case_reader()?;
        let mut tx = self.store().begin().await?;
        Ok(tx.cases_of(principal.authority()).await?)
    }

    /// One case of the principal's authority.
    pub async fn get_case(
        &self,
        principal: &Principal,
        case_id: &CaseId,
    ) -> Result<Case, AppError> {
        principal.require_case_reader()?;
        let mut tx = self.store().begin().await?;
        let case = tx
            .case(case_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
        if &case.authority != principal.authority() {
            return Err(AppError::Forbidden(
                "a user sees only the cases of their own authority".into(),
            ));
        }
        Ok(case)
    }
}
