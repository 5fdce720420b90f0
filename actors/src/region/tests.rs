//! The supervisor and twin actor shell, driven with a small counting aggregate so that the shell's
//! own rules are what is tested: isolation, restarts from the log, quarantine, passivation.

use std::sync::Arc;
use std::time::Duration;

use actix::{Arbiter, System};
use twinlog_migrations::Event;

use super::*;
use crate::aggregate::Aggregate;
use crate::log::{EventLog, LogOptions};

/// A twin that only adds numbers; `Panic` makes its handler panic.
#[derive(Debug, Default)]
struct Counter {
    total: u64,
    events: u64,
}

#[derive(Debug, Clone, Copy)]
enum CounterCommand {
    Add(u64),
    Panic,
}

#[derive(Debug, thiserror::Error)]
#[error("refused")]
struct Refused;

impl Aggregate for Counter {
    type Command = CounterCommand;
    type Event = Event;
    type Error = Refused;

    fn handle(&self, command: CounterCommand) -> Result<Vec<Event>, Refused> {
        match command {
            CounterCommand::Add(0) => Err(Refused),
            CounterCommand::Add(n) => Ok(vec![Event::Telemetry {
                message_id: format!("add-{}", self.events),
                source_time: None,
                component: None,
                data: n.to_string(),
            }]),
            CounterCommand::Panic => panic!("told to panic"),
        }
    }

    fn apply(&mut self, event: &Event) {
        let Event::Telemetry { data, .. } = event else {
            panic!("unexpected event")
        };
        self.total += data.parse::<u64>().expect("a number");
        self.events += 1;
    }
}

impl TwinAggregate for Counter {
    fn empty(_twin_id: Arc<str>) -> Self {
        Counter::default()
    }
}

fn region(log: EventLog, options: RegionOptions) -> RegionSupervisor<Counter> {
    let arbiters = (0..2).map(|_| Arbiter::new().handle()).collect();
    RegionSupervisor::new(log, options, arbiters)
}

/// The total a fresh replay of the twin's stream gives.
fn replayed_total(log: &EventLog, twin: &str) -> u64 {
    let mut state = Counter::default();
    for stored in log.twin_stream(twin, 1).unwrap() {
        state.apply(&stored.decode().unwrap().event().unwrap());
    }
    state.total
}

fn quick_restarts() -> RestartPolicy {
    RestartPolicy {
        backoff_initial: Duration::from_millis(1),
        backoff_max: Duration::from_millis(20),
        ..RestartPolicy::default()
    }
}

#[test]
fn ten_thousand_twins_with_one_percent_panics_lose_nothing_else() {
    const TWINS: u64 = 10_000;
    const COMMANDS_PER_TWIN: u64 = 3;
    let dir = tempfile::tempdir().unwrap();
    System::new().block_on(async {
        let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
        let options = RegionOptions {
            restart: quick_restarts(),
            ..RegionOptions::new("test")
        };
        let region = region(log.clone(), options);
        // Every hundredth command panics: 1% of all commands, spread over the twins.
        let is_panic = |twin: u64, n: u64| (twin * COMMANDS_PER_TWIN + n) % 100 == 37;
        let mut tasks = Vec::new();
        for twin in 0..TWINS {
            let region = region.clone();
            tasks.push(actix_rt::spawn(async move {
                let id = format!("twin-{twin}");
                let mut outcomes = Vec::new();
                for n in 0..COMMANDS_PER_TWIN {
                    let command = if is_panic(twin, n) {
                        CounterCommand::Panic
                    } else {
                        CounterCommand::Add(n + 1)
                    };
                    outcomes.push(
                        region
                            .request(&id, Some(command), |c: &Counter| c.total)
                            .await,
                    );
                }
                outcomes
            }));
        }
        let mut panics = 0;
        for (twin, task) in tasks.into_iter().enumerate() {
            for (n, outcome) in task.await.unwrap().into_iter().enumerate() {
                if is_panic(twin as u64, n as u64) {
                    assert!(
                        matches!(outcome, Err(TwinFailure::Panicked { .. })),
                        "twin {twin} command {n}"
                    );
                    panics += 1;
                } else {
                    outcome.unwrap_or_else(|e| panic!("twin {twin} command {n}: {e}"));
                }
            }
        }
        assert_eq!(panics, TWINS * COMMANDS_PER_TWIN / 100);
        for twin in 0..TWINS {
            let id = format!("twin-{twin}");
            let expected: u64 = (0..COMMANDS_PER_TWIN)
                .filter(|&n| !is_panic(twin, n))
                .map(|n| n + 1)
                .sum();
            let live = region
                .request(&id, None, |c: &Counter| c.total)
                .await
                .unwrap();
            assert_eq!(live, expected, "{id}");
            assert_eq!(
                replayed_total(&log, &id),
                expected,
                "{id}: live state differs from replay"
            );
        }
        assert_eq!(region.stats().restarts(), panics);
        assert_eq!(region.stats().panics(), panics);
        assert_eq!(region.stats().quarantined_twins(), 0);
    });
}

#[test]
fn commands_queued_behind_a_panic_are_retried_on_the_restarted_actor() {
    let dir = tempfile::tempdir().unwrap();
    System::new().block_on(async {
        let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
        let options = RegionOptions {
            restart: quick_restarts(),
            ..RegionOptions::new("test")
        };
        let region = region(log.clone(), options);
        let mut tasks = Vec::new();
        for n in 0..50u64 {
            let region = region.clone();
            let command = if n == 10 {
                CounterCommand::Panic
            } else {
                CounterCommand::Add(1)
            };
            tasks.push(actix_rt::spawn(async move {
                region
                    .request("busy", Some(command), |c: &Counter| c.total)
                    .await
            }));
        }
        let mut failed = 0;
        for task in tasks {
            if task.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 1, "only the panicking command may fail");
        assert_eq!(
            region
                .request("busy", None, |c: &Counter| c.total)
                .await
                .unwrap(),
            49
        );
        assert_eq!(replayed_total(&log, "busy"), 49);
    });
}

#[test]
fn a_twin_that_keeps_failing_is_quarantined_and_others_are_untouched() {
    let dir = tempfile::tempdir().unwrap();
    System::new().block_on(async {
        let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
        let restart = RestartPolicy {
            limit: restart_limit(2, Duration::from_secs(10)),
            quarantine_cooldown: Duration::from_millis(300),
            ..quick_restarts()
        };
        let region = region(
            log.clone(),
            RegionOptions {
                restart,
                ..RegionOptions::new("test")
            },
        );
        region
            .request("good", Some(CounterCommand::Add(5)), |c: &Counter| c.total)
            .await
            .unwrap();
        region
            .request("bad", Some(CounterCommand::Add(7)), |c: &Counter| c.total)
            .await
            .unwrap();
        for _ in 0..3 {
            let outcome = region
                .request("bad", Some(CounterCommand::Panic), |c: &Counter| c.total)
                .await;
            assert!(matches!(outcome, Err(TwinFailure::Panicked { .. })));
        }
        // Three restarts within the window exceed the limit of two.
        let outcome = region.request("bad", None, |c: &Counter| c.total).await;
        assert!(
            matches!(outcome, Err(TwinFailure::Quarantined { restarts: 3, .. })),
            "{:?}",
            outcome.map_err(|e| e.to_string())
        );
        assert_eq!(region.stats().quarantined_twins(), 1);
        assert_eq!(
            region
                .request("good", Some(CounterCommand::Add(1)), |c: &Counter| c.total)
                .await
                .unwrap(),
            6
        );

        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(
            region
                .request("bad", None, |c: &Counter| c.total)
                .await
                .unwrap(),
            7
        );
        assert_eq!(region.stats().quarantined_twins(), 0);

        for _ in 0..3 {
            let _ = region
                .request("bad", Some(CounterCommand::Panic), |c: &Counter| c.total)
                .await;
        }
        // The third failure's actor reports its stop just after its reply: wait for the verdict.
        for _ in 0..100 {
            if region.stats().quarantined_twins() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            region.clear_quarantine("bad"),
            "an operator clears the quarantine"
        );
        assert_eq!(
            region
                .request("bad", Some(CounterCommand::Add(1)), |c: &Counter| c.total)
                .await
                .unwrap(),
            8
        );
        assert_eq!(replayed_total(&log, "bad"), 8);
    });
}

#[test]
fn an_idle_twin_passivates_and_rehydrates_to_its_replay() {
    let dir = tempfile::tempdir().unwrap();
    System::new().block_on(async {
        let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
        let options = RegionOptions {
            idle_timeout: Duration::from_millis(100),
            ..RegionOptions::new("test")
        };
        let region = region(log.clone(), options);
        for n in 1..=10 {
            region
                .request("sleepy", Some(CounterCommand::Add(n)), |c: &Counter| {
                    c.total
                })
                .await
                .unwrap();
        }
        assert_eq!(region.stats().active_twins(), 1);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(region.stats().active_twins(), 0, "the idle actor stopped");
        assert_eq!(
            region
                .request("sleepy", None, |c: &Counter| c.total)
                .await
                .unwrap(),
            55
        );
        assert_eq!(replayed_total(&log, "sleepy"), 55);
        assert_eq!(region.stats().restarts(), 0, "passivation is not a restart");
    });
}

#[test]
fn a_twin_with_too_many_outstanding_requests_refuses_more() {
    let dir = tempfile::tempdir().unwrap();
    System::new().block_on(async {
        let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
        let region = region(
            log.clone(),
            RegionOptions {
                outstanding_max: 4,
                ..RegionOptions::new("test")
            },
        );
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let region = region.clone();
            tasks.push(actix_rt::spawn(async move {
                region
                    .request("hot", Some(CounterCommand::Add(1)), |c: &Counter| c.total)
                    .await
            }));
        }
        let (mut ok, mut busy) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(TwinFailure::Busy {
                    outstanding_max: 4, ..
                }) => busy += 1,
                Err(other) => panic!("{other}"),
            }
        }
        assert!(busy > 0, "the bound was never reached");
        assert_eq!(ok + busy, 200);
        assert_eq!(replayed_total(&log, "hot"), ok);
    });
}

#[test]
fn a_rejected_command_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    System::new().block_on(async {
        let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
        let region = region(log.clone(), RegionOptions::new("test"));
        region
            .request("t", Some(CounterCommand::Add(2)), |c: &Counter| c.total)
            .await
            .unwrap();
        let outcome = region
            .request("t", Some(CounterCommand::Add(0)), |c: &Counter| c.total)
            .await;
        assert!(matches!(outcome, Err(TwinFailure::Rejected(Refused))));
        assert_eq!(log.head().lsn, 1);
        assert_eq!(
            region
                .request("t", None, |c: &Counter| c.total)
                .await
                .unwrap(),
            2
        );
    });
}

#[test]
fn chaos_panics_only_when_enabled() {
    let dir = tempfile::tempdir().unwrap();
    System::new().block_on(async {
        let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
        let off = region(log.clone(), RegionOptions::new("test"));
        assert!(!off.arm_chaos("c"));
        off.request("c", Some(CounterCommand::Add(1)), |c: &Counter| c.total)
            .await
            .unwrap();
        let on = region(
            log.clone(),
            RegionOptions {
                chaos: true,
                restart: quick_restarts(),
                ..RegionOptions::new("test")
            },
        );
        assert!(on.arm_chaos("d"));
        let outcome = on
            .request("d", Some(CounterCommand::Add(1)), |c: &Counter| c.total)
            .await;
        assert!(matches!(outcome, Err(TwinFailure::Panicked { .. })));
        assert_eq!(
            on.request("d", Some(CounterCommand::Add(1)), |c: &Counter| c.total)
                .await
                .unwrap(),
            1
        );
    });
}
