//! The incoming-relationship index: for each twin, the relationships that point at it, so that
//! they can be listed, and a twin's deletion refused, without scanning every twin.
//!
//! Derived data: rebuilt from the log on start, then updated after each relationship change is
//! durable. It holds no more than what the log says.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use rustc_hash::FxHashMap;
use serde_json::Value;
use twinlog_migrations::Event;

use super::error::DataPlaneError;
use crate::log::EventLog;

/// A relationship, as the index knows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IncomingRelationship {
    pub source_id: Arc<str>,
    pub relationship_id: String,
    pub name: String,
}

#[derive(Default)]
struct Index {
    /// (source, relationship id) -> target.
    targets: FxHashMap<(Arc<str>, String), Arc<str>>,
    by_target: FxHashMap<Arc<str>, BTreeSet<IncomingRelationship>>,
}

#[derive(Default)]
pub(super) struct IncomingIndex {
    index: Mutex<Index>,
}

impl IncomingIndex {
    /// Replays every relationship event of the log. Blocking: call before serving.
    pub(super) fn rebuild(log: &EventLog) -> Result<IncomingIndex, DataPlaneError> {
        let index = IncomingIndex::default();
        let failed = |e: &dyn std::fmt::Display| DataPlaneError::Log {
            reason: e.to_string(),
        };
        for stored in log.replay_from(1) {
            let stored = stored.map_err(|e| failed(&e))?;
            let record = stored.decode().map_err(|e| failed(&e))?;
            let source: Arc<str> = Arc::from(record.header.twin_id);
            let event = record.event().map_err(|e| failed(&e))?;
            match event.untraced() {
                Event::RelationshipReplaced {
                    relationship_id,
                    document,
                    ..
                } => {
                    let document: Value = serde_json::from_str(document).map_err(|e| failed(&e))?;
                    index.record(source, relationship_id, &document);
                }
                Event::RelationshipDeleted {
                    relationship_id, ..
                } => index.forget(&source, relationship_id),
                _ => {}
            }
        }
        Ok(index)
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the relationship whose document (with `$targetId` and `$relationshipName`) is given.
    pub(super) fn record(&self, source_id: Arc<str>, relationship_id: &str, document: &Value) {
        let field = |name: &str| {
            document
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let target: Arc<str> = Arc::from(field("$targetId"));
        self.forget(&source_id, relationship_id);
        let mut index = self.lock();
        index.targets.insert(
            (source_id.clone(), relationship_id.to_owned()),
            target.clone(),
        );
        index
            .by_target
            .entry(target)
            .or_default()
            .insert(IncomingRelationship {
                source_id,
                relationship_id: relationship_id.to_owned(),
                name: field("$relationshipName"),
            });
    }

    pub(super) fn forget(&self, source_id: &Arc<str>, relationship_id: &str) {
        let mut index = self.lock();
        let Some(target) = index
            .targets
            .remove(&(source_id.clone(), relationship_id.to_owned()))
        else {
            return;
        };
        if let Some(incoming) = index.by_target.get_mut(&target) {
            incoming
                .retain(|r| !(r.source_id == *source_id && r.relationship_id == relationship_id));
            if incoming.is_empty() {
                index.by_target.remove(&target);
            }
        }
    }

    pub(super) fn incoming(&self, target_id: &str) -> Vec<IncomingRelationship> {
        self.lock()
            .by_target
            .get(target_id)
            .map(|incoming| incoming.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub(super) fn count(&self, target_id: &str) -> usize {
        self.lock()
            .by_target
            .get(target_id)
            .map_or(0, BTreeSet::len)
    }
}
