//! The registry's state changes. Each event was decided by `handle` against the same state, so
//! it applies; if it does not, the log and the code disagree and the registry panics (see
//! [`crate::aggregate::Aggregate`]).

use std::sync::Arc;

use serde_json::Value;
use twinlog_dtdl::{parse_batch, Dtmi};
use twinlog_migrations::Event;

use super::{ModelRegistry, StoredModel};

impl ModelRegistry {
    pub(super) fn apply_event(&mut self, event: &Event) {
        match event.untraced() {
            Event::ModelsUploaded { at_ms, models } => self.apply_upload(*at_ms, models),
            Event::ModelDecommissioned { model_id, .. } => {
                let id = self.stored_id(model_id, event);
                if let Some(model) = self.models.get_mut(&id) {
                    model.decommissioned = true;
                }
            }
            Event::ModelDeleted { model_id, .. } => {
                let id = self.stored_id(model_id, event);
                self.models.remove(&id);
            }
            other => panic!(
                "event {} (record {} of the model registry) does not belong to the model registry",
                other.kind(),
                self.version + 1
            ),
        }
    }

    /// Parses the upload again, against the models stored before it, exactly as `handle` did.
    fn apply_upload(&mut self, at_ms: u64, texts: &[String]) {
        let record = self.version + 1;
        let definitions: Vec<Value> = texts
            .iter()
            .enumerate()
            .map(|(position, text)| {
                serde_json::from_str(text).unwrap_or_else(|e| {
                    panic!("model registry record {record}: uploaded model {position} is not JSON: {e}")
                })
            })
            .collect();
        let interfaces = parse_batch(&definitions, self).unwrap_or_else(|e| {
            panic!("model registry record {record}: the upload no longer resolves: {e}")
        });
        for (definition, interface) in definitions.into_iter().zip(interfaces) {
            self.models.insert(
                interface.id().clone(),
                StoredModel {
                    definition: Arc::new(definition),
                    interface,
                    uploaded_ms: at_ms,
                    decommissioned: false,
                },
            );
        }
    }

    fn stored_id(&self, model_id: &str, event: &Event) -> Dtmi {
        match model_id.parse::<Dtmi>() {
            Ok(id) if self.models.contains_key(&id) => id,
            _ => panic!(
                "model registry record {}: {} names {model_id}, which is not stored",
                self.version + 1,
                event.kind()
            ),
        }
    }
}
