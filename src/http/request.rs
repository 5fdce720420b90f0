//! What every request goes through first: its tracing span, its metrics, and the check of the
//! `api-version` it asks for.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use serde::Deserialize;
use tracing::field::Empty;
use tracing::Instrument;

use super::error::ApiError;
use super::trace::TRACEPARENT;
use super::{AppState, API_VERSION};

#[derive(Deserialize)]
struct VersionQuery {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

/// The span of one request (method, twin, region, epoch, the caller's `traceparent`, and the route
/// once the router has matched it), its latency and status in the metrics, and a refusal of an
/// `api-version` we do not speak.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let started = Instant::now();
    let state = request
        .app_data::<web::Data<AppState>>()
        .expect("the app carries its state")
        .clone();
    let method = request.method().clone();
    let meta = state.data_plane.log().meta();
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = Empty,
        twin_id = twin_id(request.path()),
        region = %meta.region,
        epoch = meta.epoch,
        traceparent = request
            .headers()
            .get(&TRACEPARENT)
            .and_then(|value| value.to_str().ok()),
        caller = Empty,
    );
    let outcome = async {
        if let Err(refusal) = check_api_version(request.query_string()) {
            return Ok(request.error_response(refusal).map_into_right_body());
        }
        next.call(request)
            .await
            .map(ServiceResponse::map_into_left_body)
    }
    .instrument(span.clone())
    .await;
    let (status, route) = match &outcome {
        // The pattern, not the path, so that metrics have one series per route. Asked once the
        // router has matched, it is a lookup; before, it would run the router's match again.
        Ok(response) => (response.status(), response.request().match_pattern()),
        Err(error) => (error.as_response_error().status_code(), None),
    };
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    span.record("route", route.as_str());
    let elapsed = started.elapsed();
    state.metrics.observe(&method, &route, status, elapsed);
    span.in_scope(|| {
        let latency_ms = elapsed.as_secs_f64() * 1e3;
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), latency_ms, "request failed");
        } else if status.is_client_error() {
            tracing::info!(status = status.as_u16(), latency_ms, "request refused");
        } else {
            tracing::debug!(status = status.as_u16(), latency_ms, "request served");
        }
    });
    outcome
}

/// ADT clients always send `api-version`; twinlog also takes requests without it.
fn check_api_version(query: &str) -> Result<(), ApiError> {
    let asked = serde_urlencoded::from_str::<VersionQuery>(query)
        .map_err(|error| ApiError::invalid_argument(format!("the query string: {error}")))?;
    match asked.api_version {
        Some(version) if version != API_VERSION => Err(ApiError::invalid_argument(format!(
            "api-version `{version}` is not supported; this server speaks {API_VERSION}"
        ))),
        _ => Ok(()),
    }
}

/// The twin a request addresses, for its span: the segment after `/digitaltwins/` or
/// `/admin/chaos/twins/`, as sent (percent-encoded).
fn twin_id(path: &str) -> Option<&str> {
    ["/digitaltwins/", "/admin/chaos/twins/"]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))
        .and_then(|rest| rest.split('/').next())
        .filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_may_be_left_out_but_not_wrong() {
        assert!(check_api_version("").is_ok());
        assert!(check_api_version("api-version=2023-10-31&x=1").is_ok());
        let refused = check_api_version("api-version=2020-10-31").unwrap_err();
        assert_eq!(refused.code, "InvalidArgument");
        assert!(
            refused.message.contains("2020-10-31"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn twin_ids_come_from_twin_paths_only() {
        assert_eq!(twin_id("/digitaltwins/a%20b/relationships"), Some("a%20b"));
        assert_eq!(twin_id("/admin/chaos/twins/t1/panic"), Some("t1"));
        assert_eq!(twin_id("/models/dtmi:a;1"), None);
        assert_eq!(twin_id("/digitaltwins/"), None);
    }
}
