//! GW-1: user and student profiles, composed from identity, roster and messaging.

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
}
