//! ADT's event routes: which committed events go to which endpoint, delivered at least once, in
//! LSN order, apart from ingestion.
//!
//! - [`endpoints`]: the endpoints file, [`Endpoints`]: webhooks (pushed to) and SSE endpoints
//!   (read through `GET /feed`).
//! - [`policy`]: [`RetryPolicy`], the backoff between attempts at a batch and their limit.
//! - [`store`]: the routes' side tables in the log file: definitions, cursors, dead letters.
//! - [`webhook`]: [`Webhook`], one endpoint's HTTP client.
//! - [`delivery`]: one webhook route's delivery loop; `attempts`: its attempts at one batch;
//!   `stats`: its [`RouteStats`], for metrics.
//! - [`replay`]: re-delivery of a route's dead letters.
//! - [`error`]: [`RouteError`], with ADT's codes.
//! - `registry`: [`EventRoutes`], which ties them together. It keeps the routes in memory,
//!   changing them only after their side write is durable, and runs one delivery task per webhook
//!   route on a runtime of its own, so that no endpoint, however slow, holds an HTTP worker, a
//!   twin actor or the log writer. The routes share one
//!   [`ProjectionWindow`](crate::feed::ProjectionWindow): each record is projected and encoded
//!   once per node, not once per route.
//!
//! docs/design.md, "Event routes", holds the invariants.

mod attempts;
pub mod delivery;
pub mod endpoints;
pub mod error;
pub mod policy;
mod registry;
pub mod replay;
mod stats;
pub mod store;
pub mod webhook;

use std::time::Duration;

use crate::feed::WINDOW_BYTES_MAX_DEFAULT;

pub use endpoints::{Endpoint, Endpoints, EndpointsError, WebhookEndpoint};
pub use error::RouteError;
pub use policy::{Retry, RetryPolicy};
pub use registry::{EventRoutes, StartError};
pub use replay::ReplayReport;
pub use stats::RouteStats;
pub use store::{DeadLetter, RouteStore, StoreError};
pub use webhook::{PostError, Webhook, BATCH_CONTENT_TYPE};

/// The longest route id, in characters.
pub const ROUTE_ID_CHARS_MAX: usize = 64;
/// How many routes a node keeps by default: each webhook route is a task and a cursor.
pub const ROUTES_MAX_DEFAULT: usize = 64;
/// The most events one POST carries, by default.
pub const BATCH_EVENTS_MAX_DEFAULT: usize = 500;
/// How many dead letters a route stores at most, by default. Past it, a batch its endpoint refuses
/// is attempted again and again rather than stored: the route holds, and loses nothing.
pub const DEAD_LETTERS_MAX_DEFAULT: u64 = 100_000;
/// How often, at most, a busy route stores its cursor, by default. A crash repeats at most about
/// this much delivery; storing more often would cost the log writer more side writes.
pub const CURSOR_PERSIST_INTERVAL_DEFAULT: Duration = Duration::from_millis(200);

/// The deliveries' tuning. The defaults suit a server; tests shrink them.
#[derive(Debug, Clone)]
pub struct RouteOptions {
    /// The CloudEvents `source` of every delivered event.
    pub source: String,
    pub batch_events_max: usize,
    pub cursor_persist_interval: Duration,
    pub routes_max: usize,
    /// The most the routes' shared window of projected events holds, in bytes.
    pub window_bytes_max: usize,
    /// The most dead letters each route stores.
    pub dead_letters_max: u64,
}

impl RouteOptions {
    pub fn new(source: &str) -> RouteOptions {
        RouteOptions {
            source: source.to_owned(),
            batch_events_max: BATCH_EVENTS_MAX_DEFAULT,
            cursor_persist_interval: CURSOR_PERSIST_INTERVAL_DEFAULT,
            routes_max: ROUTES_MAX_DEFAULT,
            window_bytes_max: WINDOW_BYTES_MAX_DEFAULT,
            dead_letters_max: DEAD_LETTERS_MAX_DEFAULT,
        }
    }
}

/// One route, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRoute {
    pub id: String,
    pub endpoint_name: String,
    pub filter: String,
}

#[cfg(test)]
mod tests;
