//! Queries over a read model of 100,000 RealEstateCore twins, and what running them costs the
//! log's ingestion.
//!
//! The graph is created through the data plane (so the read model is fed committed records, as
//! in production): 100 buildings of 10 levels of 49 rooms (Room, ConferenceRoom and Office in
//! turn), a temperature sensor per room, and 900 equipment twins; each building `hasPart` its
//! levels, each level `isPartOf` its building and `hasPart` its rooms, each room
//! `hasCapability` its sensor.
//!
//! - `query_100k_twins`: a `$dtId` lookup, `IS_OF_MODEL` with inheritance plus a property
//!   filter (980 results, documents built), a 1-hop JOIN (49 rows of three documents),
//!   `COUNT()` over everything, `COUNT()` with a filter no index answers (a full scan), and the
//!   first page of a full scan with 48,000 results. Each runs as `POST /query` runs it, for
//!   its first page of 1,000 results, and is then also timed alone for its p50 and p99.
//! - `ingest_with_queries`: durable telemetry appends from 1024 producers to a log that a
//!   `ReadModelFollower` follows, in turns of equal work, alternately alone and while a client
//!   runs those queries back to back on the followed model through a `QueryPool`, the
//!   idle-priority threads the server runs queries on. Alternating turns seconds apart lets the
//!   machine's drift over the run fall on both alike; the median of the rounds' ratios is the
//!   share of ingestion that querying leaves. The follower's freshness lag (from a commit to the
//!   model reflecting it) is sampled in both. Timed by hand, not by criterion; name
//!   `ingest_with_queries` or `query_100k_twins` on the command line to run one group alone.

#[path = "support.rs"]
mod support;

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{Arbiter, System};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use twinlog_actors::data_plane::DataPlane;
use twinlog_actors::log::{EventLog, LogOptions, NewEvent};
use twinlog_actors::query::{self, Query};
use twinlog_actors::read_model::{
    QueryPool, ReadModel, ReadModelFollower, SharedReadModel, QUERY_THREADS_DEFAULT,
};
use twinlog_actors::region::RegionOptions;
use twinlog_migrations::Event;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BUILDINGS: usize = 100;
const LEVELS: usize = 10;
const ROOMS: usize = 49;
const EQUIPMENT: usize = 900;
const TWINS: usize = BUILDINGS * (1 + LEVELS * (1 + 2 * ROOMS)) + EQUIPMENT;
const CLIENTS: usize = 512;

const BUILDING: &str = "dtmi:digitaltwins:rec_3_3:core:Building;1";
const LEVEL: &str = "dtmi:digitaltwins:rec_3_3:core:Level;1";
const ROOM_MODELS: [&str; 3] = [
    "dtmi:digitaltwins:rec_3_3:core:Room;1",
    "dtmi:digitaltwins:rec_3_3:building:ConferenceRoom;1",
    "dtmi:digitaltwins:rec_3_3:building:Office;1",
];
const SENSOR: &str = "dtmi:digitaltwins:rec_3_3:device:TemperatureSensor;1";

/// The page `POST /query` answers by default.
const PAGE_ITEMS: usize = 1_000;

/// The measured queries, by name.
const QUERIES: [(&str, &str); 6] = [
    (
        "dt_id_lookup",
        "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'b042-l05-r17'",
    ),
    (
        "is_of_model_and_property",
        "SELECT * FROM DIGITALTWINS T \
         WHERE IS_OF_MODEL(T, 'dtmi:digitaltwins:rec_3_3:core:Room;1') AND T.personCapacity > 49",
    ),
    (
        "join_1_hop",
        "SELECT T, CT, R FROM DIGITALTWINS T JOIN CT RELATED T.hasPart R \
         WHERE T.$dtId = 'b042-l05'",
    ),
    ("count_all", "SELECT COUNT() FROM DIGITALTWINS"),
    (
        "count_scan",
        "SELECT COUNT() FROM DIGITALTWINS T WHERE T.personCapacity > 25",
    ),
    (
        "scan_first_page",
        "SELECT * FROM DIGITALTWINS T WHERE T.personCapacity > 1",
    ),
];

/// A twin to create: id, model, and the properties of its body.
struct TwinSpec {
    id: String,
    model: &'static str,
    properties: Value,
}

/// The graph's twins, then its relationships as (source, relationship id, body).
fn graph() -> (Vec<TwinSpec>, Vec<(String, String, Value)>) {
    let mut twins = Vec::with_capacity(TWINS);
    let mut relationships = Vec::new();
    let mut relate = |source: &str, name: &str, target: &str| {
        let body = json!({"$targetId": target, "$relationshipName": name});
        relationships.push((source.to_owned(), format!("{name}-{target}"), body));
    };
    let mut n = 0;
    for b in 0..BUILDINGS {
        let building = format!("b{b:03}");
        let name = json!({"name": format!("Building {b}")});
        twins.push(TwinSpec {
            id: building.clone(),
            model: BUILDING,
            properties: name,
        });
        for l in 0..LEVELS {
            let level = format!("{building}-l{l:02}");
            let number = json!({"levelNumber": l});
            twins.push(TwinSpec {
                id: level.clone(),
                model: LEVEL,
                properties: number,
            });
            relate(&building, "hasPart", &level);
            relate(&level, "isPartOf", &building);
            for r in 0..ROOMS {
                n += 1;
                let room = format!("{level}-r{r:02}");
                twins.push(TwinSpec {
                    id: room.clone(),
                    model: ROOM_MODELS[n % ROOM_MODELS.len()],
                    properties: json!({"name": format!("Room {n}"), "personCapacity": 1 + n % 50}),
                });
                relate(&level, "hasPart", &room);
                let sensor = format!("{room}-t");
                twins.push(TwinSpec {
                    id: sensor.clone(),
                    model: SENSOR,
                    properties: json!({"lastValue": 18.0 + (n % 70) as f64 * 0.1}),
                });
                relate(&room, "hasCapability", &sensor);
            }
        }
    }
    for e in 0..EQUIPMENT {
        let mut properties = support::equipment_twin(e as u64);
        let model = properties["$metadata"]["$model"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(model, support::EQUIPMENT_MODEL);
        properties.as_object_mut().unwrap().remove("$metadata");
        twins.push(TwinSpec {
            id: format!("e{e:03}"),
            model: support::EQUIPMENT_MODEL,
            properties,
        });
    }
    assert_eq!(twins.len(), TWINS);
    (twins, relationships)
}

/// One creation through the data plane.
type Creation = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// Runs `make` for every item of `items`, `CLIENTS` at a time.
async fn in_parallel<T: 'static>(
    plane: &DataPlane,
    items: Vec<T>,
    make: fn(DataPlane, T) -> Creation,
) {
    let items = Arc::new(Mutex::new(items));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (plane, items) = (plane.clone(), items.clone());
        clients.push(actix_rt::spawn(async move {
            loop {
                let Some(item) = items.lock().unwrap().pop() else {
                    return;
                };
                make(plane.clone(), item).await;
            }
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
}

/// Creates the graph in a log in `dir` through a data plane, which is stopped at the end so
/// that the log can be opened again.
fn create_graph(dir: &Path) {
    let started = Instant::now();
    let system = System::new();
    let arbiters: Vec<Arbiter> = (0..2).map(|_| Arbiter::new()).collect();
    system.block_on(async {
        let plane =
            support::realestatecore_plane(dir, RegionOptions::new("bench"), &arbiters).await;
        let registry = ReadModel::rebuild(plane.log()).unwrap();
        let (twins, relationships) = graph();
        let bodies: Vec<(String, Value)> = twins
            .into_iter()
            .map(|twin| {
                let mut body = twin.properties;
                body["$metadata"] = json!({"$model": twin.model});
                let interface = registry
                    .models()
                    .interface_of(&twin.model.parse().unwrap())
                    .unwrap();
                for component in interface.components() {
                    body[component.name.as_str()] = json!({"$metadata": {}});
                }
                (twin.id, body)
            })
            .collect();
        in_parallel(&plane, bodies, |plane, (id, body)| {
            Box::pin(async move {
                plane.put_twin(&id, body, false).await.unwrap();
            })
        })
        .await;
        in_parallel(&plane, relationships, |plane, (source, id, body)| {
            Box::pin(async move {
                plane
                    .put_relationship(&source, &id, body, false)
                    .await
                    .unwrap();
            })
        })
        .await;
    });
    for arbiter in arbiters {
        arbiter.stop();
        arbiter.join().unwrap();
    }
    println!(
        "graph of {TWINS} twins created in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn parsed(text: &str) -> Query {
    query::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// p50 and p99 of `samples`, which it sorts; none of no samples.
fn percentiles(samples: &mut [Duration]) -> Option<(Duration, Duration)> {
    samples.sort_unstable();
    let last = samples.len().checked_sub(1)?;
    let at = |q: f64| samples[(last as f64 * q).round() as usize];
    Some((at(0.50), at(0.99)))
}

/// The first page of `query`, as `POST /query` builds it.
fn first_page(model: &ReadModel, query: &Query) -> usize {
    black_box(model.query_page(query, 0, PAGE_ITEMS).unwrap()).total
}

/// Times `runs` runs of each query alone and prints its p50 and p99.
fn print_query_percentiles(model: &ReadModel, queries: &[(&str, Query)]) {
    for (name, query) in queries {
        let runs = if name.contains("scan") || name.contains("property") {
            200
        } else {
            1000
        };
        let mut samples: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                first_page(model, query);
                started.elapsed()
            })
            .collect();
        if let Some((p50, p99)) = percentiles(&mut samples) {
            println!("query_100k_twins/{name}: p50 {p50:?}, p99 {p99:?} over {runs} runs");
        }
    }
}

fn queries(c: &mut Criterion, model: &ReadModel) {
    let queries: Vec<(&str, Query)> = QUERIES
        .iter()
        .map(|(name, text)| (*name, parsed(text)))
        .collect();
    for (name, query) in &queries {
        let page = model.query_page(query, 0, PAGE_ITEMS).unwrap();
        println!(
            "query_100k_twins/{name}: {} results, {} in the first page",
            page.total,
            page.results.len()
        );
    }
    let mut group = c.benchmark_group("query_100k_twins");
    for (name, query) in &queries {
        group.bench_function(*name, |b| b.iter(|| first_page(model, query)));
    }
    group.finish();
    print_query_percentiles(model, &queries);
}

const PRODUCERS: u64 = 1024;
const PER_PRODUCER: u64 = 50;

/// `PRODUCERS` tasks each append `PER_PRODUCER` telemetry events to a sensor of its own,
/// awaiting each append.
async fn ingest(log: &EventLog, round: u64) {
    let mut tasks = Vec::new();
    for producer in 0..PRODUCERS {
        let log = log.clone();
        let (b, l, r) = (producer % 100, producer / 100 % 10, producer % 49);
        let twin: Arc<str> = Arc::from(format!("b{b:03}-l{l:02}-r{r:02}-t"));
        tasks.push(tokio::spawn(async move {
            for seq in 0..PER_PRODUCER {
                let event = Event::Telemetry {
                    message_id: format!("r{round}-p{producer}-s{seq}"),
                    source_time: None,
                    component: None,
                    data: format!(r#"{{"temperature":{}.5}}"#, seq % 40),
                };
                log.append(vec![NewEvent::new(twin.clone(), &event)])
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// Whether the query client runs, and whether it is inside a query: the ingestion turns switch
/// it on and off, and a turn alone starts only once the query in flight has finished.
#[derive(Default)]
struct QuerySwitch {
    wanted: AtomicBool,
    busy: AtomicBool,
    stopped: AtomicBool,
}

impl QuerySwitch {
    fn turn_on(&self) {
        self.wanted.store(true, Ordering::SeqCst);
    }

    /// Switches queries off and waits for the one in flight, if any.
    fn turn_off(&self) {
        self.wanted.store(false, Ordering::SeqCst);
        while self.busy.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    fn stop(&self) {
        self.turn_off();
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Whether a query may start now; from a true answer until [`QuerySwitch::done`] the switch
    /// counts the caller as busy.
    fn start(&self) -> bool {
        self.busy.store(true, Ordering::SeqCst);
        // Checked after `busy` is set, so that `turn_off` either sees the query or prevents it.
        if self.wanted.load(Ordering::SeqCst) {
            return true;
        }
        self.busy.store(false, Ordering::SeqCst);
        false
    }

    fn done(&self) {
        self.busy.store(false, Ordering::SeqCst);
    }
}

/// Runs the queries back to back through `pool` while `switch` is on, as `POST /query` runs
/// them, until it stops; returns each run's time, the wait for a query thread included.
fn query_loop(pool: QueryPool, switch: Arc<QuerySwitch>) -> Vec<Duration> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let queries: Vec<Arc<Query>> = QUERIES
        .iter()
        .map(|(_, text)| Arc::new(parsed(text)))
        .collect();
    let mut samples = Vec::new();
    let mut next = queries.iter().cycle();
    while !switch.stopped.load(Ordering::SeqCst) {
        if !switch.start() {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let query = next.next().expect("the cycle never ends").clone();
        let started = Instant::now();
        runtime
            .block_on(pool.run(move |model| first_page(model, &query)))
            .unwrap();
        samples.push(started.elapsed());
        switch.done();
    }
    samples
}

/// Samples the follower's freshness lag until `switch` stops: notes the log's head, and times
/// how long the model takes to reflect it. Each sample says whether queries were on.
fn lag_loop(
    log: EventLog,
    model: Arc<SharedReadModel>,
    switch: Arc<QuerySwitch>,
) -> Vec<(bool, Duration)> {
    let mut samples = Vec::new();
    while !switch.stopped.load(Ordering::SeqCst) {
        let querying = switch.wanted.load(Ordering::SeqCst);
        let head_lsn = log.head().lsn;
        let started = Instant::now();
        while model.lsn() < head_lsn {
            std::thread::sleep(Duration::from_micros(100));
        }
        samples.push((querying, started.elapsed()));
        std::thread::sleep(Duration::from_millis(1));
    }
    samples
}

/// Turns of appends alone and with queries, in pairs.
const ROUNDS: usize = 9;
/// How many times each turn runs [`ingest`].
const INGESTS_PER_TURN: u64 = 8;

/// The median of `values`, which it sorts.
fn median(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Durable appends alone and while a client runs the queries, in alternating turns of the same
/// length, so that the machine's drift over the run falls on both alike; each round's ratio is
/// of two turns seconds apart.
fn ingestion(dir: &Path, model: ReadModel) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let log = EventLog::open(dir, LogOptions::new("bench")).unwrap();
    let follower = ReadModelFollower::start(&log, model).unwrap();
    let switch = Arc::new(QuerySwitch::default());
    let querying = {
        let pool = QueryPool::start(follower.model().clone(), QUERY_THREADS_DEFAULT).unwrap();
        let switch = switch.clone();
        std::thread::spawn(move || query_loop(pool, switch))
    };
    let sampling = {
        let (log, model, switch) = (log.clone(), follower.model().clone(), switch.clone());
        std::thread::spawn(move || lag_loop(log, model, switch))
    };
    let mut round = 0;
    let mut turn = |with_queries: bool| {
        if with_queries {
            switch.turn_on();
        }
        let started = Instant::now();
        for _ in 0..INGESTS_PER_TURN {
            round += 1;
            runtime.block_on(ingest(&log, round));
        }
        let events_per_s =
            (INGESTS_PER_TURN * PRODUCERS * PER_PRODUCER) as f64 / started.elapsed().as_secs_f64();
        switch.turn_off();
        events_per_s
    };
    // A turn of each first, unmeasured, to warm the log, the pool and the caches.
    turn(false);
    turn(true);
    let mut rates = [Vec::new(), Vec::new()];
    let mut ratios = Vec::new();
    for _ in 0..ROUNDS {
        let alone = turn(false);
        let with_queries = turn(true);
        println!(
            "ingest_with_queries: round: {alone:.0} events/s alone, {with_queries:.0} while \
             querying: {:.1}%",
            100.0 * with_queries / alone
        );
        rates[0].push(alone);
        rates[1].push(with_queries);
        ratios.push(with_queries / alone);
    }
    switch.stop();
    let mut samples = querying.join().unwrap();
    if let Some((p50, p99)) = percentiles(&mut samples) {
        println!(
            "ingest_with_queries: {} queries ran during the appends; p50 {p50:?}, p99 {p99:?} \
             each (all six queries in turn, waits included)",
            samples.len()
        );
    }
    let [alone, with_queries] = &mut rates;
    let (alone, with_queries) = (median(alone), median(with_queries));
    println!(
        "ingest_with_queries: over {ROUNDS} rounds, median {alone:.0} events/s alone, \
         {with_queries:.0} while querying ({:.1}%); median of the rounds' ratios {:.1}%",
        100.0 * with_queries / alone,
        100.0 * median(&mut ratios)
    );
    let lags = sampling.join().unwrap();
    for (name, on) in [("alone", false), ("while querying", true)] {
        let mut lag: Vec<Duration> = lags
            .iter()
            .filter(|(querying, _)| *querying == on)
            .map(|(_, lag)| *lag)
            .collect();
        if let (Some((p50, p99)), Some(max)) = (percentiles(&mut lag), lag.last()) {
            println!(
                "ingest_with_queries: read model freshness lag {name}: p50 {p50:?}, p99 {p99:?}, \
                 max {max:?} over {} samples",
                lag.len()
            );
        }
    }
}

/// Whether the command line names `group` (or one of its benchmarks) as its filter, which then
/// leaves the other group out. Criterion's own filter does not reach the ingestion rounds,
/// which are timed by hand.
fn named(group: &str) -> bool {
    std::env::args().skip(1).any(|arg| arg.starts_with(group))
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    create_graph(dir.path());
    let log = EventLog::open(dir.path(), LogOptions::new("bench")).unwrap();
    let started = Instant::now();
    let model = ReadModel::rebuild(&log).unwrap();
    println!(
        "read model of {} twins rebuilt from {} records in {:.1} s",
        model.twin_count(),
        model.lsn(),
        started.elapsed().as_secs_f64()
    );
    drop(log);
    if !named("ingest_with_queries") {
        queries(c, &model);
    }
    if !named("query_100k_twins") {
        ingestion(dir.path(), model);
    }
}

criterion_group!(query_benches, benches);
criterion_main!(query_benches);
