//! The draft form: create a request in a case, or edit a draft. The form covers the
//! fields of [`RequestContentDto`]; a rejected draft comes back with what the user typed,
//! the message next to the field at fault and in the summary. The second submit button,
//! "Check legal basis" (`intent=check`), shows the form again with the legal-basis
//! engine's assessment of what was typed, without saving anything.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comity_app::{AppError, Principal};
use comity_domain::{
    Confidentiality, MeasureKind, OffenceCategory, PersonRole, RequestState, Side, Vulnerability,
};
use comity_law::Assessment;
use comity_store::AuthorityRecord;
use comity_wire::RequestContentDto;
use comity_wire::content::{AttachmentDto, MeasureDto, OffenceDto, PersonDto};
use maud::{Markup, html};

use super::layout::{self, FormProblem, Section, sentence_case};
use super::legal;
use super::{FormFields, WebError, WebUser, path_segment, see_other};
use crate::WebState;

/// Offence blocks shown when the draft has none.
const MIN_OFFENCE_BLOCKS: usize = 1;
/// Person blocks shown at least (an empty block is ignored on save).
const MIN_PERSON_BLOCKS: usize = 2;
/// Most repeated blocks read back from a form.
const MAX_BLOCKS: usize = 50;

/// The form as typed: strings, so that anything can be shown again.
#[derive(Debug, Clone, Default)]
struct DraftForm {
    requested_authority: String,
    legal_basis: String,
    subject_matter: String,
    conducting_authority: String,
    offences: Vec<OffenceFields>,
    summary_of_facts: String,
    measures_checked: Vec<String>,
    measure_descriptions: HashMap<String, String>,
    persons: Vec<PersonFields>,
    purpose: String,
    urgent_reason: String,
    confidentiality: String,
    requested_deadline: String,
    assurances_given: bool,
    /// Kept from the draft being edited (not editable here).
    attachments: Vec<AttachmentDto>,
    /// The version being edited.
    expected_version: Option<i64>,
}

#[derive(Debug, Clone, Default)]
struct OffenceFields {
    provision: String,
    category: String,
    months: String,
    political: bool,
    fiscal: bool,
    death_penalty: bool,
}

#[derive(Debug, Clone, Default)]
struct PersonFields {
    name: String,
    date_of_birth: String,
    nationalities: String,
    location: String,
    role: String,
    vulnerabilities: Vec<String>,
}

impl OffenceFields {
    fn is_empty(&self) -> bool {
        self.provision.trim().is_empty()
            && self.category.is_empty()
            && self.months.trim().is_empty()
            && !self.political
            && !self.fiscal
            && !self.death_penalty
    }
}

impl PersonFields {
    fn is_empty(&self) -> bool {
        self.name.trim().is_empty()
            && self.date_of_birth.trim().is_empty()
            && self.nationalities.trim().is_empty()
            && self.location.trim().is_empty()
            && self.vulnerabilities.is_empty()
    }
}

/// Where each entry of the parsed content came from in the form, to point an error
/// about `persons[1]` at the right block.
#[derive(Debug, Default)]
struct BlockMap {
    offences: Vec<usize>,
    persons: Vec<usize>,
}

impl DraftForm {
    fn from_fields(fields: &FormFields) -> DraftForm {
        let offences = (0..MAX_BLOCKS)
            .take_while(|index| fields.has(&format!("offence{index}_provision")))
            .map(|index| {
                let name = |suffix: &str| format!("offence{index}_{suffix}");
                OffenceFields {
                    provision: fields.get(&name("provision")).to_string(),
                    category: fields.get(&name("category")).to_string(),
                    months: fields.get(&name("months")).to_string(),
                    political: fields.has(&name("political")),
                    fiscal: fields.has(&name("fiscal")),
                    death_penalty: fields.has(&name("death_penalty")),
                }
            })
            .collect();
        let persons = (0..MAX_BLOCKS)
            .take_while(|index| fields.has(&format!("person{index}_name")))
            .map(|index| {
                let name = |suffix: &str| format!("person{index}_{suffix}");
                PersonFields {
                    name: fields.get(&name("name")).to_string(),
                    date_of_birth: fields.get(&name("dob")).to_string(),
                    nationalities: fields.get(&name("nationalities")).to_string(),
                    location: fields.get(&name("location")).to_string(),
                    role: fields.get(&name("role")).to_string(),
                    vulnerabilities: fields.all(&name("vulnerability")),
                }
            })
            .collect();
        let measure_descriptions = MeasureKind::ALL
            .iter()
            .map(|kind| {
                let code = kind.code();
                (
                    code.to_string(),
                    fields
                        .get(&format!("measure_description_{code}"))
                        .to_string(),
                )
            })
            .filter(|(_, description)| !description.is_empty())
            .collect();
        DraftForm {
            requested_authority: fields.get("requested_authority").to_string(),
            legal_basis: fields.get("legal_basis").to_string(),
            subject_matter: fields.get("subject_matter").to_string(),
            conducting_authority: fields.get("conducting_authority").to_string(),
            offences,
            summary_of_facts: fields.get("summary_of_facts").to_string(),
            measures_checked: fields.all("measure"),
            measure_descriptions,
            persons,
            purpose: fields.get("purpose").to_string(),
            urgent_reason: fields.get("urgent_reason").to_string(),
            confidentiality: fields.get("confidentiality").to_string(),
            requested_deadline: fields.get("requested_deadline").to_string(),
            assurances_given: fields.has("assurances_given"),
            attachments: Vec::new(),
            expected_version: fields.get("expected_version").trim().parse().ok(),
        }
    }

    fn from_dto(dto: &RequestContentDto, version: Option<i64>) -> DraftForm {
        DraftForm {
            requested_authority: dto.requested_authority.clone(),
            legal_basis: dto.legal_basis.join(", "),
            subject_matter: dto.subject_matter.clone(),
            conducting_authority: dto.conducting_authority.clone(),
            offences: dto
                .offences
                .iter()
                .map(|offence| OffenceFields {
                    provision: offence.national_provision.clone(),
                    category: offence.category.clone(),
                    months: offence
                        .maximum_penalty_months
                        .map(|months| months.to_string())
                        .unwrap_or_default(),
                    political: offence.political,
                    fiscal: offence.fiscal,
                    death_penalty: offence.death_penalty_possible,
                })
                .collect(),
            summary_of_facts: dto.summary_of_facts.clone(),
            measures_checked: dto
                .measures
                .iter()
                .map(|measure| measure.kind.clone())
                .collect(),
            measure_descriptions: dto
                .measures
                .iter()
                .map(|measure| (measure.kind.clone(), measure.description.clone()))
                .collect(),
            persons: dto
                .persons
                .iter()
                .map(|person| PersonFields {
                    name: person.full_name.clone(),
                    date_of_birth: person.date_of_birth.clone().unwrap_or_default(),
                    nationalities: person.nationalities.join(", "),
                    location: person.location.clone().unwrap_or_default(),
                    role: person.role.clone(),
                    vulnerabilities: person.vulnerabilities.clone(),
                })
                .collect(),
            purpose: dto.purpose.clone(),
            urgent_reason: dto.urgent_reason.clone().unwrap_or_default(),
            confidentiality: dto.confidentiality.clone(),
            requested_deadline: dto.requested_deadline.clone().unwrap_or_default(),
            assurances_given: dto.assurances_given,
            attachments: dto.attachments.clone(),
            expected_version: version,
        }
    }

    /// The content to send to the use case, with where each entry came from. Problems
    /// the form itself can see (a number that is not one, a person without a name) are
    /// reported against the form's own field ids.
    fn to_dto(&self, principal: &Principal) -> Result<(RequestContentDto, BlockMap), FormProblem> {
        let mut blocks = BlockMap::default();
        let mut offences = Vec::new();
        for (index, offence) in self.offences.iter().enumerate() {
            if offence.is_empty() {
                continue;
            }
            let months = match offence.months.trim() {
                "" => None,
                text => Some(text.parse::<u32>().map_err(|_| {
                    FormProblem::new(
                        format!("offence{index}_months"),
                        "the maximum penalty must be a whole number of months",
                    )
                })?),
            };
            blocks.offences.push(index);
            offences.push(OffenceDto {
                national_provision: offence.provision.trim().to_string(),
                category: offence.category.clone(),
                maximum_penalty_months: months,
                political: offence.political,
                fiscal: offence.fiscal,
                death_penalty_possible: offence.death_penalty,
            });
        }
        let mut persons = Vec::new();
        for (index, person) in self.persons.iter().enumerate() {
            if person.is_empty() {
                continue;
            }
            if person.name.trim().is_empty() {
                return Err(FormProblem::new(
                    format!("person{index}_name"),
                    "a person concerned needs a name (write \"unknown\" if it is not known)",
                ));
            }
            blocks.persons.push(index);
            persons.push(PersonDto {
                full_name: person.name.trim().to_string(),
                date_of_birth: non_empty(&person.date_of_birth),
                nationalities: comma_list(&person.nationalities)
                    .into_iter()
                    .map(|code| code.to_ascii_uppercase())
                    .collect(),
                location: non_empty(&person.location),
                role: person.role.clone(),
                vulnerabilities: person.vulnerabilities.clone(),
            });
        }
        let measures = MeasureKind::ALL
            .iter()
            .map(|kind| kind.code())
            .filter(|code| self.measures_checked.iter().any(|checked| checked == code))
            .map(|code| MeasureDto {
                kind: code.to_string(),
                description: self
                    .measure_descriptions
                    .get(code)
                    .map(|description| description.trim().to_string())
                    .unwrap_or_default(),
            })
            .collect();
        let dto = RequestContentDto {
            requesting_authority: principal.authority().to_string(),
            requesting_country: None,
            requested_authority: self.requested_authority.clone(),
            requested_country: None,
            legal_basis: comma_list(&self.legal_basis),
            subject_matter: self.subject_matter.trim().to_string(),
            conducting_authority: self.conducting_authority.trim().to_string(),
            offences,
            summary_of_facts: self.summary_of_facts.trim().to_string(),
            measures,
            persons,
            purpose: self.purpose.trim().to_string(),
            urgent_reason: non_empty(&self.urgent_reason),
            confidentiality: if self.confidentiality.is_empty() {
                Confidentiality::Standard.code().to_string()
            } else {
                self.confidentiality.clone()
            },
            requested_deadline: non_empty(&self.requested_deadline),
            assurances_given: self.assurances_given,
            attachments: self.attachments.clone(),
        };
        Ok((dto, blocks))
    }
}

fn non_empty(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form field an API field name (`persons[1].date_of_birth`) points at.
fn form_field(api_field: &str, blocks: &BlockMap) -> String {
    let indexed = |prefix: &str, map: &[usize]| -> Option<(usize, String)> {
        let rest = api_field.strip_prefix(prefix)?.strip_prefix('[')?;
        let (number, tail) = rest.split_once(']')?;
        let index = number.parse::<usize>().ok()?;
        let block = map.get(index).copied().unwrap_or(index);
        Some((block, tail.trim_start_matches('.').to_string()))
    };
    if let Some((block, tail)) = indexed("offences", &blocks.offences) {
        let suffix = match tail.as_str() {
            "category" => "category",
            "maximum_penalty_months" => "months",
            _ => "provision",
        };
        return format!("offence{block}_{suffix}");
    }
    if let Some((block, tail)) = indexed("persons", &blocks.persons) {
        let suffix = match tail.split('[').next().unwrap_or_default() {
            "date_of_birth" => "dob",
            "nationalities" => "nationalities",
            "location" => "location",
            "role" => "role",
            "vulnerabilities" => "vulnerabilities",
            _ => "name",
        };
        return format!("person{block}_{suffix}");
    }
    let plain = api_field.split(['[', '.']).next().unwrap_or_default();
    match plain {
        "offences" => "offences".into(),
        "measures" => "measures".into(),
        "persons" => "persons".into(),
        "urgency" => "urgent_reason".into(),
        "requested_country" | "requested_authority" => "requested_authority".into(),
        "legal_basis"
        | "subject_matter"
        | "conducting_authority"
        | "summary_of_facts"
        | "purpose"
        | "confidentiality"
        | "requested_deadline" => plain.into(),
        _ => String::new(),
    }
}

/// `GET /cases/{case_id}/requests/new`.
pub async fn new_page(
    State(state): State<WebState>,
    user: WebUser,
    Path(case_id): Path<String>,
) -> Result<Response, WebError> {
    let case_id: comity_domain::CaseId = comity_app::ids::id_in_path(&case_id)?;
    let case = state.app.get_case(&user.principal, &case_id).await?;
    let authorities = choosable_authorities(&state, &user.principal).await?;
    let form = DraftForm {
        requested_authority: authorities
            .first()
            .map(|record| record.authority.id.to_string())
            .unwrap_or_default(),
        confidentiality: Confidentiality::Standard.code().to_string(),
        ..DraftForm::default()
    };
    let target = format!("/cases/{}/requests/new", path_segment(&case.id));
    let title = format!("New request in case {}", case.reference);
    Ok(form_page(
        &user.principal,
        &title,
        &target,
        &form,
        &authorities,
        None,
        None,
    )
    .into_response())
}

/// `POST /cases/{case_id}/requests/new`.
pub async fn create(
    State(state): State<WebState>,
    user: WebUser,
    Path(case_id): Path<String>,
    fields: FormFields,
) -> Result<Response, WebError> {
    let case_id: comity_domain::CaseId = comity_app::ids::id_in_path(&case_id)?;
    let case = state.app.get_case(&user.principal, &case_id).await?;
    let form = DraftForm::from_fields(&fields);
    let target = format!("/cases/{}/requests/new", path_segment(&case.id));
    let title = format!("New request in case {}", case.reference);
    if wants_check(&fields) {
        return check(&state, &user, &title, &target, &form).await;
    }
    let outcome = match form.to_dto(&user.principal) {
        Ok((dto, blocks)) => state
            .app
            .create_request(&user.principal, &case.id, &dto)
            .await
            .map_err(|error| (error, blocks)),
        Err(problem) => {
            return rerender(&state, &user, &title, &target, &form, problem).await;
        }
    };
    match outcome {
        Ok(details) => Ok(see_other(&format!(
            "/requests/{}?saved=1",
            path_segment(&details.request.id)
        ))),
        Err((error, blocks)) => {
            let problem = problem_of(error, &blocks)?;
            rerender(&state, &user, &title, &target, &form, problem).await
        }
    }
}

/// `GET /requests/{request_id}/edit`.
pub async fn edit_page(
    State(state): State<WebState>,
    user: WebUser,
    Path(request_id): Path<String>,
) -> Result<Response, WebError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    let details = state
        .app
        .request_details(&user.principal, &request_id)
        .await?;
    require_draft(&details.request)?;
    let authorities = choosable_authorities(&state, &user.principal).await?;
    let form = DraftForm::from_dto(
        &RequestContentDto::from(&details.request.content),
        Some(details.request.version),
    );
    let target = format!("/requests/{}/edit", path_segment(&details.request.id));
    Ok(form_page(
        &user.principal,
        "Edit draft",
        &target,
        &form,
        &authorities,
        None,
        None,
    )
    .into_response())
}

/// `POST /requests/{request_id}/edit`.
pub async fn update(
    State(state): State<WebState>,
    user: WebUser,
    Path(request_id): Path<String>,
    fields: FormFields,
) -> Result<Response, WebError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    let details = state
        .app
        .request_details(&user.principal, &request_id)
        .await?;
    require_draft(&details.request)?;
    let mut form = DraftForm::from_fields(&fields);
    form.attachments = RequestContentDto::from(&details.request.content).attachments;
    let target = format!("/requests/{}/edit", path_segment(&details.request.id));
    if wants_check(&fields) {
        return check(&state, &user, "Edit draft", &target, &form).await;
    }
    let outcome = match form.to_dto(&user.principal) {
        Ok((dto, blocks)) => state
            .app
            .update_draft(&user.principal, &request_id, &dto, form.expected_version)
            .await
            .map_err(|error| (error, blocks)),
        Err(problem) => {
            return rerender(&state, &user, "Edit draft", &target, &form, problem).await;
        }
    };
    match outcome {
        Ok(updated) => Ok(see_other(&format!(
            "/requests/{}?saved=1",
            path_segment(&updated.request.id)
        ))),
        Err((error, blocks)) => {
            let problem = problem_of(error, &blocks)?;
            rerender(&state, &user, "Edit draft", &target, &form, problem).await
        }
    }
}

/// Whether the user pressed "Check legal basis" rather than "Save draft".
fn wants_check(fields: &FormFields) -> bool {
    fields.get("intent") == "check"
}

/// Shows the form again, as typed, with the engine's assessment of it; nothing is saved.
/// Input the engine cannot read comes back as a problem on the form, as on saving.
async fn check(
    state: &WebState,
    user: &WebUser,
    title: &str,
    target: &str,
    form: &DraftForm,
) -> Result<Response, WebError> {
    let (dto, blocks) = match form.to_dto(&user.principal) {
        Ok(parsed) => parsed,
        Err(problem) => return rerender(state, user, title, target, form, problem).await,
    };
    match state.app.assess_draft(&user.principal, &dto).await {
        Ok(assessment) => {
            let authorities = choosable_authorities(state, &user.principal).await?;
            Ok(form_page(
                &user.principal,
                title,
                target,
                form,
                &authorities,
                None,
                Some(&assessment),
            )
            .into_response())
        }
        Err(error) => {
            let problem = problem_of(error, &blocks)?;
            rerender(state, user, title, target, form, problem).await
        }
    }
}

fn require_draft(request: &comity_domain::Request) -> Result<(), WebError> {
    if request.side == Side::Requesting && request.state == RequestState::Draft {
        Ok(())
    } else {
        Err(WebError::new(
            StatusCode::CONFLICT,
            "Not a draft",
            format!(
                "only drafts can be edited; this request is {}",
                request.state.label()
            ),
        ))
    }
}

/// A rejected draft as a problem on the form; errors that are not about the input
/// (forbidden, storage) become an error page.
fn problem_of(error: AppError, blocks: &BlockMap) -> Result<FormProblem, WebError> {
    match error {
        AppError::Invalid { field, message } => {
            let form_field = form_field(&field, blocks);
            Ok(FormProblem::new(
                form_field,
                format!("{}: {message}", field_label(&field)),
            ))
        }
        AppError::Conflict(message) => Ok(FormProblem::new("", message)),
        other => Err(other.into()),
    }
}

/// The API field name as the form's label names it.
fn field_label(api_field: &str) -> String {
    let plain = api_field.split(['[', '.']).next().unwrap_or_default();
    let label = match plain {
        "requested_authority" | "requested_country" => "Requested authority",
        "requesting_authority" | "requesting_country" => "Requesting authority",
        "legal_basis" => "Legal basis",
        "subject_matter" => "Subject matter",
        "conducting_authority" => "Conducting authority",
        "offences" => "Offence",
        "summary_of_facts" => "Summary of facts",
        "measures" => "Measures sought",
        "persons" => "Person concerned",
        "purpose" => "Purpose",
        "urgency" => "Reason for urgency",
        "confidentiality" => "Confidentiality",
        "requested_deadline" => "Deadline asked for",
        _ => return api_field.to_string(),
    };
    label.to_string()
}

async fn rerender(
    state: &WebState,
    user: &WebUser,
    title: &str,
    target: &str,
    form: &DraftForm,
    problem: FormProblem,
) -> Result<Response, WebError> {
    let authorities = choosable_authorities(state, &user.principal).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        form_page(
            &user.principal,
            title,
            target,
            form,
            &authorities,
            Some(&problem),
            None,
        ),
    )
        .into_response())
}

/// Authorities a request can go to: not the user's own; peers' first, then by name.
async fn choosable_authorities(
    state: &WebState,
    principal: &Principal,
) -> Result<Vec<AuthorityRecord>, AppError> {
    let mut authorities: Vec<AuthorityRecord> = state
        .app
        .list_authorities()
        .await?
        .into_iter()
        .filter(|record| &record.authority.id != principal.authority())
        .collect();
    authorities
        .sort_by(|a, b| (a.is_local, &a.authority.name).cmp(&(b.is_local, &b.authority.name)));
    Ok(authorities)
}

fn form_page(
    principal: &Principal,
    title: &str,
    target: &str,
    form: &DraftForm,
    authorities: &[AuthorityRecord],
    problem: Option<&FormProblem>,
    assessment: Option<&Assessment>,
) -> Markup {
    let mut authority_options: Vec<(String, String)> = authorities
        .iter()
        .map(|record| {
            let id = record.authority.id.to_string();
            let place = if record.is_local {
                "on this node"
            } else {
                "peer"
            };
            let text = format!(
                "{} ({}, {id}, {place})",
                record.authority.name, record.authority.country
            );
            (id, text)
        })
        .collect();
    if !form.requested_authority.is_empty()
        && !authority_options
            .iter()
            .any(|(id, _)| *id == form.requested_authority)
    {
        authority_options.push((
            form.requested_authority.clone(),
            form.requested_authority.clone(),
        ));
    }
    let confidentiality_options: Vec<(String, String)> = Confidentiality::ALL
        .iter()
        .map(|level| (level.code().to_string(), sentence_case(level.label())))
        .collect();
    let offence_blocks = form.offences.len().max(MIN_OFFENCE_BLOCKS);
    let person_blocks = form.persons.len().max(MIN_PERSON_BLOCKS);
    let empty_offence = OffenceFields::default();
    let empty_person = PersonFields::default();
    layout::page(
        title,
        Some(principal),
        Section::Cases,
        html! {
            h1 dir="auto" { (title) }
            (layout::error_summary(problem))
            @if let Some(assessment) = assessment {
                div.flash role="status" {
                    p { "The legal basis was checked against what you typed. Nothing was saved yet: press \"Save draft\" to keep it." }
                }
                (legal::panel(assessment, legal::Verdict::Gate {
                    action: comity_domain::Action::Approve,
                    blocking: &assessment.blocking_findings(),
                }))
            }
            p { "Fields can be left empty while drafting; \"Check legal basis\" says what is still missing before approval, without saving." }
            form method="post" action=(target) novalidate {
                @if let Some(version) = form.expected_version {
                    input type="hidden" name="expected_version" value=(version);
                }
                fieldset {
                    legend { "Authorities and legal basis" }
                    (layout::select("requested_authority", "Requested authority", &form.requested_authority, &authority_options, problem))
                    (layout::text_input("legal_basis", "Legal basis", &form.legal_basis,
                        Some("Instrument ids from the catalog, separated by commas, e.g. untoc"), problem, "text"))
                }
                fieldset {
                    legend { "The proceedings" }
                    (layout::text_area("subject_matter", "Subject matter and nature of the proceedings", &form.subject_matter, None, problem))
                    (layout::text_input("conducting_authority", "Conducting authority (name and functions)", &form.conducting_authority, None, problem, "text"))
                    (layout::text_area("summary_of_facts", "Summary of the relevant facts", &form.summary_of_facts, None, problem))
                    (layout::text_area("purpose", "Purpose of the request", &form.purpose, None, problem))
                }
                @for index in 0..offence_blocks {
                    (offence_block(index, form.offences.get(index).unwrap_or(&empty_offence), problem))
                }
                (measures_block(form, problem))
                @for index in 0..person_blocks {
                    (person_block(index, form.persons.get(index).unwrap_or(&empty_person), problem))
                }
                fieldset {
                    legend { "Handling" }
                    (layout::text_input("urgent_reason", "Reason for urgency", &form.urgent_reason,
                        Some("Leave empty unless the request is urgent, e.g. a person in custody or data about to be deleted"), problem, "text"))
                    (layout::select("confidentiality", "Confidentiality", &form.confidentiality, &confidentiality_options, problem))
                    (layout::text_input("requested_deadline", "Deadline asked for", &form.requested_deadline, None, problem, "date"))
                    div {
                        input type="checkbox" id="assurances_given" name="assurances_given" value="yes" checked[form.assurances_given];
                        label.inline for="assurances_given" { "Assurances are given (for example against the death penalty)" }
                    }
                }
                div.actions-row {
                    button type="submit" id="save-draft" { "Save draft" }
                    " "
                    button.secondary type="submit" id="check-legal-basis" name="intent" value="check" { "Check legal basis" }
                }
            }
        },
    )
}

fn offence_block(index: usize, offence: &OffenceFields, problem: Option<&FormProblem>) -> Markup {
    let id = |suffix: &str| format!("offence{index}_{suffix}");
    let mut categories = vec![(String::new(), "Choose a category".to_string())];
    categories.extend(
        OffenceCategory::ALL
            .iter()
            .map(|category| (category.code().to_string(), sentence_case(category.label()))),
    );
    let fieldset_error = FormProblem::for_field(problem, "offences");
    html! {
        fieldset id=(if index == 0 { "offences".to_string() } else { id("block") }) {
            legend { "Offence" @if index > 0 { " " (index + 1) } }
            @if index == 0 { (layout::field_error("offences", fieldset_error.as_deref())) }
            (layout::text_input(&id("provision"), "National provision", &offence.provision,
                Some("e.g. art. 318 bis Código Penal"), problem, "text"))
            (layout::select(&id("category"), "Category", &offence.category, &categories, problem))
            (layout::text_input(&id("months"), "Maximum penalty (months)", &offence.months, None, problem, "number"))
            ul.checks {
                li {
                    input type="checkbox" id=(id("political")) name=(id("political")) value="yes" checked[offence.political];
                    label.inline for=(id("political")) { "May be seen as a political offence" }
                }
                li {
                    input type="checkbox" id=(id("fiscal")) name=(id("fiscal")) value="yes" checked[offence.fiscal];
                    label.inline for=(id("fiscal")) { "Fiscal offence" }
                }
                li {
                    input type="checkbox" id=(id("death_penalty")) name=(id("death_penalty")) value="yes" checked[offence.death_penalty];
                    label.inline for=(id("death_penalty")) { "Carries the death penalty in the requesting state" }
                }
            }
        }
    }
}

fn measures_block(form: &DraftForm, problem: Option<&FormProblem>) -> Markup {
    let error = FormProblem::for_field(problem, "measures");
    html! {
        fieldset id="measures" aria-describedby=[layout::described_by("measures", true, error.is_some())] {
            legend { "Measures sought" }
            p.hint id="measures-hint" { "Tick each measure sought and say what exactly is asked for." }
            (layout::field_error("measures", error.as_deref()))
            ul.checks {
                @for kind in MeasureKind::ALL {
                    @let code = kind.code();
                    @let checkbox = format!("measure_{code}");
                    @let description = format!("measure_description_{code}");
                    li {
                        input type="checkbox" id=(checkbox) name="measure" value=(code)
                            checked[form.measures_checked.iter().any(|checked| checked == code)];
                        label.inline for=(checkbox) { (sentence_case(kind.label())) }
                        label.visually-hidden for=(description) { "What exactly is asked for: " (kind.label()) }
                        input type="text" id=(description) name=(description) dir="auto"
                            placeholder="details"
                            value=(form.measure_descriptions.get(code).map(String::as_str).unwrap_or_default());
                    }
                }
            }
        }
    }
}

fn person_block(index: usize, person: &PersonFields, problem: Option<&FormProblem>) -> Markup {
    let id = |suffix: &str| format!("person{index}_{suffix}");
    let roles: Vec<(String, String)> = PersonRole::ALL
        .iter()
        .map(|role| (role.code().to_string(), sentence_case(role.label())))
        .collect();
    let vulnerability_error = FormProblem::for_field(problem, &id("vulnerabilities"));
    let block_error = if index == 0 {
        FormProblem::for_field(problem, "persons")
    } else {
        None
    };
    html! {
        fieldset id=(if index == 0 { "persons".to_string() } else { id("block") }) {
            legend { "Person concerned " (index + 1) }
            @if index == 0 { (layout::field_error("persons", block_error.as_deref())) }
            (layout::text_input(&id("name"), "Full name (any script)", &person.name,
                Some("Leave the whole block empty if there is no such person"), problem, "text"))
            (layout::text_input(&id("dob"), "Date of birth", &person.date_of_birth,
                Some("YYYY, YYYY-MM or YYYY-MM-DD"), problem, "text"))
            (layout::text_input(&id("nationalities"), "Nationalities", &person.nationalities,
                Some("Two-letter country codes separated by commas, e.g. MA, ES"), problem, "text"))
            (layout::text_input(&id("location"), "Believed to be at", &person.location, None, problem, "text"))
            (layout::select(&id("role"), "Role in the proceedings", &person.role, &roles, problem))
            fieldset id=(id("vulnerabilities")) {
                legend { "Vulnerabilities" }
                (layout::field_error(&id("vulnerabilities"), vulnerability_error.as_deref()))
                ul.checks {
                    @for vulnerability in Vulnerability::ALL {
                        @let checkbox = format!("person{index}_vulnerability_{}", vulnerability.code());
                        li {
                            input type="checkbox" id=(checkbox) name=(id("vulnerability")) value=(vulnerability.code())
                                checked[person.vulnerabilities.iter().any(|v| v == vulnerability.code())];
                            label.inline for=(checkbox) { (sentence_case(vulnerability.label())) }
                        }
                    }
                }
            }
        }
    }
}
