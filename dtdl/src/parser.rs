//! The walk over one uploaded model: where problems are collected, and the checks every DTDL
//! element shares (`@id`, `@type`, `name`, the text fields, unknown properties).

use serde_json::{Map, Value};

use crate::context::DtdlVersion;
use crate::dtmi::Dtmi;
use crate::error::{Problem, ProblemKind};
use crate::interface::parse::InterfaceDef;
use crate::limits::{DESCRIPTION_CHARS_MAX, DISPLAY_NAME_CHARS_MAX, NAME_CHARS_MAX};
use crate::path;
use crate::text::{self, LanguageMap};

/// Every DTDL class; none of them may appear as a co-type.
const CLASSES: [&str; 17] = [
    "Interface",
    "Property",
    "Telemetry",
    "Relationship",
    "Component",
    "Command",
    "CommandPayload",
    "CommandRequest",
    "CommandResponse",
    "Array",
    "Enum",
    "Map",
    "Object",
    "Field",
    "EnumValue",
    "MapKey",
    "MapValue",
];

/// The classes an element may have at one place, and how a problem names them.
pub struct Classes {
    pub names: &'static [&'static str],
    pub text: &'static str,
    /// The properties of each class, besides the ones every element has.
    pub keys: fn(&str) -> &'static [&'static str],
}

/// Properties every element may carry.
const COMMON_KEYS: [&str; 5] = ["@id", "@type", "displayName", "description", "comment"];

/// Parses one uploaded model. Parsing goes on past a problem, skipping only the broken
/// element, so that one upload reports all its problems at once.
pub struct ModelParser<'p> {
    /// How problems name the model: its `@id`, or its place in the upload.
    pub model: String,
    pub version: DtdlVersion,
    pub problems: &'p mut Vec<Problem>,
    /// Interfaces defined inline (in `extends` or as a component schema), in the order found.
    pub inline: Vec<InterfaceDef>,
}

/// What every element has besides its own properties.
#[derive(Debug, Clone)]
pub struct Head {
    pub id: Option<Dtmi>,
    pub class: &'static str,
    pub co_types: Vec<String>,
    pub display_name: LanguageMap,
    pub description: LanguageMap,
}

impl ModelParser<'_> {
    pub fn report(&mut self, at: &str, kind: ProblemKind) {
        self.problems.push(Problem {
            model: self.model.clone(),
            path: at.to_owned(),
            kind,
        });
    }

    /// Reports a value at `at` that is not `expected`.
    pub fn report_wrong_shape(&mut self, at: &str, expected: &'static str) {
        self.report(at, ProblemKind::WrongShape { expected });
    }

    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        at: &str,
        expected: &'static str,
    ) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            _ => {
                self.report_wrong_shape(at, expected);
                None
            }
        }
    }

    /// Reads the parts every element shares. `classes` are the types allowed here; `default`
    /// is the class taken when `@type` is absent (for elements whose type DTDL implies).
    /// `None` when the `@type` is unusable, since then nothing else about the element can be
    /// trusted.
    pub fn head(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        classes: &Classes,
        default: Option<&'static str>,
    ) -> Option<Head> {
        let (class, co_types) = self.types(element, at, classes, default)?;
        let keys = (classes.keys)(class);
        // Co-types come from extensions (semantic types, `Historized`...) that bring their own
        // properties, such as `unit`; DTDL accepts undefined ones, so their properties pass.
        if co_types.is_empty() {
            for key in element.keys() {
                if !COMMON_KEYS.contains(&key.as_str()) && !keys.contains(&key.as_str()) {
                    self.report(
                        &path::key(at, key),
                        ProblemKind::UnknownProperty {
                            property: key.clone(),
                            element: class,
                        },
                    );
                }
            }
        }
        let id = element
            .get("@id")
            .and_then(|id| self.dtmi(id, &path::key(at, "@id")));
        if let Some(id) = &id {
            if id.is_reserved() {
                self.report(
                    &path::key(at, "@id"),
                    ProblemKind::ReservedDtmi { id: id.to_string() },
                );
            }
        }
        let display_name = self.text(element, at, "displayName", DISPLAY_NAME_CHARS_MAX);
        let description = self.text(element, at, "description", DESCRIPTION_CHARS_MAX);
        self.text(element, at, "comment", DESCRIPTION_CHARS_MAX);
        Some(Head {
            id,
            class,
            co_types,
            display_name,
            description,
        })
    }

    fn types(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        classes: &Classes,
        default: Option<&'static str>,
    ) -> Option<(&'static str, Vec<String>)> {
        let type_at = path::key(at, "@type");
        let expected = classes.text;
        let classes = classes.names;
        let names: Vec<&str> = match element.get("@type") {
            None => {
                return match default {
                    Some(class) => Some((class, Vec::new())),
                    None => {
                        self.report(at, ProblemKind::MissingProperty { property: "@type" });
                        None
                    }
                }
            }
            Some(Value::String(name)) => vec![name.as_str()],
            Some(Value::Array(items)) => {
                let mut names = Vec::with_capacity(items.len());
                for item in items {
                    let Value::String(name) = item else {
                        self.report_wrong_shape(&type_at, "strings in `@type`");
                        return None;
                    };
                    names.push(name.as_str());
                }
                names
            }
            Some(_) => {
                self.report_wrong_shape(&type_at, "a string or an array of strings");
                return None;
            }
        };
        let mut class = None;
        let mut co_types = Vec::new();
        for name in names {
            match classes.iter().find(|candidate| **candidate == name) {
                Some(found) if class.is_none() => class = Some(*found),
                // A DTDL class not allowed here (or a second one), or a DTMI that does not parse,
                // is no co-type.
                _ if CLASSES.contains(&name)
                    || (name.starts_with("dtmi:")
                        && Dtmi::parse(name, DtdlVersion::V3).is_err()) =>
                {
                    self.report(
                        &type_at,
                        ProblemKind::UnknownType {
                            found: name.to_owned(),
                            expected,
                        },
                    );
                    return None;
                }
                _ => co_types.push(name.to_owned()),
            }
        }
        match class {
            Some(class) => Some((class, co_types)),
            None => {
                self.report(
                    &type_at,
                    ProblemKind::UnknownType {
                        found: element
                            .get("@type")
                            .map(Value::to_string)
                            .unwrap_or_default(),
                        expected,
                    },
                );
                None
            }
        }
    }

    /// A DTMI in a string, under the rules of this model's version.
    pub fn dtmi(&mut self, value: &Value, at: &str) -> Option<Dtmi> {
        let Value::String(text) = value else {
            self.report_wrong_shape(at, "a DTMI string");
            return None;
        };
        match Dtmi::parse(text, self.version) {
            Ok(dtmi) => Some(dtmi),
            Err(reason) => {
                self.report(
                    at,
                    ProblemKind::InvalidDtmi {
                        value: text.clone(),
                        reason,
                    },
                );
                None
            }
        }
    }

    /// The required `name` of a named element.
    pub fn name(&mut self, element: &Map<String, Value>, at: &str) -> Option<String> {
        let name_at = path::key(at, "name");
        let Some(value) = element.get("name") else {
            self.report(at, ProblemKind::MissingProperty { property: "name" });
            return None;
        };
        let Value::String(name) = value else {
            self.report_wrong_shape(&name_at, "a string");
            return None;
        };
        let chars = name.chars().count();
        if chars > NAME_CHARS_MAX {
            self.report(
                &name_at,
                ProblemKind::TooLong {
                    property: "name",
                    chars,
                    max: NAME_CHARS_MAX,
                },
            );
            return None;
        }
        if !name_is_valid(name) {
            self.report(&name_at, ProblemKind::InvalidName { name: name.clone() });
            return None;
        }
        Some(name.clone())
    }

    fn text(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        property: &'static str,
        chars_max: usize,
    ) -> LanguageMap {
        let Some(value) = element.get(property) else {
            return LanguageMap::new();
        };
        match text::parse(value, &path::key(at, property), property, chars_max) {
            Ok(texts) => texts,
            Err((text_at, kind)) => {
                self.report(&text_at, kind);
                LanguageMap::new()
            }
        }
    }

    /// An optional boolean property.
    pub fn flag(&mut self, element: &Map<String, Value>, at: &str, property: &str) -> bool {
        match element.get(property) {
            None => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => {
                self.report_wrong_shape(&path::key(at, property), "true or false");
                false
            }
        }
    }

    /// A required property.
    pub fn required<'v>(
        &mut self,
        element: &'v Map<String, Value>,
        at: &str,
        property: &'static str,
    ) -> Option<&'v Value> {
        let value = element.get(property);
        if value.is_none() {
            self.report(at, ProblemKind::MissingProperty { property });
        }
        value
    }

    /// The items of a property that holds one element or an array of them, with their paths.
    pub fn one_or_many<'v>(&self, value: &'v Value, at: &str) -> Vec<(String, &'v Value)> {
        path::one_or_many(value, at)
    }
}

/// `^[A-Za-z](\w*[A-Za-z0-9])?$`
pub fn name_is_valid(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && !name.ends_with('_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
