//! The twin's decisions on its outgoing relationships.

use serde_json::{Map, Value};
use twinlog_migrations::Event;

use super::command::{
    check_if_match, check_if_none_match, DeleteRelationship, IfMatch, PatchRelationship,
    ReplaceRelationship,
};
use super::error::TwinError;
use super::patch::Patch;
use super::state::{Relationship, TwinState};
use crate::aggregate::json_kind;

pub(super) const TARGET_ID: &str = "$targetId";
pub(super) const RELATIONSHIP_NAME: &str = "$relationshipName";

impl TwinState {
    pub(super) fn replace_relationship(
        &self,
        command: ReplaceRelationship,
    ) -> Result<Vec<Event>, TwinError> {
        let twin = self.existing()?;
        let relationship_id = &command.relationship_id;
        check_if_none_match(
            command.if_none_match_any,
            || self.describe_relationship(relationship_id),
            twin.relationships
                .get(relationship_id)
                .map(|existing| existing.version),
        )?;
        let Value::Object(body) = &command.body else {
            return Err(TwinError::InvalidArgument {
                reason: format!(
                    "a relationship must be a JSON object, found {}",
                    json_kind(&command.body)
                ),
            });
        };
        let target_id = required_text(body, TARGET_ID, "the target twin's id")?;
        let name = required_text(
            body,
            RELATIONSHIP_NAME,
            "a relationship of the source's model",
        )?;
        if target_id == &*self.twin_id {
            return Err(TwinError::OperationNotAllowed {
                reason: format!(
                    "relationship {relationship_id} targets its own source twin {target_id}"
                ),
            });
        }
        let interface = self.interface_of(twin, &command.models)?;
        let declared =
            interface
                .relationship(name)
                .ok_or_else(|| TwinError::InvalidRelationship {
                    name: name.to_owned(),
                    model_id: twin.model.to_string(),
                })?;
        let target_model =
            command
                .target_model
                .as_ref()
                .ok_or_else(|| TwinError::TargetTwinNotFound {
                    target_id: target_id.to_owned(),
                })?;
        if let Some(required) = &declared.target {
            let mismatch = match command.models.interface_of(target_model) {
                None => Some("which is not uploaded".to_owned()),
                Some(target) if !target.is_a(required) => Some(format!(
                    "which is not {required}, the target of relationship `{name}`"
                )),
                Some(_) => None,
            };
            if let Some(mismatch) = mismatch {
                return Err(TwinError::validation(
                    format!("$.{TARGET_ID}"),
                    format!("twin {target_id} has model {target_model}, {mismatch}"),
                ));
            }
        }
        let properties: Map<String, Value> = body
            .iter()
            .filter(|(key, _)| !key.starts_with('$'))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        interface.validate_relationship(name, &properties)?;
        if let Some(max) = declared.max_multiplicity {
            let others = twin
                .relationships
                .iter()
                .filter(|(id, existing)| existing.name == name && *id != relationship_id)
                .count();
            if others as u64 >= max {
                return Err(TwinError::validation(
                    format!("$.{RELATIONSHIP_NAME}"),
                    format!("relationship `{name}` allows at most {max} per twin (maxMultiplicity), and twin {} has {others} already", self.twin_id),
                ));
            }
        }
        let mut document = properties;
        document.insert(TARGET_ID.to_owned(), Value::from(target_id));
        document.insert(RELATIONSHIP_NAME.to_owned(), Value::from(name));
        Ok(vec![Event::RelationshipReplaced {
            at_ms: command.at_ms,
            relationship_id: command.relationship_id,
            document: Value::Object(document).to_string(),
        }])
    }

    pub(super) fn patch_relationship(
        &self,
        command: PatchRelationship,
    ) -> Result<Vec<Event>, TwinError> {
        let twin = self.existing()?;
        let relationship =
            self.matching_relationship(&command.relationship_id, command.if_match.as_ref())?;
        let patch = Patch::parse(&command.patch)?;
        patch.check_relationship_paths()?;
        if patch.is_empty() {
            return Ok(Vec::new());
        }
        let mut properties = relationship.properties.clone();
        patch.apply_to_properties(&mut properties)?;
        let interface = self.interface_of(twin, &command.models)?;
        if interface.relationship(&relationship.name).is_none() {
            return Err(TwinError::InvalidRelationship {
                name: relationship.name.clone(),
                model_id: twin.model.to_string(),
            });
        }
        interface.validate_relationship(&relationship.name, &properties)?;
        Ok(vec![Event::RelationshipPatched {
            at_ms: command.at_ms,
            relationship_id: command.relationship_id,
            patch: patch.to_json_text(),
        }])
    }

    pub(super) fn delete_relationship(
        &self,
        command: DeleteRelationship,
    ) -> Result<Vec<Event>, TwinError> {
        self.matching_relationship(&command.relationship_id, command.if_match.as_ref())?;
        Ok(vec![Event::RelationshipDeleted {
            at_ms: command.at_ms,
            relationship_id: command.relationship_id,
        }])
    }

    /// The relationship, if it exists and its version meets `if_match`.
    fn matching_relationship(
        &self,
        relationship_id: &str,
        if_match: Option<&IfMatch>,
    ) -> Result<&Relationship, TwinError> {
        let relationship = self.relationship(relationship_id)?;
        check_if_match(
            if_match,
            || self.describe_relationship(relationship_id),
            relationship.version,
        )?;
        Ok(relationship)
    }

    fn describe_relationship(&self, relationship_id: &str) -> String {
        format!("relationship {relationship_id} of twin {}", self.twin_id)
    }
}

/// A system key of a relationship body that must be a non-empty string.
fn required_text<'b>(
    body: &'b Map<String, Value>,
    key: &str,
    meaning: &str,
) -> Result<&'b str, TwinError> {
    match body.get(key) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        Some(other) => Err(TwinError::InvalidArgument {
            reason: format!(
                "`{key}` must be {meaning}, a non-empty string; found {}",
                json_kind(other)
            ),
        }),
        None => Err(TwinError::InvalidArgument {
            reason: format!("`{key}` is required: {meaning}"),
        }),
    }
}
