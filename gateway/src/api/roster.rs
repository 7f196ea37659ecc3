//! GW-1: sync sources, runs and reports, and guardian uploads (RO-1..RO-7).

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
}
