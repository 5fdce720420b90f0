//! The panic drill, served only with `--chaos`: makes a twin's next command panic inside its
//! actor, to show that the failure stays with that command and the twin restarts from the log.

use actix_web::{web, HttpResponse};

use super::error::{ApiError, ApiResult, ErrorResponse};
use super::AppState;

/// Arms a panic in the twin's next command.
#[utoipa::path(post, path = "/admin/chaos/twins/{id}/panic", tag = "operations",
    params(("id" = String, Path)),
    responses((status = 204, description = "armed"), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn arm_panic(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult {
    if !state.data_plane.supervisor().arm_chaos(&id) {
        return Err(ApiError::not_ready(
            "the region was started without chaos; restart with --chaos",
        ));
    }
    tracing::warn!(twin_id = %id, "chaos: the twin's next command will panic");
    Ok(HttpResponse::NoContent().finish())
}
