//! GW-1: the REST/JSON API under `/api/v1`. JSON field names are lowerCamelCase;
//! errors are `{ "code", "message", "details" }` (see [`error`]); each route
//! calls the real RPC with the caller's token and the request id.

pub mod addresses;
pub mod caller;
pub mod cookies;
pub mod error;
pub mod json;
pub mod me;
pub mod session;

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
        (name = "accounts", description = "Accounts and profiles (ID-11)"),
        (name = "addresses", description = "Address status and Reset Status (MS-6, MS-7)"),
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
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login))
        .routes(routes!(session::select_account))
        .routes(routes!(session::refresh))
        .routes(routes!(session::logout))
        .routes(routes!(me::me))
        .routes(routes!(addresses::status))
        .routes(routes!(addresses::reset))
        .split_for_parts()
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_openapi_3_1_and_lists_every_route_with_its_answers() {
        let (_, doc) = super::api();
        let json: serde_json::Value = serde_json::from_str(&doc.to_json().unwrap()).unwrap();
        assert!(
            json["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            json["openapi"]
        );
        let mut paths: Vec<&str> = json["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "/address-status",
                "/address-status/reset",
                "/auth/login",
                "/auth/logout",
                "/auth/refresh",
                "/auth/select-account",
                "/me"
            ]
        );
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path} documents no answer"
                );
            }
        }
        assert_eq!(
            json["paths"]["/me"]["get"]["security"][0]["bearer"],
            serde_json::json!([])
        );
        assert!(json["components"]["schemas"]["LoginBody"].is_object());
        assert!(json["components"]["schemas"]["ErrorBody"].is_object());
    }
}
