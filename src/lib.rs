//! twinlog: digital twins that stay up and lose nothing silently.
//!
//! # Layout
//! - [`cli`]: the commands: `serve`, `audit verify`, `export`, and the load generator that the
//!   crash tests drive. The binary is a thin `main` over these.
//! - `twinlog_actors` (crate `actors/`): the event log writer; twin actors, the region supervisor
//!   and the replicator build on it.
//! - `twinlog_migrations` (crate `migrations/`): the on-disk format, its versions and its fixtures.
//!
//! An append travels: producer -> `EventLog::append` -> the writer thread (group commit, one fsync
//! for many events) -> acknowledgement. docs/design.md gives the invariants.

pub mod cli;
