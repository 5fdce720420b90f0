//! Values against schemas: every primitive, enums, objects, maps, arrays, geometries, and
//! twins with components, relationships and telemetry.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::validate_value;
use crate::test_models::{component, loaded, property, v3, with};
use crate::{Interface, Primitive, Schema};

#[track_caller]
fn fits(schema: &Schema, value: Value) {
    if let Err(error) = validate_value(schema, &value, "$") {
        panic!("{value} should fit: {error}");
    }
}

#[track_caller]
fn misfits(schema: &Schema, value: Value, path: &str) {
    match validate_value(schema, &value, "$") {
        Ok(()) => panic!("{value} should not fit"),
        Err(error) => assert_eq!(error.path, path, "{error}"),
    }
}

fn primitive(primitive: Primitive) -> Schema {
    Schema::Primitive(primitive)
}

#[test]
fn integers_keep_to_their_ranges() {
    let cases = [
        (
            Primitive::Integer,
            json!(i32::MAX),
            json!(i64::from(i32::MAX) + 1),
        ),
        (Primitive::Integer, json!(i32::MIN), json!(1.5)),
        (Primitive::Long, json!(i64::MIN), json!(u64::MAX)),
        (Primitive::Short, json!(-32768), json!(32768)),
        (Primitive::Byte, json!(-128), json!(128)),
        (Primitive::UnsignedByte, json!(255), json!(-1)),
        (Primitive::UnsignedShort, json!(65535), json!(65536)),
        (
            Primitive::UnsignedInteger,
            json!(u32::MAX),
            json!(u64::from(u32::MAX) + 1),
        ),
        (Primitive::UnsignedLong, json!(u64::MAX), json!("1")),
    ];
    for (kind, good, bad) in cases {
        fits(&primitive(kind), good);
        misfits(&primitive(kind), bad, "$");
    }
}

#[test]
fn numbers_booleans_and_strings() {
    fits(&primitive(Primitive::Double), json!(1e300));
    fits(&primitive(Primitive::Double), json!(3));
    misfits(&primitive(Primitive::Double), json!("3"), "$");
    fits(&primitive(Primitive::Float), json!(3.5));
    misfits(&primitive(Primitive::Float), json!(1e300), "$");
    fits(&primitive(Primitive::Decimal), json!(0.1));
    fits(&primitive(Primitive::Boolean), json!(false));
    misfits(&primitive(Primitive::Boolean), json!(0), "$");
    fits(&primitive(Primitive::String), json!(""));
    misfits(&primitive(Primitive::String), json!(null), "$");
    fits(
        &primitive(Primitive::Uuid),
        json!("123e4567-e89b-12d3-a456-426614174000"),
    );
    misfits(
        &primitive(Primitive::Uuid),
        json!("123e4567e89b12d3a456426614174000"),
        "$",
    );
    fits(&primitive(Primitive::Bytes), json!("aGVsbG8="));
    misfits(&primitive(Primitive::Bytes), json!("aGVsbG8"), "$");
}

#[test]
fn dates_times_and_durations_follow_their_formats() {
    let cases: [(Primitive, &[&str], &[&str]); 4] = [
        (
            Primitive::Date,
            &["2024-02-29", "1999-12-31"],
            &[
                "2023-02-29",
                "2024-13-01",
                "2024-1-01",
                "2024-01-01T00:00:00Z",
                "２０２４-01-01",
            ],
        ),
        (
            Primitive::Time,
            &[
                "12:30:00",
                "23:59:60",
                "00:00:00.123",
                "08:00:00+01:00",
                "08:00:00Z",
            ],
            &["24:00:00", "12:30", "12:60:00", "12:30:00.", "12:30:00+1"],
        ),
        (
            Primitive::DateTime,
            &[
                "2024-05-01T12:30:00Z",
                "2024-05-01T12:30:00.5+02:00",
                "2024-05-01t12:30:00z",
            ],
            &[
                "2024-05-01T12:30:00",
                "2024-05-01 12:30:00Z",
                "2024-05-32T12:30:00Z",
                "yesterday",
            ],
        ),
        (
            Primitive::Duration,
            &["P1Y2M3DT4H5M6.5S", "PT0.5S", "P2W", "PT1H", "P1D"],
            &["P", "PT", "1D", "P1H", "PT1.5H1S", "P1M1Y", "P-1D", "P1.5D"],
        ),
    ];
    for (kind, good, bad) in cases {
        for text in good {
            fits(&primitive(kind), json!(text));
        }
        for text in bad {
            misfits(&primitive(kind), json!(text), "$");
        }
        misfits(&primitive(kind), json!(20240101), "$");
    }
}

#[test]
fn geometries_are_geojson() {
    fits(
        &primitive(Primitive::Point),
        json!({"type": "Point", "coordinates": [10.5, 59.9]}),
    );
    fits(
        &primitive(Primitive::Point),
        json!({"type": "Point", "coordinates": [10.5, 59.9, 12]}),
    );
    misfits(
        &primitive(Primitive::Point),
        json!({"type": "Point", "coordinates": [10.5]}),
        "$.coordinates",
    );
    misfits(
        &primitive(Primitive::Point),
        json!({"type": "LineString", "coordinates": [1, 2]}),
        "$.type",
    );
    misfits(
        &primitive(Primitive::Point),
        json!({"type": "Point", "coordinates": [1, 2], "extra": 1}),
        "$.extra",
    );
    misfits(&primitive(Primitive::Point), json!([1, 2]), "$");
    fits(
        &primitive(Primitive::LineString),
        json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
    );
    misfits(
        &primitive(Primitive::LineString),
        json!({"type": "LineString", "coordinates": [[0, 0]]}),
        "$.coordinates",
    );
    misfits(
        &primitive(Primitive::LineString),
        json!({"type": "LineString", "coordinates": [[0, 0], ["a", 1]]}),
        "$.coordinates[1]",
    );
    let ring = json!([[0, 0], [1, 0], [1, 1], [0, 0]]);
    fits(
        &primitive(Primitive::Polygon),
        json!({"type": "Polygon", "coordinates": [ring]}),
    );
    misfits(
        &primitive(Primitive::Polygon),
        json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
        "$.coordinates[0]",
    );
    fits(
        &primitive(Primitive::MultiPoint),
        json!({"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]}),
    );
    fits(
        &primitive(Primitive::MultiLineString),
        json!({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]]]}),
    );
    misfits(
        &primitive(Primitive::MultiLineString),
        json!({"type": "MultiLineString", "coordinates": [[[0, 0]]]}),
        "$.coordinates[0]",
    );
    fits(
        &primitive(Primitive::MultiPolygon),
        json!({"type": "MultiPolygon", "coordinates": [[ring]]}),
    );
    misfits(
        &primitive(Primitive::MultiPolygon),
        json!({"type": "MultiPolygon", "coordinates": [[[[0, 0]]]]}),
        "$.coordinates[0][0]",
    );
    misfits(
        &primitive(Primitive::MultiPolygon),
        json!({"type": "MultiPolygon"}),
        "$",
    );
}

/// A v3 Interface exercising every complex schema, with a component and a relationship.
fn thermostat() -> Vec<Arc<Interface>> {
    let mode = json!({"@type": "Enum", "valueSchema": "string", "enumValues": [{"name": "heat", "enumValue": "heat"}, {"name": "cool", "enumValue": "cool"}]});
    let level = json!({"@type": "Enum", "valueSchema": "integer", "enumValues": [{"name": "low", "enumValue": 1}, {"name": "high", "enumValue": 2}]});
    let schedule = json!({"@type": "Object", "fields": [
        {"name": "start", "schema": "time"},
        {"name": "mode", "schema": "dtmi:a:Mode;1"},
        {"name": "days", "schema": {"@type": "Array", "elementSchema": "date"}}
    ]});
    let limits = json!({"@type": "Map", "mapKey": {"name": "room", "schema": "string"}, "mapValue": {"name": "limit", "schema": "double"}});
    let sensor = v3(
        "dtmi:a:Sensor;1",
        json!([property("reading", "double"), property("at", "dateTime")]),
    );
    let thermostat = with(
        v3(
            "dtmi:a:Thermostat;1",
            json!([
                property("mode", "dtmi:a:Mode;1"),
                property("level", level),
                property("schedule", schedule),
                property("limits", limits),
                property("location", "point"),
                component("sensor", "dtmi:a:Sensor;1"),
                {"@type": "Telemetry", "name": "temperature", "schema": "double"},
                {"@type": "Relationship", "name": "controls", "target": "dtmi:a:Sensor;1", "properties": [property("since", "date")]}
            ]),
        ),
        "schemas",
        json!([with(mode, "@id", json!("dtmi:a:Mode;1"))]),
    );
    loaded(&[sensor, thermostat])
}

fn document(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("a JSON object"),
    }
}

#[test]
fn a_twin_that_fits_its_model_passes() {
    let thermostat = &thermostat()[1];
    let twin = document(json!({
        "$dtId": "t1", "$etag": "W/\"1\"", "$metadata": {"$model": "dtmi:a:Thermostat;1"},
        "mode": "heat", "level": 2,
        "schedule": {"start": "06:00:00", "mode": "cool", "days": ["2024-01-01"]},
        "limits": {"kitchen": 21.5, "hall": 18},
        "location": {"type": "Point", "coordinates": [10.7, 59.9]},
        "sensor": {"$metadata": {}, "reading": 20.5, "at": "2024-01-01T00:00:00Z"}
    }));
    thermostat
        .validate_twin(&twin)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_twin_value_that_misfits_is_named_by_its_path() {
    let thermostat = &thermostat()[1];
    let cases = [
        (json!({"unknown": 1}), "$.unknown"),
        (json!({"mode": "off"}), "$.mode"),
        (json!({"mode": 1}), "$.mode"),
        (json!({"level": 3}), "$.level"),
        (json!({"level": "1"}), "$.level"),
        (json!({"schedule": {"start": "6am"}}), "$.schedule.start"),
        (json!({"schedule": {"mode": "dry"}}), "$.schedule.mode"),
        (
            json!({"schedule": {"days": ["2024-01-01", "tomorrow"]}}),
            "$.schedule.days[1]",
        ),
        (
            json!({"schedule": {"days": "2024-01-01"}}),
            "$.schedule.days",
        ),
        (json!({"schedule": {"colour": "red"}}), "$.schedule.colour"),
        (json!({"schedule": [1]}), "$.schedule"),
        (json!({"limits": {"kitchen": "warm"}}), "$.limits.kitchen"),
        (
            json!({"limits": {"living room": true}}),
            "$.limits['living room']",
        ),
        (
            json!({"location": {"type": "Point", "coordinates": [1]}}),
            "$.location.coordinates",
        ),
        (json!({"sensor": {"reading": "hot"}}), "$.sensor.reading"),
        (json!({"sensor": {"colour": 1}}), "$.sensor.colour"),
        (json!({"sensor": 5}), "$.sensor"),
        (json!({"temperature": 20}), "$.temperature"),
        (json!({"controls": 20}), "$.controls"),
    ];
    for (twin, path) in cases {
        let error = thermostat
            .validate_twin(&document(twin.clone()))
            .expect_err(&twin.to_string());
        assert_eq!(error.path, path, "{twin}: {error}");
    }
}

#[test]
fn property_component_relationship_and_telemetry_checks() {
    let thermostat = &thermostat()[1];
    thermostat
        .validate_property("level", &json!(1))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        thermostat
            .validate_property("level", &json!(5))
            .map_err(|e| e.path),
        Err("$.level".to_owned())
    );
    thermostat
        .validate_component("sensor", &document(json!({"$metadata": {}, "reading": 1})))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        thermostat
            .validate_component("sensor", &document(json!({"at": "now"})))
            .map_err(|e| e.path),
        Err("$.at".to_owned())
    );
    assert!(thermostat.validate_component("mode", &Map::new()).is_err());

    let relationship = document(
        json!({"$targetId": "s1", "$relationshipName": "controls", "since": "2024-01-01"}),
    );
    thermostat
        .validate_relationship("controls", &relationship)
        .unwrap_or_else(|e| panic!("{e}"));
    let wrong = document(json!({"since": "soon"}));
    assert_eq!(
        thermostat
            .validate_relationship("controls", &wrong)
            .map_err(|e| e.path),
        Err("$.since".to_owned())
    );
    let unknown = document(json!({"weight": 1}));
    assert_eq!(
        thermostat
            .validate_relationship("controls", &unknown)
            .map_err(|e| e.path),
        Err("$.weight".to_owned())
    );
    assert!(thermostat
        .validate_relationship("owns", &Map::new())
        .is_err());

    thermostat
        .validate_telemetry(&document(json!({"temperature": 21.5, "anything": "else"})))
        .unwrap_or_else(|e| panic!("{e}"));
    let error = thermostat
        .validate_telemetry(&document(json!({"temperature": "warm"})))
        .expect_err("a string is no double");
    assert_eq!(error.path, "$.temperature");
    assert!(
        error
            .to_string()
            .contains("expected a value of schema double"),
        "{error}"
    );
}
