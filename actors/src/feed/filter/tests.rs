//! Each construct's parse and its truth on real-shaped events, each mistake's position, the
//! limits, and junk input.

use serde_json::json;

use super::{Attribute, Condition, Filter, FilterError, FILTER_CHARS_MAX, FILTER_NESTING_MAX};
use crate::feed::{event_type, CloudEvent, DATA_CONTENT_TYPE};

fn telemetry() -> CloudEvent {
    CloudEvent {
        lsn: 42,
        id: CloudEvent::id_for(42),
        event_type: event_type::TELEMETRY,
        source: "west.twins.example".to_owned(),
        subject: "pump-7".to_owned(),
        time: "2024-01-02T03:04:05.006Z".to_owned(),
        datacontenttype: DATA_CONTENT_TYPE,
        dataschema: Some("dtmi:example:Pump;1".to_owned()),
        traceparent: None,
        component: None,
        data: serde_json::value::to_raw_value(&json!({"flow": 3})).unwrap(),
    }
}

fn relationship_created() -> CloudEvent {
    CloudEvent {
        lsn: 43,
        id: CloudEvent::id_for(43),
        event_type: event_type::RELATIONSHIP_CREATE,
        subject: "pump-7/relationships/feeds-1".to_owned(),
        dataschema: None,
        data: serde_json::value::to_raw_value(&json!({"$relationshipId": "feeds-1"})).unwrap(),
        ..telemetry()
    }
}

fn equals(attribute: Attribute, value: &str, negated: bool) -> Condition {
    Condition::Equals {
        attribute,
        value: value.to_owned(),
        negated,
    }
}

fn parsed(text: &str) -> Condition {
    match Filter::parse(text) {
        Ok(filter) => filter.condition,
        Err(e) => panic!("`{text}` does not parse: {e}"),
    }
}

#[test]
fn every_construct_parses_to_its_condition() {
    let is_telemetry = || equals(Attribute::Type, "microsoft.iot.telemetry", false);
    let cases: Vec<(&str, Condition)> = vec![
        ("true", Condition::Constant(true)),
        ("  TRUE  ", Condition::Constant(true)),
        ("false", Condition::Constant(false)),
        ("type = 'microsoft.iot.telemetry'", is_telemetry()),
        ("type='microsoft.iot.telemetry'", is_telemetry()),
        ("TYPE = \"microsoft.iot.telemetry\"", is_telemetry()),
        ("source != 'x'", equals(Attribute::Source, "x", true)),
        ("subject = 'a'", equals(Attribute::Subject, "a", false)),
        ("id = '7'", equals(Attribute::Id, "7", false)),
        (
            "dataschema = 'dtmi:a;1'",
            equals(Attribute::DataSchema, "dtmi:a;1", false),
        ),
        (
            "datacontenttype = 'application/json'",
            equals(Attribute::DataContentType, "application/json", false),
        ),
        (
            "specversion = '1.0'",
            equals(Attribute::SpecVersion, "1.0", false),
        ),
        (
            "subject = 'it\\'s \\u00e9'",
            equals(Attribute::Subject, "it's é", false),
        ),
        (
            "STARTS_WITH(subject, 'pump-')",
            Condition::StartsWith {
                attribute: Attribute::Subject,
                prefix: "pump-".to_owned(),
            },
        ),
        (
            "ends_with( type , '.Delete' )",
            Condition::EndsWith {
                attribute: Attribute::Type,
                suffix: ".Delete".to_owned(),
            },
        ),
        (
            "NOT type = 'a'",
            Condition::Not(Box::new(equals(Attribute::Type, "a", false))),
        ),
        (
            "type = 'a' AND source = 'b' AND id = 'c'",
            Condition::And(vec![
                equals(Attribute::Type, "a", false),
                equals(Attribute::Source, "b", false),
                equals(Attribute::Id, "c", false),
            ]),
        ),
        // AND binds tighter than OR.
        (
            "type = 'a' or type = 'b' and id = 'c'",
            Condition::Or(vec![
                equals(Attribute::Type, "a", false),
                Condition::And(vec![
                    equals(Attribute::Type, "b", false),
                    equals(Attribute::Id, "c", false),
                ]),
            ]),
        ),
        (
            "(type = 'a' OR type = 'b') AND NOT (id = 'c')",
            Condition::And(vec![
                Condition::Or(vec![
                    equals(Attribute::Type, "a", false),
                    equals(Attribute::Type, "b", false),
                ]),
                Condition::Not(Box::new(equals(Attribute::Id, "c", false))),
            ]),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parsed(text), expected, "{text}");
    }
}

#[test]
fn each_construct_selects_the_events_it_names() {
    let telemetry = telemetry();
    let relationship = relationship_created();
    // (filter, matches telemetry, matches the relationship event)
    let cases = [
        ("true", true, true),
        ("false", false, false),
        ("type = 'microsoft.iot.telemetry'", true, false),
        ("type = 'MICROSOFT.IOT.TELEMETRY'", false, false),
        ("type != 'microsoft.iot.telemetry'", false, true),
        ("source = 'west.twins.example'", true, true),
        ("subject = 'pump-7'", true, false),
        ("id = '43'", false, true),
        ("dataschema = 'dtmi:example:Pump;1'", true, false),
        // An attribute the event lacks equals nothing.
        ("dataschema != 'dtmi:example:Pump;1'", false, true),
        ("STARTS_WITH(dataschema, '')", true, false),
        ("ENDS_WITH(dataschema, ';1')", true, false),
        ("datacontenttype = 'application/json'", true, true),
        ("specversion = '1.0'", true, true),
        ("STARTS_WITH(type, 'Microsoft.DigitalTwins.')", false, true),
        ("STARTS_WITH(subject, 'pump-7')", true, true),
        ("ENDS_WITH(subject, '/relationships/feeds-1')", false, true),
        ("ENDS_WITH(type, '.Create')", false, true),
        ("NOT STARTS_WITH(subject, 'pump-7')", false, false),
        ("NOT NOT true", true, true),
        ("subject = 'pump-7' AND id = '42'", true, false),
        ("subject = 'pump-7' AND id = '43'", false, false),
        ("id = '42' OR id = '43'", true, true),
        ("id = '1' OR id = '2'", false, false),
        ("false OR true AND false", false, false),
        ("(false OR true) AND true", true, true),
        ("NOT (id = '42' OR ENDS_WITH(type, 'Delete'))", false, true),
    ];
    for (text, on_telemetry, on_relationship) in cases {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            filter.matches(&telemetry),
            on_telemetry,
            "{text} on telemetry"
        );
        assert_eq!(
            filter.matches(&relationship),
            on_relationship,
            "{text} on the relationship event"
        );
    }
    assert!(Filter::everything().matches(&telemetry));
}

fn syntax(text: &str) -> (usize, String) {
    match Filter::parse(text) {
        Err(FilterError::Syntax { position, expected }) => (position, expected),
        other => panic!("`{text}` gave {other:?}, not a syntax error"),
    }
}

#[test]
fn a_mistake_is_reported_at_its_position_with_what_was_expected() {
    // (text, position counted by hand from 1, a word the expectation must contain)
    let cases = [
        ("", 1, "attribute"),
        ("   ", 4, "attribute"),
        ("kind = 'x'", 1, "attribute"),
        ("type 'x'", 6, "`!=`"),
        ("type == 'x'", 7, "quoted string"),
        ("type = x", 8, "quoted string"),
        ("type = 'x", 10, "closing quote"),
        ("type = 'x' AND", 15, "attribute"),
        ("type = 'x' OR ", 15, "attribute"),
        ("type = 'x' id = 'y'", 12, "`AND`"),
        ("type = 'x')", 11, "end of the filter"),
        ("(type = 'x'", 12, "`)`"),
        ("NOT", 4, "attribute"),
        ("STARTS_WITH subject, 'x')", 13, "`(`"),
        ("STARTS_WITH(kind, 'x')", 13, "attribute"),
        ("STARTS_WITH(subject 'x')", 21, "`,`"),
        ("ENDS_WITH(subject, x)", 20, "quoted string"),
        ("ENDS_WITH(subject, 'x'", 23, "`)`"),
        ("type = 'a\\q'", 11, "escape"),
        ("trueish", 1, "attribute"),
        // Positions count characters, not bytes.
        ("subject = 'é' é", 15, "`AND`"),
    ];
    for (text, position, expected) in cases {
        let (found_position, found_expected) = syntax(text);
        assert_eq!(found_position, position, "`{text}`: {found_expected}");
        assert!(
            found_expected.contains(expected),
            "`{text}`: expected `{found_expected}` to mention {expected}"
        );
    }
}

#[test]
fn errors_say_their_position_and_code() {
    let error = Filter::parse("type = 'x' AND").unwrap_err();
    assert!(
        error.to_string().starts_with("position 15: expected "),
        "{error}"
    );
    assert_eq!(error.code(), "EventRouteFilterInvalid");
}

#[test]
fn nesting_is_bounded_and_the_error_names_where_it_went_too_deep() {
    let nested = |depth: usize| format!("{}type = 'x'{}", "(".repeat(depth), ")".repeat(depth));
    assert!(Filter::parse(&nested(FILTER_NESTING_MAX)).is_ok());
    assert_eq!(
        Filter::parse(&nested(FILTER_NESTING_MAX + 1)),
        Err(FilterError::NestingTooDeep {
            position: FILTER_NESTING_MAX + 2,
            depth_max: FILTER_NESTING_MAX,
        })
    );
    let nots = format!("{}true", "NOT ".repeat(FILTER_NESTING_MAX + 1));
    assert_eq!(
        Filter::parse(&nots),
        Err(FilterError::NestingTooDeep {
            position: 4 * (FILTER_NESTING_MAX + 1) + 1,
            depth_max: FILTER_NESTING_MAX,
        })
    );
    // Deep nesting far past the bound is refused, not a stack overflow.
    assert!(matches!(
        Filter::parse(&"(".repeat(100_000)),
        Err(FilterError::TooLong { .. })
    ));
    assert!(matches!(
        Filter::parse(&"(".repeat(FILTER_CHARS_MAX)),
        Err(FilterError::NestingTooDeep { .. })
    ));
}

#[test]
fn long_flat_filters_parse_up_to_the_length_limit() {
    let term = "id = '1' OR ";
    let terms = (FILTER_CHARS_MAX - 4) / term.len();
    let text = format!("{}true", term.repeat(terms));
    assert!(text.chars().count() <= FILTER_CHARS_MAX);
    assert!(Filter::parse(&text).unwrap().matches(&telemetry()));
    let over = "t".repeat(FILTER_CHARS_MAX + 1);
    assert_eq!(
        Filter::parse(&over),
        Err(FilterError::TooLong {
            chars: FILTER_CHARS_MAX + 1,
            chars_max: FILTER_CHARS_MAX,
        })
    );
}

#[test]
fn junk_never_panics() {
    let pieces = [
        "type",
        "=",
        "!=",
        "'x'",
        "\"",
        "'",
        "(",
        ")",
        "AND",
        "OR",
        "NOT",
        "STARTS_WITH",
        "ENDS_WITH",
        ",",
        "\\",
        "\\u12",
        "é",
        " ",
        "true",
        "$",
        "\u{0}",
    ];
    // A deterministic walk over combinations of up to four pieces.
    for a in pieces {
        for b in pieces {
            for c in pieces {
                for d in ["", "'y'", ")", "AND true"] {
                    let text = format!("{a} {b}{c} {d}");
                    let _ = Filter::parse(&text);
                }
            }
        }
    }
}
