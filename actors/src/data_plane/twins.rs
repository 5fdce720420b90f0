//! Twin, component, relationship and telemetry operations: each one request to a twin actor,
//! plus, for relationships, the target's model beforehand and the incoming index afterwards.

use std::sync::Arc;

use serde_json::Value;

use super::error::DataPlaneError;
use super::{now_ms, DataPlane, Versioned};
use crate::region::Dispatched;
use crate::twin::{
    relationship_target_id, DeleteRelationship, DeleteTwin, IfMatch, PatchRelationship, PatchTwin,
    ReplaceRelationship, ReplaceTwin, SendTelemetry, TwinCommand, TwinError, TwinState,
};

/// ADT's limit on a twin id's length.
pub const TWIN_ID_CHARS_MAX: usize = 128;

/// Twin ids name streams in the log: they must be non-empty and bounded, and never start with
/// `$`, which is reserved for the region's own streams (`$models`).
fn check_twin_id(id: &str) -> Result<(), DataPlaneError> {
    let chars = id.chars().count();
    if chars == 0 || chars > TWIN_ID_CHARS_MAX {
        return Err(DataPlaneError::invalid(format!(
            "twin id must have 1 to {TWIN_ID_CHARS_MAX} characters, not {chars}"
        )));
    }
    if id.starts_with('$') || id.chars().any(char::is_control) {
        return Err(DataPlaneError::invalid(format!(
            "twin id `{}` may not start with `$` or contain control characters",
            id.escape_debug()
        )));
    }
    Ok(())
}

fn versioned(etag: String, body: Value) -> Versioned {
    Versioned { etag, body }
}

impl DataPlane {
    /// One request to a twin: `command` (if any), then `read` on its durable state.
    async fn on_twin<R: Send + 'static>(
        &self,
        id: &str,
        command: Option<TwinCommand>,
        read: impl Fn(&TwinState) -> Result<R, TwinError> + Send + Sync + 'static,
    ) -> Result<R, DataPlaneError> {
        check_twin_id(id)?;
        let command = command.map(|command| self.with_trace(command));
        Ok(self.supervisor.request(id, command, read).await??)
    }

    /// `command`, recording this handle's `traceparent` if it has one.
    fn with_trace(&self, command: TwinCommand) -> TwinCommand {
        match &self.traceparent {
            Some(traceparent) => TwinCommand::Traced {
                traceparent: traceparent.to_string(),
                command: Box::new(command),
            },
            None => command,
        }
    }

    pub async fn get_twin(&self, id: &str) -> Result<Versioned, DataPlaneError> {
        self.on_twin(id, None, |s| {
            Ok(versioned(s.existing()?.etag(), s.twin_document()?))
        })
        .await
    }

    pub async fn put_twin(
        &self,
        id: &str,
        body: Value,
        if_none_match_any: bool,
    ) -> Result<Versioned, DataPlaneError> {
        let command = TwinCommand::Replace(ReplaceTwin {
            body,
            if_none_match_any,
            models: self.models.snapshot(),
            at_ms: now_ms(),
        });
        self.on_twin(id, Some(command), |s| {
            Ok(versioned(s.existing()?.etag(), s.twin_document()?))
        })
        .await
    }

    pub async fn patch_twin(
        &self,
        id: &str,
        patch: Value,
        if_match: Option<IfMatch>,
    ) -> Result<String, DataPlaneError> {
        self.patch(id, None, patch, if_match).await
    }

    pub async fn patch_component(
        &self,
        id: &str,
        component: &str,
        patch: Value,
        if_match: Option<IfMatch>,
    ) -> Result<String, DataPlaneError> {
        self.patch(id, Some(component.to_owned()), patch, if_match)
            .await
    }

    async fn patch(
        &self,
        id: &str,
        component: Option<String>,
        patch: Value,
        if_match: Option<IfMatch>,
    ) -> Result<String, DataPlaneError> {
        let command = TwinCommand::Patch(PatchTwin {
            patch,
            component,
            if_match,
            models: self.models.snapshot(),
            at_ms: now_ms(),
        });
        self.on_twin(id, Some(command), |s| Ok(s.existing()?.etag()))
            .await
    }

    pub async fn delete_twin(
        &self,
        id: &str,
        if_match: Option<IfMatch>,
    ) -> Result<(), DataPlaneError> {
        let command = TwinCommand::Delete(DeleteTwin {
            if_match,
            incoming_relationships: self.incoming.count(id),
            at_ms: now_ms(),
        });
        self.on_twin(id, Some(command), |_| Ok(())).await
    }

    pub async fn get_component(
        &self,
        id: &str,
        component: &str,
    ) -> Result<Versioned, DataPlaneError> {
        let component = component.to_owned();
        self.on_twin(id, None, move |s| {
            Ok(versioned(
                s.existing()?.etag(),
                s.component_document(&component)?,
            ))
        })
        .await
    }

    pub async fn put_relationship(
        &self,
        id: &str,
        relationship_id: &str,
        body: Value,
        if_none_match_any: bool,
    ) -> Result<Versioned, DataPlaneError> {
        // The target's model decides whether the relationship is valid; its own actor knows it.
        let target_model = match relationship_target_id(&body) {
            Some(target) if target != id && check_twin_id(target).is_ok() => {
                self.on_twin(target, None, |s| Ok(s.twin().map(|t| t.model().clone())))
                    .await?
            }
            _ => None,
        };
        let command = TwinCommand::ReplaceRelationship(ReplaceRelationship {
            relationship_id: relationship_id.to_owned(),
            body,
            target_model,
            if_none_match_any,
            models: self.models.snapshot(),
            at_ms: now_ms(),
        });
        let relationship = self
            .read_relationship(id, relationship_id, Some(command))
            .await?;
        self.incoming
            .record(Arc::from(id), relationship_id, &relationship.body);
        Ok(relationship)
    }

    pub async fn get_relationship(
        &self,
        id: &str,
        relationship_id: &str,
    ) -> Result<Versioned, DataPlaneError> {
        self.read_relationship(id, relationship_id, None).await
    }

    async fn read_relationship(
        &self,
        id: &str,
        relationship_id: &str,
        command: Option<TwinCommand>,
    ) -> Result<Versioned, DataPlaneError> {
        let relationship_id = relationship_id.to_owned();
        self.on_twin(id, command, move |s| {
            let etag = s.relationship(&relationship_id)?.etag();
            Ok(versioned(etag, s.relationship_document(&relationship_id)?))
        })
        .await
    }

    pub async fn patch_relationship(
        &self,
        id: &str,
        relationship_id: &str,
        patch: Value,
        if_match: Option<IfMatch>,
    ) -> Result<String, DataPlaneError> {
        let command = TwinCommand::PatchRelationship(PatchRelationship {
            relationship_id: relationship_id.to_owned(),
            patch,
            if_match,
            models: self.models.snapshot(),
            at_ms: now_ms(),
        });
        let relationship_id = relationship_id.to_owned();
        self.on_twin(id, Some(command), move |s| {
            Ok(s.relationship(&relationship_id)?.etag())
        })
        .await
    }

    pub async fn delete_relationship(
        &self,
        id: &str,
        relationship_id: &str,
        if_match: Option<IfMatch>,
    ) -> Result<(), DataPlaneError> {
        let command = TwinCommand::DeleteRelationship(DeleteRelationship {
            relationship_id: relationship_id.to_owned(),
            if_match,
            at_ms: now_ms(),
        });
        self.on_twin(id, Some(command), |_| Ok(())).await?;
        self.incoming.forget(&Arc::from(id), relationship_id);
        Ok(())
    }

    pub async fn list_relationships(
        &self,
        id: &str,
        relationship_name: Option<&str>,
    ) -> Result<Vec<Value>, DataPlaneError> {
        let name = relationship_name.map(str::to_owned);
        self.on_twin(id, None, move |s| s.relationship_documents(name.as_deref()))
            .await
    }

    pub async fn list_incoming_relationships(
        &self,
        id: &str,
    ) -> Result<Vec<Value>, DataPlaneError> {
        self.on_twin(id, None, |s| s.existing().map(drop)).await?;
        Ok(self
            .incoming
            .incoming(id)
            .into_iter()
            .map(|r| {
                serde_json::json!({
                    "$relationshipId": r.relationship_id,
                    "$sourceId": &*r.source_id,
                    "$relationshipName": r.name,
                    "$relationshipLink": format!("/digitaltwins/{}/relationships/{}", r.source_id, r.relationship_id),
                })
            })
            .collect())
    }

    pub async fn send_telemetry(
        &self,
        id: &str,
        component: Option<&str>,
        message_id: &str,
        source_time: Option<&str>,
        body: Value,
    ) -> Result<(), DataPlaneError> {
        let command = self.telemetry(component, message_id, source_time, body);
        self.on_twin(id, Some(command), |_| Ok(())).await
    }

    /// Sends `command` to twin `id` at once; [`DataPlane::answer`] waits for its outcome. For a
    /// caller that keeps many commands in flight (the NDJSON batch): each twin gets its commands
    /// in the order they are dispatched.
    pub fn dispatch(
        &self,
        id: &str,
        command: TwinCommand,
    ) -> Result<Dispatched<TwinState>, DataPlaneError> {
        check_twin_id(id)?;
        Ok(self.supervisor.dispatch(id, self.with_trace(command)))
    }

    /// Waits until a dispatched command's events are durable, or says why none are.
    pub async fn answer(&self, dispatched: Dispatched<TwinState>) -> Result<(), DataPlaneError> {
        Ok(self.supervisor.answer(dispatched).await?)
    }

    /// The command that sends telemetry to a twin, as [`DataPlane::send_telemetry`] does.
    pub fn telemetry(
        &self,
        component: Option<&str>,
        message_id: &str,
        source_time: Option<&str>,
        body: Value,
    ) -> TwinCommand {
        TwinCommand::SendTelemetry(SendTelemetry {
            message_id: message_id.to_owned(),
            source_time: source_time.map(str::to_owned),
            component: component.map(str::to_owned),
            body,
            models: self.models.snapshot(),
        })
    }
}
