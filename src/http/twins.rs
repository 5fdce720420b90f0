//! `/digitaltwins/{id}` and its components: get, create or replace, patch, delete.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::error::{ApiResult, ErrorResponse};
use super::preconditions::{if_match, if_none_match_any, patched_reply, versioned_reply};
use super::trace::traced;
use super::AppState;

/// A twin, with its `ETag`.
#[utoipa::path(get, path = "/digitaltwins/{id}", tag = "twins",
    params(("id" = String, Path)),
    responses((status = 200, description = "OK", body = Object, headers(("ETag" = String))), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn get_twin(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult {
    Ok(versioned_reply(state.data_plane.get_twin(&id).await?))
}

/// Creates or replaces a twin; `If-None-Match: *` only creates.
#[utoipa::path(put, path = "/digitaltwins/{id}", tag = "twins",
    params(("id" = String, Path), ("If-None-Match" = Option<String>, Header, description = "only `*`")),
    request_body = Object,
    responses((status = 200, description = "OK", body = Object, headers(("ETag" = String))), (status = 412, description = "precondition failed", body = ErrorResponse)))]
pub async fn put_twin(
    state: web::Data<AppState>,
    id: web::Path<String>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> ApiResult {
    let create_only = if_none_match_any(request.headers())?;
    let twin = traced(&state, request.headers())
        .put_twin(&id, body.into_inner(), create_only)
        .await?;
    Ok(versioned_reply(twin))
}

/// Applies a JSON Patch to a twin.
#[utoipa::path(patch, path = "/digitaltwins/{id}", tag = "twins",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body(content = Vec<Object>, content_type = "application/json-patch+json"),
    responses((status = 204, description = "patched", headers(("ETag" = String))), (status = 412, description = "precondition failed", body = ErrorResponse)))]
pub async fn patch_twin(
    state: web::Data<AppState>,
    id: web::Path<String>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> ApiResult {
    let precondition = if_match(request.headers())?;
    let etag = traced(&state, request.headers())
        .patch_twin(&id, body.into_inner(), precondition)
        .await?;
    Ok(patched_reply(etag))
}

/// Deletes a twin that has no relationships left.
#[utoipa::path(delete, path = "/digitaltwins/{id}", tag = "twins",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204, description = "deleted"), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn delete_twin(
    state: web::Data<AppState>,
    id: web::Path<String>,
    request: HttpRequest,
) -> ApiResult {
    let precondition = if_match(request.headers())?;
    traced(&state, request.headers())
        .delete_twin(&id, precondition)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One component of a twin, with the twin's `ETag`.
#[utoipa::path(get, path = "/digitaltwins/{id}/components/{component}", tag = "twins",
    params(("id" = String, Path), ("component" = String, Path)),
    responses((status = 200, description = "OK", body = Object, headers(("ETag" = String))), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn get_component(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (id, component) = path.into_inner();
    Ok(versioned_reply(
        state.data_plane.get_component(&id, &component).await?,
    ))
}

/// Applies a JSON Patch, with paths relative to the component.
#[utoipa::path(patch, path = "/digitaltwins/{id}/components/{component}", tag = "twins",
    params(("id" = String, Path), ("component" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body(content = Vec<Object>, content_type = "application/json-patch+json"),
    responses((status = 204, description = "patched", headers(("ETag" = String))), (status = 412, description = "precondition failed", body = ErrorResponse)))]
pub async fn patch_component(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> ApiResult {
    let (id, component) = path.into_inner();
    let precondition = if_match(request.headers())?;
    let etag = traced(&state, request.headers())
        .patch_component(&id, &component, body.into_inner(), precondition)
        .await?;
    Ok(patched_reply(etag))
}
