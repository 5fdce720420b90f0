//! `/models`: upload, list, get, decommission and delete DTDL models.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult, ErrorResponse};
use super::paging::{page_reply, query_pairs, Page};
use super::AppState;

const INCLUDE_DEFINITION_PARAM: &str = "includeModelDefinition";
const DEPENDENCIES_PARAM: &str = "dependenciesFor";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetModelQuery {
    /// Include the model's DTDL definition as `model`.
    #[serde(rename = "includeModelDefinition", default)]
    #[param(rename = "includeModelDefinition")]
    include_model_definition: bool,
}

/// Uploads models, all or nothing.
#[utoipa::path(post, path = "/models", tag = "models",
    request_body(content = Vec<Object>, description = "DTDL Interfaces"),
    responses((status = 201, description = "the uploaded models' ModelData", body = Vec<Object>),
              (status = 409, description = "conflict", body = ErrorResponse)))]
pub async fn upload_models(state: web::Data<AppState>, body: web::Json<Value>) -> ApiResult {
    let models = state.data_plane.upload_models(body.into_inner()).await?;
    Ok(HttpResponse::Created().json(models))
}

/// Lists the models, or those the named ones depend on; paged.
#[utoipa::path(get, path = "/models", tag = "models",
    params(("dependenciesFor" = Option<Vec<String>>, Query, explode, description = "models whose dependencies to list"),
           ("includeModelDefinition" = Option<bool>, Query),
           ("max-items-per-page" = Option<u32>, Header, minimum = 1),
           ("continuationToken" = Option<String>, Query)),
    responses((status = 200, description = "OK", body = Page)))]
pub async fn list_models(state: web::Data<AppState>, request: HttpRequest) -> ApiResult {
    let pairs = query_pairs(&request)?;
    let dependencies_for: Vec<String> = pairs
        .iter()
        .filter(|(key, _)| key == DEPENDENCIES_PARAM)
        .map(|(_, value)| value.clone())
        .collect();
    let include_definition = match pairs
        .iter()
        .rfind(|(key, _)| key == INCLUDE_DEFINITION_PARAM)
    {
        None => false,
        Some((_, value)) => value.parse().map_err(|_| {
            ApiError::invalid_argument(format!(
                "{INCLUDE_DEFINITION_PARAM} must be true or false, not `{value}`"
            ))
        })?,
    };
    let models = state
        .data_plane
        .list_models(&dependencies_for, include_definition)?;
    page_reply(&request, models)
}

/// One model's ModelData.
#[utoipa::path(get, path = "/models/{id}", tag = "models",
    params(("id" = String, Path, description = "the model's DTMI"), GetModelQuery),
    responses((status = 200, description = "OK", body = Object), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn get_model(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<GetModelQuery>,
) -> ApiResult {
    let model = state
        .data_plane
        .get_model(&id, query.include_model_definition)?;
    Ok(HttpResponse::Ok().json(model))
}

/// Decommissions a model: the only patch ADT takes is
/// `[{"op": "replace", "path": "/decommissioned", "value": true}]`.
#[utoipa::path(patch, path = "/models/{id}", tag = "models",
    params(("id" = String, Path)),
    request_body(content = Vec<Object>, content_type = "application/json-patch+json"),
    responses((status = 204, description = "decommissioned"), (status = 400, description = "invalid request", body = ErrorResponse)))]
pub async fn decommission_model(
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> ApiResult {
    check_decommission_patch(&body)?;
    state.data_plane.decommission_model(&id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes a model no other model references.
#[utoipa::path(delete, path = "/models/{id}", tag = "models",
    params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 409, description = "conflict", body = ErrorResponse)))]
pub async fn delete_model(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult {
    state.data_plane.delete_model(&id).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn check_decommission_patch(patch: &Value) -> Result<(), ApiError> {
    let operations = patch
        .as_array()
        .ok_or_else(|| ApiError::json_patch_invalid("a JSON Patch is an array of operations"))?;
    if operations
        .iter()
        .any(|op| !op.is_object() || op.get("op").and_then(Value::as_str).is_none())
    {
        return Err(ApiError::json_patch_invalid(
            "every JSON Patch operation is an object with an `op`",
        ));
    }
    if operations.as_slice() != [json!({"op": "replace", "path": "/decommissioned", "value": true})]
    {
        return Err(ApiError::invalid_argument(
            r#"a model patch must be exactly [{"op": "replace", "path": "/decommissioned", "value": true}]"#,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_decommissioning_patches_pass() {
        let decommission = json!([{"op": "replace", "path": "/decommissioned", "value": true}]);
        assert!(check_decommission_patch(&decommission).is_ok());
        let code = |patch: Value| check_decommission_patch(&patch).unwrap_err().code;
        assert_eq!(code(json!({"op": "replace"})), "JsonPatchInvalid");
        assert_eq!(
            code(json!([{"path": "/decommissioned"}])),
            "JsonPatchInvalid"
        );
        assert_eq!(
            code(json!([{"op": "replace", "path": "/decommissioned", "value": false}])),
            "InvalidArgument"
        );
        assert_eq!(
            code(json!([{"op": "add", "path": "/displayName", "value": "x"}])),
            "InvalidArgument"
        );
    }
}
