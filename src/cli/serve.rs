//! `twinlog serve`: opens (or creates) a node's data directory, replays it into the data plane
//! and the query read model, starts its event routes' deliveries, and serves the ADT-compatible
//! API until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::http::{self, auth::Tokens, ServerOptions};
use actix::{Arbiter, System};
use anyhow::Context;
use clap::Args;
use twinlog_actors::data_plane::DataPlane;
use twinlog_actors::log::{EventLog, LogOptions};
use twinlog_actors::node_keys;
use twinlog_actors::read_model::{QueryPool, ReadModel, ReadModelFollower, QUERY_THREADS_DEFAULT};
use twinlog_actors::region::RegionOptions;
use twinlog_actors::routes::{Endpoints, EventRoutes, RouteOptions};
use twinlog_migrations::node_keys::QUERY_TOKEN_KEY;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the node keeps its log.
    #[arg(long, env = "TWINLOG_DATA_DIR", default_value = "./twinlog-data")]
    data_dir: PathBuf,
    /// The region this node serves.
    #[arg(long, env = "TWINLOG_REGION", default_value = "local")]
    region: String,
    /// The address to listen on; port 0 picks a free one (the bound address is printed).
    #[arg(long, env = "TWINLOG_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// TOML file of accepted bearer tokens (`[[tokens]] name, role, sha256`); see `twinlog token
    /// new`. Without it, the server only listens on loopback.
    #[arg(long, env = "TWINLOG_AUTH_FILE")]
    auth_file: Option<PathBuf>,
    /// Listen on a non-loopback address without authentication.
    #[arg(long, env = "TWINLOG_INSECURE_NO_AUTH")]
    insecure_no_auth: bool,
    /// PEM certificate chain; serves HTTPS (with --tls-key).
    #[arg(long, env = "TWINLOG_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "TWINLOG_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve POST /admin/chaos/twins/{id}/panic (drills and tests only).
    #[arg(long, env = "TWINLOG_CHAOS")]
    chaos: bool,
    /// Requests per second the whole server accepts before answering 429 (default: no limit).
    #[arg(long, env = "TWINLOG_RATE_LIMIT_RPS")]
    rate_limit_rps: Option<NonZeroU32>,
    /// HTTP worker threads, and arbiter threads for twin actors (default: one per core).
    #[arg(long, env = "TWINLOG_WORKERS")]
    workers: Option<NonZeroUsize>,
    /// How long a client may take to send a request's head before it gets 408.
    #[arg(long, env = "TWINLOG_REQUEST_TIMEOUT_S", default_value_t = 10)]
    request_timeout_s: u64,
    /// How long an idle keep-alive connection stays open.
    #[arg(long, env = "TWINLOG_KEEP_ALIVE_S", default_value_t = 75)]
    keep_alive_s: u64,
    /// Open connections each worker accepts before it stops accepting.
    #[arg(
        long,
        env = "TWINLOG_CONNECTIONS_MAX_PER_WORKER",
        default_value_t = 25_000
    )]
    connections_max_per_worker: usize,
    /// TOML file of the endpoints that event routes may name (`[[endpoints]] name, kind =
    /// "webhook" | "sse", url, headers, timeout_ms, attempts_max`). Without it, no route can be
    /// created; stored routes are kept but do not deliver.
    #[arg(long, env = "TWINLOG_ENDPOINTS_FILE")]
    endpoints_file: Option<PathBuf>,
    /// On SIGINT/SIGTERM, how long requests in flight may take to finish.
    #[arg(long, env = "TWINLOG_SHUTDOWN_TIMEOUT_S", default_value_t = 30)]
    shutdown_timeout_s: u64,
    /// The host name clients reach this region at: the `source` of every change-feed event
    /// (default: the region's name).
    #[arg(long, env = "TWINLOG_PUBLIC_HOST")]
    public_host: Option<String>,
    /// How often an idle `GET /feed` connection gets an SSE comment to keep it open.
    #[arg(long, env = "TWINLOG_FEED_HEARTBEAT_S", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    feed_heartbeat_s: u64,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let tokens = args.auth_file.as_deref().map(Tokens::load).transpose()?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(http::tls::server_config(cert, key)?),
        _ => None,
    };
    let endpoints = match &args.endpoints_file {
        Some(path) => Endpoints::load(path)?,
        None => Endpoints::default(),
    };
    let log = EventLog::open(&args.data_dir, LogOptions::new(&args.region))
        .with_context(|| format!("opening {}", args.data_dir.display()))?;
    let meta = log.meta();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        data_dir = %args.data_dir.display(),
        region = %meta.region,
        role = %meta.role,
        epoch = meta.epoch,
        lsn = log.head().lsn,
        "log opened"
    );
    let threads = args
        .workers
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let system = System::new();
    // Twin actors get arbiters of their own, so that no HTTP worker runs twin logic.
    let arbiters: Vec<Arbiter> = (0..threads).map(|_| Arbiter::new()).collect();
    let mut region = RegionOptions::new(&args.region);
    region.chaos = args.chaos;
    // The two replays of the log run side by side.
    let (data_plane, follower) = std::thread::scope(|scope| {
        let read_model = scope.spawn(|| start_read_model(&log));
        let started = std::time::Instant::now();
        let data_plane = DataPlane::start(
            log.clone(),
            region,
            arbiters.iter().map(Arbiter::handle).collect(),
        )
        .inspect(|_| {
            tracing::info!(
                replay_ms = started.elapsed().as_millis() as u64,
                "data plane ready"
            );
        });
        let follower = read_model
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        anyhow::Ok((data_plane?, follower?))
    })?;
    // The events' CloudEvents `source`, the same in the feed and in deliveries.
    let source = args.public_host.unwrap_or(args.region);
    let routes = EventRoutes::start(log.clone(), endpoints, RouteOptions::new(&source))?;
    let query_token_key = system
        .block_on(node_keys::load_or_create(
            &log,
            QUERY_TOKEN_KEY,
            rand::random(),
        ))
        .context("reading the query token key")?;
    drop(log);
    let options = ServerOptions {
        listen: args.listen,
        workers: threads,
        tls,
        tokens,
        insecure_no_auth: args.insecure_no_auth,
        chaos: args.chaos,
        rate_limit_rps: args.rate_limit_rps.map(NonZeroU32::get),
        request_timeout: Duration::from_secs(args.request_timeout_s),
        keep_alive: Duration::from_secs(args.keep_alive_s),
        connections_max_per_worker: args.connections_max_per_worker,
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout_s),
        feed: http::FeedOptions {
            source,
            heartbeat: Duration::from_secs(args.feed_heartbeat_s),
        },
        query_token_key,
    };
    let queries = QueryPool::start(follower.model().clone(), QUERY_THREADS_DEFAULT)
        .context("starting the query threads")?;
    let served = system.block_on(async {
        let bound = http::bind(options, data_plane.clone(), queries, routes.clone())?;
        for url in &bound.urls {
            // Tests and scripts read this line to learn a port picked with `:0`.
            println!("listening on {url}");
            tracing::info!(%url, "listening");
        }
        let served = bound.server.await.context("serving");
        // Each delivery stores its cursor as it stops, through the log writer, still running.
        routes.stop().await;
        served
    });
    // The twin actors hold the log too: stop their arbiters, stop the read model's follower (which
    // holds the log's reader), then drop the last handle, which lets the log writer finish its
    // queue and close the file.
    for arbiter in arbiters {
        arbiter.stop();
        let _ = arbiter.join();
    }
    drop(follower);
    drop(data_plane);
    drop(routes);
    served?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The query read model of everything `log` holds, and its follower, which keeps it up to date
/// from then on.
fn start_read_model(log: &EventLog) -> anyhow::Result<ReadModelFollower> {
    let started = std::time::Instant::now();
    let model = ReadModel::rebuild(log).context("building the query read model from the log")?;
    tracing::info!(
        lsn = model.lsn(),
        twins = model.twin_count(),
        replay_ms = started.elapsed().as_millis() as u64,
        "query read model ready"
    );
    ReadModelFollower::start(log, model).context("starting the query read model's follower")
}
