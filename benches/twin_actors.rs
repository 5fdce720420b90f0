//! Durable commands through the twin actors, beside the same durable appends through a plain
//! tokio mpsc pipeline, both in the same run on the same log; and cold activation of twins with
//! 100 events each, beside a bare read of the same 100 records.

#[path = "support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Arbiter, System, SystemRunner};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use twinlog_actors::data_plane::DataPlane;
use twinlog_actors::log::{EventLog, NewEvent};
use twinlog_actors::region::RegionOptions;
use twinlog_migrations::Event;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TWINS: u64 = 10_000;
const CLIENTS: u64 = 1024;
const COMMANDS: u64 = 20_480;

fn patch(value: u64) -> Value {
    json!([{"op": "replace", "path": "/weight", "value": value as f64 + 0.5}])
}

struct Region {
    system: SystemRunner,
    plane: DataPlane,
    arbiters: Vec<Arbiter>,
    _dir: tempfile::TempDir,
}

/// A data plane with the RealEstateCore models and `twins` equipment twins.
fn region(twins: u64) -> Region {
    let dir = tempfile::tempdir().unwrap();
    let system = System::new();
    let arbiters: Vec<Arbiter> = (0..2).map(|_| Arbiter::new()).collect();
    let plane = system.block_on(async {
        let plane =
            support::realestatecore_plane(dir.path(), RegionOptions::new("bench"), &arbiters).await;
        let mut tasks = Vec::new();
        for client in 0..CLIENTS {
            let plane = plane.clone();
            tasks.push(actix_rt::spawn(async move {
                for n in (client..twins).step_by(CLIENTS as usize) {
                    plane
                        .put_twin(&format!("equipment-{n}"), support::equipment_twin(n), false)
                        .await
                        .unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        plane
    });
    Region {
        system,
        plane,
        arbiters,
        _dir: dir,
    }
}

async fn commands_through_actors(plane: &DataPlane, round: u64) {
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let plane = plane.clone();
        tasks.push(actix_rt::spawn(async move {
            for k in 0..COMMANDS / CLIENTS {
                let twin = (client * 7919 + k * 104_729 + round) % TWINS;
                plane
                    .patch_twin(&format!("equipment-{twin}"), patch(k), None)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

type Ack = oneshot::Sender<()>;

/// The baseline: the same clients send the same events down one tokio mpsc channel to one task,
/// which appends them (pipelined, in order) and acknowledges each once durable.
async fn commands_through_mpsc(log: &EventLog, round: u64) {
    let (sender, mut receiver) = mpsc::channel::<(Arc<str>, Event, Ack)>(4096);
    let log = log.clone();
    let appender = actix_rt::spawn(async move {
        while let Some((twin, event, ack)) = receiver.recv().await {
            let pending = log.submit(vec![NewEvent::new(twin, &event)]).unwrap();
            actix_rt::spawn(async move {
                pending.await.unwrap();
                let _ = ack.send(());
            });
        }
    });
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let sender = sender.clone();
        tasks.push(actix_rt::spawn(async move {
            for k in 0..COMMANDS / CLIENTS {
                let twin = (client * 7919 + k * 104_729 + round) % TWINS;
                let event = Event::TwinPatched {
                    at_ms: 1_795_000_000_000,
                    patch: patch(k).to_string(),
                };
                let (ack, acked) = oneshot::channel();
                sender
                    .send((Arc::from(format!("equipment-{twin}")), event, ack))
                    .await
                    .unwrap();
                acked.await.unwrap();
            }
        }));
    }
    drop(sender);
    for task in tasks {
        task.await.unwrap();
    }
    appender.await.unwrap();
}

fn durable_commands(c: &mut Criterion) {
    let region = region(TWINS);
    let mut group = c.benchmark_group("commands_10000_twins");
    group.throughput(Throughput::Elements(COMMANDS));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15));
    // Each round targets other twins, so that successive iterations do not repeat one pattern.
    let mut round = 0;
    let mut timed = |iters: u64, run: &dyn Fn(u64)| {
        let started = Instant::now();
        for _ in 0..iters {
            round += 1;
            run(round);
        }
        started.elapsed()
    };
    group.bench_function("twin_actors", |b| {
        b.iter_custom(|iters| {
            timed(iters, &|round| {
                region
                    .system
                    .block_on(commands_through_actors(&region.plane, round))
            })
        })
    });
    group.bench_function("tokio_mpsc_pipeline", |b| {
        b.iter_custom(|iters| {
            timed(iters, &|round| {
                region
                    .system
                    .block_on(commands_through_mpsc(region.plane.log(), round))
            })
        })
    });
    group.finish();
    for arbiter in &region.arbiters {
        arbiter.stop();
    }
}

/// Cold activation: a fresh data plane on a log where each twin has 100 events, timing the
/// first read of each twin (actor start, replay of its 100 records, render).
fn cold_activation(c: &mut Criterion) {
    const ACTIVATED: u64 = 500;
    let region = region(ACTIVATED);
    region.system.block_on(async {
        for n in 0..ACTIVATED {
            for k in 0..99 {
                region
                    .plane
                    .patch_twin(&format!("equipment-{n}"), patch(k), None)
                    .await
                    .unwrap();
            }
        }
    });
    let log = region.plane.log().clone();
    assert_eq!(log.twin_head("equipment-0").map(|h| h.version), Some(100));
    let options = RegionOptions {
        idle_timeout: Duration::from_secs(3600),
        ..RegionOptions::new("bench")
    };
    let handles = region.arbiters.iter().map(Arbiter::handle).collect();
    let fresh = region
        .system
        .block_on(async { DataPlane::start(log.clone(), options, handles).unwrap() });

    let mut activation_us = Vec::new();
    let mut read_us = Vec::new();
    region.system.block_on(async {
        for n in 0..ACTIVATED {
            let twin = format!("equipment-{n}");
            let started = Instant::now();
            let records = log.twin_stream(&twin, 1).unwrap();
            for stored in &records {
                std::hint::black_box(stored.decode().unwrap().event().unwrap());
            }
            read_us.push(started.elapsed().as_secs_f64() * 1e6);
            let started = Instant::now();
            fresh.get_twin(&twin).await.unwrap();
            activation_us.push(started.elapsed().as_secs_f64() * 1e6);
        }
    });
    let percentile = |values: &mut Vec<f64>, p: f64| {
        values.sort_by(f64::total_cmp);
        values[((values.len() as f64 * p).ceil() as usize).saturating_sub(1)]
    };
    eprintln!(
        "cold_activation_100_events: {ACTIVATED} twins; activation p50 {:.0} us, p99 {:.0} us; \
         bare read+decode of the same 100 records p50 {:.0} us, p99 {:.0} us",
        percentile(&mut activation_us, 0.5),
        percentile(&mut activation_us, 0.99),
        percentile(&mut read_us, 0.5),
        percentile(&mut read_us, 0.99),
    );
    // Criterion's own view: the mean of a warm read of an active twin, for scale.
    c.bench_function("warm_read_active_twin", |b| {
        b.iter(|| {
            region
                .system
                .block_on(fresh.get_twin("equipment-0"))
                .unwrap()
        })
    });
    for arbiter in &region.arbiters {
        arbiter.stop();
    }
}

criterion_group!(benches, durable_commands, cold_activation);
criterion_main!(benches);
