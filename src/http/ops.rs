//! The operations endpoints: liveness, readiness for writes, and Prometheus metrics.

use actix_web::{web, HttpResponse};
use twinlog_migrations::Role;

use super::error::{ApiError, ApiResult};
use super::AppState;

/// Liveness and readiness: open to all, never rate-limited.
pub fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// The endpoints that report on the server itself, which no rate limit may silence.
pub fn is_ops(path: &str) -> bool {
    is_probe(path) || path == "/metrics"
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// The node takes writes: it is its region's primary and its log writer accepts appends.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "ready for writes"), (status = 503, description = "not ready", body = super::error::ErrorResponse)))]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult {
    let log = state.data_plane.log();
    if log.meta().role != Role::Primary {
        return Err(ApiError::not_ready(format!(
            "this node is a {} of region {}; writes go to its primary",
            log.meta().role,
            log.meta().region
        )));
    }
    if !log.accepts_appends() {
        return Err(ApiError::not_ready(format!(
            "the event log of region {} refuses appends after a failed commit at LSN {}; restart the node",
            log.meta().region,
            log.head().lsn
        )));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain")
        .body("ready\n"))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(
            state
                .metrics
                .render(&state.data_plane, state.queries.read_model_lsn()),
        )
}
