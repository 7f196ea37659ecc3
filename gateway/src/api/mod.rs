//! GW-1: the REST/JSON API under `/api/v1`. JSON field names are lowerCamelCase;
//! errors are `{ "code", "message", "details" }` (see [`error`]); each route
//! calls the real RPC with the caller's token and the request id.

pub mod caller;
pub mod error;
pub mod json;
pub mod me;
pub mod session;

use axum::{
    Router,
    routing::{get, post},
};

use crate::app::AppState;

/// The `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(session::login))
        .route("/auth/select-account", post(session::select_account))
        .route("/auth/refresh", post(session::refresh))
        .route("/auth/logout", post(session::logout))
        .route("/me", get(me::me))
        .fallback(|| async { error::ApiError::new(tonic::Code::NotFound, "no such route") })
}
