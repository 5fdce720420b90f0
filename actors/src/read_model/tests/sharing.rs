use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use twinlog_migrations::Event;

use super::{models, SENSOR};
use crate::data_plane::tests::{twin, with_plane};
use crate::data_plane::DataPlane;
use crate::log::{EventLog, LogOptions, NewEvent};
use crate::read_model::*;

/// Far above the 100 ms freshness target, so that a loaded test machine does not fail a test;
/// a follower held up by a query stays behind until the query ends.
const CATCH_UP_WAIT_MAX: Duration = Duration::from_secs(5);

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

/// Uploads the test models, then follows the log from a model rebuilt from it.
async fn follow_models(plane: &DataPlane) -> ReadModelFollower {
    plane.upload_models(models()).await.unwrap();
    let rebuilt = ReadModel::rebuild(plane.log()).unwrap();
    ReadModelFollower::start(plane.log(), rebuilt).unwrap()
}

/// Waits, [`CATCH_UP_WAIT_MAX`] at most, until `done`.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < CATCH_UP_WAIT_MAX,
            "{what} after {CATCH_UP_WAIT_MAX:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn the_follower_catches_up_with_new_writes_quickly() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        let follower = follow_models(&plane).await;
        for round in 0..3 {
            let id = format!("sensor-{round}");
            write_and_wait(&plane, &follower, &id, CATCH_UP_WAIT_MAX).await;
            let model = follower.model().snapshot().unwrap();
            assert_eq!(model.lsn(), plane.log().head().lsn);
            assert!(model.twin(&id).is_some(), "{id}");
        }
        let followed = follower.model().snapshot().unwrap();
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
fn the_follower_stops_and_lets_go_of_the_log_when_the_log_closes() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
    let follower = ReadModelFollower::start(&log, ReadModel::new()).unwrap();
    assert!(follower.is_following());
    drop(log);
    wait_until("still following", || !follower.is_following());
    // The follower held only the log's reader, and its thread has dropped it.
    EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
}

#[test]
fn queries_run_under_sched_idle_and_a_panic_fails_only_its_own() {
    let shared = Arc::new(SharedReadModel::new(ReadModel::new()));
    let pool = QueryPool::start(shared, QUERY_THREADS_DEFAULT).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        // SAFETY: reads the calling thread's policy only.
        let policy = pool
            .run(|_| unsafe { libc::sched_getscheduler(0) })
            .await
            .unwrap();
        assert_eq!(policy, libc::SCHED_IDLE);
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
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        plane.upload_models(models()).await.unwrap();
        let follower = ReadModelFollower::start(plane.log(), ReadModel::new()).unwrap();
        let applied_lsn = plane.log().head().lsn;
        wait_until("the follower has not applied the models", || {
            follower.model().lsn() == applied_lsn
        });
        // A record the data plane would never write: the deletion of a twin that never existed.
        let deleted = Event::TwinDeleted { at_ms: 1 };
        plane
            .log()
            .append(vec![NewEvent::new(Arc::from("ghost"), &deleted)])
            .await
            .unwrap();
        wait_until("still following", || !follower.is_following());
        let read = follower.model().read(ReadModel::lsn);
        assert!(
            matches!(read, Err(QueryRunError::Halted { lsn }) if lsn == applied_lsn),
            "{read:?}"
        );
    });
}

/// What a query that held its snapshot saw.
struct Held {
    lsn_at_start: u64,
    lsn_at_end: u64,
    /// Whether the follower published a later snapshot while the query held its own.
    passed_by_follower: bool,
    sees_new_twin: bool,
}

#[test]
fn a_query_holding_a_snapshot_does_not_hold_up_the_follower() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        let follower = follow_models(&plane).await;
        let pool = QueryPool::start(follower.model().clone(), QUERY_THREADS_DEFAULT).unwrap();
        let (entered, holding) = tokio::sync::oneshot::channel();
        let shared = follower.model().clone();
        // The query does not end until the follower has published past its snapshot: were the
        // follower to wait for it, both would wait until the deadline.
        let query = pool.run(move |model| {
            let lsn_at_start = model.lsn();
            entered.send(()).unwrap();
            let started = Instant::now();
            while shared.lsn() <= lsn_at_start && started.elapsed() < CATCH_UP_WAIT_MAX {
                std::thread::sleep(Duration::from_millis(1));
            }
            Held {
                lsn_at_start,
                lsn_at_end: model.lsn(),
                passed_by_follower: shared.lsn() > lsn_at_start,
                sees_new_twin: model.twin("sensor-new").is_some(),
            }
        });
        let writing = async {
            holding.await.unwrap();
            write_and_wait(&plane, &follower, "sensor-new", CATCH_UP_WAIT_MAX).await;
        };
        let (held, ()) = tokio::join!(query, writing);
        let held = held.unwrap();
        assert!(held.passed_by_follower);
        assert_eq!(held.lsn_at_end, held.lsn_at_start);
        assert!(!held.sees_new_twin);
        let model = follower.model().snapshot().unwrap();
        assert!(model.lsn() > held.lsn_at_start);
        assert!(model.twin("sensor-new").is_some());
    });
}

#[test]
fn the_follower_keeps_up_while_queries_run_back_to_back() {
    /// How long each query holds its snapshot: longer than any query of the benchmark.
    const QUERY_HOLD: Duration = Duration::from_millis(30);
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        let follower = follow_models(&plane).await;
        let stop = Arc::new(AtomicBool::new(false));
        let querying = {
            let (model, stop) = (follower.model().clone(), stop.clone());
            std::thread::spawn(move || {
                let mut queries = 0;
                while !stop.load(Ordering::Relaxed) {
                    model.read(|_| std::thread::sleep(QUERY_HOLD)).unwrap();
                    queries += 1;
                }
                queries
            })
        };
        let mut lag_max = Duration::ZERO;
        for n in 0..20 {
            let id = format!("sensor-{n}");
            let lag = write_and_wait(&plane, &follower, &id, CATCH_UP_WAIT_MAX).await;
            lag_max = lag_max.max(lag);
        }
        stop.store(true, Ordering::Relaxed);
        let queries = querying.join().unwrap();
        assert!(queries > 0, "no query ran");
        println!("{queries} queries ran; the follower lagged {lag_max:?} at most");
    });
}
