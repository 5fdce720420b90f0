use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use twinlog_dtdl::Dtmi;
use twinlog_migrations::Event;

use super::*;
use crate::data_plane::tests::{twin, with_plane};
use crate::data_plane::DataPlane;
use crate::log::{EventLog, LogOptions};

const SENSOR: &str = "dtmi:example:Sensor;1";
const ROOM: &str = "dtmi:example:Room;1";
const MEETING_ROOM: &str = "dtmi:example:MeetingRoom;1";

/// A sensor, a room that has sensors, and a meeting room that extends the room.
fn models() -> Value {
    json!([
        {
            "@id": SENSOR, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "reading", "schema": "double"},
                {"@type": "Telemetry", "name": "temperature", "schema": "double"}
            ]
        },
        {
            "@id": ROOM, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "area", "schema": "double"},
                {"@type": "Property", "name": "name", "schema": "string"},
                {"@type": "Relationship", "name": "hasSensor", "target": SENSOR}
            ]
        },
        {
            "@id": MEETING_ROOM, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "extends": ROOM,
            "contents": [{"@type": "Property", "name": "seats", "schema": "integer"}]
        }
    ])
}

fn has_sensor(target: &str) -> Value {
    json!({"$targetId": target, "$relationshipName": "hasSensor"})
}

/// Twins of all three models, three relationships, a patch and telemetry (which moves ETags).
async fn build_graph(plane: &DataPlane) {
    plane.upload_models(models()).await.unwrap();
    for (id, body) in [
        ("room-1", twin(ROOM, "area", 20.0)),
        (
            "meeting-1",
            json!({"$metadata": {"$model": MEETING_ROOM}, "seats": 8, "area": 30.0}),
        ),
        ("sensor-1", twin(SENSOR, "reading", 1.5)),
        ("sensor-2", twin(SENSOR, "reading", 2.5)),
    ] {
        plane.put_twin(id, body, true).await.unwrap();
    }
    for (source, relationship_id, target) in [
        ("room-1", "r1", "sensor-1"),
        ("meeting-1", "r2", "sensor-1"),
        ("meeting-1", "r3", "sensor-2"),
    ] {
        plane
            .put_relationship(source, relationship_id, has_sensor(target), true)
            .await
            .unwrap();
    }
    let patch = json!([{"op": "replace", "path": "/area", "value": 25.0}]);
    plane.patch_twin("room-1", patch, None).await.unwrap();
    plane
        .send_telemetry("sensor-1", None, "m1", None, json!({"temperature": 21.0}))
        .await
        .unwrap();
}

fn dtmi(text: &str) -> Dtmi {
    text.parse().unwrap()
}

fn of_model(model: &ReadModel, id: &str, exact: bool) -> BTreeSet<String> {
    let id = dtmi(id);
    model
        .twins_of_model(&id, exact)
        .map(str::to_owned)
        .collect()
}

fn incoming(model: &ReadModel, target_id: &str) -> BTreeSet<(String, String)> {
    model
        .incoming(target_id)
        .map(|(source, id)| (source.to_owned(), id.to_owned()))
        .collect()
}

fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

#[test]
fn a_rebuilt_read_model_shows_what_the_data_plane_shows() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        build_graph(&plane).await;
        let model = ReadModel::rebuild(plane.log()).unwrap();
        assert_eq!(model.lsn(), plane.log().head().lsn);
        assert_eq!(model.twin_count(), 4);
        assert_eq!(model.models().len(), 3);
        for id in ["room-1", "meeting-1", "sensor-1", "sensor-2"] {
            let state = model.twin(id).unwrap();
            let served = plane.get_twin(id).await.unwrap();
            assert_eq!(state.twin_document().unwrap(), served.body, "{id}");
            assert_eq!(state.existing().unwrap().etag(), served.etag, "{id}");
            assert_eq!(
                state.relationship_documents(None).unwrap(),
                plane.list_relationships(id, None).await.unwrap(),
                "{id}"
            );
            let served_incoming: BTreeSet<(String, String)> = plane
                .list_incoming_relationships(id)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    let field = |name: &str| r[name].as_str().unwrap().to_owned();
                    (field("$sourceId"), field("$relationshipId"))
                })
                .collect();
            assert_eq!(incoming(&model, id), served_incoming, "{id}");
        }
    });
}

#[test]
fn is_of_model_follows_inheritance_unless_exact() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        build_graph(&plane).await;
        let model = ReadModel::rebuild(plane.log()).unwrap();
        assert_eq!(of_model(&model, ROOM, false), set(["meeting-1", "room-1"]));
        assert_eq!(of_model(&model, ROOM, true), set(["room-1"]));
        assert_eq!(of_model(&model, MEETING_ROOM, false), set(["meeting-1"]));
        assert_eq!(
            of_model(&model, SENSOR, false),
            set(["sensor-1", "sensor-2"])
        );
        assert!(of_model(&model, "dtmi:example:Unknown;1", false).is_empty());
    });
}

#[test]
fn deleted_twins_and_relationships_leave_the_indexes() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        build_graph(&plane).await;
        plane
            .delete_relationship("meeting-1", "r3", None)
            .await
            .unwrap();
        plane.delete_twin("sensor-2", None).await.unwrap();
        plane
            .delete_relationship("room-1", "r1", None)
            .await
            .unwrap();
        let model = ReadModel::rebuild(plane.log()).unwrap();
        assert!(model.twin("sensor-2").is_none());
        assert_eq!(model.twin_count(), 3);
        assert_eq!(of_model(&model, SENSOR, false), set(["sensor-1"]));
        assert!(incoming(&model, "sensor-2").is_empty());
        assert_eq!(
            incoming(&model, "sensor-1"),
            BTreeSet::from([("meeting-1".to_owned(), "r2".to_owned())])
        );

        // A twin created again continues its stream's ETags, as the data plane's does.
        let again = plane
            .put_twin("sensor-2", twin(SENSOR, "reading", 3.0), true)
            .await
            .unwrap();
        let model = ReadModel::rebuild(plane.log()).unwrap();
        assert_eq!(
            model.twin("sensor-2").unwrap().existing().unwrap().etag(),
            again.etag
        );
    });
}

/// Writes the sensor `id` and waits, `wait_max` at most, until `follower`'s model reflects the
/// log's head: how long that took.
async fn write_and_wait(
    plane: &DataPlane,
    follower: &ReadModelFollower,
    id: &str,
    wait_max: Duration,
) -> Duration {
    plane
        .put_twin(id, twin(SENSOR, "reading", 1.0), true)
        .await
        .unwrap();
    let head_lsn = plane.log().head().lsn;
    let started = Instant::now();
    while follower.model().lsn() < head_lsn {
        assert!(
            started.elapsed() < wait_max,
            "the follower is still behind LSN {head_lsn} after {wait_max:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    started.elapsed()
}

#[test]
fn the_follower_catches_up_with_new_writes_quickly() {
    /// Far above the 100 ms target, so that a loaded test machine does not fail the test.
    const CATCH_UP_WAIT_MAX: Duration = Duration::from_secs(5);
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        plane.upload_models(models()).await.unwrap();
        let rebuilt = ReadModel::rebuild(plane.log()).unwrap();
        let follower = ReadModelFollower::start(plane.log(), rebuilt).unwrap();
        for round in 0..3 {
            let id = format!("sensor-{round}");
            write_and_wait(&plane, &follower, &id, CATCH_UP_WAIT_MAX).await;
            let model = follower.model().read(ReadModel::clone).unwrap();
            assert_eq!(model.lsn(), plane.log().head().lsn);
            assert!(model.twin(&id).is_some(), "{id}");
        }
        let followed = follower.model().read(ReadModel::clone).unwrap();
        drop(follower);
        let rebuilt = ReadModel::rebuild(plane.log()).unwrap();
        assert_eq!(followed.lsn(), rebuilt.lsn());
        let documents = |model: &ReadModel| -> Vec<Value> {
            let mut documents: Vec<Value> = model
                .twins()
                .map(|state| state.twin_document().unwrap())
                .collect();
            documents.sort_by_key(|document| document["$dtId"].to_string());
            documents
        };
        assert_eq!(documents(&followed), documents(&rebuilt));
    });
}

#[test]
fn a_record_out_of_lsn_order_is_refused_and_changes_nothing() {
    let mut model = ReadModel::new();
    let event = Event::TwinDeleted { at_ms: 1 };
    let refused = model.apply(2, "room-1", &event).unwrap_err();
    assert!(matches!(
        refused,
        ReadModelError::OutOfOrder {
            expected_lsn: 1,
            lsn: 2
        }
    ));
    assert_eq!(model.lsn(), 0);
    assert_eq!(model.twin_count(), 0);
}

#[test]
fn the_follower_stops_and_lets_go_of_the_log_when_the_log_closes() {
    const STOP_WAIT_MAX: Duration = Duration::from_secs(5);
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
    let follower = ReadModelFollower::start(&log, ReadModel::new()).unwrap();
    assert!(follower.is_following());
    drop(log);
    let started = Instant::now();
    while follower.is_following() {
        assert!(
            started.elapsed() < STOP_WAIT_MAX,
            "still following after {STOP_WAIT_MAX:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // The follower held only the log's reader, and its thread has dropped it.
    EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
}

/// The nice value of the calling thread, from `/proc/thread-self/stat` (its 19th field).
fn own_nice() -> i32 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // The command name (field 2) may hold spaces; the fields after it do not.
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    after_name
        .split_whitespace()
        .nth(16)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn queries_run_at_the_low_priority_and_a_panic_fails_only_its_own() {
    let shared = Arc::new(SharedReadModel::new(ReadModel::new()));
    let pool = QueryPool::start(shared, QUERY_THREADS_DEFAULT).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let nice = pool.run(|_| own_nice()).await.unwrap();
        assert_eq!(nice, QUERY_THREAD_NICE);
        let panicked = pool.run(|_| -> u64 { panic!("a query that fails") }).await;
        assert!(
            matches!(panicked, Err(QueryRunError::Panicked)),
            "{panicked:?}"
        );
        assert_eq!(pool.run(ReadModel::lsn).await.unwrap(), 0);
    });
}

#[test]
fn a_panic_while_applying_halts_the_model_for_queries() {
    let shared = Arc::new(SharedReadModel::new(ReadModel::new()));
    assert_eq!(shared.read(ReadModel::lsn).unwrap(), 0);
    let applying = shared.clone();
    let applied = std::thread::spawn(move || {
        applying.apply(true, |model| {
            model
                .apply(1, "room-1", &Event::TwinDeleted { at_ms: 1 })
                .unwrap();
        })
    })
    .join();
    assert!(
        applied.is_err(),
        "deleting a twin that never existed applied"
    );
    let read = shared.read(ReadModel::lsn);
    assert!(
        matches!(read, Err(QueryRunError::Halted { .. })),
        "{read:?}"
    );
}

#[test]
fn the_follower_keeps_up_while_queries_hold_the_lock_back_to_back() {
    /// How long each query holds the lock: longer than any query of the benchmark.
    const QUERY_HOLD: Duration = Duration::from_millis(30);
    /// Far above one query's hold plus one apply budget, so that a loaded test machine does not
    /// fail the test; a follower kept out of the lock by the queries stays behind for good.
    const LAG_MAX: Duration = Duration::from_secs(2);
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        plane.upload_models(models()).await.unwrap();
        let rebuilt = ReadModel::rebuild(plane.log()).unwrap();
        let follower = ReadModelFollower::start(plane.log(), rebuilt).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let querying = {
            let (model, stop) = (follower.model().clone(), stop.clone());
            std::thread::spawn(move || {
                let mut queries = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    model.read(|_| std::thread::sleep(QUERY_HOLD)).unwrap();
                    queries += 1;
                }
                queries
            })
        };
        let mut lag_max = Duration::ZERO;
        for n in 0..20 {
            let lag = write_and_wait(&plane, &follower, &format!("sensor-{n}"), LAG_MAX).await;
            lag_max = lag_max.max(lag);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let queries = querying.join().unwrap();
        assert!(queries > 0, "no query ran");
        println!("{queries} queries held the lock; the follower lagged {lag_max:?} at most");
    });
}
