//! The event log's throughput, each figure beside a raw redb baseline measured in the same run.
//!
//! - `append_{1,64,1024}_producers`: durable appends through `EventLog` from concurrent producers,
//!   each awaiting its own append, against raw redb inserts of the same record bytes committed in
//!   batches of the size the log's group commit actually formed (read from its stats).
//! - `replay`: a full scan-and-decode of a 1M-event log through `EventLog::replay_from`, against a
//!   raw redb range scan with the same decoding.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use redb::{Database, ReadableDatabase};
use twinlog_actors::log::{EventLog, LogOptions, NewEvent};
use twinlog_migrations::format::EVENTS;
use twinlog_migrations::{Event, RecordHeader, GENESIS_HASH};

// The same allocator as the `twinlog` binary, for the log and its baseline alike.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn telemetry(producer: u64, seq: u64) -> Event {
    Event::Telemetry {
        message_id: format!("p{producer}-s{seq}"),
        source_time: None,
        component: None,
        data: format!(r#"{{"temperature":{}.5,"humidity":40}}"#, seq % 40),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `producers` tasks each append `per_producer` single-event appends, awaiting each one.
async fn append_concurrently(log: &EventLog, producers: u64, per_producer: u64) {
    let mut tasks = Vec::with_capacity(producers as usize);
    for producer in 0..producers {
        let log = log.clone();
        let twin: Arc<str> = Arc::from(format!("twin-{producer}"));
        tasks.push(tokio::spawn(async move {
            for seq in 0..per_producer {
                log.append(vec![NewEvent::new(twin.clone(), &telemetry(producer, seq))])
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// The records `count` events would become, already encoded: the raw baseline's input.
fn encoded_records(first_lsn: u64, count: u64) -> Vec<Vec<u8>> {
    let mut hash = GENESIS_HASH;
    (first_lsn..first_lsn + count)
        .map(|lsn| {
            let twin = format!("twin-{}", lsn % 1024);
            let payload = telemetry(lsn % 1024, lsn).encode();
            let header = RecordHeader {
                lsn,
                epoch: 1,
                twin_id: &twin,
                twin_version: lsn / 1024 + 1,
                prev_twin_lsn: lsn.saturating_sub(1024),
                time_ms: 1_795_000_000_000,
                payload: &payload,
            };
            let (bytes, next) = header.encode(&hash);
            hash = next;
            bytes
        })
        .collect()
}

fn raw_insert(db: &Database, next_lsn: &mut u64, records: &[Vec<u8>], batch: usize) {
    for chunk in records.chunks(batch.max(1)) {
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(EVENTS).unwrap();
            for bytes in chunk {
                table.insert(*next_lsn, bytes.as_slice()).unwrap();
                *next_lsn += 1;
            }
        }
        txn.commit().unwrap();
    }
}

fn append(c: &mut Criterion) {
    let rt = runtime();
    for (producers, per_producer) in [(1u64, 300u64), (64, 100), (1024, 50)] {
        let events = producers * per_producer;
        let mut group = c.benchmark_group(format!("append_{producers}_producers"));
        group.throughput(Throughput::Elements(events));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(8));

        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), LogOptions::new("bench")).unwrap();
        group.bench_function("event_log", |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    rt.block_on(append_concurrently(&log, producers, per_producer));
                }
                started.elapsed()
            })
        });
        let batch = log.stats().mean_batch_events().round().max(1.0) as usize;
        drop(log);

        let raw_dir = tempfile::tempdir().unwrap();
        let db = Database::create(raw_dir.path().join("raw.redb")).unwrap();
        let records = encoded_records(1, events);
        let mut next_lsn = 1;
        group.bench_function(BenchmarkId::new("raw_redb_batch", batch), |b| {
            b.iter(|| raw_insert(&db, &mut next_lsn, &records, batch))
        });
        group.finish();
        eprintln!("append_{producers}_producers: event_log mean batch {batch} events");
    }
}

fn replay(c: &mut Criterion) {
    const EVENTS_IN_LOG: u64 = 1_000_000;
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), LogOptions::new("bench")).unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for producer in 0..64u64 {
            let log = log.clone();
            let twin: Arc<str> = Arc::from(format!("twin-{producer}"));
            tasks.push(tokio::spawn(async move {
                for chunk in 0..(EVENTS_IN_LOG / 64 / 250) {
                    let events = (0..250)
                        .map(|i| NewEvent::new(twin.clone(), &telemetry(producer, chunk * 250 + i)))
                        .collect();
                    log.append(events).await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let total = log.head().lsn;

    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(total));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("event_log", |b| {
        b.iter(|| {
            let mut count = 0u64;
            for stored in log.replay_from(1) {
                let stored = stored.unwrap();
                let record = stored.decode().unwrap();
                std::hint::black_box(record.event().unwrap());
                count += 1;
            }
            assert_eq!(count, total);
        })
    });
    drop(log);
    let db = Database::open(dir.path().join("events.redb")).unwrap();
    group.bench_function("raw_redb_scan_decode", |b| {
        b.iter(|| {
            let txn = db.begin_read().unwrap();
            let table = txn.open_table(EVENTS).unwrap();
            let mut count = 0u64;
            for entry in table.range(1u64..).unwrap() {
                let (_, bytes) = entry.unwrap();
                let bytes = bytes.value();
                // The same postcard decoding, without the envelope's checks.
                let header: RecordHeader = postcard::from_bytes(&bytes[37..]).unwrap();
                std::hint::black_box(Event::decode(header.payload).unwrap());
                count += 1;
            }
            assert_eq!(count, total);
        })
    });
    group.finish();
}

criterion_group!(benches, append, replay);
criterion_main!(benches);
