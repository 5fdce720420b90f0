//! ADT's paged lists: the page size from the `max-items-per-page` header, and an absolute
//! `nextLink` that repeats the request with an opaque continuation token.
//!
//! Most lists come whole from the data plane and are cut here ([`page_reply`]); a list too long
//! to hold whole (a route's dead letters) is read page by page from its store, by key
//! ([`page_request`], [`page_of`]). A token holds where the next page starts (an offset, or a
//! key) and the page size, since clients (the official SDKs among them) send
//! `max-items-per-page` only with the first request. A list that changes between pages may shift
//! by the items added or removed before the offset.

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};

/// The request header that bounds a page.
pub const MAX_ITEMS_HEADER: &str = "max-items-per-page";
/// The query parameter that carries the continuation token in a `nextLink`.
pub const CONTINUATION_PARAM: &str = "continuationToken";
/// The page size when the client names none.
pub const PAGE_ITEMS_DEFAULT: usize = 100;
/// The largest page served, whatever the client asks (ADT's query maximum).
pub const PAGE_ITEMS_MAX: usize = 1_000;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page {
    #[schema(value_type = Vec<Object>)]
    pub value: Vec<Value>,
    #[serde(rename = "nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// The query string's pairs in order, repeated keys kept (ADT's `dependenciesFor` repeats).
pub fn query_pairs(request: &HttpRequest) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(request.query_string())
        .map_err(|error| ApiError::invalid_argument(format!("the query string: {error}")))
}

/// Where a page starts, and its size. `start` is an offset into a list cut here, or, for a list
/// read page by page from its store, the key the page starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub start: u64,
    pub size: usize,
}

/// The page that `request` asks for: from its continuation token, if any, else the first.
pub fn page_request(request: &HttpRequest) -> ApiResult<PageRequest> {
    let pairs = query_pairs(request)?;
    let continuation = match pairs.iter().find(|(key, _)| key == CONTINUATION_PARAM) {
        Some((_, token)) => Some(decode_token(token)?),
        None => None,
    };
    let size = page_size(
        request,
        continuation.map(|(_, size)| size),
        PAGE_ITEMS_DEFAULT,
    )?;
    Ok(PageRequest {
        start: continuation.map_or(0, |(start, _)| start),
        size,
    })
}

/// A 200 reply with one page, `value`, and a `nextLink` that asks for the page starting at
/// `next_start`, if there is one.
pub fn page_of(
    request: &HttpRequest,
    page: PageRequest,
    value: Vec<Value>,
    next_start: Option<u64>,
) -> ApiResult {
    let next_link = match next_start {
        Some(next_start) => {
            let mut pairs = query_pairs(request)?;
            pairs.retain(|(key, _)| key != CONTINUATION_PARAM);
            pairs.push((
                CONTINUATION_PARAM.to_owned(),
                encode_token(next_start, page.size),
            ));
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            let connection = request.connection_info();
            Some(format!(
                "{}://{}{}?{query}",
                connection.scheme(),
                connection.host(),
                request.path()
            ))
        }
        None => None,
    };
    Ok(HttpResponse::Ok().json(Page { value, next_link }))
}

/// The page of `items` that `request` asks for, as a 200 reply.
pub fn page_reply(request: &HttpRequest, items: Vec<Value>) -> ApiResult {
    let page = page_request(request)?;
    let offset = usize::try_from(page.start).unwrap_or(usize::MAX);
    let next_offset = offset.saturating_add(page.size);
    let next_start = (next_offset < items.len()).then_some(next_offset as u64);
    let value = items.into_iter().skip(offset).take(page.size).collect();
    page_of(request, page, value, next_start)
}

/// The page size: what `request` asks for in [`MAX_ITEMS_HEADER`], at most [`PAGE_ITEMS_MAX`];
/// else the size its continuation token `remembered`; else `default`. The header, when a client
/// repeats it, wins over the token.
pub fn page_size(
    request: &HttpRequest,
    remembered: Option<usize>,
    default: usize,
) -> ApiResult<usize> {
    let Some(value) = request.headers().get(MAX_ITEMS_HEADER) else {
        return Ok(remembered.unwrap_or(default));
    };
    let size = value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .filter(|&size| size > 0)
        .ok_or_else(|| {
            ApiError::invalid_argument(format!("{MAX_ITEMS_HEADER} must be a positive integer"))
        })?;
    Ok(size.min(PAGE_ITEMS_MAX))
}

/// The token: the next page's start (8 bytes) and the page size (4 bytes), big endian, in hex.
fn encode_token(start: u64, size: usize) -> String {
    let mut bytes = start.to_be_bytes().to_vec();
    bytes.extend_from_slice(&(size as u32).to_be_bytes());
    hex::encode(bytes)
}

/// (start, page size) from a token of ours; a page size out of bounds is not one of ours.
fn decode_token(token: &str) -> ApiResult<(u64, usize)> {
    hex::decode(token)
        .ok()
        .and_then(|bytes| <[u8; 12]>::try_from(bytes).ok())
        .map(|bytes| {
            let start = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
            let size = u32::from_be_bytes(bytes[8..].try_into().expect("4 bytes")) as usize;
            (start, size)
        })
        .filter(|&(_, size)| (1..=PAGE_ITEMS_MAX).contains(&size))
        .ok_or_else(|| {
            ApiError::invalid_argument(format!("{CONTINUATION_PARAM} `{token}` is not one of ours"))
        })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use serde_json::json;

    use super::*;

    async fn body(response: HttpResponse) -> Value {
        let bytes = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[actix_web::test]
    async fn pages_follow_next_links_and_keep_the_query() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let first = TestRequest::get()
            .uri("/models?dependenciesFor=a&dependenciesFor=b")
            .insert_header((MAX_ITEMS_HEADER, "2"))
            .to_http_request();
        let page = body(page_reply(&first, items.clone()).unwrap()).await;
        assert_eq!(page["value"], json!([0, 1]));
        let next = page["nextLink"].as_str().unwrap();
        assert!(next.starts_with("http://localhost:8080/models?dependenciesFor=a&dependenciesFor=b&continuationToken="), "{next}");
        let second = TestRequest::get()
            .uri(next.trim_start_matches("http://localhost:8080"))
            .insert_header((MAX_ITEMS_HEADER, "4"))
            .to_http_request();
        let page = body(page_reply(&second, items).unwrap()).await;
        assert_eq!(page["value"], json!([2, 3, 4]));
        assert!(page.get("nextLink").is_none());
    }

    #[actix_web::test]
    async fn a_next_link_followed_without_the_header_keeps_the_page_size() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let first = TestRequest::get()
            .uri("/models")
            .insert_header((MAX_ITEMS_HEADER, "2"))
            .to_http_request();
        let page = body(page_reply(&first, items.clone()).unwrap()).await;
        let next = page["nextLink"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://localhost:8080")
            .to_owned();
        let second = TestRequest::get().uri(&next).to_http_request();
        let page = body(page_reply(&second, items).unwrap()).await;
        assert_eq!(page["value"], json!([2, 3]));
        assert!(page["nextLink"].is_string());
    }

    #[test]
    fn bad_page_sizes_and_tokens_are_invalid_arguments() {
        let zero = TestRequest::get()
            .insert_header((MAX_ITEMS_HEADER, "0"))
            .to_http_request();
        assert_eq!(
            page_reply(&zero, vec![]).unwrap_err().code,
            "InvalidArgument"
        );
        let forged = TestRequest::get()
            .uri("/models?continuationToken=zz")
            .to_http_request();
        assert_eq!(
            page_reply(&forged, vec![]).unwrap_err().code,
            "InvalidArgument"
        );
    }
}
