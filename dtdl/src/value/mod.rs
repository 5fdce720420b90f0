//! Validating values against a resolved Interface: twin properties, components,
//! relationship properties and telemetry, down to every nested field.

use serde_json::{Map, Value};

use crate::content::Content;
use crate::error::ValueError;
use crate::interface::Interface;
use crate::path;
use crate::schema::{EnumValueSchema, Primitive, Schema};

mod format;
mod geo;
#[cfg(test)]
mod tests;

/// Keys that start with `$` (`$dtId`, `$etag`, `$metadata`...) belong to ADT, not the model.
fn is_system_key(key: &str) -> bool {
    key.starts_with('$')
}

impl Interface {
    /// A twin's properties and components. System keys are skipped; every other key must be a
    /// Property or a Component of this Interface, and its value must fit.
    pub fn validate_twin(&self, twin: &Map<String, Value>) -> Result<(), ValueError> {
        self.validate_members(twin, "$")
    }

    /// One top-level value of a twin, as a patch sets it: a Property or a whole Component.
    pub fn validate_property(&self, name: &str, value: &Value) -> Result<(), ValueError> {
        self.validate_member(name, value, &path::key("$", name))
    }

    /// The document of the component `name`: its properties, system keys skipped.
    pub fn validate_component(
        &self,
        name: &str,
        component: &Map<String, Value>,
    ) -> Result<(), ValueError> {
        let interface = self.component_interface(name).ok_or_else(|| {
            ValueError::new("$", format!("`{name}` is not a component of {}", self.id))
        })?;
        interface.validate_members(component, "$")
    }

    /// The properties of a relationship `name` from a twin of this Interface. System keys
    /// (`$targetId`, `$relationshipName`...) are skipped.
    pub fn validate_relationship(
        &self,
        name: &str,
        properties: &Map<String, Value>,
    ) -> Result<(), ValueError> {
        let relationship = self.relationship(name).ok_or_else(|| {
            ValueError::new(
                "$",
                format!("`{name}` is not a relationship of {}", self.id),
            )
        })?;
        for (key, value) in properties.iter().filter(|(key, _)| !is_system_key(key)) {
            let at = path::key("$", key);
            let property = relationship
                .properties
                .iter()
                .find(|property| property.name == *key)
                .ok_or_else(|| {
                    ValueError::new(
                        &at,
                        format!("`{key}` is not a property of relationship `{name}`"),
                    )
                })?;
            validate_value(&property.schema, value, &at)?;
        }
        Ok(())
    }

    /// A telemetry message. Keys that name a Telemetry must fit its schema; others pass, as
    /// ADT routes any JSON object.
    pub fn validate_telemetry(&self, payload: &Map<String, Value>) -> Result<(), ValueError> {
        for (key, value) in payload {
            if let Some(telemetry) = self.telemetry(key) {
                validate_value(&telemetry.schema, value, &path::key("$", key))?;
            }
        }
        Ok(())
    }

    fn validate_members(&self, document: &Map<String, Value>, at: &str) -> Result<(), ValueError> {
        for (key, value) in document.iter().filter(|(key, _)| !is_system_key(key)) {
            self.validate_member(key, value, &path::key(at, key))?;
        }
        Ok(())
    }

    fn validate_member(&self, name: &str, value: &Value, at: &str) -> Result<(), ValueError> {
        match self.member(name) {
            Some(Content::Property(property)) => validate_value(&property.schema, value, at),
            Some(Content::Component(component)) => {
                let Value::Object(document) = value else {
                    return Err(ValueError::new(
                        at,
                        format!("component `{name}` must be an object"),
                    ));
                };
                let interface = self
                    .component_interfaces
                    .get(&component.schema)
                    .ok_or_else(|| {
                        ValueError::new(
                            at,
                            format!("the Interface of component `{name}` is not resolved"),
                        )
                    })?;
                interface.validate_members(document, at)
            }
            Some(other) => Err(ValueError::new(
                at,
                format!(
                    "`{name}` is a {}, not a property of {}",
                    other.kind(),
                    self.id
                ),
            )),
            None => Err(ValueError::new(
                at,
                format!("`{name}` is not a property of {}", self.id),
            )),
        }
    }
}

/// `value` against `schema`; the error names the first place that does not fit, under `at`.
pub fn validate_value(schema: &Schema, value: &Value, at: &str) -> Result<(), ValueError> {
    match schema {
        Schema::Primitive(primitive) => validate_primitive(*primitive, value, at),
        Schema::Enum(enumeration) => {
            let fits = match enumeration.value_schema {
                EnumValueSchema::Integer => value.is_i64() || value.is_u64(),
                EnumValueSchema::String => value.is_string(),
            };
            if !fits {
                return Err(ValueError::new(
                    at,
                    format!(
                        "expected an enum value of schema {}",
                        enumeration.value_schema.name()
                    ),
                ));
            }
            if enumeration.values.iter().any(|entry| entry.value == *value) {
                return Ok(());
            }
            let allowed: Vec<String> = enumeration
                .values
                .iter()
                .map(|entry| entry.value.to_string())
                .collect();
            Err(ValueError::new(
                at,
                format!(
                    "{value} is not one of the enum values {}",
                    allowed.join(", ")
                ),
            ))
        }
        Schema::Object(object) => {
            let Value::Object(members) = value else {
                return Err(ValueError::new(at, "expected an object"));
            };
            for (key, member) in members {
                let member_at = path::key(at, key);
                let field = object
                    .fields
                    .iter()
                    .find(|field| field.name == *key)
                    .ok_or_else(|| {
                        ValueError::new(
                            &member_at,
                            format!("`{key}` is not a field of this object"),
                        )
                    })?;
                validate_value(&field.schema, member, &member_at)?;
            }
            Ok(())
        }
        Schema::Map(map) => {
            let Value::Object(entries) = value else {
                return Err(ValueError::new(at, "expected an object (a map)"));
            };
            entries
                .iter()
                .try_for_each(|(key, entry)| validate_value(&map.value, entry, &path::key(at, key)))
        }
        Schema::Array(array) => {
            let Value::Array(items) = value else {
                return Err(ValueError::new(at, "expected an array"));
            };
            items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| validate_value(&array.element, item, &path::index(at, i)))
        }
        Schema::Reference(id) => Err(ValueError::new(
            at,
            format!("schema `{id}` is not resolved"),
        )),
    }
}

fn validate_primitive(primitive: Primitive, value: &Value, at: &str) -> Result<(), ValueError> {
    if let Some(geometry) = geo::check(primitive, value, at) {
        return geometry;
    }
    let integer_in = |min: i128, max: i128| {
        let number = value
            .as_i64()
            .map(i128::from)
            .or_else(|| value.as_u64().map(i128::from));
        number.is_some_and(|number| (min..=max).contains(&number))
    };
    let text = value.as_str();
    let fits = match primitive {
        Primitive::Boolean => value.is_boolean(),
        Primitive::Byte => integer_in(i8::MIN.into(), i8::MAX.into()),
        Primitive::Short => integer_in(i16::MIN.into(), i16::MAX.into()),
        Primitive::Integer => integer_in(i32::MIN.into(), i32::MAX.into()),
        Primitive::Long => integer_in(i64::MIN.into(), i64::MAX.into()),
        Primitive::UnsignedByte => integer_in(0, u8::MAX.into()),
        Primitive::UnsignedShort => integer_in(0, u16::MAX.into()),
        Primitive::UnsignedInteger => integer_in(0, u32::MAX.into()),
        Primitive::UnsignedLong => integer_in(0, u64::MAX.into()),
        Primitive::Float => value
            .as_f64()
            .is_some_and(|number| number.abs() <= f64::from(f32::MAX)),
        Primitive::Double | Primitive::Decimal => value.is_number(),
        Primitive::String => value.is_string(),
        Primitive::Date => text.is_some_and(format::is_date),
        Primitive::Time => text.is_some_and(format::is_time),
        Primitive::DateTime => text.is_some_and(format::is_date_time),
        Primitive::Duration => text.is_some_and(format::is_duration),
        Primitive::Uuid => text.is_some_and(format::is_uuid),
        Primitive::Bytes => text.is_some_and(format::is_base64),
        // Answered by `geo::check` above.
        Primitive::Point
        | Primitive::LineString
        | Primitive::Polygon
        | Primitive::MultiPoint
        | Primitive::MultiLineString
        | Primitive::MultiPolygon => true,
    };
    if fits {
        Ok(())
    } else {
        Err(ValueError::new(
            at,
            format!(
                "expected a value of schema {}, found {}",
                primitive.name(),
                abbreviate(value)
            ),
        ))
    }
}

/// A value short enough to quote in a message.
fn abbreviate(value: &Value) -> String {
    const QUOTED_CHARS_MAX: usize = 64;
    let text = value.to_string();
    if text.chars().count() <= QUOTED_CHARS_MAX {
        text
    } else {
        format!(
            "{}...",
            text.chars().take(QUOTED_CHARS_MAX).collect::<String>()
        )
    }
}
