//! Reading a schema from a model: a primitive name, a reference, or an inline complex schema.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{
    ArraySchema, EnumSchema, EnumValue, EnumValueSchema, Field, MapSchema, ObjectSchema, Primitive,
    Schema,
};
use crate::dtmi::Dtmi;
use crate::error::ProblemKind;
use crate::parser::{Classes, ModelParser};
use crate::path;

const COMPLEX: Classes = Classes {
    names: &["Array", "Enum", "Map", "Object"],
    text: "Array, Enum, Map or Object",
    keys: |class| match class {
        "Array" => &["elementSchema"],
        "Enum" => &["valueSchema", "enumValues"],
        "Map" => &["mapKey", "mapValue"],
        _ => &["fields"],
    },
};
const NAMED_SCHEMA_KEYS: fn(&str) -> &'static [&'static str] = |_| &["name", "schema"];
const FIELD: Classes = Classes {
    names: &["Field"],
    text: "Field",
    keys: NAMED_SCHEMA_KEYS,
};
const ENUM_VALUE: Classes = Classes {
    names: &["EnumValue"],
    text: "EnumValue",
    keys: |_| &["name", "enumValue"],
};
const MAP_KEY: Classes = Classes {
    names: &["MapKey"],
    text: "MapKey",
    keys: NAMED_SCHEMA_KEYS,
};
const MAP_VALUE: Classes = Classes {
    names: &["MapValue"],
    text: "MapValue",
    keys: NAMED_SCHEMA_KEYS,
};

impl ModelParser<'_> {
    /// A schema wherever one is expected. `None` after reporting why it is unusable.
    pub fn schema(&mut self, value: &Value, at: &str) -> Option<Schema> {
        match value {
            Value::String(name) => {
                if let Some(primitive) = Primitive::from_name(name, self.version) {
                    Some(Schema::Primitive(primitive))
                } else if name.starts_with("dtmi:") {
                    self.dtmi(value, at).map(Schema::Reference)
                } else {
                    self.report(
                        at,
                        ProblemKind::UnknownSchema {
                            name: name.clone(),
                            version: self.version.number(),
                        },
                    );
                    None
                }
            }
            Value::Object(element) => self.complex_schema(element, at).map(|(_, schema)| schema),
            _ => {
                self.report(
                    at,
                    ProblemKind::WrongShape {
                        expected: "a schema name, a DTMI or a schema object",
                    },
                );
                None
            }
        }
    }

    /// An entry of an Interface's `schemas`: a complex schema with an `@id`.
    pub fn reusable_schema(&mut self, value: &Value, at: &str) -> Option<(Dtmi, Schema)> {
        let element = self.object(value, at, "a complex schema object")?;
        let (id, schema) = self.complex_schema(element, at)?;
        match id {
            Some(id) => Some((id, schema)),
            None => {
                self.report(at, ProblemKind::MissingProperty { property: "@id" });
                None
            }
        }
    }

    fn complex_schema(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
    ) -> Option<(Option<Dtmi>, Schema)> {
        let head = self.head(element, at, &COMPLEX, None)?;
        let id = head.id;
        let schema = match head.class {
            "Array" => self.array(element, at, id.clone()),
            "Enum" => self.enumeration(element, at, id.clone()),
            "Map" => self.map(element, at, id.clone()),
            _ => self.object_schema(element, at, id.clone()),
        }?;
        Some((id, schema))
    }

    fn array(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        id: Option<Dtmi>,
    ) -> Option<Schema> {
        let value = self.required(element, at, "elementSchema")?;
        let element_schema = self.schema(value, &path::key(at, "elementSchema"))?;
        Some(Schema::Array(Box::new(ArraySchema {
            id,
            element: element_schema,
        })))
    }

    fn enumeration(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        id: Option<Dtmi>,
    ) -> Option<Schema> {
        let value_schema_at = path::key(at, "valueSchema");
        let value_schema = match self.required(element, at, "valueSchema")? {
            Value::String(name) if name == "integer" => EnumValueSchema::Integer,
            Value::String(name) if name == "string" => EnumValueSchema::String,
            other => {
                self.report(
                    &value_schema_at,
                    ProblemKind::UnknownSchema {
                        name: other.to_string(),
                        version: self.version.number(),
                    },
                );
                return None;
            }
        };
        let values_at = path::key(at, "enumValues");
        let Value::Array(items) = self.required(element, at, "enumValues")? else {
            self.report(
                &values_at,
                ProblemKind::WrongShape {
                    expected: "an array of EnumValues",
                },
            );
            return None;
        };
        let mut values = Vec::with_capacity(items.len());
        let mut names = BTreeSet::new();
        let mut literals = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let item_at = path::index(&values_at, i);
            let Some(entry) = self.enum_value(item, &item_at, value_schema) else {
                continue;
            };
            if !names.insert(entry.name.clone()) {
                self.report(
                    &path::key(&item_at, "name"),
                    ProblemKind::Duplicate {
                        what: "enum name",
                        value: entry.name.clone(),
                    },
                );
            }
            if !literals.insert(entry.value.to_string()) {
                self.report(
                    &path::key(&item_at, "enumValue"),
                    ProblemKind::Duplicate {
                        what: "enumValue",
                        value: entry.value.to_string(),
                    },
                );
            }
            values.push(entry);
        }
        Some(Schema::Enum(Box::new(EnumSchema {
            id,
            value_schema,
            values,
        })))
    }

    fn enum_value(
        &mut self,
        item: &Value,
        at: &str,
        value_schema: EnumValueSchema,
    ) -> Option<EnumValue> {
        let element = self.object(item, at, "an EnumValue object")?;
        self.head(element, at, &ENUM_VALUE, Some("EnumValue"))?;
        let name = self.name(element, at);
        let value = self.required(element, at, "enumValue")?;
        let fits = match value_schema {
            EnumValueSchema::Integer => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            EnumValueSchema::String => value.is_string(),
        };
        if !fits {
            self.report(
                &path::key(at, "enumValue"),
                ProblemKind::EnumValueType {
                    found: value.to_string(),
                    value_schema: value_schema.name(),
                },
            );
            return None;
        }
        Some(EnumValue {
            name: name?,
            value: value.clone(),
        })
    }

    fn map(&mut self, element: &Map<String, Value>, at: &str, id: Option<Dtmi>) -> Option<Schema> {
        let key_at = path::key(at, "mapKey");
        let key = self.required(element, at, "mapKey")?;
        let key = self.object(key, &key_at, "a MapKey object")?;
        self.head(key, &key_at, &MAP_KEY, Some("MapKey"))?;
        let key_name = self.name(key, &key_at);
        let key_schema = self.required(key, &key_at, "schema")?;
        if key_schema.as_str() != Some("string") {
            self.report(
                &path::key(&key_at, "schema"),
                ProblemKind::WrongShape {
                    expected: "`string`, the only map key schema",
                },
            );
        }
        let value_at = path::key(at, "mapValue");
        let value = self.required(element, at, "mapValue")?;
        let value = self.object(value, &value_at, "a MapValue object")?;
        self.head(value, &value_at, &MAP_VALUE, Some("MapValue"))?;
        let value_name = self.name(value, &value_at);
        let value_schema = self.required(value, &value_at, "schema")?;
        let value_schema = self.schema(value_schema, &path::key(&value_at, "schema"))?;
        Some(Schema::Map(Box::new(MapSchema {
            id,
            key_name: key_name?,
            value_name: value_name?,
            value: value_schema,
        })))
    }

    fn object_schema(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        id: Option<Dtmi>,
    ) -> Option<Schema> {
        let fields_at = path::key(at, "fields");
        let Value::Array(items) = self.required(element, at, "fields")? else {
            self.report(
                &fields_at,
                ProblemKind::WrongShape {
                    expected: "an array of Fields",
                },
            );
            return None;
        };
        let mut fields = Vec::with_capacity(items.len());
        let mut names = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let field_at = path::index(&fields_at, i);
            let Some(field) = self.field(item, &field_at) else {
                continue;
            };
            if !names.insert(field.name.clone()) {
                self.report(
                    &path::key(&field_at, "name"),
                    ProblemKind::DuplicateName {
                        name: field.name.clone(),
                        by: "by another field of this Object".to_owned(),
                    },
                );
            }
            fields.push(field);
        }
        Some(Schema::Object(Box::new(ObjectSchema { id, fields })))
    }

    fn field(&mut self, item: &Value, at: &str) -> Option<Field> {
        let element = self.object(item, at, "a Field object")?;
        self.head(element, at, &FIELD, Some("Field"))?;
        let name = self.name(element, at);
        let schema = self.required(element, at, "schema")?;
        let schema = self.schema(schema, &path::key(at, "schema"))?;
        Some(Field {
            name: name?,
            schema,
        })
    }
}
