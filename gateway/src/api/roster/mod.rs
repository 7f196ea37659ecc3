//! GW-1: sync sources, runs and reports (RO-2 … RO-6), guardian uploads
//! (RO-7) and the duplicate-guardian report (RO-8) over REST, each route
//! calling its roster-svc RPC on the caller's behalf.

pub use super::{download, params};
pub mod bundle_form;
pub mod duplicates;
pub mod enums;
pub mod merges;
pub mod run_view;
pub mod runs;
pub mod source_input;
pub mod source_view;
pub mod sources;
pub mod streamed_form;
pub mod upload_form;
pub mod upload_view;
pub mod uploads;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use crate::app::AppState;

/// Adds this module's routes. The upload route takes files up to 50 MB; the
/// gateway's 1 MiB body limit holds everywhere else.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(sources::list, sources::create))
        .routes(routes!(sources::get, sources::update, sources::delete))
        .routes(routes!(runs::start))
        .routes(
            routes!(bundle_form::import).layer(DefaultBodyLimit::max(bundle_form::MAX_FORM_BYTES)),
        )
        .routes(routes!(runs::list))
        .routes(routes!(runs::get))
        .routes(routes!(runs::rows))
        .routes(routes!(runs::report))
        .routes(routes!(uploads::list))
        .routes(
            routes!(upload_form::upload)
                .layer(DefaultBodyLimit::max(upload_form::MAX_UPLOAD_BYTES)),
        )
        .routes(routes!(uploads::get))
        .routes(routes!(uploads::rows))
        .routes(routes!(uploads::result))
        .routes(routes!(duplicates::list))
        .routes(routes!(duplicates::download_csv))
        .routes(routes!(merges::preview))
        .routes(routes!(merges::merge))
        .routes(routes!(merges::undo))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    const PATHS: [&str; 16] = [
        "/sync-sources",
        "/sync-sources/{sourceId}",
        "/sync-sources/{sourceId}/runs",
        "/sync-runs",
        "/sync-runs/{runId}",
        "/sync-runs/{runId}/rows",
        "/sync-runs/{runId}/report",
        "/guardian-uploads",
        "/guardian-uploads/{uploadId}",
        "/guardian-uploads/{uploadId}/rows",
        "/guardian-uploads/{uploadId}/result",
        "/duplicate-guardians",
        "/duplicate-guardians/download",
        "/guardian-merges/preview",
        "/guardian-merges",
        "/guardian-merges/{mergeId}/undo",
    ];

    #[test]
    fn the_document_lists_every_roster_route_with_bearer_security_and_error_answers() {
        let doc = super::super::document();
        super::super::assert_documents(&doc, &PATHS);
        for path in PATHS {
            for (method, op) in doc["paths"][path].as_object().unwrap() {
                assert_eq!(
                    op["security"][0]["bearer"],
                    serde_json::json!([]),
                    "{method} {path}"
                );
                let answers = op["responses"].as_object().unwrap();
                for status in ["400", "401", "403"] {
                    assert!(
                        answers.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
                assert!(
                    answers.keys().any(|s| s.starts_with('2')),
                    "{method} {path} documents no success"
                );
            }
        }
        let upload = &doc["paths"]["/guardian-uploads"]["post"];
        assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object());
        assert!(upload["responses"]["202"].is_object());
    }

    #[test]
    fn every_schema_the_roster_routes_refer_to_is_in_the_document() {
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = super::super::document();
        let mut found = Vec::new();
        for path in PATHS {
            refs(&doc["paths"][path], &mut found);
        }
        refs(&doc["components"], &mut found);
        assert!(!found.is_empty());
        for r in found {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} is not in the document"
            );
        }
    }

    #[test]
    fn operation_ids_are_unique_and_enum_values_are_wire_names() {
        let doc = super::super::document();
        let ids = |mine: bool| -> Vec<String> {
            let paths = doc["paths"].as_object().unwrap();
            paths
                .iter()
                .filter(|(path, _)| PATHS.contains(&path.as_str()) == mine)
                .flat_map(|(_, item)| item.as_object().unwrap().values())
                .filter_map(|op| op["operationId"].as_str().map(String::from))
                .collect()
        };
        let (mut mine, others) = (ids(true), ids(false));
        let all = mine.len();
        mine.sort_unstable();
        mine.dedup();
        assert_eq!(mine.len(), all, "operation ids repeat: {mine:?}");
        assert!(
            mine.iter().all(|id| !others.contains(id)),
            "{mine:?} / {others:?}"
        );
        let format = &doc["paths"]["/sync-runs/{runId}/report"]["get"]["parameters"][1];
        assert_eq!(format["schema"]["enum"], serde_json::json!(["csv", "xlsx"]));
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["AuthMethod"]["enum"],
            serde_json::json!([
                "OAUTH2_CLIENT_CREDENTIALS",
                "OAUTH1_HMAC_SHA256",
                "BEARER_TOKEN"
            ])
        );
        let form = schemas["UploadForm"]["properties"].as_object().unwrap();
        assert!(form.contains_key("file") && form.contains_key("districtId"));
        assert_eq!(
            schemas["UploadForm"]["required"],
            serde_json::json!(["file"])
        );
    }

    #[test]
    fn no_answer_has_a_field_for_a_secret() {
        let doc = super::super::document();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in ["SyncSourceView", "RestView", "CleverView"] {
            let fields = schemas[name]["properties"].as_object().unwrap();
            for secret in [
                "clientSecret",
                "oauth1Secret",
                "bearerToken",
                "districtToken",
            ] {
                assert!(!fields.contains_key(secret), "{name} has {secret}");
            }
        }
    }
}
