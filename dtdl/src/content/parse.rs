//! Reading `contents` entries from a model.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Command, Component, Content, Property, Relationship, Telemetry};
use crate::dtmi::Dtmi;
use crate::error::ProblemKind;
use crate::parser::{Classes, Head, ModelParser};
use crate::path;
use crate::schema::Schema;

const CONTENT: Classes = Classes {
    names: &[
        "Property",
        "Telemetry",
        "Relationship",
        "Component",
        "Command",
    ],
    text: "Property, Telemetry, Relationship, Component or Command",
    keys: |class| match class {
        "Property" => &["name", "schema", "writable"],
        "Telemetry" | "Component" => &["name", "schema"],
        "Relationship" => &[
            "name",
            "target",
            "properties",
            "minMultiplicity",
            "maxMultiplicity",
            "writable",
        ],
        _ => &["name", "request", "response", "commandType"],
    },
};
const RELATIONSHIP_PROPERTY: Classes = Classes {
    names: &["Property"],
    text: "Property",
    keys: |_| &["name", "schema", "writable"],
};
const COMMAND_PAYLOAD: Classes = Classes {
    names: &["CommandPayload", "CommandRequest", "CommandResponse"],
    text: "CommandPayload, CommandRequest or CommandResponse",
    keys: |_| &["name", "schema", "nullable"],
};

impl ModelParser<'_> {
    /// One `contents` entry. `anonymous_id` names an inline component Interface without `@id`.
    pub fn content(&mut self, value: &Value, at: &str, anonymous_id: Dtmi) -> Option<Content> {
        let element = self.object(value, at, "a content object")?;
        let head = self.head(element, at, &CONTENT, None)?;
        let name = self.name(element, at);
        let content = match head.class {
            "Property" => Content::Property(self.property(element, at, head)?),
            "Telemetry" => Content::Telemetry(self.telemetry(element, at, head)?),
            "Relationship" => Content::Relationship(self.relationship(element, at, head)?),
            "Component" => Content::Component(self.component(element, at, head, anonymous_id)?),
            _ => Content::Command(self.command(element, at, head)?),
        };
        // A bad name was reported above; the kinds still checked the rest of the element.
        name.map(|_| content)
    }

    fn property(&mut self, element: &Map<String, Value>, at: &str, head: Head) -> Option<Property> {
        let name = element.get("name")?.as_str()?.to_owned();
        let schema = self.required_schema(element, at);
        let writable = self.flag(element, at, "writable");
        let unit = unit(element, &head);
        Some(Property {
            name,
            id: head.id,
            schema: schema?,
            writable,
            unit,
            co_types: head.co_types,
            display_name: head.display_name,
            description: head.description,
        })
    }

    fn telemetry(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        head: Head,
    ) -> Option<Telemetry> {
        let name = element.get("name")?.as_str()?.to_owned();
        let schema = self.required_schema(element, at)?;
        let unit = unit(element, &head);
        Some(Telemetry {
            name,
            id: head.id,
            schema,
            unit,
            co_types: head.co_types,
            display_name: head.display_name,
            description: head.description,
        })
    }

    fn relationship(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        head: Head,
    ) -> Option<Relationship> {
        let name = element.get("name")?.as_str()?.to_owned();
        let target = element
            .get("target")
            .and_then(|target| self.dtmi(target, &path::key(at, "target")));
        let min_multiplicity = element.get("minMultiplicity").and_then(|min| {
            let found = min.as_u64().filter(|min| *min == 0);
            if found.is_none() {
                self.report(
                    &path::key(at, "minMultiplicity"),
                    ProblemKind::MinMultiplicity {
                        found: min.to_string(),
                    },
                );
            }
            found
        });
        let max_multiplicity = element.get("maxMultiplicity").and_then(|max| {
            let found = max.as_u64().filter(|max| *max >= 1);
            if found.is_none() {
                self.report(
                    &path::key(at, "maxMultiplicity"),
                    ProblemKind::MaxMultiplicity {
                        found: max.to_string(),
                    },
                );
            }
            found
        });
        let mut properties = Vec::new();
        let mut names = BTreeSet::new();
        // A Relationship keeps all its properties or is dropped, so that each property lines
        // up with the path it was read from.
        let mut complete = true;
        if let Some(listed) = element.get("properties") {
            for (property_at, value) in self.one_or_many(listed, &path::key(at, "properties")) {
                let Some(property) = self.relationship_property(value, &property_at) else {
                    complete = false;
                    continue;
                };
                if !names.insert(property.name.clone()) {
                    self.report(
                        &path::key(&property_at, "name"),
                        ProblemKind::DuplicateName {
                            name: property.name.clone(),
                            by: format!("by another property of Relationship `{name}`"),
                        },
                    );
                }
                properties.push(property);
            }
        }
        let writable = self.flag(element, at, "writable");
        complete.then_some(Relationship {
            name,
            id: head.id,
            target,
            properties,
            min_multiplicity,
            max_multiplicity,
            writable,
            display_name: head.display_name,
            description: head.description,
        })
    }

    fn relationship_property(&mut self, value: &Value, at: &str) -> Option<Property> {
        let element = self.object(value, at, "a Property object")?;
        let head = self.head(element, at, &RELATIONSHIP_PROPERTY, None)?;
        self.name(element, at)?;
        self.property(element, at, head)
    }

    fn component(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        head: Head,
        anonymous_id: Dtmi,
    ) -> Option<Component> {
        let name = element.get("name")?.as_str()?.to_owned();
        let schema_at = path::key(at, "schema");
        let value = self.required(element, at, "schema")?;
        let schema = if value.is_object() {
            self.inline_interface(value, &schema_at, anonymous_id)?
        } else {
            self.dtmi(value, &schema_at)?
        };
        Some(Component {
            name,
            id: head.id,
            schema,
            display_name: head.display_name,
            description: head.description,
        })
    }

    fn command(&mut self, element: &Map<String, Value>, at: &str, head: Head) -> Option<Command> {
        let name = element.get("name")?.as_str()?.to_owned();
        let request = self.command_payload(element, at, "request");
        let response = self.command_payload(element, at, "response");
        Some(Command {
            name,
            id: head.id,
            request: request?,
            response: response?,
            display_name: head.display_name,
            description: head.description,
        })
    }

    /// `Some(None)` when the payload is absent; `None` when it is broken.
    fn command_payload(
        &mut self,
        element: &Map<String, Value>,
        at: &str,
        which: &str,
    ) -> Option<Option<Schema>> {
        let Some(value) = element.get(which) else {
            return Some(None);
        };
        let payload_at = path::key(at, which);
        let payload = self.object(value, &payload_at, "a command payload object")?;
        self.head(
            payload,
            &payload_at,
            &COMMAND_PAYLOAD,
            Some("CommandPayload"),
        )?;
        let name = self.name(payload, &payload_at);
        let schema = self.required_schema(payload, &payload_at)?;
        name.map(|_| Some(schema))
    }

    fn required_schema(&mut self, element: &Map<String, Value>, at: &str) -> Option<Schema> {
        let value = self.required(element, at, "schema")?;
        self.schema(value, &path::key(at, "schema"))
    }
}

/// The unit of a semantically typed Property or Telemetry (`["Property", "Temperature"]`).
fn unit(element: &Map<String, Value>, head: &Head) -> Option<String> {
    if head.co_types.is_empty() {
        return None;
    }
    element
        .get("unit")
        .and_then(Value::as_str)
        .map(str::to_owned)
}
