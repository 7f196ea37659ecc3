//! GW-1: the shared-credential (ID-9) and duplicate-guardian (RO-8) reports.

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
}
