//! The model registry's shell: a snapshot that twin commands share, replaced whole after each
//! durable change, with one writer at a time.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};

use twinlog_migrations::Event;

use super::error::DataPlaneError;
use crate::aggregate::Aggregate;
use crate::log::{EventLog, NewEvent};
use crate::models::{ModelCommand, ModelRegistry, MODELS_STREAM};

pub(super) struct ModelStore {
    current: RwLock<Arc<ModelRegistry>>,
    /// Model changes are decided one at a time against the latest registry.
    writer: tokio::sync::Mutex<()>,
    stream: Arc<str>,
    log: EventLog,
}

impl ModelStore {
    /// Replays the `$models` stream. Blocking: call before serving.
    pub(super) fn load(log: &EventLog) -> Result<ModelStore, DataPlaneError> {
        let stream: Arc<str> = Arc::from(MODELS_STREAM);
        let mut registry = ModelRegistry::new();
        let records = log
            .twin_stream(&stream, 1)
            .map_err(|e| DataPlaneError::Log {
                reason: e.to_string(),
            })?;
        let events = records
            .iter()
            .map(|stored| stored.decode().and_then(|record| record.event()))
            .collect::<Result<Vec<Event>, _>>()
            .map_err(|e| DataPlaneError::Log {
                reason: e.to_string(),
            })?;
        apply_all(&mut registry, &events)?;
        Ok(ModelStore {
            current: RwLock::new(Arc::new(registry)),
            writer: tokio::sync::Mutex::new(()),
            stream,
            log: log.clone(),
        })
    }

    /// The registry as of the last durable change.
    pub(super) fn snapshot(&self) -> Arc<ModelRegistry> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Decides `command`, makes its events durable, then publishes the new registry.
    pub(super) async fn execute(
        &self,
        command: ModelCommand,
    ) -> Result<Arc<ModelRegistry>, DataPlaneError> {
        let _writing = self.writer.lock().await;
        let current = self.snapshot();
        let events = current.handle(command)?;
        if events.is_empty() {
            return Ok(current);
        }
        let records = events
            .iter()
            .map(|e| NewEvent::new(self.stream.clone(), e))
            .collect();
        self.log.append(records).await?;
        let mut next = (*current).clone();
        apply_all(&mut next, &events)?;
        let next = Arc::new(next);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = next.clone();
        Ok(next)
    }
}

// Invariant: see the `Aggregate` contract. An event that `handle` produced always applies; one
// that does not means the code and the log disagree, which `apply` reports by panicking. The
// registry is then left as it was and the error names the cause, rather than the process dying.
fn apply_all(registry: &mut ModelRegistry, events: &[Event]) -> Result<(), DataPlaneError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        for event in events {
            registry.apply(event);
        }
    }))
    .map_err(|panic| DataPlaneError::Log {
        reason: format!(
            "a model event does not apply: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .unwrap_or("unknown cause")
        ),
    })
}
