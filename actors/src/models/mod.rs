//! The model registry aggregate: the DTDL models every twin is validated against, kept as events
//! in the reserved stream [`MODELS_STREAM`].
//!
//! - [`ModelRegistry`]: the stored models, their resolved Interfaces, and the queries ADT serves.
//! - [`ModelCommand`]: upload, decommission, delete. [`ModelError`]: each refusal, with its ADT
//!   code and HTTP status.
//! - `render`: the ModelData documents of `GET /models`.

mod apply;
mod error;
mod handle;
mod render;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;
use twinlog_dtdl::{Dtmi, Interface, Lookup};
use twinlog_migrations::Event;

use crate::aggregate::Aggregate;

pub use error::ModelError;

/// The stream that holds the registry's events. The HTTP layer must refuse twin ids that start
/// with `$`, so that no twin's stream collides with it.
pub const MODELS_STREAM: &str = "$models";

/// The most models one upload may hold. ADT allows 250; twinlog allows more so that an ontology
/// such as RealEstateCore (767 Interfaces, with reference cycles between them) loads in one go,
/// while one upload event stays a few megabytes at most.
pub const UPLOAD_MODELS_MAX: usize = 1_000;

/// What an upload, decommission or delete asks of the registry. `at_ms` is when it was decided.
#[derive(Debug, Clone)]
pub enum ModelCommand {
    /// `POST /models`: `models` is the request body, which must be a non-empty JSON array of
    /// Interfaces. All or nothing.
    Upload { models: Value, at_ms: u64 },
    /// `PATCH /models/{id}` with `replace /decommissioned true`.
    Decommission { model_id: String, at_ms: u64 },
    /// `DELETE /models/{id}`.
    Delete { model_id: String, at_ms: u64 },
}

/// One stored model.
#[derive(Debug, Clone)]
pub struct StoredModel {
    definition: Arc<Value>,
    interface: Arc<Interface>,
    uploaded_ms: u64,
    decommissioned: bool,
}

impl StoredModel {
    pub fn id(&self) -> &Dtmi {
        self.interface.id()
    }

    /// The Interface as it was uploaded.
    pub fn definition(&self) -> &Arc<Value> {
        &self.definition
    }

    pub fn interface(&self) -> &Arc<Interface> {
        &self.interface
    }

    pub fn uploaded_ms(&self) -> u64 {
        self.uploaded_ms
    }

    pub fn is_decommissioned(&self) -> bool {
        self.decommissioned
    }
}

/// The registry's state: every stored model by DTMI. Cloning is cheap enough for a
/// copy-on-write snapshot (`Arc::make_mut`): definitions and Interfaces are shared.
#[derive(Debug, Clone, Default)]
pub struct ModelRegistry {
    models: BTreeMap<Dtmi, StoredModel>,
    version: u64,
}

impl ModelRegistry {
    pub fn new() -> ModelRegistry {
        ModelRegistry::default()
    }

    /// The number of records of [`MODELS_STREAM`] applied.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The model `model_id`: `InvalidArgument` if it is not a DTMI, `ModelNotFound` if it is
    /// not stored.
    pub fn get(&self, model_id: &str) -> Result<&StoredModel, ModelError> {
        let id = parse_model_id(model_id)?;
        self.models
            .get(&id)
            .ok_or_else(|| ModelError::ModelNotFound {
                model_id: id.to_string(),
            })
    }

    /// Every stored model, by DTMI.
    pub fn list(&self) -> impl Iterator<Item = &StoredModel> {
        self.models.values()
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// ADT's `dependenciesFor`: the models named and every model they depend on, transitively
    /// (parents, component schemas, relationship targets, owners of shared schemas), by DTMI.
    pub fn dependencies_for(&self, model_ids: &[String]) -> Result<Vec<&StoredModel>, ModelError> {
        let mut found: BTreeSet<&Dtmi> = BTreeSet::new();
        let mut pending: Vec<&Dtmi> = Vec::new();
        for model_id in model_ids {
            pending.push(self.get(model_id)?.id());
        }
        while let Some(id) = pending.pop() {
            // A dependency is stored whenever its dependent is: deletion keeps it so.
            if let Some(model) = self.models.get(id) {
                if found.insert(model.id()) {
                    pending.extend(model.interface.dependencies());
                }
            }
        }
        Ok(found
            .into_iter()
            .filter_map(|id| self.models.get(id))
            .collect())
    }

    /// The resolved Interface of a stored model, decommissioned or not.
    pub fn interface_of(&self, id: &Dtmi) -> Option<&Arc<Interface>> {
        self.models.get(id).map(StoredModel::interface)
    }

    pub fn is_decommissioned(&self, id: &Dtmi) -> bool {
        self.models
            .get(id)
            .is_some_and(StoredModel::is_decommissioned)
    }
}

impl Lookup for ModelRegistry {
    fn interface(&self, id: &Dtmi) -> Option<Arc<Interface>> {
        self.interface_of(id).cloned()
    }
}

impl Aggregate for ModelRegistry {
    type Command = ModelCommand;
    type Event = Event;
    type Error = ModelError;

    fn handle(&self, command: ModelCommand) -> Result<Vec<Event>, ModelError> {
        match command {
            ModelCommand::Upload { models, at_ms } => self.upload(&models, at_ms),
            ModelCommand::Decommission { model_id, at_ms } => self.decommission(&model_id, at_ms),
            ModelCommand::Delete { model_id, at_ms } => self.delete(&model_id, at_ms),
        }
    }

    fn apply(&mut self, event: &Event) {
        self.apply_event(event);
        self.version += 1;
    }
}

/// A model id from a request path or query.
fn parse_model_id(model_id: &str) -> Result<Dtmi, ModelError> {
    model_id
        .parse()
        .map_err(|reason| ModelError::InvalidArgument {
            reason: format!("`{model_id}` is not a valid DTMI: {reason}"),
        })
}
