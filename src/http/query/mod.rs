//! `POST /query`: ADT's query language over the read model, in pages chained by continuation
//! tokens.
//!
//! The read model is the one [`ReadModelFollower`](twinlog_actors::read_model::ReadModelFollower)
//! keeps up to date from committed records on its own thread; this module only reads it. A query
//! runs under the model's lock on the blocking pool, never on an HTTP worker, and each page runs
//! its query again and cuts the results at the token's offset. Results come in a stable order
//! (`$dtId`), so pages neither skip nor repeat a result while the twins do not change.
//!
//! Each answer carries `query-charge` (see [`charge`]) and `twinlog-lsn`, the LSN of the last
//! committed record the answer reflects.
//!
//! - `token`: [`token::TokenKey`], which seals and opens continuation tokens.
//!
//! docs/design.md "Queries over HTTP" holds the invariants: freshness, paging, tokens, charge.

#[cfg(test)]
mod tests;
mod token;

use std::sync::{Arc, Mutex};

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use twinlog_actors::query::ast::Projection;
use twinlog_actors::query::{self as query_language, Query};
use twinlog_actors::read_model::ReadModel;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult, ErrorResponse};
use super::paging::{page_size, PAGE_ITEMS_MAX};
use super::AppState;
use token::{Continuation, TokenKey};

pub use token::TokenError;

/// ADT's reply header: what the query cost, in query units.
pub const QUERY_CHARGE_HEADER: &str = "query-charge";
/// The LSN of the last committed record an answer reflects, so that a client sees its freshness.
pub const LSN_HEADER: &str = "twinlog-lsn";
/// A query body: 8,000 characters of query, each up to 12 bytes as a JSON `\u` surrogate pair,
/// or a token that holds such a query, base64-encoded.
pub const QUERY_BODY_MAX_BYTES: usize = 256 * 1024;

/// What `POST /query` reads: the shared read model, and the key of this server's tokens.
pub struct QueryService {
    model: Arc<Mutex<ReadModel>>,
    key: TokenKey,
}

impl QueryService {
    /// Queries `model`, which a follower keeps fresh; tokens are sealed with a key drawn now.
    pub fn new(model: Arc<Mutex<ReadModel>>) -> QueryService {
        QueryService {
            model,
            key: TokenKey::random(),
        }
    }

    /// Runs `query` on the blocking pool: every result, and the LSN they reflect.
    async fn run(&self, query: Query) -> ApiResult<(Vec<Value>, u64)> {
        let model = self.model.clone();
        web::block(move || {
            // Only a panic while the follower applies records poisons the lock, and it leaves the
            // model half-changed and no longer followed.
            let model = model.lock().map_err(|_| {
                ApiError::not_ready(
                    "the query read model stopped following the log after a failure; restart the node",
                )
            })?;
            Ok((model.query(&query)?, model.lsn()))
        })
        .await
        .map_err(|_| ApiError::not_ready("the server is stopping"))?
    }
}

/// ADT's `QuerySpecification`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QuerySpecification {
    /// The query; ignored when `continuationToken` is given.
    query: Option<String>,
    /// The token of the previous page, to get the next one.
    #[serde(rename = "continuationToken")]
    continuation_token: Option<String>,
}

/// ADT's `QueryResult`: one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueryResult {
    #[schema(value_type = Vec<Object>)]
    value: Vec<Value>,
    /// Sends for the next page; `null` on the last.
    #[serde(rename = "continuationToken")]
    continuation_token: Option<String>,
}

/// Runs a query and answers one page of its results.
#[utoipa::path(post, path = "/query", tag = "query",
    params(("max-items-per-page" = Option<u32>, Header, minimum = 1, description = "at most 1,000 (the default) are served")),
    request_body = QuerySpecification,
    responses(
        (status = 200, description = "one page", body = QueryResult, headers(
            ("query-charge" = f64, description = "query units: one, plus one per result of the whole query"),
            ("twinlog-lsn" = u64, description = "the LSN of the last committed record the answer reflects"))),
        (status = 400, description = "SqlQueryError, or BadRequest for a bad continuation token", body = ErrorResponse)))]
pub async fn query_twins(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<QuerySpecification>,
) -> ApiResult {
    let queries = &state.queries;
    let (text, offset, remembered) = match body.into_inner() {
        QuerySpecification {
            continuation_token: Some(token),
            ..
        } => {
            let continuation = queries.key.open(&token)?;
            (
                continuation.query,
                continuation.offset,
                Some(continuation.page_items),
            )
        }
        QuerySpecification {
            query: Some(query), ..
        } => (query, 0, None),
        _ => {
            return Err(ApiError::invalid_argument(
                "the body must give `query` or `continuationToken`",
            ))
        }
    };
    let page_items = page_size(&request, remembered, PAGE_ITEMS_MAX)?;
    let query = query_language::parse(&text)?;
    let counts = query.select.projection == Projection::Count;
    let (results, lsn) = queries.run(query).await?;
    let charge = charge(counts, &results);
    let next_offset = offset.saturating_add(page_items);
    let continuation_token = (next_offset < results.len()).then(|| {
        queries.key.seal(&Continuation {
            query: text,
            offset: next_offset,
            page_items,
        })
    });
    let value = results.into_iter().skip(offset).take(page_items).collect();
    Ok(HttpResponse::Ok()
        .insert_header((QUERY_CHARGE_HEADER, charge))
        .insert_header((LSN_HEADER, lsn))
        .json(QueryResult {
            value,
            continuation_token,
        }))
}

/// A page's cost in query units: one, plus one per result of the whole query (per twin counted,
/// for `COUNT()`), since every page evaluates the whole query. It is deterministic, so a client
/// can budget with it; it does not count the twins examined but not matched.
fn charge(counts: bool, results: &[Value]) -> u64 {
    let matched = match (counts, results) {
        (true, [count]) => count["COUNT"].as_u64().unwrap_or(0),
        _ => results.len() as u64,
    };
    matched.saturating_add(1)
}
