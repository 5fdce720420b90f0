//! ETags in and out: the `If-Match` and `If-None-Match` request headers, and the `ETag` of a
//! reply.

use actix_web::http::header::{self, HeaderMap};
use actix_web::HttpResponse;
use twinlog_actors::data_plane::Versioned;
use twinlog_actors::twin::IfMatch;

use super::error::ApiError;

/// `If-Match`: absent, `*`, or a comma-separated list of ETags, possibly over several header
/// lines.
pub fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>, ApiError> {
    let mut tags = Vec::new();
    for value in headers.get_all(header::IF_MATCH) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::invalid_argument("If-Match is not visible ASCII"))?;
        tags.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(str::to_owned),
        );
    }
    if tags.is_empty() {
        return match headers.contains_key(header::IF_MATCH) {
            true => Err(ApiError::invalid_argument("If-Match holds no ETag")),
            false => Ok(None),
        };
    }
    if tags.iter().any(|tag| tag == "*") {
        return Ok(Some(IfMatch::Any));
    }
    Ok(Some(IfMatch::OneOf(tags)))
}

/// `If-None-Match`: ADT accepts only `*` (create only). Returns whether it was given.
pub fn if_none_match_any(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get(header::IF_NONE_MATCH) {
        None => Ok(false),
        Some(value) if value.as_bytes().trim_ascii() == b"*" => Ok(true),
        Some(value) => Err(ApiError::invalid_argument(format!(
            "If-None-Match accepts only `*`, not `{}`",
            String::from_utf8_lossy(value.as_bytes())
        ))),
    }
}

/// 200 with the document and its `ETag`.
pub fn versioned_reply(versioned: Versioned) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, versioned.etag))
        .json(versioned.body)
}

/// 204 with the new `ETag` of what a patch changed.
pub fn patched_reply(etag: String) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ETAG, etag))
        .finish()
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(name: header::HeaderName, values: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn if_match_reads_star_lists_and_repeated_lines() {
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
        assert_eq!(
            if_match(&headers(header::IF_MATCH, &["*"])).unwrap(),
            Some(IfMatch::Any)
        );
        assert_eq!(
            if_match(&headers(header::IF_MATCH, &[r#"W/"1", W/"2""#, r#"W/"3""#])).unwrap(),
            Some(IfMatch::OneOf(vec![
                r#"W/"1""#.into(),
                r#"W/"2""#.into(),
                r#"W/"3""#.into()
            ]))
        );
        assert!(if_match(&headers(header::IF_MATCH, &[" , "])).is_err());
    }

    #[test]
    fn if_none_match_accepts_only_star() {
        assert!(!if_none_match_any(&HeaderMap::new()).unwrap());
        assert!(if_none_match_any(&headers(header::IF_NONE_MATCH, &["*"])).unwrap());
        let refused = if_none_match_any(&headers(header::IF_NONE_MATCH, &[r#"W/"1""#]));
        assert_eq!(refused.unwrap_err().code, "InvalidArgument");
    }
}
