//! Telemetry in: ADT's per-twin and per-component POSTs, and twinlog's NDJSON batch. Every
//! reply comes only once the events it accepts are durable.

use std::borrow::Cow;
use std::collections::VecDeque;

use actix_web::http::header::{self, HeaderMap, HeaderName};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use twinlog_actors::data_plane::DataPlane;
use twinlog_actors::region::Dispatched;
use twinlog_actors::twin::TwinState;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult, ErrorResponse};
use super::trace::traced;
use super::AppState;

const MESSAGE_ID_HEADER: &str = "Message-Id";
const SOURCE_TIME_HEADER: &str = "Telemetry-Source-Time";
// The same names, ready to look up: a `&str` key is parsed into a name on every lookup.
static MESSAGE_ID: HeaderName = HeaderName::from_static("message-id");
static SOURCE_TIME: HeaderName = HeaderName::from_static("telemetry-source-time");
const NDJSON: &str = "application/x-ndjson";
/// How many lines of one batch are in flight at once: enough to fill the log's group commits,
/// and below a twin's outstanding-request limit (500), so one busy twin is not refused.
const BATCH_IN_FLIGHT_MAX: usize = 256;

/// Sends telemetry from a twin.
#[utoipa::path(post, path = "/digitaltwins/{id}/telemetry", tag = "telemetry",
    params(("id" = String, Path),
           ("Message-Id" = String, Header, description = "unique per twin; a repeat is accepted once"),
           ("Telemetry-Source-Time" = Option<String>, Header, description = "RFC 3339")),
    request_body = Object,
    responses((status = 204, description = "durable"), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn send(
    state: web::Data<AppState>,
    id: web::Path<String>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> ApiResult {
    send_from(&state, &id, None, request.headers(), body.into_inner()).await
}

/// Sends telemetry from a twin's component.
#[utoipa::path(post, path = "/digitaltwins/{id}/components/{component}/telemetry", tag = "telemetry",
    params(("id" = String, Path), ("component" = String, Path),
           ("Message-Id" = String, Header, description = "unique per twin; a repeat is accepted once"),
           ("Telemetry-Source-Time" = Option<String>, Header, description = "RFC 3339")),
    request_body = Object,
    responses((status = 204, description = "durable"), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn send_to_component(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
    body: web::Json<Value>,
) -> ApiResult {
    let (id, component) = path.into_inner();
    send_from(
        &state,
        &id,
        Some(&component),
        request.headers(),
        body.into_inner(),
    )
    .await
}

async fn send_from(
    state: &AppState,
    id: &str,
    component: Option<&str>,
    headers: &HeaderMap,
    body: Value,
) -> ApiResult {
    let message_id = headers
        .get(&MESSAGE_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            ApiError::invalid_argument(format!("the {MESSAGE_ID_HEADER} header is required"))
        })?;
    let source_time = headers
        .get(&SOURCE_TIME)
        .map(|value| check_source_time(SOURCE_TIME_HEADER, value.to_str().unwrap_or("")))
        .transpose()?;
    traced(state, headers)
        .send_telemetry(id, component, message_id, source_time, body)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn check_source_time<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|_| value)
        .map_err(|error| {
            ApiError::invalid_argument(format!(
                "{field} `{value}` is not an RFC 3339 time: {error}"
            ))
        })
}

/// One line of a batch. Its text borrows from the body unless it holds escapes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BatchLine<'a> {
    #[serde(borrow)]
    twin_id: Cow<'a, str>,
    #[serde(borrow)]
    message_id: Cow<'a, str>,
    #[serde(borrow)]
    source_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    component: Option<Cow<'a, str>>,
    data: Value,
}

/// The outcome of a batch.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchReport {
    /// Lines whose events are durable (a repeated `messageId` counts as accepted).
    accepted: usize,
    rejected: usize,
    /// One per rejected line, in line order.
    errors: Vec<LineError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineError {
    /// 1-based, counting every line of the body, blank ones included.
    line: usize,
    code: String,
    message: String,
}

/// Sends many events, one JSON object per line:
/// `{"twinId", "messageId", "sourceTime"?, "component"?, "data"}`. Lines are independent: a bad
/// line is reported and the others go on. Lines for one twin reach it in line order.
#[utoipa::path(post, path = "/telemetry/batch", tag = "telemetry",
    request_body(content = String, content_type = "application/x-ndjson"),
    responses((status = 200, description = "OK", body = BatchReport), (status = 400, description = "invalid request", body = ErrorResponse)))]
pub async fn batch(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> ApiResult {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with(NDJSON) {
        return Err(ApiError::invalid_argument(format!(
            "Content-Type must be {NDJSON}, not `{content_type}`"
        )));
    }
    let lines = body
        .split(|&byte| byte == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .map(|(index, line)| (index + 1, parse_line(line)));
    // One request, one trace context: every line's event records the request's traceparent.
    let data_plane = traced(&state, request.headers());
    // Each line is dispatched to its twin as it is read, and its answer awaited in line order
    // once the window is full: a twin gets its lines in line order, and the answers are a channel
    // each, not a future per line.
    let mut in_flight = VecDeque::with_capacity(BATCH_IN_FLIGHT_MAX);
    let mut outcomes = Vec::new();
    for (line, parsed) in lines {
        if in_flight.len() == BATCH_IN_FLIGHT_MAX {
            if let Some(oldest) = in_flight.pop_front() {
                outcomes.push(answer(&data_plane, oldest).await);
            }
        }
        let dispatched = parsed.and_then(|event| {
            let command = data_plane.telemetry(
                event.component.as_deref(),
                &event.message_id,
                event.source_time.as_deref(),
                event.data,
            );
            data_plane
                .dispatch(&event.twin_id, command)
                .map_err(ApiError::from)
        });
        in_flight.push_back((line, dispatched));
    }
    while let Some(oldest) = in_flight.pop_front() {
        outcomes.push(answer(&data_plane, oldest).await);
    }
    let mut report = BatchReport::default();
    for (line, outcome) in outcomes {
        match outcome {
            Ok(()) => report.accepted += 1,
            Err(error) => report.errors.push(LineError {
                line,
                code: error.code.to_owned(),
                message: error.message,
            }),
        }
    }
    report.rejected = report.errors.len();
    Ok(HttpResponse::Ok().json(report))
}

/// The outcome of a line in flight, once its event is durable or refused.
async fn answer(
    data_plane: &DataPlane,
    (line, dispatched): (usize, Result<Dispatched<TwinState>, ApiError>),
) -> (usize, Result<(), ApiError>) {
    let answered = match dispatched {
        Ok(dispatched) => data_plane.answer(dispatched).await.map_err(ApiError::from),
        Err(refusal) => Err(refusal),
    };
    (line, answered)
}

fn parse_line(line: &[u8]) -> Result<BatchLine<'_>, ApiError> {
    let refused = |error: &dyn std::fmt::Display| {
        ApiError::invalid_argument(format!("not a telemetry line: {error}"))
    };
    // One UTF-8 check for the whole line: parsed from a `str`, no string in it is checked again.
    let line = std::str::from_utf8(line).map_err(|error| refused(&error))?;
    let event: BatchLine = serde_json::from_str(line).map_err(|error| refused(&error))?;
    if event.message_id.is_empty() {
        return Err(ApiError::invalid_argument("messageId must not be empty"));
    }
    if let Some(source_time) = &event.source_time {
        check_source_time("sourceTime", source_time)?;
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_need_ids_data_and_rfc3339_times() {
        let good =
            br#"{"twinId":"t","messageId":"m","sourceTime":"2024-01-02T03:04:05Z","data":{"x":1}}"#;
        assert_eq!(parse_line(good).unwrap().twin_id, "t");
        let refused = |line: &[u8]| parse_line(line).unwrap_err().message;
        assert!(refused(br#"{"twinId":"t","data":{}}"#).contains("messageId"));
        assert!(
            refused(br#"{"twinId":"t","messageId":"m","sourceTime":"yesterday","data":{}}"#)
                .contains("sourceTime")
        );
        assert!(refused(b"{").contains("not a telemetry line"));
        assert!(refused(b"{\"twinId\":\"\xff\"}").contains("not a telemetry line"));
    }
}
