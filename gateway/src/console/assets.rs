//! The stylesheet and script, embedded in the binary and served under a name
//! carrying a hash of their content, so a browser may keep them for a year
//! and a new release is fetched at once.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// An embedded file and the path it is served at.
struct Asset {
    path: String,
    body: &'static str,
    content_type: &'static str,
}

fn asset(stem: &str, extension: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = Sha256::digest(body.as_bytes());
    let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    Asset {
        path: format!("/assets/{stem}.{hash}.{extension}"),
        body,
        content_type,
    }
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        asset("console", "css", CSS, "text/css; charset=utf-8"),
        asset("console", "js", JS, "text/javascript; charset=utf-8"),
    ]
});

/// Where the stylesheet is served.
pub fn css() -> &'static str {
    &ASSETS[0].path
}

/// Where the script is served.
pub fn js() -> &'static str {
    &ASSETS[1].path
}

/// `GET /assets/{name}`: an embedded file by its hashed name.
pub async fn serve(Path(name): Path<String>) -> Response {
    let wanted = format!("/assets/{name}");
    match ASSETS.iter().find(|a| a.path == wanted) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_carry_a_hash_of_their_content() {
        assert!(css().starts_with("/assets/console.") && css().ends_with(".css"));
        assert_eq!(css().len(), "/assets/console.".len() + 12 + ".css".len());
        assert_ne!(
            asset("a", "css", "x", "").path,
            asset("a", "css", "y", "").path
        );
    }
}
