//! `/eventroutes`: ADT's event routes (create or replace, get, list, delete), and each route's
//! dead letters (list, replay), over [`EventRoutes`](twinlog_actors::routes::EventRoutes).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use twinlog_actors::aggregate::rfc3339_from_ms;
use twinlog_actors::routes::{DeadLetter, EventRoute, ReplayReport};
use utoipa::ToSchema;

use super::error::{ApiResult, ErrorResponse};
use super::paging::{page_of, page_reply, page_request, Page};
use super::AppState;

/// The body of `PUT /eventroutes/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EventRouteBody {
    /// The name of an endpoint in the node's endpoints file.
    #[serde(rename = "endpointName")]
    endpoint_name: String,
    /// ADT's route filter, such as `type = 'microsoft.iot.telemetry'`; `true` passes everything.
    filter: String,
}

/// An event route, as ADT shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventRouteDocument {
    id: String,
    #[serde(rename = "endpointName")]
    endpoint_name: String,
    filter: String,
}

/// An event that its route gave up delivering.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterDocument {
    /// The LSN of the record the event was made from.
    lsn: u64,
    /// When delivery gave up, RFC 3339.
    #[serde(rename = "deadLetteredTime")]
    dead_lettered_time: String,
    /// The delivery attempts made.
    attempts: u32,
    /// The last attempt's failure.
    reason: String,
    /// The CloudEvent, in JSON (structured mode), as it would have been delivered.
    #[schema(value_type = Object)]
    event: Box<RawValue>,
}

/// What a replay did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayReportDocument {
    /// Dead letters delivered, and so removed.
    delivered: u64,
    /// Dead letters left.
    remaining: u64,
    /// Why the replay stopped early, when it did.
    #[serde(rename = "lastError", skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
}

/// Creates or replaces an event route. A new route delivers the events committed from now on.
#[utoipa::path(put, path = "/eventroutes/{id}", tag = "eventroutes", operation_id = "EventRoutes_Add",
    params(("id" = String, Path, description = "1 to 64 ASCII letters, digits, '-', '_' and '.'")),
    request_body(content = EventRouteBody),
    responses((status = 204, description = "stored"), (status = 400, description = "invalid route", body = ErrorResponse)))]
pub async fn put(
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<EventRouteBody>,
) -> ApiResult {
    state
        .routes
        .put(&id, &body.endpoint_name, &body.filter)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One event route.
#[utoipa::path(get, path = "/eventroutes/{id}", tag = "eventroutes", operation_id = "EventRoutes_GetById",
    params(("id" = String, Path)),
    responses((status = 200, description = "OK", body = EventRouteDocument), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn get(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult {
    Ok(HttpResponse::Ok().json(document(state.routes.get(&id)?)))
}

/// Deletes an event route, with its cursor and its dead letters.
#[utoipa::path(delete, path = "/eventroutes/{id}", tag = "eventroutes", operation_id = "EventRoutes_Delete",
    params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn delete(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult {
    state.routes.delete(&id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every event route; paged.
#[utoipa::path(get, path = "/eventroutes", tag = "eventroutes", operation_id = "EventRoutes_List",
    params(("max-items-per-page" = Option<u32>, Header, minimum = 1),
           ("continuationToken" = Option<String>, Query)),
    responses((status = 200, description = "OK", body = Page)))]
pub async fn list(state: web::Data<AppState>, request: HttpRequest) -> ApiResult {
    let routes = state
        .routes
        .list()
        .into_iter()
        .map(|route| serde_json::to_value(document(route)).unwrap_or(Value::Null))
        .collect();
    page_reply(&request, routes)
}

/// The route's dead letters, oldest first; paged.
#[utoipa::path(get, path = "/eventroutes/{id}/deadletters", tag = "eventroutes", operation_id = "EventRoutes_ListDeadLetters",
    params(("id" = String, Path),
           ("max-items-per-page" = Option<u32>, Header, minimum = 1),
           ("continuationToken" = Option<String>, Query)),
    responses((status = 200, description = "a page of DeadLetterDocument", body = Page), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn list_dead_letters(
    state: web::Data<AppState>,
    id: web::Path<String>,
    request: HttpRequest,
) -> ApiResult {
    let page = page_request(&request)?;
    // One more than the page, to learn whether another follows.
    let mut letters = state
        .routes
        .dead_letters(&id, page.start, page.size + 1)
        .await?;
    let next_start = (letters.len() > page.size).then(|| letters[page.size].lsn);
    letters.truncate(page.size);
    let value = letters
        .into_iter()
        .map(|letter| serde_json::to_value(dead_letter(letter)).unwrap_or(Value::Null))
        .collect();
    page_of(&request, page, value, next_start)
}

/// Delivers the route's dead letters again, oldest first, one attempt per batch, removing those
/// the endpoint takes; stops at the first batch it refuses.
#[utoipa::path(post, path = "/eventroutes/{id}/deadletters/replay", tag = "eventroutes", operation_id = "EventRoutes_ReplayDeadLetters",
    params(("id" = String, Path)),
    responses((status = 200, description = "what was replayed", body = ReplayReportDocument), (status = 404, description = "not found", body = ErrorResponse)))]
pub async fn replay_dead_letters(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult {
    let ReplayReport {
        delivered,
        remaining,
        last_error,
    } = state.routes.replay(&id).await?;
    Ok(HttpResponse::Ok().json(ReplayReportDocument {
        delivered,
        remaining,
        last_error,
    }))
}

fn document(route: EventRoute) -> EventRouteDocument {
    EventRouteDocument {
        id: route.id,
        endpoint_name: route.endpoint_name,
        filter: route.filter,
    }
}

fn dead_letter(dead: DeadLetter) -> DeadLetterDocument {
    let letter = dead.letter;
    // The event was stored as the JSON text it was made into; a damaged one is shown as a string.
    let event = RawValue::from_string(letter.event.clone()).unwrap_or_else(|_| {
        RawValue::from_string(Value::String(letter.event).to_string())
            .expect("a JSON string is JSON")
    });
    DeadLetterDocument {
        lsn: dead.lsn,
        dead_lettered_time: rfc3339_from_ms(letter.dead_lettered_ms),
        attempts: letter.attempts,
        reason: letter.reason,
        event,
    }
}
