//! The query read model: the committed log folded into every twin's current state, the model
//! registry, and the indexes queries need: by `$dtId`, by model (with inheritance), and by
//! relationship in both directions.
//!
//! It is fed only by committed records read back from the log, never by the write path's
//! in-memory state, so that a secondary region can run it over its replicated log.
//!
//! - `apply`: [`ReadModel::apply`], one record folded in, its indexes kept.
//! - `follow`: [`ReadModel::rebuild`], and [`ReadModelFollower`], which keeps a shared read model
//!   up to date with the log, a chunk of records per lock.
//! - `shared`: [`SharedReadModel`], the model as the follower and queries share it: a lock that
//!   gives the follower its turn, and the model's LSN readable without it.
//! - `pool`: [`QueryPool`], the low-priority threads queries run on.
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

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use twinlog_dtdl::Dtmi;

use crate::models::ModelRegistry;
use crate::twin::TwinState;
use index::SetIndex;
use top_level::{PropertyNames, TopLevel};

pub use error::{EvalError, QueryPoolError, QueryRunError, ReadModelError};
pub use eval::QueryPage;
pub use follow::{ReadModelFollower, APPLY_BUDGET, READ_AHEAD_RECORDS_MAX};
pub use pool::{QueryPool, QUERY_THREADS_DEFAULT, QUERY_THREAD_NICE};
pub use shared::SharedReadModel;

/// Everything the log says up to [`ReadModel::lsn`], indexed for queries.
#[derive(Debug, Clone, Default)]
pub struct ReadModel {
    lsn: u64,
    /// Every twin stream, deleted twins included: a stream goes on after its twin is deleted,
    /// and the ETags of a twin created again follow from the versions counted here. None is
    /// ever removed, so a stream's position never changes.
    streams: Vec<TwinState>,
    /// Each stream's twin's top-level properties, by position in `streams`: a dense vector of
    /// small slices, so that a scan touches little memory per twin.
    top_levels: Vec<TopLevel>,
    /// The names `top_levels` holds, each allocated once, so that a probe compares addresses.
    property_names: PropertyNames,
    /// The `$dtId` index: each stream's position in `streams`.
    positions: FxHashMap<Arc<str>, usize>,
    models: ModelRegistry,
    /// Existing twins by the DTMI of their own model, as (`$dtId`, position in `streams`), in
    /// `$dtId` order: a query by model reaches each twin's state without a lookup by id.
    by_model: SetIndex<Dtmi, (Arc<str>, usize)>,
    /// Relationships by target: (source twin id, relationship id).
    incoming: SetIndex<Arc<str>, (Arc<str>, String)>,
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

    /// The stream of twin `twin_id`, if the twin exists now.
    pub fn twin(&self, twin_id: &str) -> Option<&TwinState> {
        self.positions
            .get(twin_id)
            .map(|&at| &self.streams[at])
            .filter(|state| state.twin().is_some())
    }

    /// Every existing twin's stream, in no particular order.
    pub fn twins(&self) -> impl Iterator<Item = &TwinState> {
        self.streams.iter().filter(|state| state.twin().is_some())
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
    ) -> impl Iterator<Item = &'a BTreeSet<(Arc<str>, usize)>> + 'a {
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
            .map(|(source, relationship_id)| (&**source, relationship_id.as_str()))
    }
}
