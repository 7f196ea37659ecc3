//! ID-5 over REST: OpenID Connect sign-in (authorization code flow with PKCE).

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
}
