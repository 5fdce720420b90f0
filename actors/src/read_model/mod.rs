//! The query read model: the committed log folded into every twin's current state, the model
//! registry, and the indexes queries need: by `$dtId`, by model (with inheritance), and by
//! relationship in both directions.
//!
//! It is fed only by committed records read back from the log, never by the write path's
//! in-memory state, so that a secondary region can run it over its replicated log.
//!
//! Its collections are persistent (`imbl`): a clone shares everything with the original, and a
//! change to either copies only the nodes on the path to what it changes. So the follower applies
//! records to a model of its own and publishes a clone of it, a snapshot, after each chunk, at a
//! cost that does not grow with the model; queries read a snapshot, and nothing they do waits for
//! the follower or makes it wait.
//!
//! - `apply`: [`ReadModel::apply`], one record folded in, its indexes kept.
//! - `follow`: [`ReadModel::rebuild`], and [`ReadModelFollower`], which keeps a shared read model
//!   up to date with the log, publishing a snapshot per chunk of records.
//! - `shared`: [`SharedReadModel`], the latest snapshot, which queries take without a lock.
//! - `pool`: [`QueryPool`], the idle-priority threads queries run on.
//! - `eval`: [`ReadModel::query`] and [`ReadModel::query_page`], a parsed
//!   [`crate::query::Query`] run against the indexes.
//! - `index`: the many-to-many index behind the model and incoming-relationship indexes.
//! - `top_level`: each twin's top-level properties, laid out for conditions to probe cheaply.
//! - `error`: [`ReadModelError`], [`EvalError`] and the errors of running a query.

mod apply;
mod error;
mod eval;
mod follow;
mod index;
mod pool;
mod shared;
#[cfg(test)]
mod tests;
mod top_level;

use std::sync::Arc;

use imbl::shared_ptr::DefaultSharedPtr;
use imbl::{GenericHashMap, OrdSet, Vector};
use rustc_hash::FxBuildHasher;
use twinlog_dtdl::Dtmi;

use crate::models::ModelRegistry;
use crate::twin::TwinState;
use index::SetIndex;
use top_level::{PropertyNames, TopLevel};

pub use error::{EvalError, QueryPoolError, QueryRunError, ReadModelError};
pub use eval::QueryPage;
pub use follow::ReadModelFollower;
pub use pool::{QueryPool, QUERY_THREADS_DEFAULT};
pub use shared::SharedReadModel;

/// Everything the log says up to [`ReadModel::lsn`], indexed for queries. A clone costs a few
/// reference counts, whatever the model's size, and shares every twin with the original.
#[derive(Debug, Clone, Default)]
pub struct ReadModel {
    lsn: u64,
    /// Every twin stream, deleted twins included: a stream goes on after its twin is deleted,
    /// and the ETags of a twin created again follow from the versions counted here. None is
    /// ever removed, so a stream's position never changes.
    streams: Vector<Stream>,
    /// The names the streams' top-level layouts hold, each allocated once, so that a probe
    /// compares addresses.
    property_names: PropertyNames,
    /// The `$dtId` index: each stream's position in `streams`.
    positions: Positions,
    /// Shared with snapshots until a model record changes it.
    models: Arc<ModelRegistry>,
    /// Existing twins by the DTMI of their own model, as (`$dtId`, position in `streams`), in
    /// `$dtId` order: a query by model reaches each twin's state without a lookup by id.
    by_model: SetIndex<Dtmi, (Arc<str>, usize)>,
    /// Relationships by target: (source twin id, relationship id).
    incoming: SetIndex<Arc<str>, (Arc<str>, Arc<str>)>,
}

/// `$dtId` to position in [`ReadModel`]'s streams, hashed as the rest of the crate hashes.
type Positions = GenericHashMap<Arc<str>, usize, FxBuildHasher, DefaultSharedPtr>;

/// One twin stream as the model holds it: its twin's top-level properties laid out for
/// conditions, and its state. Both are shared between snapshots until a record changes them, so
/// copying a stream costs two reference counts. The layout sits in the stream list itself, so
/// that a scan that probes only top-level values never reaches the state.
#[derive(Debug, Clone)]
struct Stream {
    top_level: TopLevel,
    state: Arc<TwinState>,
}

impl ReadModel {
    /// A read model of an empty log.
    pub fn new() -> ReadModel {
        ReadModel::default()
    }

    /// The LSN of the last record reflected: how fresh the model is.
    pub fn lsn(&self) -> u64 {
        self.lsn
    }

    pub fn models(&self) -> &ModelRegistry {
        &self.models
    }

    /// The stream of twin `twin_id`, if the twin exists now. Its `version()` counts the stream
    /// up to the twin's last change: telemetry since is not applied (see [`ReadModel::apply`]).
    pub fn twin(&self, twin_id: &str) -> Option<&TwinState> {
        self.positions
            .get(twin_id)
            .map(|&at| &*self.streams[at].state)
            .filter(|state| state.twin().is_some())
    }

    /// Every existing twin's stream, in no particular order.
    pub fn twins(&self) -> impl Iterator<Item = &TwinState> {
        self.streams
            .iter()
            .map(|stream| &*stream.state)
            .filter(|state| state.twin().is_some())
    }

    /// How many twins exist, counted from the model index rather than by a scan.
    pub fn twin_count(&self) -> usize {
        self.by_model.iter().map(|(_, twins)| twins.len()).sum()
    }

    /// The ids of the twins of `model`: ADT's `IS_OF_MODEL`. Unless `exact`, twins of every model
    /// that extends `model`, transitively, count too. Each twin is yielded once, since it has one
    /// model; the cost is one step per model in use plus one per twin yielded.
    pub fn twins_of_model<'a>(
        &'a self,
        model: &'a Dtmi,
        exact: bool,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.model_sets(model, exact)
            .flat_map(|twins| twins.iter().map(|(id, _)| &**id))
    }

    /// The twins of `model`, as [`ReadModel::twins_of_model`] counts them: one set per model in
    /// use that is of `model`, of (`$dtId`, position in `streams`) in `$dtId` order.
    fn model_sets<'a>(
        &'a self,
        model: &'a Dtmi,
        exact: bool,
    ) -> impl Iterator<Item = &'a OrdSet<(Arc<str>, usize)>> + 'a {
        self.by_model
            .iter()
            .filter(move |(own, _)| self.is_of_model(own, model, exact))
            .map(|(_, twins)| twins)
    }

    /// Whether a twin whose own model is `own` is of `model`, as `IS_OF_MODEL` asks.
    fn is_of_model(&self, own: &Dtmi, model: &Dtmi, exact: bool) -> bool {
        // A model deleted from the registry still types its twins; it matches only itself.
        own == model
            || (!exact
                && self
                    .models
                    .interface_of(own)
                    .is_some_and(|interface| interface.is_a(model)))
    }

    /// The relationships that point at `target_id`, as (source twin id, relationship id), in
    /// that order.
    pub fn incoming(&self, target_id: &str) -> impl Iterator<Item = (&str, &str)> {
        self.incoming
            .get(target_id)
            .map(|(source, relationship_id)| (&**source, &**relationship_id))
    }
}
