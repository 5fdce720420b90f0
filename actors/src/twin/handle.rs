//! The twin's decisions on itself and its telemetry: whether a command may happen, and the
//! event that records it. Relationships are decided in `relationships`.

use std::sync::Arc;

use serde_json::Value;
use twinlog_dtdl::Interface;
use twinlog_migrations::Event;

use super::apply::patch_document;
use super::command::{
    check_if_match, check_if_none_match, DeleteTwin, PatchTwin, ReplaceTwin, SendTelemetry,
    TwinCommand,
};
use super::document::{canonical, is_component, model_of, validate, METADATA, MODEL};
use super::error::TwinError;
use super::patch::Patch;
use super::state::{Twin, TwinState};
use crate::aggregate::{is_rfc3339, json_kind};
use crate::models::ModelRegistry;

/// The longest `Message-Id` a twin accepts. ADT sets none; the de-duplication window holds
/// [`super::TELEMETRY_DEDUP_IDS_MAX`] of them, so each must be bounded. SDKs send UUIDs (36).
pub const MESSAGE_ID_CHARS_MAX: usize = 256;

impl TwinState {
    pub(super) fn decide(&self, command: TwinCommand) -> Result<Vec<Event>, TwinError> {
        match command {
            TwinCommand::Replace(command) => self.replace(command),
            TwinCommand::Patch(command) => self.patch(command),
            TwinCommand::Delete(command) => self.delete(command),
            TwinCommand::ReplaceRelationship(command) => self.replace_relationship(command),
            TwinCommand::PatchRelationship(command) => self.patch_relationship(command),
            TwinCommand::DeleteRelationship(command) => self.delete_relationship(command),
            TwinCommand::SendTelemetry(command) => self.send_telemetry(command),
            TwinCommand::Traced {
                traceparent,
                command,
            } => Ok(self
                .decide(*command)?
                .into_iter()
                .map(|event| event.traced(traceparent.clone()))
                .collect()),
        }
    }

    fn replace(&self, command: ReplaceTwin) -> Result<Vec<Event>, TwinError> {
        check_if_none_match(
            command.if_none_match_any,
            || self.describe(),
            self.twin.as_ref().map(|twin| twin.version),
        )?;
        let body = match command.body {
            Value::Object(body) => body,
            other => {
                return Err(TwinError::InvalidArgument {
                    reason: format!("a twin must be a JSON object, found {}", json_kind(&other)),
                })
            }
        };
        let document = canonical(body)?;
        let (model_id, interface) = model_of(&document, &command.models)?;
        if command.models.is_decommissioned(&model_id) {
            return Err(TwinError::ModelDecommissioned {
                model_id: model_id.to_string(),
            });
        }
        validate(&document, &interface)?;
        self.validated.remember(self.version + 1, &interface);
        Ok(vec![Event::TwinReplaced {
            at_ms: command.at_ms,
            document: Value::Object(document).to_string(),
        }])
    }

    fn patch(&self, command: PatchTwin) -> Result<Vec<Event>, TwinError> {
        let twin = self.existing()?;
        check_if_match(command.if_match.as_ref(), || self.describe(), twin.version)?;
        let mut patch = Patch::parse(&command.patch)?;
        if let Some(component) = &command.component {
            self.component_of(twin, component)?;
            patch = patch.under_component(component);
        }
        if patch.is_empty() {
            return Ok(Vec::new());
        }
        let interface = match self.validated_properties(twin, &patch, &command.models) {
            Some(checked) => checked?,
            None => {
                let mut document = twin.document.clone();
                patch_document(&mut document, &patch)?;
                let (model_id, interface) = model_of(&document, &command.models)?;
                if model_id != twin.model && command.models.is_decommissioned(&model_id) {
                    return Err(TwinError::ModelDecommissioned {
                        model_id: model_id.to_string(),
                    });
                }
                validate(&document, &interface)?;
                interface
            }
        };
        self.validated.remember(self.version + 1, &interface);
        Ok(vec![Event::TwinPatched {
            at_ms: command.at_ms,
            patch: patch.to_json_text(),
        }])
    }

    /// Validates only the values `patch` sets, when that answers exactly as validating the whole
    /// patched document would: the patch only sets existing properties (so it applies, and the
    /// metadata, the model and the components stay as they were), and the rest of the document
    /// is known to satisfy the model's current Interface (see `validated`). The first refusal
    /// is the same too, because both check properties in the document's key order. `None`:
    /// validate the whole document instead.
    fn validated_properties(
        &self,
        twin: &Twin,
        patch: &Patch,
        models: &ModelRegistry,
    ) -> Option<Result<Arc<Interface>, TwinError>> {
        let Some(interface) = models.interface_of(&twin.model) else {
            // The whole check would refuse this too, but let it say so.
            return None;
        };
        if !self.validated.holds(twin.version, interface) {
            return None;
        }
        let values = patch.property_values(&twin.document)?;
        let checked = values
            .iter()
            .try_for_each(|(name, value)| interface.validate_property(name, value))
            .map(|()| interface.clone())
            .map_err(TwinError::from);
        Some(checked)
    }

    fn delete(&self, command: DeleteTwin) -> Result<Vec<Event>, TwinError> {
        let twin = self.existing()?;
        check_if_match(command.if_match.as_ref(), || self.describe(), twin.version)?;
        let outgoing = twin.relationships.len();
        if outgoing > 0 || command.incoming_relationships > 0 {
            return Err(TwinError::RelationshipsNotDeleted {
                twin_id: self.twin_id.to_string(),
                outgoing,
                incoming: command.incoming_relationships,
            });
        }
        Ok(vec![Event::TwinDeleted {
            at_ms: command.at_ms,
        }])
    }

    /// Accepts a message once per `Message-Id` within the window: a repeat is accepted and
    /// records nothing.
    fn send_telemetry(&self, command: SendTelemetry) -> Result<Vec<Event>, TwinError> {
        let twin = self.existing()?;
        let message_id = &command.message_id;
        if message_id.is_empty() {
            return Err(TwinError::InvalidArgument {
                reason: "the Message-Id header is required".to_owned(),
            });
        }
        let chars = message_id.chars().count();
        if chars > MESSAGE_ID_CHARS_MAX {
            return Err(TwinError::InvalidArgument {
                reason: format!(
                    "the Message-Id has {chars} characters, over the limit of {MESSAGE_ID_CHARS_MAX}"
                ),
            });
        }
        if let Some(source_time) = command
            .source_time
            .as_deref()
            .filter(|time| !is_rfc3339(time))
        {
            return Err(TwinError::InvalidArgument {
                reason: format!(
                    "Telemetry-Source-Time `{source_time}` is not an RFC 3339 date-time"
                ),
            });
        }
        let Value::Object(body) = &command.body else {
            return Err(TwinError::InvalidArgument {
                reason: format!(
                    "telemetry must be a JSON object, found {}",
                    json_kind(&command.body)
                ),
            });
        };
        let interface = self.interface_of(twin, &command.models)?;
        let interface = match &command.component {
            Some(component) => {
                self.component_of(twin, component)?;
                interface
                    .component_interface(component)
                    .cloned()
                    .ok_or_else(|| self.component_not_found(component))?
            }
            None => interface,
        };
        if self.telemetry.contains(message_id) {
            return Ok(Vec::new());
        }
        interface.validate_telemetry(body)?;
        Ok(vec![Event::Telemetry {
            message_id: command.message_id,
            source_time: command.source_time,
            component: command.component,
            // Straight into a buffer: `Display` would go through a formatter for every token.
            data: serde_json::to_string(&command.body).expect("a JSON value serialises"),
        }])
    }

    /// The Interface of the twin's model, which must still be stored.
    pub(super) fn interface_of(
        &self,
        twin: &Twin,
        models: &ModelRegistry,
    ) -> Result<Arc<Interface>, TwinError> {
        models.interface_of(&twin.model).cloned().ok_or_else(|| {
            TwinError::validation(
                format!("$.{METADATA}.{MODEL}"),
                format!(
                    "model {} of twin {} is no longer uploaded",
                    twin.model, self.twin_id
                ),
            )
        })
    }

    /// Checks that the twin has the component `component`.
    fn component_of(&self, twin: &Twin, component: &str) -> Result<(), TwinError> {
        if twin.document.get(component).is_some_and(is_component) {
            Ok(())
        } else {
            Err(self.component_not_found(component))
        }
    }

    /// The twin, as precondition failures name it.
    fn describe(&self) -> String {
        format!("twin {}", self.twin_id)
    }

    pub(super) fn component_not_found(&self, component: &str) -> TwinError {
        TwinError::ComponentNotFound {
            twin_id: self.twin_id.to_string(),
            component: component.to_owned(),
        }
    }
}
