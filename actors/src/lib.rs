//! twinlog's moving parts: the event log writer, and the pure aggregates that decide what goes
//! into it; twin actors, the region supervisor and the replicator build on them.
//!
//! # Layout
//! - [`log`]: [`log::EventLog`], the durable, group-committed, append-only log that every change
//!   goes through, and its readers.
//! - [`aggregate`]: the [`aggregate::Aggregate`] contract: pure decisions, deterministic replay.
//! - [`models`]: [`models::ModelRegistry`], the DTDL models, kept as events in the `$models`
//!   stream, and ADT's ModelData.
//! - [`twin`]: [`twin::TwinState`], one twin's properties, components, outgoing relationships
//!   and telemetry de-duplication, validated against the registry, and ADT's twin documents.
//! - [`data_plane`]: [`data_plane::DataPlane`], ADT's operations on models, twins, relationships
//!   and telemetry, over the registry, the twin actors and the incoming-relationship index.
//! - [`region`]: [`region::RegionSupervisor`] and the twin actors it starts, restarts and
//!   quarantines: intra-region high availability.
//! - [`query`]: ADT's query language, parsed and checked into a [`query::Query`] AST with
//!   ADT's limits and `SqlQueryError`s; the read model evaluates it.
//! - [`feed`]: the change feed: committed records as CloudEvents shaped like ADT's event
//!   notifications, and ADT's event-route filter language.
//! - `grammar`: the winnow tokens and positioned errors that the query and filter languages share.
//! - [`read_model`]: [`read_model::ReadModel`], the committed log folded into twins, models and
//!   the indexes queries use, [`read_model::ReadModelFollower`], which keeps it fresh, and
//!   [`read_model::QueryPool`], the idle-priority threads queries run on.
//! - [`routes`]: [`routes::EventRoutes`], ADT's event routes and their at-least-once webhook
//!   deliveries, with cursors and dead letters beside the log.
//! - [`node_keys`]: the node's secret keys beside the log, drawn once and kept with its data.
//! - [`background`]: the lower priority of the threads that follow the log (queries, deliveries).
//!
//! The on-disk format itself (records, tables, versions, the `Event` enum) belongs to
//! `twinlog_migrations`.

pub mod aggregate;
pub mod background;
pub mod data_plane;
pub mod feed;
mod grammar;
pub mod log;
pub mod models;
pub mod node_keys;
pub mod query;
pub mod read_model;
pub mod region;
pub mod routes;
pub mod twin;
