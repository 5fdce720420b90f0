//! The twin's state changes. Each event was decided by `handle` against the same state, so it
//! applies; if it does not, the log and the code disagree and the twin panics, naming the record
//! (see [`crate::aggregate::Aggregate`]).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::Arc;

use serde_json::{Map, Value};
use twinlog_dtdl::Dtmi;
use twinlog_migrations::Event;

use super::document::{check_shape, components, is_component, property_names, METADATA, MODEL};
use super::error::TwinError;
use super::patch::{Patch, Touched};
use super::relationships::{RELATIONSHIP_NAME, TARGET_ID};
use super::state::{Relationship, Times, Twin, TwinState};

/// Applies `patch` to a stored-shape `document` in place, checks the shape of the result, and
/// says what the patch touched. `handle` runs it on a copy and then validates the result against
/// the models; `apply` runs it on the twin's own document and takes the result as decided. On a
/// refusal the document may be half-patched.
pub(super) fn patch_document(
    document: &mut Map<String, Value>,
    patch: &Patch,
) -> Result<Vec<Touched>, TwinError> {
    let targets = patch.twin_targets()?;
    patch.apply_to_twin(document, &targets)?;
    check_shape(document)?;
    Ok(targets
        .into_iter()
        .map(|target| target.resolve(document))
        .collect())
}

impl TwinState {
    pub(super) fn apply_event(&mut self, event: &Event) {
        if let Event::Traced { event, .. } = event {
            return self.apply_event(event);
        }
        self.version += 1;
        let version = self.version;
        match event {
            Event::Telemetry { message_id, .. } => self.telemetry.remember(message_id),
            Event::TwinReplaced { at_ms, document } => {
                let document = self.recorded_object(document, event);
                let model = self.recorded_model(&document, event);
                let (times, component_times) = fresh_times(&document, *at_ms);
                // Replacing a twin keeps its relationships; a new twin has none.
                let relationships = self
                    .twin
                    .take()
                    .map(|previous| match Arc::try_unwrap(previous) {
                        Ok(previous) => previous.relationships,
                        // Shared with a snapshot: copy only what is kept.
                        Err(shared) => shared.relationships.clone(),
                    })
                    .unwrap_or_default();
                self.twin = Some(Arc::new(Twin {
                    model,
                    document,
                    times,
                    component_times,
                    version,
                    relationships,
                }));
            }
            Event::TwinPatched { at_ms, patch } => {
                let patch = Patch::from_recorded(patch).unwrap_or_else(|e| self.corrupt(event, e));
                self.recorded_twin(event);
                // Patched in place: a patch that does not apply panics below, and the shell never
                // reuses a state that panicked.
                let mut shared = self
                    .twin
                    .take()
                    .unwrap_or_else(|| unreachable!("checked above"));
                let twin = Arc::make_mut(&mut shared);
                let touched = patch_document(&mut twin.document, &patch)
                    .unwrap_or_else(|e| self.corrupt(event, e));
                if touched.contains(&Touched::Model) {
                    twin.model = self.recorded_model(&twin.document, event);
                }
                retime_touched(twin, &touched, *at_ms);
                twin.version = version;
                self.twin = Some(shared);
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
                    .map(Arc::make_mut)
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
                    .and_then(|twin| Arc::make_mut(twin).relationships.get_mut(relationship_id))
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
                    Arc::make_mut(twin).relationships.remove(relationship_id);
                }
            }
            Event::ModelsUploaded { .. }
            | Event::ModelDecommissioned { .. }
            | Event::ModelDeleted { .. }
            | Event::Traced { .. } => {
                self.corrupt(event, "a model registry event in a twin's stream")
            }
        }
    }

    /// Applies record `version` of this stream, for a projection that folds only the records
    /// that change what it reads: those it skips (telemetry, and everything before the twin's
    /// last deletion) change nothing but the telemetry de-duplication window, which this does not
    /// keep either. The twin and its relationships come out exactly as a full replay's.
    pub(crate) fn apply_record(&mut self, version: u64, event: &Event) {
        if matches!(event.untraced(), Event::Telemetry { .. }) {
            self.version = version;
            return;
        }
        self.version = version.saturating_sub(1);
        self.apply_event(event);
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
            .as_deref()
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

/// The times of a twin replaced at `at_ms`: everything changed then.
fn fresh_times(document: &Map<String, Value>, at_ms: u64) -> (Times, BTreeMap<String, Times>) {
    let component_times = components(document)
        .map(|(name, component)| (name.clone(), level_times(component, at_ms)))
        .collect();
    (level_times(document, at_ms), component_times)
}

/// The times of one level (the twin or a component) all of whose properties changed at `at_ms`.
fn level_times(level: &Map<String, Value>, at_ms: u64) -> Times {
    Times {
        updated_ms: at_ms,
        properties: property_names(level)
            .map(|property| (property.clone(), at_ms))
            .collect(),
    }
}

/// Moves a twin's times to a patch at `at_ms` that `touched` these parts of its (already
/// patched) document: what it touched gets `at_ms`, what it removed loses its time, the rest
/// keeps its time, and the twin's own time is always `at_ms`. Only the touched keys are visited:
/// the times have one entry per property and component, and a patch adds or removes one only
/// at a key it touches.
fn retime_touched(twin: &mut Twin, touched: &[Touched], at_ms: u64) {
    twin.times.updated_ms = at_ms;
    for touched in touched {
        match touched {
            Touched::Model => {}
            Touched::TopLevel(name) => match twin.document.get(name) {
                Some(Value::Object(component)) if component.contains_key(METADATA) => {
                    twin.times.properties.remove(name);
                    twin.component_times
                        .insert(name.clone(), level_times(component, at_ms));
                }
                Some(_) => {
                    twin.times.properties.insert(name.clone(), at_ms);
                    twin.component_times.remove(name);
                }
                None => {
                    twin.times.properties.remove(name);
                    twin.component_times.remove(name);
                }
            },
            // Resolved against the patched document: `component` is one of its components.
            Touched::ComponentProperty {
                component,
                property,
            } => {
                let Some(Value::Object(level)) = twin.document.get(component) else {
                    continue;
                };
                let times = twin.component_times.entry(component.clone()).or_default();
                times.updated_ms = at_ms;
                if level
                    .get(property)
                    .is_some_and(|value| !is_component(value))
                {
                    times.properties.insert(property.clone(), at_ms);
                } else {
                    times.properties.remove(property);
                }
            }
        }
    }
}
