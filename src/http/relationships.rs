//! `/digitaltwins/{id}/relationships` and `/incomingrelationships`: one relationship's
//! create, read, patch and delete, and the paged lists.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::error::{ApiResult, ErrorResponse};
use super::paging::{page_reply, Page};
use super::preconditions::{if_match, if_none_match_any, patched_reply, versioned_reply};
use super::trace::traced;
use super::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only relationships with this name.
    #[serde(rename = "relationshipName")]
    #[param(rename = "relationshipName")]
    relationship_name: Option<String>,
}

/// A relationship, with its `ETag`.
#[utoipa::path(get, path = "/digitaltwins/{id}/relationships/{relationship_id}", tag = "relationships",
    params(("id" = String, Path), ("relationship_id" = String, Path)),
    responses((status = 200, description = "OK", body = Object, headers(("ETag" = String))), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn get(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult {
    let (id, relationship_id) = path.into_inner();
    Ok(versioned_reply(
        state
            .data_plane
            .get_relationship(&id, &relationship_id)
            .await?,
    ))
}

/// Creates or replaces a relationship; `If-None-Match: *` only creates.
#[utoipa::path(put, path = "/digitaltwins/{id}/relationships/{relationship_id}", tag = "relationships",
    params(("id" = String, Path), ("relationship_id" = String, Path), ("If-None-Match" = Option<String>, Header, description = "only `*`")),
    request_body(content = Object, description = r#"{"$targetId", "$relationshipName", ...properties}"#),
    responses((status = 200, description = "OK", body = Object, headers(("ETag" = String))), (status = 404, description = "not found", body = ErrorResponse), (status = 412, description = "precondition failed", body = ErrorResponse)))]
pub async fn put(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> ApiResult {
    let (id, relationship_id) = path.into_inner();
    let create_only = if_none_match_any(request.headers())?;
    let relationship = traced(&state, request.headers())
        .put_relationship(&id, &relationship_id, body.into_inner(), create_only)
        .await?;
    Ok(versioned_reply(relationship))
}

/// Applies a JSON Patch to a relationship's properties.
#[utoipa::path(patch, path = "/digitaltwins/{id}/relationships/{relationship_id}", tag = "relationships",
    params(("id" = String, Path), ("relationship_id" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body(content = Vec<Object>, content_type = "application/json-patch+json"),
    responses((status = 204, description = "patched", headers(("ETag" = String))), (status = 412, description = "precondition failed", body = ErrorResponse)))]
pub async fn patch(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> ApiResult {
    let (id, relationship_id) = path.into_inner();
    let precondition = if_match(request.headers())?;
    let etag = traced(&state, request.headers())
        .patch_relationship(&id, &relationship_id, body.into_inner(), precondition)
        .await?;
    Ok(patched_reply(etag))
}

/// Deletes a relationship.
#[utoipa::path(delete, path = "/digitaltwins/{id}/relationships/{relationship_id}", tag = "relationships",
    params(("id" = String, Path), ("relationship_id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204, description = "deleted"), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn delete(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
) -> ApiResult {
    let (id, relationship_id) = path.into_inner();
    let precondition = if_match(request.headers())?;
    traced(&state, request.headers())
        .delete_relationship(&id, &relationship_id, precondition)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A twin's outgoing relationships; paged.
#[utoipa::path(get, path = "/digitaltwins/{id}/relationships", tag = "relationships",
    params(("id" = String, Path), ListQuery,
           ("max-items-per-page" = Option<u32>, Header, minimum = 1),
           ("continuationToken" = Option<String>, Query)),
    responses((status = 200, description = "OK", body = Page), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn list(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<ListQuery>,
    request: HttpRequest,
) -> ApiResult {
    let relationships = state
        .data_plane
        .list_relationships(&id, query.relationship_name.as_deref())
        .await?;
    page_reply(&request, relationships)
}

/// The relationships of other twins that target this one; paged.
#[utoipa::path(get, path = "/digitaltwins/{id}/incomingrelationships", tag = "relationships",
    params(("id" = String, Path),
           ("max-items-per-page" = Option<u32>, Header, minimum = 1),
           ("continuationToken" = Option<String>, Query)),
    responses((status = 200, description = "OK", body = Page), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn list_incoming(
    state: web::Data<AppState>,
    id: web::Path<String>,
    request: HttpRequest,
) -> ApiResult {
    let incoming = state.data_plane.list_incoming_relationships(&id).await?;
    page_reply(&request, incoming)
}
