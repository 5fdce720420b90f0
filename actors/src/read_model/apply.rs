//! One committed record folded into the read model: the twin or registry state through its own
//! aggregate, then the indexes and the twin's top-level layout moved by what the record changed.
//! What a snapshot still shares is copied before it changes (`Arc::make_mut`, and `imbl`'s own
//! path copies), so that a snapshot never sees a later record.

use std::sync::Arc;

use twinlog_dtdl::Dtmi;
use twinlog_migrations::Event;

use super::top_level::TopLevel;
use super::{ReadModel, ReadModelError, Stream};
use crate::aggregate::Aggregate;
use crate::models::MODELS_STREAM;
use crate::twin::TwinState;

/// What of one twin the indexes hold, limited to what an event can change: its model, and the
/// targets of the outgoing relationships the event can touch, as (relationship id, target).
#[derive(Debug, Default, PartialEq)]
struct Footprint {
    model: Option<Dtmi>,
    relationships: Vec<(String, String)>,
}

impl Footprint {
    fn of(state: &TwinState, event: &Event) -> Footprint {
        let Some(twin) = state.twin() else {
            return Footprint::default();
        };
        let target = |id: &String| {
            twin.relationships()
                .get(id)
                .map(|relationship| (id.clone(), relationship.target_id().to_owned()))
        };
        let relationships = match event.untraced() {
            Event::TwinDeleted { .. } => twin.relationships().keys().filter_map(target).collect(),
            Event::RelationshipReplaced {
                relationship_id, ..
            }
            | Event::RelationshipPatched {
                relationship_id, ..
            }
            | Event::RelationshipDeleted {
                relationship_id, ..
            } => target(relationship_id).into_iter().collect(),
            _ => Vec::new(),
        };
        Footprint {
            model: Some(twin.model().clone()),
            relationships,
        }
    }
}

impl ReadModel {
    /// Folds in the record `lsn`, version `twin_version` of stream `twin_id`. Records must come
    /// one by one in LSN order from the first, as the log holds them (docs/design.md, "LSN"); any
    /// other is refused and changes nothing. A record that does not apply to its stream means the
    /// log and the code disagree, and panics (see [`Aggregate`]).
    ///
    /// Telemetry changes nothing a query reads, so only the model's LSN moves for it: nothing is
    /// copied from a snapshot for it. Each change takes its stream version from its record, so
    /// ETags still count the telemetry before it; a state's own `version()` counts the stream
    /// only up to its last change.
    pub fn apply(
        &mut self,
        lsn: u64,
        twin_id: &str,
        twin_version: u64,
        event: &Event,
    ) -> Result<(), ReadModelError> {
        let expected_lsn = self.lsn + 1;
        if lsn != expected_lsn {
            return Err(ReadModelError::OutOfOrder { expected_lsn, lsn });
        }
        if twin_id == MODELS_STREAM {
            Arc::make_mut(&mut self.models).apply(event);
        } else if !matches!(event.untraced(), Event::Telemetry { .. }) {
            self.apply_twin(twin_id, twin_version, event);
        }
        self.lsn = lsn;
        Ok(())
    }

    fn apply_twin(&mut self, twin_id: &str, twin_version: u64, event: &Event) {
        let (key, at) = match self.positions.get_key_value(twin_id) {
            Some((key, &at)) => (key.clone(), at),
            None => {
                let key: Arc<str> = Arc::from(twin_id);
                self.streams.push_back(Stream {
                    top_level: TopLevel::default(),
                    state: Arc::new(TwinState::new(key.clone())),
                });
                let at = self.streams.len() - 1;
                self.positions.insert(key.clone(), at);
                (key, at)
            }
        };
        let stream = &mut self.streams[at];
        let state = Arc::make_mut(&mut stream.state);
        let before = Footprint::of(state, event);
        state.apply_record(twin_version, event);
        let after = Footprint::of(state, event);
        stream.top_level = state.twin().map_or_else(TopLevel::default, |twin| {
            TopLevel::of(twin.content(), &mut self.property_names)
        });
        if before != after {
            self.reindex(&key, at, before, after);
        }
    }

    /// Moves stream `at`, of twin `twin_id`, in the indexes from `before` to `after`.
    fn reindex(&mut self, twin_id: &Arc<str>, at: usize, before: Footprint, after: Footprint) {
        if before.model != after.model {
            let entry = (twin_id.clone(), at);
            if let Some(model) = before.model {
                self.by_model.remove(&model, &entry);
            }
            if let Some(model) = after.model {
                self.by_model.insert(model, entry);
            }
        }
        for (relationship_id, target) in &before.relationships {
            let kept = after
                .relationships
                .iter()
                .any(|(id, to)| id == relationship_id && to == target);
            if !kept {
                self.incoming.remove(
                    target.as_str(),
                    &(twin_id.clone(), Arc::from(relationship_id.as_str())),
                );
            }
        }
        for (relationship_id, target) in after.relationships {
            self.incoming.insert(
                Arc::from(target),
                (twin_id.clone(), Arc::from(relationship_id)),
            );
        }
    }
}
