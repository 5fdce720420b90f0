//! [`EventRoutes`]: the node's routes in memory, changed only after their side write is durable,
//! and one delivery task per webhook route on a runtime of the deliveries' own.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use twinlog_migrations::routes::StoredRoute;

use crate::background::run_below_ingestion;
use crate::feed::{Filter, ProjectionWindow};
use crate::log::EventLog;

use super::delivery;
use super::endpoints::{Endpoint, Endpoints};
use super::error::RouteError;
use super::replay::{self, ReplayReport};
use super::stats::RouteStats;
use super::store::{self, DeadLetter, RouteStore, StoreError};
use super::webhook::Webhook;
use super::{EventRoute, RouteOptions, ROUTE_ID_CHARS_MAX};

/// Threads of the deliveries' runtime: delivery waits on the network, so one drives every route.
const DELIVERY_WORKER_THREADS: usize = 1;
/// Threads that read the log and the store for the deliveries: reads wait on redb, not on each
/// other, so a few are enough for any number of routes.
const DELIVERY_BLOCKING_THREADS_MAX: usize = 8;

/// Why the event routes did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("cannot start the deliveries' runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("endpoint `{endpoint}`: cannot build its HTTP client: {source}")]
    Client {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The node's event routes and their deliveries. Cheap to clone.
#[derive(Clone)]
pub struct EventRoutes {
    inner: Arc<Inner>,
}

struct Inner {
    log: EventLog,
    store: RouteStore,
    endpoints: Endpoints,
    /// One client per webhook endpoint, shared by the routes that name it.
    webhooks: BTreeMap<String, Webhook>,
    /// The events projected once for every route (docs/design.md, "Event routes").
    window: Arc<ProjectionWindow>,
    options: RouteOptions,
    runtime: Option<Runtime>,
    handle: Handle,
    routes: RwLock<BTreeMap<String, RouteEntry>>,
    /// Held across a route change, so that the store and memory change in the same order.
    changes: tokio::sync::Mutex<()>,
}

struct RouteEntry {
    route: StoredRoute,
    stats: Arc<RouteStats>,
    /// Held by a replay, so that two replays never send the same dead letters at once.
    replays: Arc<tokio::sync::Mutex<()>>,
    running: Option<Running>,
}

struct Running {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping a runtime waits for its threads, which an async context forbids; the tasks
        // have stopped by now (`stop`), or a crash-consistent cursor covers them.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl EventRoutes {
    /// Loads the stored routes and starts a delivery for each webhook route. Reads the store on
    /// the calling thread: call it before serving, not from an async worker.
    pub fn start(
        log: EventLog,
        endpoints: Endpoints,
        options: RouteOptions,
    ) -> Result<EventRoutes, StartError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(DELIVERY_WORKER_THREADS)
            .max_blocking_threads(DELIVERY_BLOCKING_THREADS_MAX)
            .thread_name("twinlog-routes")
            .on_thread_start(|| run_below_ingestion("event route delivery"))
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let mut webhooks = BTreeMap::new();
        for name in endpoints.names() {
            if let Some(Endpoint::Webhook(endpoint)) = endpoints.get(name) {
                let webhook =
                    Webhook::new(endpoint.clone()).map_err(|source| StartError::Client {
                        endpoint: name.to_owned(),
                        source,
                    })?;
                webhooks.insert(name.to_owned(), webhook);
            }
        }
        let store = RouteStore::new(&log);
        let loaded = store.load()?;
        let window = ProjectionWindow::new(
            &log,
            &options.source,
            options.batch_events_max,
            options.window_bytes_max,
        );
        let inner = Inner {
            window: Arc::new(window),
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            log,
            store,
            endpoints,
            webhooks,
            options,
            routes: RwLock::new(BTreeMap::new()),
            changes: tokio::sync::Mutex::new(()),
        };
        {
            let mut routes = inner.write_routes();
            for stored in loaded {
                let entry = RouteEntry {
                    stats: Arc::default(),
                    replays: Arc::default(),
                    running: None,
                    route: stored.route,
                };
                let running = inner.launch(&stored.id, &entry);
                routes.insert(stored.id, RouteEntry { running, ..entry });
            }
        }
        Ok(EventRoutes {
            inner: Arc::new(inner),
        })
    }

    /// Every route, by id.
    pub fn list(&self) -> Vec<EventRoute> {
        self.inner
            .read_routes()
            .iter()
            .map(|(id, entry)| shown(id, &entry.route))
            .collect()
    }

    pub fn get(&self, id: &str) -> Result<EventRoute, RouteError> {
        self.inner
            .read_routes()
            .get(id)
            .map(|entry| shown(id, &entry.route))
            .ok_or_else(|| not_found(id))
    }

    /// Creates or replaces a route. A new route delivers the events committed from now on; a
    /// replaced one goes on from its cursor with its new endpoint and filter.
    pub async fn put(&self, id: &str, endpoint_name: &str, filter: &str) -> Result<(), RouteError> {
        check_id(id)?;
        if self.inner.endpoints.get(endpoint_name).is_none() {
            return Err(RouteError::EndpointInvalid {
                endpoint_name: endpoint_name.to_owned(),
                reason: "is not in this node's endpoints file",
            });
        }
        Filter::parse(filter)?;
        let inner = &self.inner;
        let _changing = inner.changes.lock().await;
        let routes_max = inner.options.routes_max;
        let exists = inner.read_routes().contains_key(id);
        if !exists && inner.read_routes().len() >= routes_max {
            return Err(RouteError::LimitExceeded { routes_max });
        }
        let route = StoredRoute {
            endpoint_name: endpoint_name.to_owned(),
            filter: filter.to_owned(),
        };
        let cursor = inner.log.head().lsn;
        inner
            .log
            .write_side(store::put_route(id, &route, cursor))
            .await?;
        let replaced = {
            let mut routes = inner.write_routes();
            let entry = routes.entry(id.to_owned()).or_insert_with(|| RouteEntry {
                route: route.clone(),
                stats: Arc::default(),
                replays: Arc::default(),
                running: None,
            });
            entry.route = route;
            entry.running.take()
        };
        if let Some(replaced) = replaced {
            replaced.stop().await;
        }
        let mut routes = inner.write_routes();
        if let Some(entry) = routes.get_mut(id) {
            entry.running = inner.launch(id, entry);
        }
        tracing::info!(
            route_id = id,
            endpoint = endpoint_name,
            "event route stored"
        );
        Ok(())
    }

    /// Deletes a route, its cursor and its dead letters, once its delivery has stopped.
    pub async fn delete(&self, id: &str) -> Result<(), RouteError> {
        let inner = &self.inner;
        let _changing = inner.changes.lock().await;
        let running = inner
            .write_routes()
            .get_mut(id)
            .ok_or_else(|| not_found(id))?
            .running
            .take();
        if let Some(running) = running {
            running.stop().await;
        }
        if let Err(error) = inner.log.write_side(store::delete_route(id)).await {
            // The route is still stored: it goes on delivering.
            let mut routes = inner.write_routes();
            if let Some(entry) = routes.get_mut(id) {
                entry.running = inner.launch(id, entry);
            }
            return Err(error.into());
        }
        inner.write_routes().remove(id);
        tracing::info!(route_id = id, "event route deleted");
        Ok(())
    }

    /// Up to `max` of the route's dead letters with LSN `from_lsn` or above, in LSN order.
    pub async fn dead_letters(
        &self,
        id: &str,
        from_lsn: u64,
        max: usize,
    ) -> Result<Vec<DeadLetter>, RouteError> {
        self.get(id)?;
        let (store, route_id) = (self.inner.store.clone(), id.to_owned());
        let read = self
            .inner
            .handle
            .spawn_blocking(move || store.dead_letters(&route_id, from_lsn, max));
        Ok(read.await.map_err(|_| RouteError::Stopped)??)
    }

    /// Delivers the route's dead letters again, removing those its endpoint takes.
    pub async fn replay(&self, id: &str) -> Result<ReplayReport, RouteError> {
        let (endpoint_name, stats, replays) = {
            let routes = self.inner.read_routes();
            let entry = routes.get(id).ok_or_else(|| not_found(id))?;
            (
                entry.route.endpoint_name.clone(),
                entry.stats.clone(),
                entry.replays.clone(),
            )
        };
        let webhook = self
            .inner
            .webhooks
            .get(&endpoint_name)
            .cloned()
            .ok_or_else(|| RouteError::EndpointInvalid {
                endpoint_name,
                reason:
                    "is not a webhook in this node's endpoints file: there is nothing to replay to",
            })?;
        let inner = self.inner.clone();
        let route_id = id.to_owned();
        let replaying = self.inner.handle.spawn(async move {
            let _replaying = replays.lock().await;
            replay::replay(
                &route_id,
                &webhook,
                &inner.store,
                &inner.log,
                inner.options.batch_events_max,
                &stats,
            )
            .await
        });
        replaying.await.map_err(|_| RouteError::Stopped)?
    }

    /// The delivery figures of each route that is delivering, by id.
    pub fn delivery_stats(&self) -> Vec<(String, Arc<RouteStats>)> {
        self.inner
            .read_routes()
            .iter()
            .filter(|(_, entry)| entry.running.is_some())
            .map(|(id, entry)| (id.clone(), entry.stats.clone()))
            .collect()
    }

    /// Stops every delivery; each stores its cursor first. Routes changed afterwards do not
    /// deliver until the next start.
    pub async fn stop(&self) {
        let stopping: Vec<Running> = self
            .inner
            .write_routes()
            .values_mut()
            .filter_map(|entry| entry.running.take())
            .collect();
        for running in stopping {
            running.stop().await;
        }
    }
}

impl Inner {
    /// Starts the delivery of a webhook route; `None` for an SSE route, or one whose endpoint
    /// or filter this node cannot use (logged, so that its growing lag has a cause on record).
    fn launch(&self, id: &str, entry: &RouteEntry) -> Option<Running> {
        let name = &entry.route.endpoint_name;
        let webhook = match self.endpoints.get(name) {
            Some(Endpoint::Webhook(_)) => self.webhooks.get(name)?.clone(),
            Some(Endpoint::Sse) => return None,
            None => {
                tracing::warn!(route_id = id, endpoint = %name, "event route names an endpoint missing from the endpoints file; it does not deliver");
                return None;
            }
        };
        let filter = match Filter::parse(&entry.route.filter) {
            Ok(filter) => filter,
            Err(error) => {
                tracing::error!(route_id = id, %error, "stored event route filter does not parse; it does not deliver");
                return None;
            }
        };
        let cancel = CancellationToken::new();
        let delivery = delivery::Delivery {
            route_id: id.into(),
            filter: Arc::new(filter),
            webhook,
            log: self.log.clone(),
            store: self.store.clone(),
            window: self.window.clone(),
            dead_letters_max: self.options.dead_letters_max,
            cursor_persist_interval: self.options.cursor_persist_interval,
            stats: entry.stats.clone(),
        };
        let task = self.handle.spawn(delivery.run(cancel.clone()));
        Some(Running { cancel, task })
    }

    fn read_routes(&self) -> RwLockReadGuard<'_, BTreeMap<String, RouteEntry>> {
        // A poisoned lock means a panic elsewhere while it was held; entries are replaced whole.
        self.routes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_routes(&self) -> RwLockWriteGuard<'_, BTreeMap<String, RouteEntry>> {
        self.routes
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Running {
    /// Cancels the delivery and waits until it has stored its cursor.
    async fn stop(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

fn shown(id: &str, route: &StoredRoute) -> EventRoute {
    EventRoute {
        id: id.to_owned(),
        endpoint_name: route.endpoint_name.clone(),
        filter: route.filter.clone(),
    }
}

fn not_found(id: &str) -> RouteError {
    RouteError::NotFound { id: id.to_owned() }
}

/// A route id: 1 to [`ROUTE_ID_CHARS_MAX`] ASCII letters, digits, `-`, `_` and `.`. (The store's
/// keys rely on ids never holding a 0 byte.)
fn check_id(id: &str) -> Result<(), RouteError> {
    let reason = if id.is_empty() {
        "it is empty".to_owned()
    } else if id.len() > ROUTE_ID_CHARS_MAX {
        format!(
            "it has {} characters; the limit is {ROUTE_ID_CHARS_MAX}",
            id.chars().count()
        )
    } else if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        format!("it holds {bad:?}; ids are ASCII letters, digits, '-', '_' and '.'")
    } else {
        return Ok(());
    };
    Err(RouteError::IdInvalid {
        id: id.to_owned(),
        reason,
    })
}
