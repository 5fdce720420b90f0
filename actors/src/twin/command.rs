//! The commands a twin decides on. Each carries everything the decision needs: the time it is
//! decided at, the caller's preconditions, and what the shell looked up outside the twin (the
//! model registry, the target twin's model, the count of incoming relationships).

use std::sync::Arc;

use serde_json::Value;
use twinlog_dtdl::Dtmi;

use super::error::TwinError;
use super::state::etag;
use crate::models::ModelRegistry;

/// A command to one twin's stream.
#[derive(Debug, Clone)]
pub enum TwinCommand {
    Replace(ReplaceTwin),
    Patch(PatchTwin),
    Delete(DeleteTwin),
    ReplaceRelationship(ReplaceRelationship),
    PatchRelationship(PatchRelationship),
    DeleteRelationship(DeleteRelationship),
    SendTelemetry(SendTelemetry),
    /// `command`, sent by a request that carried a W3C `traceparent`: decided exactly as
    /// `command`, with each of its events recorded as `Event::Traced`, so that the change feed
    /// carries the trace on.
    Traced {
        traceparent: String,
        command: Box<TwinCommand>,
    },
}

/// `PUT /digitaltwins/{id}`: create the twin, or replace it whole.
#[derive(Debug, Clone)]
pub struct ReplaceTwin {
    pub body: Value,
    /// `If-None-Match: *`: only create.
    pub if_none_match_any: bool,
    pub models: Arc<ModelRegistry>,
    pub at_ms: u64,
}

/// `PATCH /digitaltwins/{id}`, or `PATCH /digitaltwins/{id}/components/{component}` when
/// `component` is given, whose paths are then relative to the component.
#[derive(Debug, Clone)]
pub struct PatchTwin {
    /// The JSON Patch (RFC 6902) body: add, replace and remove operations.
    pub patch: Value,
    pub component: Option<String>,
    pub if_match: Option<IfMatch>,
    pub models: Arc<ModelRegistry>,
    pub at_ms: u64,
}

/// `DELETE /digitaltwins/{id}`.
#[derive(Debug, Clone)]
pub struct DeleteTwin {
    pub if_match: Option<IfMatch>,
    /// Relationships of other twins that target this one, which the shell counts.
    pub incoming_relationships: usize,
    pub at_ms: u64,
}

/// `PUT /digitaltwins/{id}/relationships/{relationship_id}`.
#[derive(Debug, Clone)]
pub struct ReplaceRelationship {
    pub relationship_id: String,
    /// `{"$targetId", "$relationshipName", ...properties}`.
    pub body: Value,
    /// The model of the twin that the body's `$targetId` names ([`relationship_target_id`]),
    /// or `None` if that twin does not exist.
    pub target_model: Option<Dtmi>,
    /// `If-None-Match: *`: only create.
    pub if_none_match_any: bool,
    pub models: Arc<ModelRegistry>,
    pub at_ms: u64,
}

/// `PATCH /digitaltwins/{id}/relationships/{relationship_id}`: its properties.
#[derive(Debug, Clone)]
pub struct PatchRelationship {
    pub relationship_id: String,
    pub patch: Value,
    pub if_match: Option<IfMatch>,
    pub models: Arc<ModelRegistry>,
    pub at_ms: u64,
}

/// `DELETE /digitaltwins/{id}/relationships/{relationship_id}`.
#[derive(Debug, Clone)]
pub struct DeleteRelationship {
    pub relationship_id: String,
    pub if_match: Option<IfMatch>,
    pub at_ms: u64,
}

/// `POST /digitaltwins/{id}/telemetry`, or `…/components/{component}/telemetry`.
#[derive(Debug, Clone)]
pub struct SendTelemetry {
    /// The `Message-Id` header.
    pub message_id: String,
    /// The `Telemetry-Source-Time` header, RFC 3339.
    pub source_time: Option<String>,
    pub component: Option<String>,
    pub body: Value,
    pub models: Arc<ModelRegistry>,
}

/// The `If-Match` header: `*`, or a list of ETags of which the current one must be one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    OneOf(Vec<String>),
}

impl IfMatch {
    /// Compares as HTTP's weak comparison does: `W/"5"` and `"5"` match. `what` names the
    /// entity, and is built only for the refusal.
    pub(super) fn check(
        &self,
        what: impl FnOnce() -> String,
        version: u64,
    ) -> Result<(), TwinError> {
        let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
        let current = format!("\"{version}\"");
        match self {
            IfMatch::Any => Ok(()),
            IfMatch::OneOf(tags) if tags.iter().any(|tag| opaque(tag) == current) => Ok(()),
            IfMatch::OneOf(tags) => Err(TwinError::PreconditionFailed {
                reason: format!(
                    "If-Match {} does not match the current ETag {} of {}",
                    tags.join(", "),
                    etag(version),
                    what()
                ),
            }),
        }
    }
}

/// Checks `If-Match` against the version of an existing entity's last change; no header passes.
pub(super) fn check_if_match(
    if_match: Option<&IfMatch>,
    what: impl FnOnce() -> String,
    version: u64,
) -> Result<(), TwinError> {
    if_match.map_or(Ok(()), |if_match| if_match.check(what, version))
}

/// Checks `If-None-Match: *` against whether the entity exists already (the version of its last
/// change, if it does).
pub(super) fn check_if_none_match(
    if_none_match_any: bool,
    what: impl FnOnce() -> String,
    existing_version: Option<u64>,
) -> Result<(), TwinError> {
    match existing_version {
        Some(version) if if_none_match_any => Err(TwinError::PreconditionFailed {
            reason: format!(
                "If-None-Match: * but {} exists already, with ETag {}",
                what(),
                etag(version)
            ),
        }),
        _ => Ok(()),
    }
}

/// The `$targetId` of a relationship body, which the shell resolves to the target twin's model
/// before it sends a [`ReplaceRelationship`].
pub fn relationship_target_id(body: &Value) -> Option<&str> {
    body.get("$targetId").and_then(Value::as_str)
}
