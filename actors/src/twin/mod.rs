//! The twin aggregate: one twin's stream folded into its properties, components, outgoing
//! relationships and telemetry de-duplication, and the decisions ADT makes about them.
//!
//! - `state`: [`TwinState`], [`Twin`], [`Relationship`], ETags.
//! - `command`: [`TwinCommand`] and its parts, with preconditions ([`IfMatch`]).
//! - `handle` (twin, components, telemetry) and `relationships`: the decisions.
//! - `document`: the stored shape of a twin's content, and its validation against the model.
//! - `patch`: JSON Patch, and the paths a client may write. `apply`: the state changes.
//! - `render`: ADT's twin, component and relationship documents. `error`: [`TwinError`].
//! - `validated`: which Interface the current document is known to satisfy, so that a patch
//!   is validated only where it changes the twin.
//!
//! Every record of the stream, telemetry included, is one version; a twin's ETag is the version
//! of its last change, a relationship's the version of its own.

mod apply;
mod command;
mod document;
mod error;
mod handle;
mod patch;
mod relationships;
mod render;
mod state;
#[cfg(test)]
mod tests;
mod validated;

use twinlog_migrations::Event;

use crate::aggregate::Aggregate;

pub use command::{
    relationship_target_id, DeleteRelationship, DeleteTwin, IfMatch, PatchRelationship, PatchTwin,
    ReplaceRelationship, ReplaceTwin, SendTelemetry, TwinCommand,
};
pub use error::TwinError;
pub use handle::MESSAGE_ID_CHARS_MAX;
pub use state::{etag, Relationship, Twin, TwinState, TELEMETRY_DEDUP_IDS_MAX};

impl Aggregate for TwinState {
    type Command = TwinCommand;
    type Event = Event;
    type Error = TwinError;

    fn handle(&self, command: TwinCommand) -> Result<Vec<Event>, TwinError> {
        self.decide(command)
    }

    fn apply(&mut self, event: &Event) {
        self.apply_event(event);
    }
}

impl crate::region::TwinAggregate for TwinState {
    fn empty(twin_id: std::sync::Arc<str>) -> TwinState {
        TwinState::new(twin_id)
    }
}
