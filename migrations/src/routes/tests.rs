use super::*;

#[test]
fn one_routes_dead_letters_form_one_range_in_lsn_order() {
    let (start, end) = dead_letter_range("a", 0);
    let inside = [
        dead_letter_key("a", 0),
        dead_letter_key("a", 255),
        dead_letter_key("a", 256),
        dead_letter_key("a", u64::MAX),
    ];
    for pair in inside.windows(2) {
        assert!(pair[0] < pair[1], "{pair:?}");
    }
    for key in &inside {
        assert!(&start <= key && key < &end, "{key:?}");
    }
    // Ids that extend "a" or sort right after it stay outside its range.
    for outside in [dead_letter_key("a-b", 1), dead_letter_key("b", 0)] {
        assert!(outside >= end, "{outside:?}");
    }
    assert!(dead_letter_key("", u64::MAX) < start);
    let (from_7, _) = dead_letter_range("a", 7);
    assert!(dead_letter_key("a", 6) < from_7 && from_7 <= dead_letter_key("a", 7));
}

#[test]
fn keys_and_values_round_trip() {
    assert_eq!(dead_letter_lsn(&dead_letter_key("route.1", 42)), Some(42));
    assert_eq!(dead_letter_lsn(b"short"), None);
    assert_eq!(
        decode_cursor(&encode_cursor(9_000_000_001)),
        Some(9_000_000_001)
    );
    assert_eq!(decode_cursor(b"123"), None);
    let route = StoredRoute {
        endpoint_name: "hook".into(),
        filter: "type = 'microsoft.iot.telemetry'".into(),
    };
    assert_eq!(StoredRoute::decode(&route.encode()).unwrap(), route);
    let letter = StoredDeadLetter {
        dead_lettered_ms: 1_700_000_000_000,
        attempts: 5,
        reason: "HTTP 500".into(),
        event: r#"{"id":"1"}"#.into(),
    };
    assert_eq!(StoredDeadLetter::decode(&letter.encode()).unwrap(), letter);
}
