//! The REST API under `/api/v1`: thin handlers that parse, call one use case and render.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use comity_app::requests::RequestQuery;
use comity_domain::{RequestState, Side};
use comity_wire::RequestContentDto;
use comity_wire::api::{
    AuthorityView, CaseInput, CaseView, HealthView, RequestSummaryView, RequestView,
    TransitionInput,
};
use serde::Deserialize;
use utoipa::IntoParams;

pub mod accounts;
pub mod second_factor;

pub use comity_law::json as assessment;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authenticated};
use crate::views;

/// The API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(accounts::routes())
        .route("/authorities", get(list_authorities))
        .route("/cases", get(list_cases).post(create_case))
        .route("/cases/{case_id}", get(get_case))
        .route("/cases/{case_id}/requests", post(create_request))
        .route("/requests", get(list_requests))
        .route("/requests/{request_id}", get(get_request).put(update_draft))
        .route("/requests/{request_id}/transitions", post(transition))
        .route("/requests/{request_id}/assessment", get(request_assessment))
        .route("/requests/{request_id}/letter", get(request_letter))
        .route("/assessments", post(assess_draft))
        .route("/outbox", get(list_outbox))
        .route("/outbox/{message_id}/retry", post(retry_outbox))
        .merge(second_factor::routes())
}

/// Liveness and database check.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The node and its database answer", body = HealthView), (status = 503, body = comity_wire::Problem)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<HealthView>, ApiError> {
    state
        .app
        .store()
        .ping()
        .await
        .map_err(comity_app::AppError::from)?;
    Ok(Json(HealthView {
        status: "ok".into(),
        node_id: state.app.node_id().to_string(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// Authorities known to this node (its own and its peers').
#[utoipa::path(get, path = "/api/v1/authorities", responses((status = 200, description = "Authorities known to this node", body = [AuthorityView])), security(("bearer" = [])))]
pub async fn list_authorities(
    State(state): State<AppState>,
    Authenticated(_principal): Authenticated,
) -> Result<Json<Vec<AuthorityView>>, ApiError> {
    let authorities = state.app.list_authorities().await?;
    Ok(Json(
        authorities.iter().map(views::authority_view).collect(),
    ))
}

/// The cases of the caller's authority.
#[utoipa::path(get, path = "/api/v1/cases", responses((status = 200, description = "The cases of the caller's authority", body = [CaseView]), (status = 403, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn list_cases(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    let cases = state.app.list_cases(&principal).await?;
    Ok(Json(
        cases
            .iter()
            .map(|case| views::case_view(case, &[]))
            .collect(),
    ))
}

/// Open a case.
#[utoipa::path(post, path = "/api/v1/cases", request_body = CaseInput,
    responses((status = 201, description = "The case was opened", body = CaseView), (status = 403, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn create_case(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(input): ApiJson<CaseInput>,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    let case = state.app.create_case(&principal, &input).await?;
    Ok((StatusCode::CREATED, Json(views::case_view(&case, &[]))))
}

/// One case with its requests.
#[utoipa::path(get, path = "/api/v1/cases/{case_id}", params(("case_id" = String, Path)),
    responses((status = 200, description = "The case with its requests", body = CaseView), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn get_case(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(case_id): ApiPath<String>,
) -> Result<Json<CaseView>, ApiError> {
    let case_id: comity_domain::CaseId = comity_app::ids::id_in_path(&case_id)?;
    let case = state.app.get_case(&principal, &case_id).await?;
    let requests = state
        .app
        .list_requests(
            &principal,
            &RequestQuery {
                case_id: Some(case.id.clone()),
                ..RequestQuery::default()
            },
        )
        .await?;
    Ok(Json(views::case_view(&case, &requests)))
}

/// Draft a request in a case.
#[utoipa::path(post, path = "/api/v1/cases/{case_id}/requests", params(("case_id" = String, Path)), request_body = RequestContentDto,
    responses((status = 201, description = "The draft was stored", body = RequestView), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn create_request(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(case_id): ApiPath<String>,
    ApiJson(input): ApiJson<RequestContentDto>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let case_id: comity_domain::CaseId = comity_app::ids::id_in_path(&case_id)?;
    let details = state
        .app
        .create_request(&principal, &case_id, &input)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(views::request_view(&details, state.app.now())),
    ))
}

/// Filters for listing requests.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestListParams {
    /// Only this case.
    pub case_id: Option<String>,
    /// `requesting` or `requested`.
    #[param(schema_with = comity_wire::schema::side)]
    pub side: Option<String>,
    /// A state code.
    #[param(schema_with = comity_wire::schema::state)]
    pub state: Option<String>,
    /// Only requests with a deadline passed unmet.
    #[serde(default)]
    pub overdue: bool,
}

/// Requests held by the caller's authority.
#[utoipa::path(get, path = "/api/v1/requests", params(RequestListParams),
    responses((status = 200, description = "Requests held by the caller's authority, filtered", body = [RequestSummaryView]), (status = 403, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn list_requests(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(params): ApiQuery<RequestListParams>,
) -> Result<Json<Vec<RequestSummaryView>>, ApiError> {
    let side = params
        .side
        .as_deref()
        .map(|code| code.parse::<Side>())
        .transpose()
        .map_err(|error| comity_app::AppError::invalid("side", error.to_string()))?;
    let request_state = params
        .state
        .as_deref()
        .map(|code| code.parse::<RequestState>())
        .transpose()
        .map_err(|error| comity_app::AppError::invalid("state", error.to_string()))?;
    // A case id no case can have (empty, or with white space) filters nothing and
    // matches nothing, as an unknown one does.
    let case_id = match params.case_id.as_deref().filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => match comity_domain::CaseId::parse(text) {
            Ok(case_id) => Some(case_id),
            Err(_) => return Ok(Json(Vec::new())),
        },
    };
    let listed = state
        .app
        .list_requests(
            &principal,
            &RequestQuery {
                case_id,
                side,
                state: request_state,
                overdue_only: params.overdue,
            },
        )
        .await?;
    Ok(Json(listed.iter().map(views::request_summary).collect()))
}

/// One request with its history, deadlines and the caller's available actions.
#[utoipa::path(get, path = "/api/v1/requests/{request_id}", params(("request_id" = String, Path)),
    responses((status = 200, description = "The request", body = RequestView), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn get_request(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(request_id): ApiPath<String>,
) -> Result<Json<RequestView>, ApiError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    let details = state.app.request_details(&principal, &request_id).await?;
    Ok(Json(views::request_view(&details, state.app.now())))
}

/// Optimistic concurrency for draft edits.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VersionParams {
    /// The version the caller edited.
    pub expected_version: Option<i64>,
}

/// Replace the content of a draft.
#[utoipa::path(put, path = "/api/v1/requests/{request_id}", params(("request_id" = String, Path), VersionParams), request_body = RequestContentDto,
    responses((status = 200, description = "The draft was replaced", body = RequestView), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem), (status = 409, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn update_draft(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(request_id): ApiPath<String>,
    ApiQuery(params): ApiQuery<VersionParams>,
    ApiJson(input): ApiJson<RequestContentDto>,
) -> Result<Json<RequestView>, ApiError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    let details = state
        .app
        .update_draft(&principal, &request_id, &input, params.expected_version)
        .await?;
    Ok(Json(views::request_view(&details, state.app.now())))
}

/// Take a lifecycle action.
#[utoipa::path(post, path = "/api/v1/requests/{request_id}/transitions", params(("request_id" = String, Path)), request_body = TransitionInput,
    responses((status = 200, description = "The action was taken", body = RequestView), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem), (status = 409, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn transition(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(request_id): ApiPath<String>,
    ApiJson(input): ApiJson<TransitionInput>,
) -> Result<Json<RequestView>, ApiError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    let asked = input.to_domain().map_err(comity_app::AppError::from)?;
    let details = state
        .app
        .transition(&principal, &request_id, &asked)
        .await?;
    Ok(Json(views::request_view(&details, state.app.now())))
}

/// Assess draft content with the legal-basis engine, storing nothing.
#[utoipa::path(post, path = "/api/v1/assessments", request_body = RequestContentDto,
    responses((status = 200, description = "The engine's assessment of the draft", body = assessment::AssessmentDto), (status = 403, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn assess_draft(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(input): ApiJson<RequestContentDto>,
) -> Result<Json<assessment::AssessmentDto>, ApiError> {
    let assessment = state.app.assess_draft(&principal, &input).await?;
    Ok(Json(assessment::AssessmentDto::from(&assessment)))
}

/// The legal-basis engine's assessment of a request: applicable instruments, channel,
/// languages, mandatory content, dual criminality, grounds for refusal, deadlines.
#[utoipa::path(get, path = "/api/v1/requests/{request_id}/assessment", params(("request_id" = String, Path)),
    responses((status = 200, description = "The engine's assessment of the request", body = assessment::AssessmentDto), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn request_assessment(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(request_id): ApiPath<String>,
) -> Result<Json<assessment::AssessmentDto>, ApiError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    let assessment = state
        .app
        .request_assessment(&principal, &request_id)
        .await?;
    Ok(Json(assessment::AssessmentDto::from(&assessment)))
}

/// Which outgoing messages to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// `pending`, `delivered`, `dead` or `rejected` (default `dead`).
    #[param(schema_with = outbox_status_schema)]
    pub status: Option<String>,
}

/// Outgoing federation messages by status (node operators): dead letters by default.
#[utoipa::path(get, path = "/api/v1/outbox", params(OutboxParams),
    responses((status = 200, description = "Outgoing messages with that status", body = [comity_wire::api::OutboxMessageView]), (status = 403, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn list_outbox(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(params): ApiQuery<OutboxParams>,
) -> Result<Json<Vec<comity_wire::api::OutboxMessageView>>, ApiError> {
    let code = params.status.as_deref().unwrap_or("dead");
    let status = comity_store::OutboxStatus::parse(code).ok_or_else(|| {
        comity_app::AppError::invalid(
            "status",
            format!("`{code}` is not one of pending, delivered, dead, rejected"),
        )
    })?;
    let messages = state.app.outbox(&principal, status).await?;
    Ok(Json(
        messages
            .iter()
            .map(|message| comity_wire::api::OutboxMessageView {
                message_id: message.message_id.clone(),
                recipient_node: message.recipient_node.clone(),
                conversation_id: message.conversation_id.clone(),
                sequence: message.sequence,
                message_type: message.message_type.clone(),
                status: message.status.code().to_string(),
                attempts: message.attempts,
                last_error: message.last_error.clone(),
                created_at: message.created_at.to_rfc3339(),
            })
            .collect(),
    ))
}

/// Put a dead letter back in the queue (node operators).
#[utoipa::path(post, path = "/api/v1/outbox/{message_id}/retry", params(("message_id" = String, Path)),
    responses((status = 204, description = "The message is queued again"), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem), (status = 409, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn retry_outbox(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(message_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.app.retry_dead_letter(&principal, &message_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Options of the letter of request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LetterParams {
    /// `en`, `fr`, `es` or `ar`; default: the first the requested state accepts.
    #[param(schema_with = language_schema)]
    pub lang: Option<String>,
    /// `html` (default) or `pdf` (Latin and Arabic scripts; text in other scripts is refused).
    #[param(schema_with = letter_format_schema)]
    pub format: Option<String>,
}

fn string_enum(
    codes: impl IntoIterator<Item = &'static str>,
) -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(codes))
        .into()
}

fn outbox_status_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    use comity_store::OutboxStatus;
    string_enum(
        [
            OutboxStatus::Pending,
            OutboxStatus::Delivered,
            OutboxStatus::Dead,
            OutboxStatus::Rejected,
        ]
        .map(OutboxStatus::code),
    )
}

fn language_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    string_enum(
        comity_forms::Language::ALL
            .iter()
            .map(|language| language.code()),
    )
}

fn letter_format_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    string_enum(["html", "pdf"])
}

/// The request as a formal letter of request in the requested state's language, from
/// coded fields; free text is left as written and marked for translation.
#[utoipa::path(get, path = "/api/v1/requests/{request_id}/letter", params(("request_id" = String, Path), LetterParams),
    responses((status = 200, description = "The letter: HTML, or PDF when `format=pdf`", content((String = "text/html"), (Vec<u8> = "application/pdf"))), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem), (status = 503, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn request_letter(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(request_id): ApiPath<String>,
    ApiQuery(params): ApiQuery<LetterParams>,
) -> Result<axum::response::Response, ApiError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    use axum::response::IntoResponse;
    let language = params
        .lang
        .as_deref()
        .map(|code| code.parse::<comity_forms::Language>())
        .transpose()
        .map_err(|error| comity_app::AppError::invalid("lang", error.to_string()))?;
    let format = match params.format.as_deref() {
        None | Some("html") => comity_app::letters::LetterFormat::Html,
        Some("pdf") => comity_app::letters::LetterFormat::Pdf,
        Some(other) => {
            return Err(comity_app::AppError::invalid(
                "format",
                format!("`{other}` is not one of html, pdf"),
            )
            .into());
        }
    };
    let letter = state
        .app
        .letter(&principal, &request_id, language, format)
        .await?;
    let mut response = letter.bytes.into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(letter.media_type),
    );
    response.headers_mut().insert(
        axum::http::header::CONTENT_LANGUAGE,
        axum::http::HeaderValue::from_static(letter.language.code()),
    );
    Ok(response)
}
