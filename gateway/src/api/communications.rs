//! GW-1: preview an audience and send a communication (MS-1..MS-5).

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

/// Adds this module's routes.
pub fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
}
