//! Event-route delivery, measured in one run: ingestion into the log with no route, with one and
//! with four webhook routes delivering every event to a no-op receiver (the baseline is the run
//! with none); then the end-to-end latency of one route, from an event's commit (its append
//! acknowledged) to its receipt, while producers append at a paced 10,000 events/s.
//!
//! Run: `cargo run --release --example route_delivery -- [--seconds 10] [--rounds 3]` (seconds
//! per ingestion run, and rounds of the three configurations, then the latency run). Each
//! configuration's ratio is the median over rounds of its throughput over the same round's run
//! without routes, so that the machine's drift between rounds cancels. Everything runs in this
//! process on loopback: the log, the routes' runtime, the producers and the receiver share the
//! machine's cores, as a node and a receiver on one host would.

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::Value;
use twinlog_actors::log::{EventLog, LogOptions, NewEvent};
use twinlog_actors::routes::{Endpoints, EventRoutes, RouteOptions};
use twinlog_migrations::Event;

/// Producers appending at once, one event per append, so that the log's group commit forms the
/// batches (as under HTTP ingestion).
const PRODUCERS: u64 = 512;
const TWINS: u64 = 1_000;
/// The paced load of the latency run.
const PACED_EVENTS_PER_S: u64 = 10_000;
/// The paced load appends this many events each tick (one tick per millisecond at 10,000/s).
const PACED_EVENTS_PER_TICK: u64 = 10;
/// How long deliveries may take to catch up after a run before the run counts as failed.
const CATCH_UP_MAX: Duration = Duration::from_secs(120);

/// What the receiver does with a batch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Receipt {
    /// Answers 200 at once, unread.
    Discard,
    /// Notes when each event (by LSN) arrived, then answers 200.
    Timestamp,
}

type Arrivals = Arc<Mutex<Vec<(u64, Instant)>>>;

/// A no-op webhook receiver on a loopback port, with one worker thread.
fn start_receiver(receipt: Receipt, arrivals: Arrivals) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                let arrivals = arrivals.clone();
                App::new()
                    .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                    .default_service(web::to(move |body: web::Bytes| {
                        let arrivals = arrivals.clone();
                        async move {
                            if receipt == Receipt::Timestamp {
                                let at = Instant::now();
                                let events: Vec<Value> = serde_json::from_slice(&body).unwrap();
                                let mut arrivals = arrivals.lock().unwrap();
                                for event in events {
                                    let lsn = event["lsn"].as_str().unwrap().parse().unwrap();
                                    arrivals.push((lsn, at));
                                }
                            }
                            HttpResponse::Ok().finish()
                        }
                    }))
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap()
        })
    });
    url
}

fn telemetry(twin: u64, n: u64) -> NewEvent {
    NewEvent::new(
        Arc::from(format!("sensor-{twin}")),
        &Event::Telemetry {
            message_id: format!("m{n}"),
            source_time: None,
            component: None,
            data: format!(r#"{{"temperature":{}.5,"n":{n}}}"#, n % 40),
        },
    )
}

/// A log with `routes` routes, each taking every event to `url`.
fn start(
    dir: &Path,
    url: &str,
    routes: usize,
    rt: &tokio::runtime::Runtime,
) -> (EventLog, EventRoutes) {
    let log = EventLog::open(dir, LogOptions::new("bench")).expect("the log opens");
    let endpoints = Endpoints::parse(
        Path::new("endpoints.toml"),
        &format!("[[endpoints]]\nname = \"receiver\"\nkind = \"webhook\"\nurl = \"{url}\"\n"),
    )
    .expect("the endpoints parse");
    let event_routes = EventRoutes::start(log.clone(), endpoints, RouteOptions::new("bench"))
        .expect("the routes start");
    for route in 0..routes {
        rt.block_on(event_routes.put(&format!("route-{route}"), "receiver", "true"))
            .expect("the route is stored");
    }
    (log, event_routes)
}

/// Appends from `PRODUCERS` concurrent producers for `seconds`; returns the events appended.
fn ingest(log: &EventLog, seconds: Duration, rt: &tokio::runtime::Runtime) -> u64 {
    let deadline = Instant::now() + seconds;
    rt.block_on(async {
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut appended = 0;
                    while Instant::now() < deadline {
                        let n = producer * 1_000_000_000 + appended;
                        log.append(vec![telemetry(n % TWINS, n)])
                            .await
                            .expect("the append is durable");
                        appended += 1;
                    }
                    appended
                })
            })
            .collect();
        let mut total = 0;
        for producer in producers {
            total += producer.await.expect("the producer finishes");
        }
        total
    })
}

/// Waits until every route has dealt with the whole log; returns how long that took.
fn catch_up(log: &EventLog, routes: &EventRoutes) -> Duration {
    let started = Instant::now();
    while routes
        .delivery_stats()
        .iter()
        .any(|(_, stats)| stats.lag_events(&log.head()) > 0)
    {
        assert!(
            started.elapsed() < CATCH_UP_MAX,
            "deliveries did not catch up"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    started.elapsed()
}

/// One ingestion run's figures.
struct Run {
    events_per_s: f64,
    mean_commit_events: f64,
    /// Events delivered per route per second while ingesting.
    delivered_per_s: f64,
    catch_up: Duration,
}

fn ingestion_run(seconds: Duration, url: &str, routes: usize, rt: &tokio::runtime::Runtime) -> Run {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (log, event_routes) = start(dir.path(), url, routes, rt);
    let started = Instant::now();
    let appended = ingest(&log, seconds, rt);
    let elapsed = started.elapsed().as_secs_f64();
    let delivered: u64 = event_routes
        .delivery_stats()
        .iter()
        .map(|(_, stats)| stats.delivered_events.load(Ordering::Relaxed))
        .sum();
    let catch_up = catch_up(&log, &event_routes);
    rt.block_on(event_routes.stop());
    Run {
        events_per_s: appended as f64 / elapsed,
        mean_commit_events: log.stats().mean_batch_events(),
        delivered_per_s: delivered as f64 / routes.max(1) as f64 / elapsed,
        catch_up,
    }
}

/// Ingestion with 0, 1 and 4 routes, in interleaved rounds so that a busy moment of the machine
/// does not land on one configuration only; each figure is the median of its rounds.
fn throughput(seconds: Duration, rounds: usize, url: &str, rt: &tokio::runtime::Runtime) {
    const CONFIGURATIONS: [usize; 3] = [0, 1, 4];
    let mut runs: Vec<Vec<Run>> = CONFIGURATIONS.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (runs, routes) in runs.iter_mut().zip(CONFIGURATIONS) {
            runs.push(ingestion_run(seconds, url, routes, rt));
        }
    }
    let median = |runs: &[Run], figure: fn(&Run) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(figure).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    for (at, routes) in CONFIGURATIONS.into_iter().enumerate() {
        let mut ratios: Vec<f64> = runs[at]
            .iter()
            .zip(&runs[0])
            .map(|(run, without)| run.events_per_s / without.events_per_s)
            .collect();
        ratios.sort_by(f64::total_cmp);
        let runs = &runs[at];
        let each: Vec<String> = runs
            .iter()
            .map(|run| format!("{:.0}", run.events_per_s))
            .collect();
        print!(
            "ingestion, {routes} route(s): {:.0} events/s, {:.2}x the same round's run without \
             routes (rounds: {}), mean commit {:.0} events",
            median(runs, |run| run.events_per_s),
            ratios[ratios.len() / 2],
            each.join(", "),
            median(runs, |run| run.mean_commit_events),
        );
        if routes > 0 {
            print!(
                "; delivered {:.0} events/s per route while ingesting, caught up {:.2} s after",
                median(runs, |run| run.delivered_per_s),
                median(runs, |run| run.catch_up.as_secs_f64()),
            );
        }
        println!();
    }
}

fn latency(seconds: Duration, url: &str, arrivals: &Arrivals, rt: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (log, event_routes) = start(dir.path(), url, 1, rt);
    let ticks = seconds.as_millis() as u64 * PACED_EVENTS_PER_S / PACED_EVENTS_PER_TICK / 1_000;
    let tick = Duration::from_secs(1) * PACED_EVENTS_PER_TICK as u32 / PACED_EVENTS_PER_S as u32;
    let acked: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let started = Instant::now();
    rt.block_on(async {
        let mut interval = tokio::time::interval(tick);
        let mut appends = Vec::new();
        for t in 0..ticks {
            interval.tick().await;
            let (log, acked) = (log.clone(), acked.clone());
            // Each tick's append runs on its own, so that a slow commit does not delay the pace.
            appends.push(tokio::spawn(async move {
                let events = (0..PACED_EVENTS_PER_TICK)
                    .map(|i| telemetry((t * PACED_EVENTS_PER_TICK + i) % TWINS, t))
                    .collect();
                let appended = log.append(events).await.expect("the append is durable");
                let at = Instant::now();
                acked
                    .lock()
                    .unwrap()
                    .extend(appended.iter().map(|a| (a.lsn, at)));
            }));
        }
        for append in appends {
            append.await.expect("the append finishes");
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    catch_up(&log, &event_routes);
    // The last batch's answer may trail its receipt.
    std::thread::sleep(Duration::from_millis(100));
    rt.block_on(event_routes.stop());
    let acked: std::collections::HashMap<u64, Instant> =
        acked.lock().unwrap().iter().copied().collect();
    let mut first_arrival = std::collections::HashMap::new();
    for (lsn, at) in arrivals.lock().unwrap().iter() {
        first_arrival.entry(*lsn).or_insert(*at);
    }
    let mut early = 0;
    let mut latencies_us: Vec<u64> = acked
        .iter()
        .map(|(lsn, acked_at)| {
            let arrived = first_arrival[lsn];
            // The receipt may beat the producer's wake-up on its acknowledgement.
            arrived.checked_duration_since(*acked_at).map_or_else(
                || {
                    early += 1;
                    0
                },
                |latency| latency.as_micros() as u64,
            )
        })
        .collect();
    latencies_us.sort_unstable();
    let at = |p: f64| {
        latencies_us[((latencies_us.len() as f64 * p) as usize).min(latencies_us.len() - 1)]
    };
    println!(
        "latency, 1 route at {:.0} events/s: commit -> receipt p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms \
         ({} events; {early} received before their acknowledgement was seen, counted as 0)",
        acked.len() as f64 / elapsed,
        at(0.5) as f64 / 1e3,
        at(0.99) as f64 / 1e3,
        latencies_us.last().copied().unwrap_or(0) as f64 / 1e3,
        acked.len(),
    );
}

#[derive(clap::Parser)]
struct Args {
    /// Seconds per ingestion run, and of the latency run.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// Rounds of the ingestion comparison.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    let seconds = Duration::from_secs(args.seconds);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let discard = start_receiver(Receipt::Discard, Arrivals::default());
    throughput(seconds, args.rounds as usize, &discard, &rt);
    let arrivals = Arrivals::default();
    let timestamping = start_receiver(Receipt::Timestamp, arrivals.clone());
    latency(seconds, &timestamping, &arrivals, &rt);
}
