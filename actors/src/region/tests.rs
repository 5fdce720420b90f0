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

type Outcome = Result<u64, TwinFailure<Refused>>;

/// Runs `test` against a fresh log and a region of `options` on two arbiters.
fn with_region<F: std::future::Future<Output = ()>>(
    options: RegionOptions,
    test: impl FnOnce(RegionSupervisor<Counter>, EventLog) -> F,
) {
    let dir = tempfile::tempdir().unwrap();
    System::new().block_on(async {
        let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
        let arbiters = (0..2).map(|_| Arbiter::new().handle()).collect();
        test(RegionSupervisor::new(log.clone(), options, arbiters), log).await
    });
}

fn total(counter: &Counter) -> u64 {
    counter.total
}

/// Sends `command` (or only reads) to `twin` and returns its total afterwards.
async fn send(
    region: &RegionSupervisor<Counter>,
    twin: &str,
    command: Option<CounterCommand>,
) -> Outcome {
    region.request(twin, command, total).await
}

/// Sends every command at once, each from its own task, and returns the outcomes in order.
async fn send_concurrently(
    region: &RegionSupervisor<Counter>,
    twin: &str,
    commands: Vec<CounterCommand>,
) -> Vec<Outcome> {
    let tasks: Vec<_> = commands
        .into_iter()
        .map(|command| {
            let (region, twin) = (region.clone(), twin.to_owned());
            actix_rt::spawn(async move { send(&region, &twin, Some(command)).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

/// The total a fresh replay of the twin's stream gives.
fn replayed_total(log: &EventLog, twin: &str) -> u64 {
    let mut state = Counter::default();
    for stored in log.twin_stream(twin, 1).unwrap() {
        state.apply(&stored.decode().unwrap().event().unwrap());
    }
    state.total
}

fn quick_restarts() -> RegionOptions {
    RegionOptions {
        restart: RestartPolicy {
            backoff_initial: Duration::from_millis(1),
            backoff_max: Duration::from_millis(20),
            ..RestartPolicy::default()
        },
        ..RegionOptions::new("test")
    }
}

#[test]
fn commands_dispatched_at_once_reach_their_twin_in_order_even_across_a_restart() {
    use CounterCommand::{Add, Panic};
    with_region(quick_restarts(), |region, log| async move {
        let commands = [Add(1), Add(2), Add(0), Add(3), Panic, Add(4), Add(5)];
        // All in flight before the first answer: those behind the panic are handed back by the
        // failing actor, and sent again to its successor when their answer is awaited.
        let dispatched: Vec<_> = commands.iter().map(|c| region.dispatch("t", *c)).collect();
        let mut answers = Vec::new();
        for one in dispatched {
            answers.push(region.answer(one).await);
        }
        for (i, answer) in answers.iter().enumerate() {
            match i {
                2 => assert!(matches!(answer, Err(TwinFailure::Rejected(Refused)))),
                4 => assert!(matches!(answer, Err(TwinFailure::Panicked { .. }))),
                _ => assert!(answer.is_ok(), "command {i}: {answer:?}"),
            }
        }
        let stream: Vec<String> = log
            .twin_stream("t", 1)
            .unwrap()
            .iter()
            .map(|stored| match stored.decode().unwrap().event().unwrap() {
                Event::Telemetry { data, .. } => data,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(stream, ["1", "2", "3", "4", "5"]);
    });
}

#[test]
fn ten_thousand_twins_with_one_percent_panics_lose_nothing_else() {
    const TWINS: u64 = 10_000;
    const COMMANDS_PER_TWIN: u64 = 3;
    // Every hundredth command panics: 1% of all commands, spread over the twins.
    let is_panic = |twin: u64, n: u64| (twin * COMMANDS_PER_TWIN + n) % 100 == 37;
    let command = move |twin: u64, n: u64| {
        if is_panic(twin, n) {
            CounterCommand::Panic
        } else {
            CounterCommand::Add(n + 1)
        }
    };
    with_region(quick_restarts(), |region, log| async move {
        let tasks: Vec<_> = (0..TWINS)
            .map(|twin| {
                let region = region.clone();
                actix_rt::spawn(async move {
                    let id = format!("twin-{twin}");
                    let mut outcomes = Vec::new();
                    for n in 0..COMMANDS_PER_TWIN {
                        outcomes.push(send(&region, &id, Some(command(twin, n))).await);
                    }
                    outcomes
                })
            })
            .collect();
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
            assert_eq!(send(&region, &id, None).await.unwrap(), expected, "{id}");
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
    with_region(quick_restarts(), |region, log| async move {
        let commands = (0..50)
            .map(|n| {
                if n == 10 {
                    CounterCommand::Panic
                } else {
                    CounterCommand::Add(1)
                }
            })
            .collect();
        let outcomes = send_concurrently(&region, "busy", commands).await;
        assert_eq!(
            outcomes.iter().filter(|o| o.is_err()).count(),
            1,
            "only the panicking command may fail"
        );
        assert_eq!(send(&region, "busy", None).await.unwrap(), 49);
        assert_eq!(replayed_total(&log, "busy"), 49);
    });
}

#[test]
fn a_twin_that_keeps_failing_is_quarantined_and_others_are_untouched() {
    let mut options = quick_restarts();
    options.restart.limit = restart_limit(2, Duration::from_secs(10));
    options.restart.quarantine_cooldown = Duration::from_millis(300);
    with_region(options, |region, log| async move {
        let fail_three_times = || async {
            for _ in 0..3 {
                let outcome = send(&region, "bad", Some(CounterCommand::Panic)).await;
                assert!(matches!(outcome, Err(TwinFailure::Panicked { .. })));
            }
        };
        send(&region, "good", Some(CounterCommand::Add(5)))
            .await
            .unwrap();
        send(&region, "bad", Some(CounterCommand::Add(7)))
            .await
            .unwrap();
        fail_three_times().await;
        // Three restarts within the window exceed the limit of two.
        let outcome = send(&region, "bad", None).await;
        assert!(
            matches!(outcome, Err(TwinFailure::Quarantined { restarts: 3, .. })),
            "{:?}",
            outcome.map_err(|e| e.to_string())
        );
        assert_eq!(region.stats().quarantined_twins(), 1);
        assert_eq!(
            send(&region, "good", Some(CounterCommand::Add(1)))
                .await
                .unwrap(),
            6
        );

        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(
            send(&region, "bad", None).await.unwrap(),
            7,
            "back after the cool-down"
        );
        assert_eq!(region.stats().quarantined_twins(), 0);

        fail_three_times().await;
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
            send(&region, "bad", Some(CounterCommand::Add(1)))
                .await
                .unwrap(),
            8
        );
        assert_eq!(replayed_total(&log, "bad"), 8);
    });
}

#[test]
fn an_idle_twin_passivates_and_rehydrates_to_its_replay() {
    let options = RegionOptions {
        idle_timeout: Duration::from_millis(100),
        ..RegionOptions::new("test")
    };
    with_region(options, |region, log| async move {
        for n in 1..=10 {
            send(&region, "sleepy", Some(CounterCommand::Add(n)))
                .await
                .unwrap();
        }
        assert_eq!(region.stats().active_twins(), 1);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(region.stats().active_twins(), 0, "the idle actor stopped");
        assert_eq!(send(&region, "sleepy", None).await.unwrap(), 55);
        assert_eq!(replayed_total(&log, "sleepy"), 55);
        assert_eq!(region.stats().restarts(), 0, "passivation is not a restart");
    });
}

#[test]
fn a_twin_with_too_many_outstanding_requests_refuses_more() {
    let options = RegionOptions {
        outstanding_max: 4,
        ..RegionOptions::new("test")
    };
    with_region(options, |region, log| async move {
        let outcomes = send_concurrently(&region, "hot", vec![CounterCommand::Add(1); 200]).await;
        let (mut ok, mut busy) = (0, 0);
        for outcome in outcomes {
            match outcome {
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
    with_region(RegionOptions::new("test"), |region, log| async move {
        send(&region, "t", Some(CounterCommand::Add(2)))
            .await
            .unwrap();
        let outcome = send(&region, "t", Some(CounterCommand::Add(0))).await;
        assert!(matches!(outcome, Err(TwinFailure::Rejected(Refused))));
        assert_eq!(log.head().lsn, 1);
        assert_eq!(send(&region, "t", None).await.unwrap(), 2);
    });
}

#[test]
fn chaos_panics_only_when_enabled() {
    with_region(RegionOptions::new("test"), |off, _| async move {
        assert!(!off.arm_chaos("c"));
        assert_eq!(
            send(&off, "c", Some(CounterCommand::Add(1))).await.unwrap(),
            1
        );
    });
    with_region(
        RegionOptions {
            chaos: true,
            ..quick_restarts()
        },
        |on, _| async move {
            assert!(on.arm_chaos("d"));
            let outcome = send(&on, "d", Some(CounterCommand::Add(1))).await;
            assert!(matches!(outcome, Err(TwinFailure::Panicked { .. })));
            assert_eq!(
                send(&on, "d", Some(CounterCommand::Add(1))).await.unwrap(),
                1
            );
        },
    );
}

mod durable_replies;
