//! Replies sent by the log's writer: a write is answered, and a read behind it released, only
//! once the write is durable; a failed append fails its write and those queued behind it,
//! bounces the reads that saw it, and restarts the twin from the log.

use std::time::Duration;

use tokio::sync::oneshot;

use super::*;
use crate::log::EventLog;

/// Holds the log's next commit until the returned sender gives its verdict; the receiver hears
/// when the writer has reached that commit.
fn gate_next_commit(
    log: &EventLog,
) -> (
    std::sync::mpsc::Sender<Result<(), String>>,
    oneshot::Receiver<()>,
) {
    let (verdict, verdict_given) = std::sync::mpsc::channel();
    let (reached, commit_reached) = oneshot::channel();
    log.gate_next_commit(Box::new(move || {
        let _ = reached.send(());
        verdict_given
            .recv()
            .unwrap_or_else(|_| Err("the test dropped its verdict".to_owned()))
    }));
    (verdict, commit_reached)
}

fn spawn_send(
    region: &RegionSupervisor<Counter>,
    twin: &'static str,
    command: Option<CounterCommand>,
) -> tokio::task::JoinHandle<Outcome> {
    let region = region.clone();
    actix_rt::spawn(async move { send(&region, twin, command).await })
}

/// Starts two writes and a read on twin `t` (total 1) while the first write's commit is held,
/// and checks that none is answered while it is held.
async fn writes_and_a_read_behind_a_held_commit(
    region: &RegionSupervisor<Counter>,
    log: &EventLog,
) -> (
    std::sync::mpsc::Sender<Result<(), String>>,
    [tokio::task::JoinHandle<Outcome>; 3],
) {
    assert_eq!(
        send(region, "t", Some(CounterCommand::Add(1)))
            .await
            .unwrap(),
        1
    );
    let (verdict, commit_reached) = gate_next_commit(log);
    let first = spawn_send(region, "t", Some(CounterCommand::Add(2)));
    commit_reached.await.unwrap();
    let second = spawn_send(region, "t", Some(CounterCommand::Add(4)));
    let read = spawn_send(region, "t", None);
    // Time for the actor to decide both writes and hold the read.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for (name, task) in [
        ("first write", &first),
        ("second write", &second),
        ("read", &read),
    ] {
        assert!(
            !task.is_finished(),
            "the {name} was answered before any commit"
        );
    }
    assert_eq!(log.head().lsn, 1);
    (verdict, [first, second, read])
}

#[test]
fn writes_and_the_reads_behind_them_are_answered_only_once_durable() {
    with_region(quick_restarts(), |region, log| async move {
        let (verdict, [first, second, read]) =
            writes_and_a_read_behind_a_held_commit(&region, &log).await;
        verdict.send(Ok(())).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 3);
        // The writer publishes a commit's head before it sends the commit's replies.
        assert!(
            log.head().lsn >= 2,
            "answered before its commit was published"
        );
        assert_eq!(second.await.unwrap().unwrap(), 7);
        assert_eq!(log.head().lsn, 3);
        assert_eq!(read.await.unwrap().unwrap(), 7);
        assert_eq!(replayed_total(&log, "t"), 7);
        assert_eq!(region.stats().restarts(), 0);
    });
}

#[test]
fn a_failed_append_fails_the_writes_bounces_the_reads_that_saw_it_and_restarts_the_twin() {
    with_region(quick_restarts(), |region, log| async move {
        let (verdict, [first, second, read]) =
            writes_and_a_read_behind_a_held_commit(&region, &log).await;
        verdict.send(Err("the disk is gone".to_owned())).unwrap();
        for (name, write) in [("first", first), ("second", second)] {
            let outcome = write.await.unwrap();
            assert!(
                matches!(&outcome, Err(TwinFailure::Storage { .. })),
                "the {name} write: {:?}",
                outcome.map_err(|e| e.to_string())
            );
        }
        // The read saw a total of 7 in the failed actor: it must be read again from the log.
        assert_eq!(read.await.unwrap().unwrap(), 1);
        assert_eq!(replayed_total(&log, "t"), 1);
        assert_eq!(
            region.stats().restarts(),
            1,
            "the successor answered only after its predecessor stopped"
        );
        let outcome = send(&region, "t", Some(CounterCommand::Add(8))).await;
        assert!(
            matches!(&outcome, Err(TwinFailure::Storage { .. })),
            "the log refuses appends after a failed commit: {:?}",
            outcome.map_err(|e| e.to_string())
        );
        assert_eq!(send(&region, "t", None).await.unwrap(), 1);
    });
}
