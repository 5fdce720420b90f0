//! `/openapi.json`: the API description, generated from the handlers' `#[utoipa::path]`
//! attributes, plus what every operation shares (api-version, bearer auth, the error body).

use actix_web::HttpResponse;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorBody, ErrorResponse};
use super::eventroutes::{
    DeadLetterDocument, EventRouteBody, EventRouteDocument, ReplayReportDocument,
};
use super::paging::Page;
use super::query::{QueryResult, QuerySpecification};
use super::telemetry::{BatchReport, LineError};
use super::{
    chaos, eventroutes, feed, models, ops, query, relationships, telemetry, twins, API_VERSION,
};

pub const OPENAPI_PATH: &str = "/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(title = "twinlog", description = "An Azure Digital Twins compatible data plane (api-version 2023-10-31), event-sourced."),
    paths(
        models::upload_models, models::list_models, models::get_model,
        models::decommission_model, models::delete_model,
        twins::get_twin, twins::put_twin, twins::patch_twin, twins::delete_twin,
        twins::get_component, twins::patch_component,
        relationships::get, relationships::put, relationships::patch, relationships::delete,
        relationships::list, relationships::list_incoming,
        query::query_twins,
        telemetry::send, telemetry::send_to_component, telemetry::batch,
        feed::feed,
        eventroutes::put, eventroutes::get, eventroutes::delete, eventroutes::list,
        eventroutes::list_dead_letters, eventroutes::replay_dead_letters,
        ops::healthz, ops::readyz, ops::metrics, chaos::arm_panic,
    ),
    components(schemas(ErrorResponse, ErrorBody, Page, QuerySpecification, QueryResult, BatchReport,
        LineError, EventRouteBody, EventRouteDocument, DeadLetterDocument, ReplayReportDocument)),
    modifiers(&AdtConventions),
)]
struct ApiDoc;

/// What ADT's calls share, added to every operation rather than repeated on each handler.
struct AdtConventions;

impl Modify for AdtConventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        let api_version = ParameterBuilder::new()
            .name("api-version")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(format!(
                "ADT's api-version; only {API_VERSION} is served"
            )))
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .enum_values(Some([API_VERSION])),
            ))
            .build();
        let error = ResponseBuilder::new()
            .description("an ADT error; its code is also in x-ms-error-code")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorResponse")))
                    .build(),
            )
            .build();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let probe = super::ops::is_ops(path);
            for operation in operations(item) {
                operation
                    .responses
                    .responses
                    .insert("default".into(), error.clone().into());
                if probe {
                    continue;
                }
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .push(api_version.clone().into());
                operation.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// The description, as JSON.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(ApiDoc::openapi().to_json().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_adt_operation_takes_api_version_and_may_answer_an_error() {
        let description: serde_json::Value =
            serde_json::from_str(&ApiDoc::openapi().to_json().unwrap()).unwrap();
        let twin = &description["paths"]["/digitaltwins/{id}"]["get"];
        assert!(twin["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "api-version"));
        assert_eq!(
            twin["responses"]["default"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorResponse"
        );
        assert!(description["paths"]["/telemetry/batch"]["post"].is_object());
        let query = &description["paths"]["/query"]["post"];
        assert_eq!(
            query["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/QuerySpecification"
        );
        assert!(query["responses"]["200"]["headers"]["query-charge"].is_object());
    }

    /// Clients and fuzzers follow links by operationId: two operations with one id (handlers of
    /// the same name in different modules) would send them to the wrong one.
    #[test]
    fn operation_ids_are_unique() {
        let description: serde_json::Value =
            serde_json::from_str(&ApiDoc::openapi().to_json().unwrap()).unwrap();
        let mut ids: Vec<(&str, String)> = Vec::new();
        for (path, item) in description["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap();
                ids.push((id, format!("{method} {path}")));
            }
        }
        ids.sort();
        for pair in ids.windows(2) {
            assert_ne!(pair[0].0, pair[1].0, "{} and {}", pair[0].1, pair[1].1);
        }
        let routes = &description["paths"]["/eventroutes/{id}"];
        assert_eq!(routes["put"]["operationId"], "EventRoutes_Add");
    }
}
