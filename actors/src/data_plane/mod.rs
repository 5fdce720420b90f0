//! The region's data plane: ADT's operations on models, twins, components, relationships and
//! telemetry, carried out by the model registry, the twin actors and the event log.
//!
//! Every write answers only once its events are durable; every read reflects only durable
//! changes. The HTTP layer is a thin translation of requests into these calls.

mod error;
mod incoming;
mod models;
mod twins;

use std::sync::Arc;

use actix::ArbiterHandle;
use serde_json::Value;

pub use error::DataPlaneError;
pub use incoming::IncomingRelationship;

use crate::log::EventLog;
use crate::models::ModelCommand;
use crate::region::{RegionOptions, RegionSupervisor};
use crate::twin::TwinState;
use incoming::IncomingIndex;
use models::ModelStore;

/// A document with its ETag.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub etag: String,
    pub body: Value,
}

/// The data plane of one region. Cheap to clone.
#[derive(Clone)]
pub struct DataPlane {
    log: EventLog,
    models: Arc<ModelStore>,
    incoming: Arc<IncomingIndex>,
    supervisor: RegionSupervisor<TwinState>,
    /// The W3C trace context that twin commands sent through this handle carry into the log.
    traceparent: Option<Arc<str>>,
}

impl DataPlane {
    /// Replays the models and the incoming-relationship index from the log, and starts the
    /// region supervisor, whose twin actors run on `arbiters`. Blocking: call before serving.
    pub fn start(
        log: EventLog,
        options: RegionOptions,
        arbiters: Vec<ArbiterHandle>,
    ) -> Result<DataPlane, DataPlaneError> {
        let models = ModelStore::load(&log)?;
        let incoming = IncomingIndex::rebuild(&log)?;
        Ok(DataPlane {
            supervisor: RegionSupervisor::new(log.clone(), options, arbiters),
            log,
            models: Arc::new(models),
            incoming: Arc::new(incoming),
            traceparent: None,
        })
    }

    /// This data plane, for one request that carried `traceparent` (a W3C trace context the
    /// caller has validated): its twin writes (twins, relationships, telemetry) record it, so
    /// that the change feed's events carry the trace on. Model writes yield no feed event and
    /// do not record it.
    pub fn traced(&self, traceparent: Option<&str>) -> DataPlane {
        DataPlane {
            traceparent: traceparent.map(Arc::from),
            ..self.clone()
        }
    }

    pub fn supervisor(&self) -> &RegionSupervisor<TwinState> {
        &self.supervisor
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// `POST /models`: all or nothing; the uploaded models' ModelData, with their definitions.
    pub async fn upload_models(&self, models: Value) -> Result<Vec<Value>, DataPlaneError> {
        let ids: Vec<String> = models
            .as_array()
            .map(|models| {
                models
                    .iter()
                    .filter_map(|m| m.get("@id").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let registry = self
            .models
            .execute(ModelCommand::Upload {
                models,
                at_ms: now_ms(),
            })
            .await?;
        ids.iter()
            .map(|id| Ok(registry.get(id)?.model_data(true)))
            .collect()
    }

    /// `GET /models`: every model, or those `dependencies_for` needs, in DTMI order.
    pub fn list_models(
        &self,
        dependencies_for: &[String],
        include_definition: bool,
    ) -> Result<Vec<Value>, DataPlaneError> {
        let registry = self.models.snapshot();
        if dependencies_for.is_empty() {
            return Ok(registry
                .list()
                .map(|m| m.model_data(include_definition))
                .collect());
        }
        Ok(registry
            .dependencies_for(dependencies_for)?
            .into_iter()
            .map(|m| m.model_data(include_definition))
            .collect())
    }

    pub fn get_model(&self, id: &str, include_definition: bool) -> Result<Value, DataPlaneError> {
        Ok(self
            .models
            .snapshot()
            .get(id)?
            .model_data(include_definition))
    }

    pub async fn decommission_model(&self, id: &str) -> Result<(), DataPlaneError> {
        let command = ModelCommand::Decommission {
            model_id: id.to_owned(),
            at_ms: now_ms(),
        };
        self.models.execute(command).await.map(drop)
    }

    pub async fn delete_model(&self, id: &str) -> Result<(), DataPlaneError> {
        let command = ModelCommand::Delete {
            model_id: id.to_owned(),
            at_ms: now_ms(),
        };
        self.models.execute(command).await.map(drop)
    }
}

/// The time of a decision, which commands carry so that their aggregates stay pure.
fn now_ms() -> u64 {
    crate::log::wall_clock_ms()
}

#[cfg(test)]
pub(crate) mod tests;
