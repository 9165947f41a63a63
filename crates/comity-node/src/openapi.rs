//! The OpenAPI 3 description of the API, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::api::accounts;

/// The API description served at `/api/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Comity node API", description = "Mutual legal assistance requests between authorities: cases, requests and their lifecycle. Errors are RFC 9457 problem details."),
    paths(
        api::healthz, accounts::login, accounts::logout, accounts::me, api::list_authorities,
        accounts::list_users, accounts::create_user, api::list_cases, api::create_case, api::get_case, api::create_request,
        api::list_requests, api::get_request, api::update_draft, api::transition,
        api::assess_draft, api::request_assessment, api::list_outbox, api::retry_outbox,
        api::rotate_keys, api::announce_keys, api::request_letter,
        api::second_factor::status, api::second_factor::enrol, api::second_factor::confirm,
        api::second_factor::reset,
        accounts::change_own_password, accounts::get_user, accounts::update_user,
        accounts::reset_password, accounts::user_sessions, accounts::revoke_sessions,
        accounts::revoke_session,
    ),
    components(schemas(
        comity_wire::Problem, comity_wire::RequestContentDto, comity_wire::content::OffenceDto,
        comity_wire::content::MeasureDto, comity_wire::content::PersonDto,
        comity_wire::content::AttachmentDto,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
