//! The ADT-compatible HTTP API (api-version 2023-10-31): assembles the routes, the middleware
//! and the limits into an actix-web server over a [`DataPlane`].
//!
//! A request passes, outermost first: [`request::observe`] (tracing span, metrics,
//! `api-version`), [`rate_limit::limit`], [`auth::authorize`], [`error::adt_shape`] (ADT's body
//! on actix-web's own errors), then its handler, which translates it into one data-plane call.
//!
//! - [`models`], [`twins`] (and components), [`relationships`], [`telemetry`] (and the NDJSON
//!   batch), [`eventroutes`] (and their dead letters): the ADT resources. [`paging`] cuts their lists; [`preconditions`] reads ETags.
//! - [`feed`]: `GET /feed`, the change feed as Server-Sent Events.
//! - [`query`]: `POST /query`, over the read model that a follower keeps fresh, with sealed
//!   continuation tokens.
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics` ([`metrics`]); [`chaos`]: the panic drill;
//!   [`openapi`]: `/openapi.json`, generated from the handlers.
//! - [`error`]: [`error::ApiError`], the one place errors become ADT bodies.
//! - [`auth`], [`tls`], [`rate_limit`]: who may call, over what, how often.
//! - [`trace`]: the `traceparent` of a write, which its events keep for the change feed.

pub mod auth;
mod chaos;
pub mod error;
mod eventroutes;
pub mod feed;
mod metrics;
mod models;
mod openapi;
mod ops;
mod paging;
mod preconditions;
mod query;
mod rate_limit;
mod relationships;
mod request;
mod telemetry;
pub mod tls;
mod trace;
mod twins;

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use tokio::signal;
use tokio::sync::watch;
use twinlog_actors::data_plane::DataPlane;
use twinlog_actors::read_model::QueryPool;
use twinlog_actors::routes::EventRoutes;

use auth::Tokens;
pub use feed::FeedOptions;
use metrics::Metrics;
use query::{QueryService, QUERY_BODY_MAX_BYTES};
use rate_limit::RateLimiter;

/// The api-version this server speaks.
pub const API_VERSION: &str = "2023-10-31";
/// ADT's limit on a twin or relationship body, and on a telemetry message here.
pub const TWIN_BODY_MAX_BYTES: usize = 32 * 1024;
/// A model upload may hold up to `UPLOAD_MODELS_MAX` models (an ontology in one go).
pub const MODELS_BODY_MAX_BYTES: usize = 32 * 1024 * 1024;
/// One `/telemetry/batch` request.
pub const BATCH_BODY_MAX_BYTES: usize = 64 * 1024 * 1024;

/// How the server listens, whom it lets in, and its limits.
pub struct ServerOptions {
    pub listen: SocketAddr,
    pub workers: usize,
    pub tls: Option<rustls::ServerConfig>,
    /// `None`: no authentication, allowed on loopback, or anywhere with `insecure_no_auth`.
    pub tokens: Option<Tokens>,
    pub insecure_no_auth: bool,
    /// Serve `POST /admin/chaos/twins/{id}/panic`.
    pub chaos: bool,
    pub rate_limit_rps: Option<u32>,
    /// How long a client may take to send a request's head.
    pub request_timeout: Duration,
    pub keep_alive: Duration,
    pub connections_max_per_worker: usize,
    /// How long a stopping server waits for requests in flight.
    pub shutdown_timeout: Duration,
    pub feed: FeedOptions,
    /// The node key that seals `POST /query`'s continuation tokens (node key `query_token`):
    /// tokens stay valid across restarts of the node that keeps it.
    pub query_token_key: [u8; 32],
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error("refusing to listen on {listen} without authentication: give --auth-file, listen on loopback, or pass --insecure-no-auth")]
    Unauthenticated { listen: SocketAddr },
    #[error("cannot listen on {listen}: {source}")]
    Bind {
        listen: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// What every handler and middleware reads.
pub struct AppState {
    pub data_plane: DataPlane,
    queries: QueryService,
    pub routes: EventRoutes,
    metrics: Metrics,
    tokens: Option<Tokens>,
    rate_limiter: Option<RateLimiter>,
    feed: FeedOptions,
    /// Becomes `true` when the server is told to stop, so that endless responses (the feed)
    /// end at once instead of holding the shutdown for its whole timeout.
    stopping: watch::Receiver<bool>,
}

/// A server bound to its addresses, not yet running: await `server` inside an actix `System`.
pub struct Bound {
    pub server: actix_web::dev::Server,
    /// Each bound address, with `http` or `https`.
    pub urls: Vec<String>,
}

/// Binds the server over `data_plane`, answering queries on `queries`, whose read model its owner
/// keeps following the log, and serving `event_routes`. Signals (SIGINT, SIGTERM) stop it
/// gracefully: requests in flight finish.
pub fn bind(
    options: ServerOptions,
    data_plane: DataPlane,
    queries: QueryPool,
    event_routes: EventRoutes,
) -> Result<Bound, ServeError> {
    let listen = options.listen;
    if options.tokens.is_none() {
        if !listen.ip().is_loopback() && !options.insecure_no_auth {
            return Err(ServeError::Unauthenticated { listen });
        }
        tracing::warn!(%listen, "authentication is off (no --auth-file): every caller is an owner");
    }
    let state = web::Data::new(AppState {
        data_plane,
        queries: QueryService::new(queries, options.query_token_key),
        routes: event_routes,
        metrics: Metrics::default(),
        tokens: options.tokens,
        rate_limiter: options.rate_limit_rps.map(RateLimiter::new),
        feed: options.feed,
        stopping: stop_signal(),
    });
    let chaos = options.chaos;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(json_config(TWIN_BODY_MAX_BYTES))
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .configure(|config| routes(config, chaos))
            .default_service(web::to(error::unknown_path))
            .wrap(ErrorHandlers::new().default_handler(error::adt_shape))
            .wrap(from_fn(auth::authorize))
            .wrap(from_fn(rate_limit::limit))
            .wrap(from_fn(request::observe))
    })
    .workers(options.workers)
    .client_request_timeout(options.request_timeout)
    .client_disconnect_timeout(Duration::from_secs(5))
    .keep_alive(options.keep_alive)
    .max_connections(options.connections_max_per_worker)
    .shutdown_timeout(options.shutdown_timeout.as_secs());
    let bind_error = |source| ServeError::Bind { listen, source };
    let server = match options.tls {
        Some(tls) => server.bind_rustls_0_23(listen, tls),
        None => server.bind(listen),
    }
    .map_err(bind_error)?;
    let urls = server
        .addrs_with_scheme()
        .into_iter()
        .map(|(addr, scheme)| format!("{scheme}://{addr}"))
        .collect();
    Ok(Bound {
        server: server.run(),
        urls,
    })
}

/// A receiver that turns `true` on SIGINT or SIGTERM, beside actix-web's own handling of them.
fn stop_signal() -> watch::Receiver<bool> {
    let (stop, stopping) = watch::channel(false);
    actix_web::rt::spawn(async move {
        let terminate = async {
            match signal::unix::signal(signal::unix::SignalKind::terminate()) {
                Ok(mut terminate) => terminate.recv().await,
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = signal::ctrl_c() => {}
            _ = terminate => {}
        }
        let _ = stop.send(true);
    });
    stopping
}

/// A JSON body extractor's limits and errors.
fn json_config(limit_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit_bytes)
        .error_handler(error::json_error)
}

/// Every route. Each path is one resource, so a wrong method answers 405, not 404. No two
/// patterns match the same path, so their order is free: telemetry comes first because the
/// router tries the patterns in order, and each one it passes over costs a regex search.
fn routes(config: &mut web::ServiceConfig, chaos: bool) {
    config
        .service(web::resource("/digitaltwins/{id}/telemetry").post(telemetry::send))
        .service(
            web::resource("/digitaltwins/{id}/components/{component}/telemetry")
                .post(telemetry::send_to_component),
        )
        .service(
            web::resource("/telemetry/batch")
                .app_data(web::PayloadConfig::new(BATCH_BODY_MAX_BYTES))
                .post(telemetry::batch),
        )
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route(openapi::OPENAPI_PATH, web::get().to(openapi::openapi_json))
        .route("/feed", web::get().to(feed::feed))
        .service(
            web::resource("/models")
                .app_data(json_config(MODELS_BODY_MAX_BYTES))
                .get(models::list_models)
                .post(models::upload_models),
        )
        .service(
            web::resource("/models/{id}")
                .get(models::get_model)
                .patch(models::decommission_model)
                .delete(models::delete_model),
        )
        .service(
            web::resource("/digitaltwins/{id}")
                .get(twins::get_twin)
                .put(twins::put_twin)
                .patch(twins::patch_twin)
                .delete(twins::delete_twin),
        )
        .service(
            web::resource("/digitaltwins/{id}/components/{component}")
                .get(twins::get_component)
                .patch(twins::patch_component),
        )
        .service(web::resource("/digitaltwins/{id}/relationships").get(relationships::list))
        .service(
            web::resource("/digitaltwins/{id}/relationships/{relationship_id}")
                .get(relationships::get)
                .put(relationships::put)
                .patch(relationships::patch)
                .delete(relationships::delete),
        )
        .service(
            web::resource("/digitaltwins/{id}/incomingrelationships")
                .get(relationships::list_incoming),
        )
        .service(
            web::resource("/query")
                .app_data(json_config(QUERY_BODY_MAX_BYTES))
                .post(query::query_twins),
        )
        .service(web::resource("/eventroutes").get(eventroutes::list))
        .service(
            web::resource("/eventroutes/{id}")
                .get(eventroutes::get)
                .put(eventroutes::put)
                .delete(eventroutes::delete),
        )
        .service(web::resource("/eventroutes/{id}/deadletters").get(eventroutes::list_dead_letters))
        .service(
            web::resource("/eventroutes/{id}/deadletters/replay")
                .post(eventroutes::replay_dead_letters),
        );
    if chaos {
        config.service(web::resource("/admin/chaos/twins/{id}/panic").post(chaos::arm_panic));
    }
}
