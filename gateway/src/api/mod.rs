//! GW-1: the REST/JSON API under `/api/v1`. JSON field names are lowerCamelCase;
//! errors are `{ "code", "message", "details" }` (see [`error`]); each route
//! calls the real RPC with the caller's token and the request id.

pub mod accounts;
pub mod addresses;
pub mod audit;
pub mod caller;
pub mod codes;
pub mod communications;
pub mod cookies;
pub mod directory;
pub mod download;
pub mod error;
pub mod json;
pub mod me;
pub mod my_contacts;
pub mod params;
pub mod profiles;
pub mod reports;
pub mod roles;
pub mod roster;
pub mod session;
pub mod sso;
pub mod text_limits;

use std::sync::Arc;

use axum::{Router, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;

/// The document's fixed parts; paths come from the routes themselves.
#[derive(OpenApi)]
#[openapi(
    info(title = "Homeroom REST API", version = "1"),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    tags(
        (name = "sessions", description = "Sign in and out (ID-3, ID-6)"),
        (name = "accounts", description = "Accounts, People search and profiles (ID-1, ID-11, GW-3)"),
        (name = "directory", description = "Rostered students, staff and classes (RO-1)"),
        (name = "addresses", description = "Address status and Reset Status (MS-6, MS-7)"),
        (name = "sso", description = "Single sign-on with OpenID Connect (ID-5)"),
        (name = "sync", description = "Sync sources, runs and reports (RO-1..RO-6)"),
        (name = "uploads", description = "Guardian CSV uploads and their results (RO-7)"),
        (name = "reports", description = "Shared credentials and duplicate guardians (ID-9, RO-8)"),
        (name = "communications", description = "Preview and send communications (MS-1..MS-5)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The routes and the OpenAPI 3.1 document that describes exactly them
/// (both come from the same list, so the document is complete by
/// construction).
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login))
        .routes(routes!(session::select_account))
        .routes(routes!(session::refresh))
        .routes(routes!(session::logout))
        .routes(routes!(codes::send))
        .routes(routes!(codes::verify))
        .routes(routes!(codes::accept_invitation))
        .routes(routes!(me::me))
        .routes(routes!(me::change_password))
        .routes(routes!(addresses::status))
        .routes(routes!(addresses::reset));
    let router = accounts::register(router);
    let router = directory::register(router);
    let router = my_contacts::register(router);
    let router = audit::register(router);
    let router = roles::register(router);
    let router = profiles::register(router);
    let router = reports::register(router);
    let router = communications::register(router);
    let router = roster::register(router);
    let router = sso::register(router);
    router.split_for_parts()
}

/// The document as JSON.
pub fn openapi_json() -> String {
    api().1.to_pretty_json().unwrap_or_default()
}

/// The `/api/v1` routes, with the document at `/api/v1/openapi.json`.
pub fn routes() -> Router<AppState> {
    let (router, doc) = api();
    let json = Arc::new(doc.to_json().unwrap_or_default());
    router
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        json.as_ref().clone(),
                    )
                }
            }),
        )
        .fallback(|| async { error::ApiError::new(tonic::Code::NotFound, "no such route") })
}

/// Asserts the document has each of `paths` (each module's tests list its own).
#[cfg(test)]
pub(crate) fn assert_documents(doc: &serde_json::Value, paths: &[&str]) {
    for path in paths {
        assert!(
            doc["paths"][*path].is_object(),
            "{path} is not in the OpenAPI document"
        );
    }
}

/// The OpenAPI document as JSON, for tests.
#[cfg(test)]
pub(crate) fn document() -> serde_json::Value {
    serde_json::from_str(&api().1.to_json().unwrap()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::assert_documents;

    #[test]
    fn the_document_is_openapi_3_1_and_lists_every_route_with_its_answers() {
        let json = super::document();
        assert!(
            json["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            json["openapi"]
        );
        assert_documents(
            &json,
            &[
                "/address-status",
                "/address-status/reset",
                "/auth/accept-invitation",
                "/auth/codes",
                "/auth/codes/verify",
                "/auth/login",
                "/auth/logout",
                "/auth/refresh",
                "/auth/select-account",
                "/me",
                "/me/password",
            ],
        );
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path} documents no answer"
                );
            }
        }
        let mut ids: Vec<&str> = json["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "operationIds must be unique: {ids:?}");
        assert_eq!(
            json["paths"]["/me"]["get"]["security"][0]["bearer"],
            serde_json::json!([])
        );
        assert!(json["components"]["schemas"]["LoginBody"].is_object());
        assert!(json["components"]["schemas"]["ErrorBody"].is_object());
    }
}
