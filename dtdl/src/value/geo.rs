//! The DTDL v3 geospatial schemas, whose values are GeoJSON geometries.

use serde_json::Value;

use crate::error::ValueError;
use crate::path;
use crate::schema::Primitive;

/// The GeoJSON type of each geospatial schema, and how deep its `coordinates` nest: a
/// position is 0, a Point's coordinates are a position, a LineString's a list of them...
fn shape(primitive: Primitive) -> Option<(&'static str, usize)> {
    Some(match primitive {
        Primitive::Point => ("Point", 0),
        Primitive::MultiPoint => ("MultiPoint", 1),
        Primitive::LineString => ("LineString", 1),
        Primitive::Polygon => ("Polygon", 2),
        Primitive::MultiLineString => ("MultiLineString", 2),
        Primitive::MultiPolygon => ("MultiPolygon", 3),
        _ => return None,
    })
}

/// Whether `primitive` is geospatial, and if so whether `value` is that geometry.
pub fn check(primitive: Primitive, value: &Value, at: &str) -> Option<Result<(), ValueError>> {
    let (expected_type, depth) = shape(primitive)?;
    Some(check_geometry(primitive, expected_type, depth, value, at))
}

fn check_geometry(
    primitive: Primitive,
    expected_type: &str,
    depth: usize,
    value: &Value,
    at: &str,
) -> Result<(), ValueError> {
    let Value::Object(geometry) = value else {
        return Err(ValueError::new(
            at,
            format!("expected a GeoJSON {expected_type} object"),
        ));
    };
    if let Some(key) = geometry
        .keys()
        .find(|key| *key != "type" && *key != "coordinates")
    {
        return Err(ValueError::new(
            &path::key(at, key),
            format!("`{key}` is not a member of a GeoJSON {expected_type}"),
        ));
    }
    if geometry.get("type").and_then(Value::as_str) != Some(expected_type) {
        return Err(ValueError::new(
            &path::key(at, "type"),
            format!("expected \"{expected_type}\""),
        ));
    }
    let coordinates = geometry
        .get("coordinates")
        .ok_or_else(|| ValueError::new(at, "`coordinates` is required"))?;
    check_coordinates(primitive, depth, coordinates, &path::key(at, "coordinates"))
}

fn check_coordinates(
    primitive: Primitive,
    depth: usize,
    value: &Value,
    at: &str,
) -> Result<(), ValueError> {
    if depth == 0 {
        return check_position(value, at);
    }
    let Value::Array(items) = value else {
        return Err(ValueError::new(at, "expected an array of coordinates"));
    };
    // A LineString, and each line of a MultiLineString, needs two positions; each ring of a
    // Polygon four, the last equal to the first.
    let line = matches!(
        (primitive, depth),
        (Primitive::LineString | Primitive::MultiLineString, 1)
    );
    let ring = matches!(
        (primitive, depth),
        (Primitive::Polygon, 1) | (Primitive::MultiPolygon, 1)
    );
    if line && items.len() < 2 {
        return Err(ValueError::new(
            at,
            format!("a line needs at least 2 positions, found {}", items.len()),
        ));
    }
    if ring && (items.len() < 4 || items.first() != items.last()) {
        return Err(ValueError::new(
            at,
            "a linear ring needs at least 4 positions, the last equal to the first",
        ));
    }
    for (i, item) in items.iter().enumerate() {
        check_coordinates(primitive, depth - 1, item, &path::index(at, i))?;
    }
    Ok(())
}

/// `[longitude, latitude]` or `[longitude, latitude, altitude]`.
fn check_position(value: &Value, at: &str) -> Result<(), ValueError> {
    match value {
        Value::Array(numbers)
            if (2..=3).contains(&numbers.len()) && numbers.iter().all(Value::is_number) =>
        {
            Ok(())
        }
        _ => Err(ValueError::new(at, "expected a position: 2 or 3 numbers")),
    }
}
