//! A route whose endpoint refuses connections does not stall: after its attempts, each batch's
//! events become dead letters, listed in pages by `GET /eventroutes/{id}/deadletters`, and the
//! route goes on. Once the endpoint comes alive, `POST .../deadletters/replay` delivers them, in
//! LSN order, and removes them.

mod server;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use server::receiver::Receiver;
use server::{expect, small_models, thermostat, Server};

const EVENTS: u64 = 12;

/// Every dead letter of the route, following `nextLink`s, 5 per page.
fn all_dead_letters(server: &Server) -> Vec<Value> {
    let mut letters = Vec::new();
    let mut page = expect(
        server
            .request(Method::GET, "/eventroutes/all/deadletters")
            .header("max-items-per-page", "5")
            .send()
            .unwrap(),
        200,
    );
    loop {
        letters.extend(page["value"].as_array().unwrap().iter().cloned());
        let Some(next) = page["nextLink"].as_str() else {
            return letters;
        };
        page = expect(server.client.get(next).send().unwrap(), 200);
    }
}

#[test]
fn a_dead_endpoints_events_become_dead_letters_and_a_replay_delivers_them_once_it_is_alive() {
    // A loopback address and port that nothing listens on until the receiver starts there.
    let address = TcpListener::bind("127.0.0.3:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let endpoints = dir.path().join("endpoints.toml");
    std::fs::write(
        &endpoints,
        format!(
            "[[endpoints]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://{address}/events\"\n\
             timeout_ms = 500\nattempts_max = 2\nbackoff_initial_ms = 10\nbackoff_max_ms = 20\n"
        ),
    )
    .unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &["--endpoints-file", endpoints.to_str().unwrap()],
    );
    expect(server.post_json("/models", &small_models()), 201);
    expect(server.put_json("/digitaltwins/t1", &thermostat(20.0)), 200);
    let route = json!({"endpointName": "hook", "filter": "type = 'microsoft.iot.telemetry'"});
    expect(server.put_json("/eventroutes/all", &route), 204);
    for n in 0..EVENTS {
        let sent = server
            .request(Method::POST, "/digitaltwins/t1/telemetry")
            .header("Message-Id", format!("m{n}"))
            .json(&json!({"temperature": n}))
            .send()
            .unwrap();
        expect(sent, 204);
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    while all_dead_letters(&server).len() < EVENTS as usize {
        assert!(
            Instant::now() < deadline,
            "the events never became dead letters"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let letters = all_dead_letters(&server);
    let lsns: Vec<u64> = letters.iter().map(|l| l["lsn"].as_u64().unwrap()).collect();
    assert!(lsns.windows(2).all(|pair| pair[0] < pair[1]), "{lsns:?}");
    for (n, letter) in letters.iter().enumerate() {
        assert_eq!(letter["attempts"], 2);
        assert!(
            letter["reason"]
                .as_str()
                .unwrap()
                .contains(&address.to_string()),
            "{letter}"
        );
        assert_eq!(letter["event"]["type"], "microsoft.iot.telemetry");
        assert_eq!(letter["event"]["data"], json!({"temperature": n}));
        assert_eq!(letter["event"]["lsn"], letter["lsn"].to_string());
    }
    // The route counts its dead letters and moves its position once their side write is
    // durable, which the letters' listing may show first.
    let settled = [
        format!("twinlog_eventroute_dead_lettered_events_total{{eventroute=\"all\"}} {EVENTS}"),
        "twinlog_eventroute_lag_events{eventroute=\"all\"} 0".to_owned(),
    ];
    let metrics = loop {
        let metrics = server.get("/metrics").text().unwrap();
        if settled.iter().all(|figure| metrics.contains(figure)) {
            break metrics;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        std::thread::sleep(Duration::from_millis(100));
    };
    for stored_now in [
        format!("twinlog_eventroute_dead_letters{{eventroute=\"all\"}} {EVENTS}"),
        "twinlog_eventroute_holding{eventroute=\"all\"} 0".to_owned(),
        "twinlog_eventroute_behind_window{eventroute=\"all\"} 0".to_owned(),
    ] {
        assert!(metrics.contains(&stored_now), "{metrics}");
    }

    let replay = |server: &Server| {
        expect(
            server
                .request(Method::POST, "/eventroutes/all/deadletters/replay")
                .send()
                .unwrap(),
            200,
        )
    };
    let still_dead = replay(&server);
    assert_eq!(still_dead["delivered"], 0);
    assert_eq!(still_dead["remaining"], EVENTS);
    assert!(still_dead["lastError"].is_string());

    let receiver = Receiver::start(address, Duration::ZERO);
    let replayed = replay(&server);
    assert_eq!(replayed, json!({"delivered": EVENTS, "remaining": 0}));
    let delivered = receiver.events();
    let data: Vec<&Value> = delivered.iter().map(|event| &event["data"]).collect();
    let expected: Vec<Value> = (0..EVENTS).map(|n| json!({"temperature": n})).collect();
    assert_eq!(data, expected.iter().collect::<Vec<_>>());
    assert!(all_dead_letters(&server).is_empty());
    let metrics = server.get("/metrics").text().unwrap();
    assert!(
        metrics.contains("twinlog_eventroute_dead_letters{eventroute=\"all\"} 0"),
        "{metrics}"
    );
}
