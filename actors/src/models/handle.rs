//! The registry's decisions: whether an upload, decommission or delete may happen, and the
//! event that records it.

use std::collections::HashMap;

use serde_json::Value;
use twinlog_dtdl::parse_batch;
use twinlog_migrations::Event;

use crate::aggregate::json_kind;

use super::{parse_model_id, ModelError, ModelRegistry, UPLOAD_MODELS_MAX};

impl ModelRegistry {
    pub(super) fn upload(&self, body: &Value, at_ms: u64) -> Result<Vec<Event>, ModelError> {
        let Value::Array(models) = body else {
            return Err(ModelError::InvalidArgument {
                reason: format!(
                    "the body must be a JSON array of models, found {}",
                    json_kind(body)
                ),
            });
        };
        if models.is_empty() {
            return Err(ModelError::InvalidArgument {
                reason: "the body must hold at least one model, found an empty array".to_owned(),
            });
        }
        if models.len() > UPLOAD_MODELS_MAX {
            return Err(ModelError::LimitExceeded {
                count: models.len(),
                max: UPLOAD_MODELS_MAX,
            });
        }
        self.check_ids(models)?;
        parse_batch(models, self).map_err(ModelError::DtdlParserError)?;
        Ok(vec![Event::ModelsUploaded {
            at_ms,
            models: models.iter().map(Value::to_string).collect(),
        }])
    }

    /// ADT answers a repeated or already stored `@id` with its own codes, before DTDL checks.
    /// Models whose `@id` is missing or malformed are left to the parser, which names them.
    fn check_ids(&self, models: &[Value]) -> Result<(), ModelError> {
        let mut positions: HashMap<&str, usize> = HashMap::with_capacity(models.len());
        let mut stored = Vec::new();
        for (position, model) in models.iter().enumerate() {
            let Some(id) = model.get("@id").and_then(Value::as_str) else {
                continue;
            };
            if let Some(first) = positions.insert(id, position) {
                return Err(ModelError::InvalidArgument {
                    reason: format!(
                        "model {id} appears more than once in the upload, at positions {first} and {position}"
                    ),
                });
            }
            if self.models.contains_key(id) {
                stored.push(id.to_owned());
            }
        }
        if stored.is_empty() {
            Ok(())
        } else {
            Err(ModelError::ModelAlreadyExists { ids: stored })
        }
    }

    pub(super) fn decommission(
        &self,
        model_id: &str,
        at_ms: u64,
    ) -> Result<Vec<Event>, ModelError> {
        let model = self.get(model_id)?;
        if model.is_decommissioned() {
            return Ok(Vec::new());
        }
        Ok(vec![Event::ModelDecommissioned {
            at_ms,
            model_id: model.id().to_string(),
        }])
    }

    pub(super) fn delete(&self, model_id: &str, at_ms: u64) -> Result<Vec<Event>, ModelError> {
        let id = parse_model_id(model_id)?;
        let model = self.get(model_id)?;
        let referenced_by: Vec<String> = self
            .models
            .values()
            .filter(|other| other.id() != &id && other.interface.dependencies().contains(&id))
            .map(|other| other.id().to_string())
            .collect();
        if !referenced_by.is_empty() {
            return Err(ModelError::ModelReferencesNotDeleted {
                model_id: id.to_string(),
                referenced_by,
            });
        }
        Ok(vec![Event::ModelDeleted {
            at_ms,
            model_id: model.id().to_string(),
        }])
    }
}
