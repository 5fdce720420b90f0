//! The twin's state changes. Each event was decided by `handle` against the same state, so it
//! applies; if it does not, the log and the code disagree and the twin panics, naming the record
//! (see [`crate::aggregate::Aggregate`]).

use std::collections::BTreeMap;
use std::fmt::Display;

use serde_json::{Map, Value};
use twinlog_dtdl::Dtmi;
use twinlog_migrations::Event;

use super::document::{canonical, components, property_names, METADATA, MODEL};
use super::error::TwinError;
use super::patch::{Patch, Touched};
use super::relationships::{RELATIONSHIP_NAME, TARGET_ID};
use super::state::{Relationship, Times, Twin, TwinState};

/// What a change touched, for `lastUpdateTime`.
enum Changed<'t> {
    /// A replacement: everything.
    All,
    /// A patch: what its paths touched.
    Only(&'t [Touched]),
}

impl Changed<'_> {
    fn top_level(&self, key: &str) -> bool {
        match self {
            Changed::All => true,
            Changed::Only(touched) => touched
                .iter()
                .any(|touched| matches!(touched, Touched::TopLevel(name) if name == key)),
        }
    }

    fn in_component(&self, component: &str) -> bool {
        self.top_level(component)
            || matches!(self, Changed::Only(touched) if touched.iter().any(|touched| matches!(touched, Touched::ComponentProperty { component: name, .. } if name == component)))
    }

    fn component_property(&self, component: &str, property: &str) -> bool {
        self.top_level(component)
            || matches!(self, Changed::Only(touched) if touched.contains(&Touched::ComponentProperty { component: component.to_owned(), property: property.to_owned() }))
    }
}

/// `current` with `patch` applied, in the stored shape, and what the patch touched. `handle`
/// then validates the result against the models; `apply` takes it as decided.
pub(super) fn patched_document(
    current: &Map<String, Value>,
    patch: &Patch,
) -> Result<(Map<String, Value>, Vec<Touched>), TwinError> {
    let targets = patch.twin_targets()?;
    let mut document = current.clone();
    patch.apply_to_twin(&mut document)?;
    let document = canonical(&document)?;
    let touched = targets
        .into_iter()
        .map(|target| target.resolve(&document))
        .collect();
    Ok((document, touched))
}

impl TwinState {
    pub(super) fn apply_event(&mut self, event: &Event) {
        self.version += 1;
        let version = self.version;
        match event {
            Event::Telemetry { message_id, .. } => self.telemetry.remember(message_id),
            Event::TwinReplaced { at_ms, document } => {
                let document = self.recorded_object(document, event);
                let model = self.recorded_model(&document, event);
                let (times, component_times) = retime(None, &document, &Changed::All, *at_ms);
                // Replacing a twin keeps its relationships; a new twin has none.
                let relationships = self
                    .twin
                    .take()
                    .map(|previous| previous.relationships)
                    .unwrap_or_default();
                self.twin = Some(Twin {
                    model,
                    document,
                    times,
                    component_times,
                    version,
                    relationships,
                });
            }
            Event::TwinPatched { at_ms, patch } => {
                let patch = Patch::from_recorded(patch).unwrap_or_else(|e| self.corrupt(event, e));
                let twin = self.recorded_twin(event);
                let (document, touched) = patched_document(&twin.document, &patch)
                    .unwrap_or_else(|e| self.corrupt(event, e));
                let model = self.recorded_model(&document, event);
                let twin = self
                    .twin
                    .as_mut()
                    .unwrap_or_else(|| unreachable!("checked above"));
                let (times, component_times) =
                    retime(Some(twin), &document, &Changed::Only(&touched), *at_ms);
                twin.model = model;
                twin.document = document;
                twin.times = times;
                twin.component_times = component_times;
                twin.version = version;
            }
            Event::TwinDeleted { .. } => {
                self.recorded_twin(event);
                self.twin = None;
                // The window de-duplicates for one twin; a twin created again starts afresh.
                self.telemetry.clear();
            }
            Event::RelationshipReplaced {
                at_ms,
                relationship_id,
                document,
            } => {
                let mut properties = self.recorded_object(document, event);
                let mut system_text = |key: &str| match properties.remove(key) {
                    Some(Value::String(text)) => Ok(text),
                    _ => Err(format!("`{key}` is missing")),
                };
                let (target_id, name) =
                    match (system_text(TARGET_ID), system_text(RELATIONSHIP_NAME)) {
                        (Ok(target_id), Ok(name)) => (target_id, name),
                        (Err(e), _) | (_, Err(e)) => self.corrupt(event, e),
                    };
                self.recorded_twin(event);
                let twin = self
                    .twin
                    .as_mut()
                    .unwrap_or_else(|| unreachable!("checked above"));
                twin.relationships.insert(
                    relationship_id.clone(),
                    Relationship {
                        target_id,
                        name,
                        properties,
                        version,
                        updated_ms: *at_ms,
                    },
                );
            }
            Event::RelationshipPatched {
                at_ms,
                relationship_id,
                patch,
            } => {
                let patch = Patch::from_recorded(patch).unwrap_or_else(|e| self.corrupt(event, e));
                let mut properties = self
                    .recorded_relationship(relationship_id, event)
                    .properties
                    .clone();
                patch
                    .apply_to_properties(&mut properties)
                    .unwrap_or_else(|e| self.corrupt(event, e));
                let relationship = self
                    .twin
                    .as_mut()
                    .and_then(|twin| twin.relationships.get_mut(relationship_id))
                    .unwrap_or_else(|| unreachable!("checked above"));
                relationship.properties = properties;
                relationship.version = version;
                relationship.updated_ms = *at_ms;
            }
            Event::RelationshipDeleted {
                relationship_id, ..
            } => {
                self.recorded_relationship(relationship_id, event);
                if let Some(twin) = self.twin.as_mut() {
                    twin.relationships.remove(relationship_id);
                }
            }
            Event::ModelsUploaded { .. }
            | Event::ModelDecommissioned { .. }
            | Event::ModelDeleted { .. } => {
                self.corrupt(event, "a model registry event in a twin's stream")
            }
        }
    }

    /// The log and the code disagree about this record: see the module documentation.
    fn corrupt(&self, event: &Event, reason: impl Display) -> ! {
        panic!(
            "twin {} record {}: {} does not apply: {reason}",
            self.twin_id,
            self.version,
            event.kind()
        )
    }

    fn recorded_twin(&self, event: &Event) -> &Twin {
        self.twin
            .as_ref()
            .unwrap_or_else(|| self.corrupt(event, "the twin does not exist"))
    }

    fn recorded_relationship(&self, relationship_id: &str, event: &Event) -> &Relationship {
        self.recorded_twin(event)
            .relationships
            .get(relationship_id)
            .unwrap_or_else(|| {
                self.corrupt(
                    event,
                    format!("relationship {relationship_id} does not exist"),
                )
            })
    }

    fn recorded_object(&self, text: &str, event: &Event) -> Map<String, Value> {
        match serde_json::from_str(text) {
            Ok(Value::Object(object)) => object,
            Ok(_) => self.corrupt(event, "the document is not a JSON object"),
            Err(e) => self.corrupt(event, e),
        }
    }

    fn recorded_model(&self, document: &Map<String, Value>, event: &Event) -> Dtmi {
        let text = document
            .get(METADATA)
            .and_then(|metadata| metadata.get(MODEL))
            .and_then(Value::as_str)
            .unwrap_or_else(|| self.corrupt(event, "the document names no model"));
        text.parse().unwrap_or_else(|e| self.corrupt(event, e))
    }
}

/// The times of a twin after a change at `at_ms`: what the change touched gets `at_ms`, the
/// rest keeps its time, and the twin's own time is always `at_ms`.
fn retime(
    previous: Option<&Twin>,
    document: &Map<String, Value>,
    changed: &Changed<'_>,
    at_ms: u64,
) -> (Times, BTreeMap<String, Times>) {
    let previous_time = |times: Option<&Times>, property: &str| {
        times
            .and_then(|times| times.properties.get(property))
            .copied()
            .unwrap_or(at_ms)
    };
    let twin_times = previous.map(|twin| &twin.times);
    let times = Times {
        updated_ms: at_ms,
        properties: property_names(document)
            .map(|property| {
                let time = if changed.top_level(property) {
                    at_ms
                } else {
                    previous_time(twin_times, property)
                };
                (property.clone(), time)
            })
            .collect(),
    };
    let component_times = components(document)
        .map(|(name, component)| {
            let before = previous.and_then(|twin| twin.component_times.get(name));
            let updated_ms = match before {
                Some(before) if !changed.in_component(name) => before.updated_ms,
                _ => at_ms,
            };
            let properties = property_names(component)
                .map(|property| {
                    let time = if changed.component_property(name, property) {
                        at_ms
                    } else {
                        previous_time(before, property)
                    };
                    (property.clone(), time)
                })
                .collect();
            (
                name.clone(),
                Times {
                    updated_ms,
                    properties,
                },
            )
        })
        .collect();
    (times, component_times)
}
