//! Replacing references to reusable schemas with the schemas they name, within the nesting
//! limit, and the v2 rule against Arrays in Properties.

use std::collections::{BTreeMap, BTreeSet};

use super::{ArraySchema, Field, MapSchema, ObjectSchema, Schema};
use crate::dtmi::Dtmi;
use crate::error::ProblemKind;
use crate::limits::SCHEMA_DEPTH_MAX;
use crate::path;

/// Where reusable schemas are looked up, in order: the Interface's own `schemas`, then the
/// others the resolver was given (its bases', the rest of the upload's).
pub struct SchemaResolver<'a> {
    pub sources: Vec<&'a BTreeMap<Dtmi, Schema>>,
}

/// What resolving one schema found: its problems, and the reusable schemas it used.
#[derive(Debug, Default)]
pub struct Resolution {
    pub problems: Vec<(String, ProblemKind)>,
    pub references: BTreeSet<Dtmi>,
}

impl SchemaResolver<'_> {
    /// `schema` with every reference replaced, or `None` when a reference dangles or the
    /// nesting is too deep (reported in `found`).
    pub fn resolve(&self, schema: &Schema, at: &str, found: &mut Resolution) -> Option<Schema> {
        self.resolve_nested(schema, at, 0, found)
    }

    /// `depth` counts the complex schemas around this one. The limit also ends a reference
    /// cycle (an Object whose field refers back to it), which would otherwise never finish.
    fn resolve_nested(
        &self,
        schema: &Schema,
        at: &str,
        depth: usize,
        found: &mut Resolution,
    ) -> Option<Schema> {
        let inner = depth + 1;
        if !matches!(schema, Schema::Primitive(_) | Schema::Reference(_))
            && inner > SCHEMA_DEPTH_MAX
        {
            found.problems.push((
                at.to_owned(),
                ProblemKind::LimitExceeded {
                    what: "complex schema nesting",
                    count: inner,
                    max: SCHEMA_DEPTH_MAX,
                },
            ));
            return None;
        }
        match schema {
            Schema::Primitive(_) => Some(schema.clone()),
            Schema::Reference(id) => {
                let Some(named) = self.sources.iter().find_map(|source| source.get(id)) else {
                    found.problems.push((
                        at.to_owned(),
                        ProblemKind::Unresolved {
                            role: "schema",
                            id: id.to_string(),
                        },
                    ));
                    return None;
                };
                found.references.insert(id.clone());
                self.resolve_nested(named, at, depth, found)
            }
            Schema::Enum(_) => Some(schema.clone()),
            Schema::Array(array) => {
                let element = self.resolve_nested(
                    &array.element,
                    &path::key(at, "elementSchema"),
                    inner,
                    found,
                )?;
                Some(Schema::Array(Box::new(ArraySchema {
                    id: array.id.clone(),
                    element,
                })))
            }
            Schema::Map(map) => {
                let value_at = path::key(&path::key(at, "mapValue"), "schema");
                let value = self.resolve_nested(&map.value, &value_at, inner, found)?;
                Some(Schema::Map(Box::new(MapSchema {
                    id: map.id.clone(),
                    key_name: map.key_name.clone(),
                    value_name: map.value_name.clone(),
                    value,
                })))
            }
            Schema::Object(object) => {
                // Every field is resolved, even after a failure, so all problems are reported.
                let fields: Vec<Option<Field>> = object
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, field)| {
                        let field_at =
                            path::key(&path::index(&path::key(at, "fields"), i), "schema");
                        let schema = self.resolve_nested(&field.schema, &field_at, inner, found)?;
                        Some(Field {
                            name: field.name.clone(),
                            schema,
                        })
                    })
                    .collect();
                Some(Schema::Object(Box::new(ObjectSchema {
                    id: object.id.clone(),
                    fields: fields.into_iter().collect::<Option<_>>()?,
                })))
            }
        }
    }
}

/// The path of the first Array inside a resolved schema, which DTDL v2 forbids in Properties.
pub fn find_array(schema: &Schema, at: &str) -> Option<String> {
    match schema {
        Schema::Array(_) => Some(at.to_owned()),
        Schema::Map(map) => {
            find_array(&map.value, &path::key(&path::key(at, "mapValue"), "schema"))
        }
        Schema::Object(object) => object.fields.iter().enumerate().find_map(|(i, field)| {
            find_array(
                &field.schema,
                &path::key(&path::index(&path::key(at, "fields"), i), "schema"),
            )
        }),
        Schema::Primitive(_) | Schema::Enum(_) | Schema::Reference(_) => None,
    }
}
