//! Intra-region high availability: one actor per twin, and the supervisor that starts them on
//! first use, restarts them from the log when they fail, and quarantines those that keep failing.
//!
//! A failure stays with one twin: a panic in its logic fails only the command that caused it; the
//! twin's other queued commands are handed back to the supervisor and retried on the restarted
//! actor, whose state is a fresh replay of the log.

mod policy;
mod settlement;
mod supervisor;
mod twin_actor;

use std::sync::Arc;

pub use policy::{restart_limit, RestartLimit, RestartPolicy};
pub use supervisor::{Dispatched, RegionOptions, RegionSupervisor, SupervisorStats, TwinFailure};

use crate::aggregate::Aggregate;
use twinlog_migrations::Event;

/// An aggregate that can live in a twin actor: its events are log events, and it starts empty
/// for a named stream. Commands are `Clone` because one that a failing actor never handled is
/// sent again to its successor.
pub trait TwinAggregate:
    Aggregate<Event = Event, Command: Clone + Send + 'static, Error: Send + 'static>
    + Send
    + Unpin
    + 'static
{
    fn empty(twin_id: Arc<str>) -> Self;
}

#[cfg(test)]
mod tests;
