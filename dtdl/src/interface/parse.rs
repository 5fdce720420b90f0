//! Reading one uploaded model, with the Interfaces it defines inline, into definitions whose
//! references are not yet resolved.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::content::Content;
use crate::context::{self, DtdlVersion};
use crate::dtmi::Dtmi;
use crate::error::{Problem, ProblemKind};
use crate::limits::{
    measure, INTERFACE_BYTES_MAX, INTERFACE_ID_CHARS_MAX, MODEL_JSON_DEPTH_MAX, V2_CONTENTS_MAX,
    V2_EXTENDS_DIRECT_MAX, V3_ELEMENTS_MAX,
};
use crate::parser::{Classes, ModelParser};
use crate::path;
use crate::schema::Schema;
use crate::text::LanguageMap;

const INTERFACE: Classes = Classes {
    names: &["Interface"],
    text: "Interface",
    keys: |_| &["@context", "contents", "extends", "schemas"],
};

/// An Interface as written: references are DTMIs, nothing inherited yet. Paths are JSON
/// paths inside the uploaded model `model`, which an inline Interface shares with its parent.
#[derive(Debug, Clone)]
pub struct InterfaceDef {
    pub id: Dtmi,
    pub model: String,
    pub at: String,
    pub inline: bool,
    pub version: DtdlVersion,
    pub display_name: LanguageMap,
    pub description: LanguageMap,
    pub extends: Vec<(Dtmi, String)>,
    pub contents: Vec<ContentDef>,
    pub schemas: BTreeMap<Dtmi, Schema>,
    pub schema_paths: Vec<(Dtmi, String)>,
}

/// A `contents` entry and where it is. A Relationship's properties may be one object or an
/// array, so their paths are kept as found.
#[derive(Debug, Clone)]
pub struct ContentDef {
    pub content: Content,
    pub at: String,
    pub property_paths: Vec<String>,
}

/// Parses the `position`-th model of an upload: its definition first, then those of the
/// Interfaces it defines inline. Empty when nothing usable could be read; the problems say why.
pub fn parse_model(
    model: &Value,
    position: usize,
    problems: &mut Vec<Problem>,
) -> Vec<InterfaceDef> {
    let label = match model.get("@id") {
        Some(Value::String(id)) => id.clone(),
        _ => format!("upload[{position}]"),
    };
    let report = |problems: &mut Vec<Problem>, path: &str, kind| {
        problems.push(Problem {
            model: label.clone(),
            path: path.to_owned(),
            kind,
        });
    };
    let size = measure(model);
    if size.depth > MODEL_JSON_DEPTH_MAX {
        report(
            problems,
            "$",
            ProblemKind::LimitExceeded {
                what: "JSON nesting depth",
                count: size.depth,
                max: MODEL_JSON_DEPTH_MAX,
            },
        );
        return Vec::new();
    }
    if size.bytes > INTERFACE_BYTES_MAX {
        report(
            problems,
            "$",
            ProblemKind::LimitExceeded {
                what: "model size in bytes",
                count: size.bytes,
                max: INTERFACE_BYTES_MAX,
            },
        );
    }
    let Value::Object(element) = model else {
        report(
            problems,
            "$",
            ProblemKind::WrongShape {
                expected: "an Interface object",
            },
        );
        return Vec::new();
    };
    let Some(context) = element.get("@context") else {
        report(
            problems,
            "$",
            ProblemKind::MissingProperty {
                property: "@context",
            },
        );
        return Vec::new();
    };
    let version = match context::parse(context, "$['@context']") {
        Ok(version) => version,
        Err((at, kind)) => {
            report(problems, &at, kind);
            return Vec::new();
        }
    };
    if version == DtdlVersion::V3 && size.elements > V3_ELEMENTS_MAX {
        report(
            problems,
            "$",
            ProblemKind::LimitExceeded {
                what: "elements in the Interface",
                count: size.elements,
                max: V3_ELEMENTS_MAX,
            },
        );
    }
    let mut parser = ModelParser {
        model: label,
        version,
        problems,
        inline: Vec::new(),
    };
    let Some(top) = parser.interface(element, "$", None) else {
        return Vec::new();
    };
    let mut defs = vec![top];
    defs.append(&mut parser.inline);
    defs
}

impl ModelParser<'_> {
    /// An Interface defined inline, in `extends` or as a component schema. Its definition joins
    /// the others; the caller keeps its identifier, which is `anonymous_id` when it has no `@id`.
    pub fn inline_interface(
        &mut self,
        value: &Value,
        at: &str,
        anonymous_id: Dtmi,
    ) -> Option<Dtmi> {
        let element = self.object(value, at, "an Interface object")?;
        let def = self.interface(element, at, Some(anonymous_id))?;
        let id = def.id.clone();
        self.inline.push(def);
        Some(id)
    }

    fn interface(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        anonymous_id: Option<Dtmi>,
    ) -> Option<InterfaceDef> {
        let head = self.head(element, at, &INTERFACE, None)?;
        let id_at = path::key(at, "@id");
        let inline = anonymous_id.is_some();
        let id = match (head.id, anonymous_id) {
            (Some(id), _) => {
                let chars = id.as_str().chars().count();
                if chars > INTERFACE_ID_CHARS_MAX {
                    self.report(
                        &id_at,
                        ProblemKind::TooLong {
                            property: "@id",
                            chars,
                            max: INTERFACE_ID_CHARS_MAX,
                        },
                    );
                }
                id
            }
            (None, Some(anonymous_id)) if !element.contains_key("@id") => anonymous_id,
            (None, None) if !element.contains_key("@id") => {
                self.report(at, ProblemKind::MissingProperty { property: "@id" });
                return None;
            }
            // Reported by `head`.
            (None, _) => return None,
        };
        let extends = self.extends(element, at, &id);
        let contents = self.contents(element, at, &id);
        let (schemas, schema_paths) = self.reusable_schemas(element, at);
        Some(InterfaceDef {
            id,
            model: self.model.clone(),
            at: at.to_owned(),
            inline,
            version: self.version,
            display_name: head.display_name,
            description: head.description,
            extends,
            contents,
            schemas,
            schema_paths,
        })
    }

    fn extends(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        id: &Dtmi,
    ) -> Vec<(Dtmi, String)> {
        let Some(value) = element.get("extends") else {
            return Vec::new();
        };
        let extends_at = path::key(at, "extends");
        let entries = self.one_or_many(value, &extends_at);
        if self.version == DtdlVersion::V2 && entries.len() > V2_EXTENDS_DIRECT_MAX {
            self.report(
                &extends_at,
                ProblemKind::LimitExceeded {
                    what: "direct `extends` count",
                    count: entries.len(),
                    max: V2_EXTENDS_DIRECT_MAX,
                },
            );
        }
        let mut parents = Vec::with_capacity(entries.len());
        for (i, (entry_at, entry)) in entries.into_iter().enumerate() {
            let parent = match entry {
                Value::Object(_) => {
                    self.inline_interface(entry, &entry_at, id.child(&format!("extends_{i}")))
                }
                reference => self.dtmi(reference, &entry_at),
            };
            parents.extend(parent.map(|parent| (parent, entry_at)));
        }
        parents
    }

    fn contents(&mut self, element: &Map<String, Value>, at: &str, id: &Dtmi) -> Vec<ContentDef> {
        let Some(value) = element.get("contents") else {
            return Vec::new();
        };
        let contents_at = path::key(at, "contents");
        let Value::Array(items) = value else {
            self.report(
                &contents_at,
                ProblemKind::WrongShape {
                    expected: "an array of contents",
                },
            );
            return Vec::new();
        };
        if self.version == DtdlVersion::V2 && items.len() > V2_CONTENTS_MAX {
            self.report(
                &contents_at,
                ProblemKind::LimitExceeded {
                    what: "contents count",
                    count: items.len(),
                    max: V2_CONTENTS_MAX,
                },
            );
        }
        let mut contents = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_at = path::index(&contents_at, i);
            let Some(content) = self.content(item, &item_at, id.child(&format!("contents_{i}")))
            else {
                continue;
            };
            let property_paths = match item.get("properties") {
                Some(listed) => self
                    .one_or_many(listed, &path::key(&item_at, "properties"))
                    .into_iter()
                    .map(|(property_at, _)| property_at)
                    .collect(),
                None => Vec::new(),
            };
            contents.push(ContentDef {
                content,
                at: item_at,
                property_paths,
            });
        }
        contents
    }

    fn reusable_schemas(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
    ) -> (BTreeMap<Dtmi, Schema>, Vec<(Dtmi, String)>) {
        let mut schemas = BTreeMap::new();
        let mut paths = Vec::new();
        let Some(value) = element.get("schemas") else {
            return (schemas, paths);
        };
        for (entry_at, entry) in self.one_or_many(value, &path::key(at, "schemas")) {
            let Some((id, schema)) = self.reusable_schema(entry, &entry_at) else {
                continue;
            };
            if schemas.insert(id.clone(), schema).is_some() {
                self.report(
                    &path::key(&entry_at, "@id"),
                    ProblemKind::Duplicate {
                        what: "schema `@id`",
                        value: id.to_string(),
                    },
                );
            }
            paths.push((id, entry_at));
        }
        (schemas, paths)
    }
}
