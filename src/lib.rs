//! twinlog: digital twins that stay up and lose nothing silently.
//!
//! # Layout
//! - [`http`]: the ADT-compatible API (api-version 2023-10-31) over the actors' data plane and
//!   query read model. It turns requests into data-plane calls or queries and errors into ADT
//!   error bodies, and carries auth, TLS, limits, metrics and the OpenAPI description.
//! - [`cli`]: the commands: `serve`, `token new`, `audit verify`, `export`, and the load
//!   generator that the crash tests drive. The binary is a thin `main` over these.
//! - `twinlog_actors` (crate `actors/`): the event log writer, the model and twin aggregates,
//!   the twin actors and their region supervisor, and the data plane that joins them.
//! - `twinlog_migrations` (crate `migrations/`): the on-disk format, its versions and its fixtures.
//!
//! A telemetry POST travels: http -> `DataPlane` -> the twin's actor -> `EventLog::submit_to` ->
//! the writer thread (group commit, one fsync for many events), which sends the reply straight to
//! the request once durable -> 204. A query
//! reads what the log has committed: the read model's follower thread applies each commit, and
//! `POST /query` evaluates against the model and answers one page.
//! docs/design.md gives the invariants.

pub mod cli;
pub mod http;
