use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;

use super::{append_telemetry, open_log, runtime, wait_until, Receiver};
use crate::routes::store::RouteStore;
use crate::routes::{Endpoints, EventRoutes, RouteOptions};

fn endpoints(url: &str) -> Endpoints {
    Endpoints::parse(
        Path::new("endpoints.toml"),
        &format!(
            "[[endpoints]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{url}\"\ntimeout_ms = 500\nattempts_max = 2\nbackoff_initial_ms = 10\nbackoff_max_ms = 20\n"
        ),
    )
    .unwrap()
}

fn options() -> RouteOptions {
    RouteOptions {
        batch_events_max: 7,
        cursor_persist_interval: Duration::ZERO,
        ..RouteOptions::new("twins.example")
    }
}

fn lsn_of(event: &Value) -> u64 {
    event["lsn"].as_str().unwrap().parse().unwrap()
}

fn lsns(events: &[Value]) -> Vec<u64> {
    events.iter().map(lsn_of).collect()
}

#[test]
fn a_webhook_route_delivers_what_its_filter_matches_in_lsn_order_and_resumes_from_its_cursor() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let log = open_log(dir.path());
    // Committed before the route exists: not for it.
    rt.block_on(append_telemetry(&log, "pump-early", 5));
    let routes = EventRoutes::start(log.clone(), endpoints(&receiver.url), options()).unwrap();
    rt.block_on(routes.put("pumps", "hook", "STARTS_WITH(subject, 'pump-')"))
        .unwrap();
    let mut expected = Vec::new();
    for round in 0..10 {
        let last = rt.block_on(append_telemetry(&log, &format!("pump-{round}"), 3));
        expected.extend(last - 2..=last);
        rt.block_on(append_telemetry(&log, &format!("valve-{round}"), 2));
    }
    wait_until("the pumps' events", || {
        receiver.accepted_events().len() >= expected.len()
    });
    let delivered = receiver.accepted_events();
    assert_eq!(lsns(&delivered), expected);
    for event in &delivered {
        assert_eq!(event["type"], "microsoft.iot.telemetry");
        assert_eq!(event["source"], "twins.example");
        assert!(event["subject"].as_str().unwrap().starts_with("pump-"));
        assert_eq!(event["id"], event["lsn"]);
    }
    let (_, stats) = routes.delivery_stats().pop().unwrap();
    wait_until("the route to pass the valves' last events", || {
        stats.lag_events(&log.head()) == 0
    });
    assert_eq!(stats.lag_ms(&log.head(), u64::MAX), 0);
    assert_eq!(stats.delivered_events.load(Ordering::Relaxed), 30);
    rt.block_on(routes.stop());
    drop(routes);
    assert_eq!(
        RouteStore::new(&log).cursor("pumps").unwrap(),
        log.head().lsn
    );

    let routes = EventRoutes::start(log.clone(), endpoints(&receiver.url), options()).unwrap();
    let last = rt.block_on(append_telemetry(&log, "pump-late", 3));
    expected.extend(last - 2..=last);
    wait_until("the events after the restart", || {
        receiver.accepted_events().len() >= expected.len()
    });
    assert_eq!(lsns(&receiver.accepted_events()), expected);
    rt.block_on(routes.stop());
}

#[test]
fn a_refusing_endpoint_fills_dead_letters_without_holding_the_route_and_a_replay_delivers_them() {
    let receiver = Receiver::start();
    receiver.status.store(503, Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let log = open_log(dir.path());
    let routes = EventRoutes::start(log.clone(), endpoints(&receiver.url), options()).unwrap();
    rt.block_on(routes.put("all", "hook", "true")).unwrap();
    let mut expected = Vec::new();
    for twin in ["t1", "t2"] {
        let last = rt.block_on(append_telemetry(&log, twin, 5));
        expected.extend(last - 4..=last);
    }
    let dead_letters = || rt.block_on(routes.dead_letters("all", 0, 100)).unwrap();
    wait_until("every event to be a dead letter", || {
        dead_letters().len() == expected.len()
    });
    let letters = dead_letters();
    assert_eq!(letters.iter().map(|l| l.lsn).collect::<Vec<_>>(), expected);
    for letter in &letters {
        assert_eq!(letter.letter.attempts, 2);
        assert!(
            letter.letter.reason.contains("503"),
            "{}",
            letter.letter.reason
        );
        let event: Value = serde_json::from_str(&letter.letter.event).unwrap();
        assert_eq!(lsn_of(&event), letter.lsn);
    }
    // Paging by LSN.
    let later = rt
        .block_on(routes.dead_letters("all", expected[3] + 1, 2))
        .unwrap();
    assert_eq!(
        later.iter().map(|l| l.lsn).collect::<Vec<_>>(),
        expected[4..6]
    );
    let (_, stats) = routes.delivery_stats().pop().unwrap();
    assert_eq!(stats.lag_events(&log.head()), 0, "the route moved on");
    assert_eq!(stats.dead_lettered_events.load(Ordering::Relaxed), 10);
    assert!(stats.failed_attempts.load(Ordering::Relaxed) >= 4);

    let refused = rt.block_on(routes.replay("all")).unwrap();
    assert_eq!((refused.delivered, refused.remaining), (0, 10));
    assert!(refused.last_error.unwrap().contains("503"));

    receiver.status.store(200, Ordering::Relaxed);
    let replayed = rt.block_on(routes.replay("all")).unwrap();
    assert_eq!((replayed.delivered, replayed.remaining), (10, 0));
    assert_eq!(replayed.last_error, None);
    assert_eq!(lsns(&receiver.accepted_events()), expected);
    assert!(dead_letters().is_empty());
    assert_eq!(stats.replayed_events.load(Ordering::Relaxed), 10);

    // Live delivery goes on once the endpoint answers again.
    let last = rt.block_on(append_telemetry(&log, "t3", 2));
    expected.extend(last - 1..=last);
    wait_until("live events", || {
        receiver.accepted_events().len() >= expected.len()
    });
    assert_eq!(lsns(&receiver.accepted_events()), expected);
    rt.block_on(routes.stop());
}
