//! Proves that an event route delivers at least once, in LSN order, across a crash: a real server
//! takes writes from concurrent clients while its route posts to a receiver that refuses 20% of
//! requests with 500 and stalls 10% past the route's timeout; the server is killed with SIGKILL in
//! the middle, restarted on the same directory, and takes more writes. Once the route has caught
//! up, every committed event that the filter matches (computed from `twinlog export` with the
//! filter's meaning applied here, independently of the server's filter code) must have reached
//! the receiver, and the first deliveries must come in LSN order.

mod server;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use server::receiver::Receiver;
use server::{expect, export, small_models, thermostat, Server};

const TWINS_PER_KIND: usize = 4;
const FILTER: &str = "(type = 'microsoft.iot.telemetry' AND STARTS_WITH(subject, 'pump-')) \
                      OR type = 'Microsoft.DigitalTwins.Twin.Update'";
const WRITERS: usize = 3;

/// Which exported records FILTER selects, by the meaning of ADT's event types: telemetry to a
/// pump, and every update of a twin (a patch, or a replacement of a twin that exists).
fn selected(exported: &[Value]) -> Vec<u64> {
    let mut live = HashSet::new();
    let mut selected = Vec::new();
    for line in exported {
        let twin = line["twin"].as_str().unwrap();
        let wanted = match line["kind"].as_str().unwrap() {
            "Telemetry" => twin.starts_with("pump-"),
            "TwinPatched" => true,
            "TwinReplaced" => !live.insert(twin.to_owned()),
            "TwinDeleted" => {
                live.remove(twin);
                false
            }
            _ => false,
        };
        if wanted {
            selected.push(line["lsn"].as_u64().unwrap());
        }
    }
    selected
}

fn twins() -> Vec<String> {
    (0..TWINS_PER_KIND)
        .flat_map(|i| [format!("pump-{i}"), format!("valve-{i}")])
        .collect()
}

/// Writes telemetry and patches to random twins from `WRITERS` clients until `stop`; failed
/// requests (the server is being killed) are simply tried again later.
fn write_until(server: &Server, stop: &AtomicBool) {
    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            scope.spawn(move || {
                let twins = twins();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let twin = &twins[rand::random_range(0..twins.len())];
                    let sent = if n.is_multiple_of(5) {
                        server
                            .patch(
                                &format!("/digitaltwins/{twin}"),
                                &json!([{"op": "replace", "path": "/target", "value": n as f64}]),
                            )
                            .send()
                    } else {
                        server
                            .request(Method::POST, &format!("/digitaltwins/{twin}/telemetry"))
                            .header("Message-Id", format!("w{writer}-{n}"))
                            .json(&json!({"temperature": n as f64}))
                            .send()
                    };
                    if sent.is_err() {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            });
        }
    });
}

/// Writes for `run_for` on `server`, calling `midway` halfway through (while writes go on).
fn write_for(server: &Server, run_for: Duration, midway: impl FnOnce()) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| write_until(server, &stop));
        std::thread::sleep(run_for / 2);
        midway();
        std::thread::sleep(run_for / 2);
        stop.store(true, Ordering::Relaxed);
    });
}

fn endpoints_file(dir: &Path, receiver: &Receiver) -> String {
    let path = dir.join("endpoints.toml");
    std::fs::write(
        &path,
        format!(
            "[[endpoints]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\ntimeout_ms = 300\n\
             attempts_max = 1000\nbackoff_initial_ms = 5\nbackoff_max_ms = 50\n",
            receiver.url
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

/// The route's lag in events, from `/metrics`.
fn lag_events(server: &Server) -> Option<u64> {
    let text = server.get("/metrics").text().unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(r#"twinlog_eventroute_lag_events{eventroute="pumps"} "#))
        .map(|value| value.trim().parse().unwrap())
}

#[test]
fn every_committed_matching_event_is_delivered_at_least_once_in_lsn_order_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let receiver = Receiver::start("127.0.0.2:0".parse().unwrap(), Duration::from_millis(800));
    receiver
        .behaviour
        .fail_per_mille
        .store(200, Ordering::Relaxed);
    receiver
        .behaviour
        .stall_per_mille
        .store(100, Ordering::Relaxed);
    let endpoints = endpoints_file(dir.path(), &receiver);
    let args = ["--endpoints-file", endpoints.as_str()];

    let first = Server::start(&data, &args);
    expect(first.post_json("/models", &small_models()), 201);
    for twin in twins() {
        expect(
            first.put_json(&format!("/digitaltwins/{twin}"), &thermostat(20.0)),
            200,
        );
    }
    expect(
        first.put_json(
            "/eventroutes/pumps",
            &json!({"endpointName": "hook", "filter": FILTER}),
        ),
        204,
    );
    // SIGKILL halfway, while writes and deliveries are in flight.
    write_for(&first, Duration::from_secs(3), || first.kill_9());
    drop(first);
    assert!(
        receiver.events().len() > 10,
        "the route delivered before the kill"
    );

    let second = Server::start(&data, &args);
    write_for(&second, Duration::from_secs(2), || {});
    let deadline = Instant::now() + Duration::from_secs(120);
    while lag_events(&second) != Some(0) {
        assert!(Instant::now() < deadline, "the route never caught up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let dead_letters = expect(second.get("/eventroutes/pumps/deadletters"), 200);
    assert_eq!(dead_letters["value"], json!([]));
    assert!(second.terminate().success());

    let exported = export(&data);
    let expected = selected(&exported);
    let by_lsn: HashMap<u64, &Value> = exported
        .iter()
        .map(|line| (line["lsn"].as_u64().unwrap(), line))
        .collect();
    let delivered = receiver.events();
    let mut first_deliveries = Vec::new();
    let mut seen = HashSet::new();
    for event in &delivered {
        let lsn: u64 = event["lsn"].as_str().unwrap().parse().unwrap();
        let line = by_lsn
            .get(&lsn)
            .unwrap_or_else(|| panic!("LSN {lsn} was delivered but is not in the log"));
        assert_eq!(event["subject"], line["twin"], "LSN {lsn}");
        assert_eq!(event["id"], lsn.to_string());
        if seen.insert(lsn) {
            first_deliveries.push(lsn);
        }
    }
    assert!(
        first_deliveries.windows(2).all(|pair| pair[0] < pair[1]),
        "first deliveries out of LSN order"
    );
    let missing: Vec<u64> = expected
        .iter()
        .copied()
        .filter(|lsn| !seen.contains(lsn))
        .collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    let unwanted: Vec<u64> = first_deliveries
        .iter()
        .copied()
        .filter(|lsn| !expected.contains(lsn))
        .collect();
    assert!(
        unwanted.is_empty(),
        "delivered but not selected: {unwanted:?}"
    );
    let (requests, refused, stalled) = receiver.requests();
    assert!(
        refused > 0 && stalled > 0,
        "{requests} requests, {refused} refused, {stalled} stalled"
    );
    assert_eq!(receiver.malformed(), 0);
    eprintln!(
        "{} events selected of {} committed; {} deliveries ({} repeated) in {requests} requests, \
         {refused} refused, {stalled} stalled",
        expected.len(),
        exported.len(),
        delivered.len(),
        delivered.len() - first_deliveries.len()
    );
}
