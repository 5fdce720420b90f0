use std::sync::atomic::Ordering;
use std::sync::Arc;

use twinlog_migrations::{Event, GENESIS_HASH};

use super::*;

fn telemetry(n: u64) -> Event {
    Event::Telemetry {
        message_id: format!("m{n}"),
        source_time: None,
        component: None,
        data: format!(r#"{{"n":{n}}}"#),
    }
}

fn event(twin: &str, n: u64) -> NewEvent {
    NewEvent::new(Arc::from(twin), &telemetry(n))
}

fn options() -> LogOptions {
    LogOptions {
        checkpoint_interval_events: 5,
        ..LogOptions::new("test")
    }
}

/// A runtime for tests that drive the log (and what follows it) from async code.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// (lsn, twin, version, event) of every record, through the replay path.
fn replayed(log: &EventLog) -> Vec<(u64, String, u64, Event)> {
    log.replay_from(1)
        .map(|stored| {
            let stored = stored.unwrap();
            let record = stored.decode().unwrap();
            (
                record.header.lsn,
                record.header.twin_id.to_owned(),
                record.header.twin_version,
                record.event().unwrap(),
            )
        })
        .collect()
}

#[test]
fn appends_get_contiguous_lsns_and_per_twin_versions() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    let rt = runtime();
    let acks = rt
        .block_on(log.append(vec![event("a", 1), event("b", 2), event("a", 3)]))
        .unwrap();
    let got: Vec<(u64, u64)> = acks.iter().map(|a| (a.lsn, a.twin_version)).collect();
    assert_eq!(got, [(1, 1), (2, 1), (3, 2)]);
    let acks = rt.block_on(log.append(vec![event("b", 4)])).unwrap();
    assert_eq!((acks[0].lsn, acks[0].twin_version), (4, 2));
    assert_eq!(log.head().lsn, 4);
    assert!(log.accepts_appends());
    assert_eq!(log.twin_head("a"), Some(TwinHead { version: 2, lsn: 3 }));
    let all = replayed(&log);
    assert_eq!(all.len(), 4);
    assert_eq!(all[2], (3, "a".to_owned(), 2, telemetry(3)));
}

#[test]
fn a_twin_stream_is_read_from_any_version_without_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), options()).unwrap();
    let rt = runtime();
    for n in 0..12 {
        let twin = if n % 3 == 0 { "x" } else { "y" };
        rt.block_on(log.append(vec![event(twin, n)])).unwrap();
    }
    let versions = |from| -> Vec<(u64, Event)> {
        log.twin_stream("x", from)
            .unwrap()
            .iter()
            .map(|s| {
                let r = s.decode().unwrap();
                (r.header.twin_version, r.event().unwrap())
            })
            .collect()
    };
    assert_eq!(
        versions(1),
        [
            (1, telemetry(0)),
            (2, telemetry(3)),
            (3, telemetry(6)),
            (4, telemetry(9))
        ]
    );
    assert_eq!(versions(3), [(3, telemetry(6)), (4, telemetry(9))]);
    assert!(versions(5).is_empty());
    assert!(log.twin_stream("nobody", 1).unwrap().is_empty());
}

#[test]
fn reopening_recovers_heads_and_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let before = {
        let log = EventLog::open(dir.path(), options()).unwrap();
        // 13 events with a checkpoint every 5: the reopen uses a checkpoint and replays a tail.
        for n in 0..13 {
            rt.block_on(log.append(vec![event(&format!("t{}", n % 4), n)]))
                .unwrap();
        }
        (
            log.head(),
            (0..4)
                .map(|t| log.twin_head(&format!("t{t}")))
                .collect::<Vec<_>>(),
        )
    };
    let log = EventLog::open(dir.path(), options()).unwrap();
    assert_eq!(log.head(), before.0);
    let heads: Vec<_> = (0..4).map(|t| log.twin_head(&format!("t{t}"))).collect();
    assert_eq!(heads, before.1);
    let ack = rt.block_on(log.append(vec![event("t1", 99)])).unwrap()[0];
    assert_eq!((ack.lsn, ack.twin_version), (14, 4));
    drop(log);
    let report = twinlog_migrations::verify(dir.path()).unwrap();
    assert_eq!(report.last_lsn, 14);
    assert_eq!(report.twins, 4);
    assert!(
        report.checkpoint_lsn >= 10,
        "checkpoint at {}",
        report.checkpoint_lsn
    );
    assert_ne!(report.head_hash, GENESIS_HASH);
}

#[test]
fn concurrent_producers_keep_their_own_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
    let rt = runtime();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for producer in 0..16u64 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                for seq in 0..50u64 {
                    log.append(vec![event(&format!("p{producer}"), seq)])
                        .await
                        .unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let mut next_seq = std::collections::HashMap::new();
    for (_, twin, version, event) in replayed(&log) {
        let seq = next_seq.entry(twin).or_insert(0u64);
        assert_eq!(event, telemetry(*seq));
        assert_eq!(version, *seq + 1);
        *seq += 1;
    }
    assert_eq!(log.head().lsn, 800);
    assert!(log.stats().mean_batch_events() >= 1.0);
}

#[test]
fn replay_runs_while_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
    let rt = runtime();
    rt.block_on(log.append((0..100).map(|n| event("a", n)).collect()))
        .unwrap();
    let mut replay = log.replay_from(1);
    let first = replay.next().unwrap().unwrap();
    assert_eq!(first.lsn, 1);
    rt.block_on(log.append((100..200).map(|n| event("a", n)).collect()))
        .unwrap();
    // The replay goes on past the snapshot it started in, to the log's new end.
    assert_eq!(replay.count(), 199);
}

#[test]
fn a_log_of_another_region_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(EventLog::open(dir.path(), LogOptions::new("west")).unwrap());
    let error = EventLog::open(dir.path(), LogOptions::new("east"))
        .err()
        .unwrap();
    assert!(matches!(error, OpenError::RegionMismatch { .. }), "{error}");
    assert!(error.to_string().contains("`west`"));
}

#[test]
fn a_second_writer_on_the_same_directory_is_refused_as_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
    let error = EventLog::open(dir.path(), LogOptions::new("test"))
        .err()
        .unwrap();
    assert!(
        matches!(
            error,
            OpenError::Format(twinlog_migrations::FormatError::Locked { .. })
        ),
        "{error}"
    );
}

#[test]
fn side_writes_commit_in_order_and_survive_a_reopen_without_moving_the_head() {
    use redb::ReadableTable;
    use twinlog_migrations::routes::ROUTE_CURSORS as TABLE;

    let put = |key: &[u8], value: &[u8]| SideOp::Put {
        table: TABLE,
        key: key.to_vec(),
        value: value.to_vec(),
    };
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    {
        let log = EventLog::open(dir.path(), options()).unwrap();
        rt.block_on(log.append(vec![event("a", 1)])).unwrap();
        let mut head = log.subscribe();
        head.borrow_and_update();
        let commits = log.stats().commits.load(Ordering::Relaxed);
        rt.block_on(log.write_side(vec![
            put(b"a", b"1"),
            put(b"b", b"2"),
            put(b"c", b"3"),
            SideOp::PutIfAbsent {
                table: TABLE,
                key: b"a".to_vec(),
                value: b"kept only if a were absent".to_vec(),
            },
            SideOp::Remove {
                table: TABLE,
                key: b"c".to_vec(),
            },
        ]))
        .unwrap();
        // Appends and side writes queued together share commits; both stay in queue order.
        let appended = rt.block_on(async {
            let side = log.write_side(vec![put(b"d", b"4")]);
            let append = log.append(vec![event("a", 2)]);
            tokio::join!(side, append)
        });
        appended.0.unwrap();
        assert_eq!(appended.1.unwrap()[0].lsn, 2);
        head.borrow_and_update();
        rt.block_on(log.write_side(vec![SideOp::RemoveRange {
            table: TABLE,
            start: b"b".to_vec(),
            end: b"c".to_vec(),
        }]))
        .unwrap();
        // Queued without waiting for room or for the commit, then waited for.
        let queued = log.submit_side(vec![put(b"e", b"5")]).unwrap();
        rt.block_on(queued).unwrap();
        assert_eq!(log.head().lsn, 2);
        assert!(
            !head.has_changed().unwrap(),
            "a side write alone wakes no follower"
        );
        assert!(log.stats().commits.load(Ordering::Relaxed) > commits);
    }
    let log = EventLog::open(dir.path(), options()).unwrap();
    assert_eq!(log.head().lsn, 2);
    let txn = log.reader().database().begin_read().unwrap();
    let table = txn.open_table(TABLE.definition()).unwrap();
    let stored: Vec<(Vec<u8>, Vec<u8>)> = table
        .iter()
        .unwrap()
        .map(|entry| {
            let (key, value) = entry.unwrap();
            (key.value().to_vec(), value.value().to_vec())
        })
        .collect();
    assert_eq!(
        stored,
        [
            (b"a".to_vec(), b"1".to_vec()),
            (b"d".to_vec(), b"4".to_vec()),
            (b"e".to_vec(), b"5".to_vec())
        ]
    );
}
