//! The OpenAPI 3.1 description of the API, generated from the handlers' annotations and
//! completed here in one place: the problem responses every operation can return, the
//! security scheme, and the law catalog's instrument ids.
//!
//! Handlers list only the errors their use case decides (403, 404, 409...). The errors
//! that the framework around them can produce are added by rule, so no operation can
//! forget one: 401 where a session is required, 400/413/415/422 where there is a JSON
//! body, 400/422 where there are path or query parameters, 503 everywhere (the database).
//! Every error is a reference to one shared response whose body is the `Problem` schema,
//! served as `application/problem+json`.

use std::collections::BTreeSet;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayItems, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Schema};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::api::accounts;
use comity_federation::api::{self as federation_api, operations as federation_ops, peers};

/// The API description served at `/api/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Comity node API", description = "Mutual legal assistance requests between authorities: cases, requests and their lifecycle. Errors are RFC 9457 problem details (`application/problem+json`)."),
    paths(
        api::healthz, accounts::login, accounts::logout, accounts::me, api::list_authorities,
        accounts::list_users, accounts::create_user, api::list_cases, api::create_case, api::get_case, api::create_request,
        api::list_requests, api::get_request, api::update_draft, api::transition,
        api::assess_draft, api::request_assessment, api::list_outbox, api::retry_outbox,
        federation_api::rotate_keys, federation_api::announce_keys, api::request_letter,
        api::second_factor::status, api::second_factor::enrol, api::second_factor::confirm,
        api::second_factor::reset,
        accounts::change_own_password, accounts::get_user, accounts::update_user,
        accounts::reset_password, accounts::user_sessions, accounts::revoke_sessions,
        accounts::revoke_session,
        peers::list_peers, peers::add_peer, peers::update_peer, peers::remove_peer,
        peers::list_pending_keys, peers::accept_key, peers::recover_keys,
        federation_ops::list_alerts, federation_ops::acknowledge_alert, federation_ops::outbox,
        federation_ops::inbox, federation_ops::out_of_step, federation_ops::resync,
    ),
    components(schemas(
        comity_wire::Problem, comity_wire::RequestContentDto, comity_wire::content::OffenceDto,
        comity_wire::content::MeasureDto, comity_wire::content::PersonDto,
        comity_wire::content::AttachmentDto, federation_api::KeyRotationView, federation_api::AnnouncementFailure,
        federation_ops::OutboxStatusFilter, federation_ops::InboxStatusFilter,
        peers::PeerView, peers::PeerKeyView, peers::PendingKeyView, peers::PeerAddInput,
        peers::PeerAddedView, peers::PeerUpdateInput, peers::KeyAcceptInput,
        peers::KeyRecoveryInput, crate::identity::PeerEntry, crate::identity::PeerAuthority,
        crate::identity::PeerKey,
    )),
    modifiers(&BearerAuth, &ProblemResponses)
)]
pub struct ApiDoc;

/// The document a node serves: [`ApiDoc`] with the instrument ids of the node's catalog
/// as the `enum` of `legal_basis`.
pub fn document(catalog: &comity_law::Catalog) -> utoipa::openapi::OpenApi {
    let mut openapi = ApiDoc::openapi();
    let ids: Vec<String> = catalog
        .instruments()
        .iter()
        .map(|instrument| instrument.id.clone())
        .collect();
    let legal_basis = openapi
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut("RequestContentDto"))
        .and_then(|schema| match schema {
            RefOr::T(Schema::Object(object)) => object.properties.get_mut("legal_basis"),
            _ => None,
        });
    if let Some(RefOr::T(Schema::Array(array))) = legal_basis {
        array.items = ArrayItems::RefOrSchema(Box::new(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(ids))
                .into(),
        ));
    }
    openapi
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.servers = Some(vec![
            ServerBuilder::new()
                .url("/")
                .description(Some("this node"))
                .build(),
        ]);
    }
}

/// The shared problem responses, by status: (component name, description).
const PROBLEMS: &[(u16, &str, &str)] = &[
    (
        400,
        "BadRequest",
        "Malformed JSON, or a path or query parameter that cannot be read",
    ),
    (
        401,
        "Unauthenticated",
        "No session, or the token is unknown or expired",
    ),
    (
        403,
        "Forbidden",
        "The caller's role or authority does not allow this",
    ),
    (404, "NotFound", "Nothing with that id is held by this node"),
    (
        409,
        "Conflict",
        "The resource changed meanwhile, the transition is not allowed in its state, or the name is taken",
    ),
    (413, "PayloadTooLarge", "The body exceeds the node's limit"),
    (
        429,
        "TooManyRequests",
        "Too many failed attempts from this account or address; wait as `Retry-After` says",
    ),
    (
        415,
        "UnsupportedMediaType",
        "The body is not application/json",
    ),
    (
        422,
        "UnprocessableContent",
        "A field holds a value the node does not accept; `field` names it",
    ),
    (
        500,
        "InternalError",
        "The node failed in a way the operator must look at",
    ),
    (
        503,
        "Unavailable",
        "The database did not answer or the work exceeded its budget; nothing was changed",
    ),
];

struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (status, name, description) in PROBLEMS {
            let mut response = ResponseBuilder::new().description(*description).content(
                comity_wire::problem::PROBLEM_CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            );
            if *status == 429 {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .minimum(Some(0)),
                        )
                        .description(Some("seconds to wait before trying again"))
                        .build(),
                );
            }
            let response = response.build();
            components
                .responses
                .insert((*name).to_string(), RefOr::T(response));
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                complete_operation(operation);
            }
        }
    }
}

/// A free string parameter (an id in the path, a case id in the query) says what the
/// extractors refuse: control characters (`extract::ApiPath`, `extract::ApiQuery`).
fn refuse_controls(schema: &mut Option<RefOr<Schema>>) {
    if let Some(RefOr::T(Schema::Object(object))) = schema
        && object.schema_type == Type::String.into()
        && object.enum_values.is_none()
        && object.pattern.is_none()
    {
        object.pattern = Some(comity_wire::schema::without_controls_pattern());
    }
}

/// Adds the errors the framework can return and points every error at its shared
/// response; gives a success response without a description its status's reason.
fn complete_operation(operation: &mut Operation) {
    let mut statuses: BTreeSet<u16> = operation
        .responses
        .responses
        .keys()
        .filter_map(|status| status.parse().ok())
        .filter(|status| *status >= 400)
        .collect();
    let requires_session = operation.security.as_ref().is_some_and(|requirements| {
        !requirements.is_empty()
            && !requirements.iter().any(|requirement| {
                serde_json::to_value(requirement).ok() == Some(serde_json::json!({}))
            })
    });
    if requires_session {
        statuses.insert(401);
    }
    if operation.request_body.is_some() {
        statuses.extend([400, 413, 415, 422]);
    }
    let mut has_parameters = false;
    for parameter in operation.parameters.iter_mut().flatten() {
        if matches!(
            parameter.parameter_in,
            ParameterIn::Path | ParameterIn::Query
        ) {
            has_parameters = true;
            refuse_controls(&mut parameter.schema);
        }
    }
    if has_parameters {
        statuses.extend([400, 422]);
    }
    statuses.insert(503);
    for status in statuses {
        if let Some((_, name, _)) = PROBLEMS.iter().find(|(code, _, _)| *code == status) {
            operation.responses.responses.insert(
                status.to_string(),
                RefOr::Ref(Ref::from_response_name(*name)),
            );
        }
    }
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = match status.as_str() {
                "200" => "OK",
                "201" => "Created",
                "204" => "Done; no content",
                _ => "See the operation's description",
            }
            .to_string();
        }
    }
}
