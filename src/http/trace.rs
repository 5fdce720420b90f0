//! The W3C Trace Context `traceparent` header of a write, checked for shape and handed to the
//! data plane, so that the change feed's events carry the caller's trace on.
//!
//! A header of the wrong shape is ignored, never refused: Trace Context asks a receiver that
//! cannot parse it to go on as if there were none, and ADT's clients send it on every call.

use actix_web::http::header::{HeaderMap, HeaderName};
use twinlog_actors::data_plane::DataPlane;

use super::AppState;

/// A name ready to look up: a `&str` key is parsed into a name on every lookup.
pub(super) static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// `version-traceid-parentid-flags`, the fields version 00 defines.
const TRACEPARENT_CHARS: usize = 55;

/// The data plane for a write that came with `headers`: its events record the request's
/// `traceparent` when it has a valid one.
pub(super) fn traced(state: &AppState, headers: &HeaderMap) -> DataPlane {
    state.data_plane.traced(traceparent(headers))
}

fn traceparent(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(&TRACEPARENT);
    let value = values.next()?;
    // Trace Context: more than one traceparent is no trace context at all.
    if values.next().is_some() {
        return None;
    }
    checked(value.to_str().ok()?)
}

/// The version-00 part of a valid `traceparent`: two lowercase hex digits of version (not
/// `ff`), 32 of trace id and 16 of parent id (neither all zeros), 2 of flags. A later version
/// may append `-` and fields of its own, which are left out: this server understands 00.
fn checked(value: &str) -> Option<&str> {
    let known = value.get(..TRACEPARENT_CHARS)?;
    let rest = &value[TRACEPARENT_CHARS..];
    let fields: Vec<&str> = known.split('-').collect();
    let [version, trace_id, parent_id, flags] = fields[..] else {
        return None;
    };
    let hex = |field: &str, chars: usize| {
        field.len() == chars
            && field
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let zeros = |field: &str| field.bytes().all(|b| b == b'0');
    let shaped = hex(version, 2)
        && hex(trace_id, 32)
        && hex(parent_id, 16)
        && hex(flags, 2)
        && version != "ff"
        && !zeros(trace_id)
        && !zeros(parent_id);
    let ends_right = match version {
        "00" => rest.is_empty(),
        _ => rest.is_empty() || rest.starts_with('-'),
    };
    (shaped && ends_right).then_some(known)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_well_formed_traceparent_is_kept_and_anything_else_is_ignored() {
        assert_eq!(checked(VALID), Some(VALID));
        let later_version = format!("{}-more", VALID.replacen("00", "01", 1));
        assert_eq!(checked(&later_version), Some(&later_version[..55]));
        let refused = [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "0é-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        ];
        for value in refused {
            assert_eq!(checked(value), None, "{value}");
        }
    }

    #[test]
    fn two_traceparent_headers_are_none() {
        let name = TRACEPARENT.clone();
        let mut headers = HeaderMap::new();
        assert_eq!(traceparent(&headers), None);
        headers.insert(name.clone(), HeaderValue::from_static(VALID));
        assert_eq!(traceparent(&headers), Some(VALID));
        headers.append(name, HeaderValue::from_static(VALID));
        assert_eq!(traceparent(&headers), None);
    }
}
