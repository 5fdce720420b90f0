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
    // The figures follow the side write that stored the last dead letters.
    let (_, stats) = routes.delivery_stats().pop().unwrap();
    wait_until("the route to move on", || {
        stats.lag_events(&log.head()) == 0
    });
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

#[test]
fn routes_share_the_projection_and_one_that_falls_behind_it_still_gets_exactly_its_events() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let log = open_log(dir.path());
    let url = &receiver.url;
    let endpoints = Endpoints::parse(
        Path::new("endpoints.toml"),
        &format!(
            "[[endpoints]]\nname = \"all\"\nkind = \"webhook\"\nurl = \"{url}/all\"\n\
             [[endpoints]]\nname = \"pumps\"\nkind = \"webhook\"\nurl = \"{url}/pumps\"\n\
             [[endpoints]]\nname = \"slow\"\nkind = \"webhook\"\nurl = \"{url}/stall\"\ntimeout_ms = 5000\n"
        ),
    )
    .unwrap();
    // The window keeps one chunk: a route not at the newest chunk reads the log itself.
    let options = RouteOptions {
        window_bytes_max: 1,
        ..options()
    };
    let routes = EventRoutes::start(log.clone(), endpoints, options).unwrap();
    let filters = [
        ("all", "true"),
        ("pumps", "STARTS_WITH(subject, 'pump-')"),
        // Its endpoint takes two seconds a batch, so it falls behind the others.
        ("slow", "subject = 'pump-0' OR subject = 'pump-9'"),
    ];
    for (id, filter) in filters {
        rt.block_on(routes.put(id, id, filter)).unwrap();
    }
    let (mut all, mut pumps, mut slow) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..10 {
        let last = rt.block_on(append_telemetry(&log, &format!("pump-{round}"), 3));
        pumps.extend(last - 2..=last);
        if round == 0 || round == 9 {
            slow.extend(last - 2..=last);
        }
        all.extend(last - 2..=last);
        let last = rt.block_on(append_telemetry(&log, &format!("valve-{round}"), 2));
        all.extend(last - 1..=last);
    }
    for (path, expected) in [("/all", &all), ("/pumps", &pumps), ("/stall", &slow)] {
        wait_until(path, || {
            receiver.accepted_events_at(path).len() >= expected.len()
        });
        assert_eq!(
            lsns(&receiver.accepted_events_at(path)),
            *expected,
            "{path}"
        );
    }
    rt.block_on(routes.stop());
}

#[test]
fn a_route_whose_dead_letters_are_full_holds_at_its_batch_and_drops_nothing() {
    let receiver = Receiver::start();
    receiver.status.store(503, Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let log = open_log(dir.path());
    let options = RouteOptions {
        dead_letters_max: 5,
        ..options()
    };
    let routes = EventRoutes::start(log.clone(), endpoints(&receiver.url), options).unwrap();
    rt.block_on(routes.put("all", "hook", "true")).unwrap();
    let (_, stats) = routes.delivery_stats().pop().unwrap();
    let first = rt.block_on(append_telemetry(&log, "t1", 5));
    wait_until("the first batch to be dead letters", || {
        stats.dead_letters.load(Ordering::Relaxed) == 5
    });
    let last = rt.block_on(append_telemetry(&log, "t2", 3));
    wait_until("the route to hold", || {
        stats.holding.load(Ordering::Relaxed)
    });
    // Some failed rounds later it still holds, with the batch neither stored nor passed.
    let failed = stats.failed_attempts.load(Ordering::Relaxed);
    wait_until("more failed attempts", || {
        stats.failed_attempts.load(Ordering::Relaxed) >= failed + 4
    });
    assert!(stats.holding.load(Ordering::Relaxed));
    assert_eq!(stats.lag_events(&log.head()), 3);
    let letters = rt.block_on(routes.dead_letters("all", 0, 100)).unwrap();
    let lsns_of = |letters: &[crate::routes::DeadLetter]| -> Vec<u64> {
        letters.iter().map(|l| l.lsn).collect()
    };
    assert_eq!(lsns_of(&letters), (first - 4..=first).collect::<Vec<_>>());
    assert_eq!(stats.dead_lettered_events.load(Ordering::Relaxed), 5);

    // The endpoint is back: the held batch goes through, then a replay empties the dead letters.
    receiver.status.store(200, Ordering::Relaxed);
    wait_until("the held batch", || {
        receiver.accepted_events().len() == 3 && !stats.holding.load(Ordering::Relaxed)
    });
    assert_eq!(
        lsns(&receiver.accepted_events()),
        (last - 2..=last).collect::<Vec<_>>()
    );
    let replayed = rt.block_on(routes.replay("all")).unwrap();
    assert_eq!((replayed.delivered, replayed.remaining), (5, 0));
    assert_eq!(stats.dead_letters.load(Ordering::Relaxed), 0);
    rt.block_on(routes.stop());
}
