//! `POST /query`: ADT's query language over the read model, in pages chained by continuation
//! tokens.
//!
//! The read model is the one [`ReadModelFollower`](twinlog_actors::read_model::ReadModelFollower)
//! keeps up to date from committed records on its own thread; this module only reads it. A query
//! runs on the latest snapshot of the model, on the idle-priority [`QueryPool`], never on an HTTP
//! worker, and each page runs its query again, building only the documents from the token's
//! offset on.
//! Results come in a stable order (`$dtId`), so pages neither skip nor repeat a result while the
//! twins do not change.
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

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use twinlog_actors::query::ast::Projection;
use twinlog_actors::query::{self as query_language, Query};
use twinlog_actors::read_model::{QueryPage, QueryPool};
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

/// What `POST /query` reads: the query threads over the shared read model, and the key of this
/// server's tokens.
pub struct QueryService {
    pool: QueryPool,
    key: TokenKey,
}

impl QueryService {
    /// Queries on `pool`, whose model a follower keeps fresh; tokens are sealed with `key`.
    pub fn new(pool: QueryPool, key: [u8; 32]) -> QueryService {
        QueryService {
            pool,
            key: TokenKey::new(key),
        }
    }

    /// The LSN the latest snapshot of the read model reflects: what the next query would see.
    pub fn read_model_lsn(&self) -> u64 {
        self.pool.model().lsn()
    }

    /// Runs `query` on the query threads: the page of `page_items` results from `offset` on,
    /// and the LSN they reflect.
    async fn run(
        &self,
        query: Query,
        offset: usize,
        page_items: usize,
    ) -> ApiResult<(QueryPage, u64)> {
        let run = self.pool.run(move |model| {
            model
                .query_page(&query, offset, page_items)
                .map(|page| (page, model.lsn()))
        });
        Ok(run.await??)
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
    let (page, lsn) = queries.run(query, offset, page_items).await?;
    let charge = charge(counts, &page);
    let next_offset = offset.saturating_add(page_items);
    let continuation_token = (next_offset < page.total).then(|| {
        queries.key.seal(&Continuation {
            query: text,
            offset: next_offset,
            page_items,
        })
    });
    Ok(HttpResponse::Ok()
        .insert_header((QUERY_CHARGE_HEADER, charge))
        .insert_header((LSN_HEADER, lsn))
        .json(QueryResult {
            value: page.results,
            continuation_token,
        }))
}

/// A page's cost in query units: one, plus one per result of the whole query (per twin counted,
/// for `COUNT()`), since every page finds every result. It is deterministic, so a client can
/// budget with it; it does not count the twins examined but not matched.
fn charge(counts: bool, page: &QueryPage) -> u64 {
    let matched = match (counts, page.results.as_slice()) {
        (true, [count]) => count["COUNT"].as_u64().unwrap_or(0),
        _ => page.total as u64,
    };
    matched.saturating_add(1)
}
