//! Proves that `GET /feed` serves every committed change as a CloudEvent over Server-Sent Events,
//! in LSN order, with no gap and no repeat across reconnections with `Last-Event-ID` while writes
//! go on; that a filter selects exactly the events it names; that idle connections get
//! heartbeats; and that bad parameters are ADT errors naming them. The expected events are
//! computed from `twinlog export` of the stopped server's data directory.

mod server;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Lines};

use reqwest::blocking::Response;
use reqwest::Method;
use serde_json::{json, Value};
use server::{expect, expect_error, export, room, small_models, thermostat, Server, API};

const WRITE_ROUNDS: u64 = 120;
/// The twin the writer creates last: once its event is read, every write has been.
const LAST_TWIN: &str = "done";
const INVALID_TRACEPARENT: &str = "00-not-a-trace-context";

/// One server-sent message: an event, or a block of comments only (a heartbeat).
#[derive(Debug)]
enum Message {
    Event { id: u64, kind: String, data: Value },
    Heartbeat,
}

/// A minimal SSE reader over a streaming response.
struct Sse {
    lines: Lines<BufReader<Response>>,
}

impl Sse {
    fn connect(url: &str, query: &[(&str, &str)], last_event_id: Option<u64>) -> Sse {
        // The whole connection is bounded, so a feed that stalls fails the test, not hangs it.
        let client = server::client();
        let query = serde_urlencoded::to_string(query).unwrap();
        let mut request = client.get(format!("{url}/feed?{query}&{API}"));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Sse {
            lines: BufReader::new(response).lines(),
        }
    }

    fn next(&mut self) -> Message {
        let (mut id, mut kind, mut data) = (None, None, None);
        loop {
            let line = self.lines.next().expect("the feed ended").unwrap();
            if line.is_empty() {
                match (id, kind, data) {
                    (Some(id), Some(kind), Some(data)) => {
                        return Message::Event { id, kind, data };
                    }
                    (None, None, None) => return Message::Heartbeat,
                    partial => panic!("an incomplete event: {partial:?}"),
                }
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(": ").unwrap_or((&line, ""));
            match field {
                "id" => id = Some(value.parse::<u64>().unwrap()),
                "event" => kind = Some(value.to_owned()),
                "data" => data = Some(serde_json::from_str::<Value>(value).unwrap()),
                other => panic!("unexpected SSE field `{other}`"),
            }
        }
    }
}

/// A valid traceparent for write `n`.
fn traceparent(n: u64) -> String {
    format!("00-{:032x}-{:016x}-01", n + 1, n + 7)
}

/// Writes to several twins: creations, replacements, patches, relationships and their
/// deletion, telemetry; a valid traceparent on some, an invalid one on others.
fn write_load(server: &Server) {
    expect(server.post_json("/models", &small_models()), 201);
    for round in 0..WRITE_ROUNDS {
        let twin = format!("thermo-{}", round % 5);
        let trace = |request: reqwest::blocking::RequestBuilder| match round % 4 {
            0 => request.header("traceparent", traceparent(round)),
            1 => request.header("traceparent", INVALID_TRACEPARENT),
            _ => request,
        };
        let put = server
            .request(Method::PUT, &format!("/digitaltwins/{twin}"))
            .json(&thermostat(round as f64));
        expect(trace(put).send().unwrap(), 200);
        let telemetry = server
            .request(Method::POST, &format!("/digitaltwins/{twin}/telemetry"))
            .header("Message-Id", format!("m-{round}"))
            .json(&json!({"temperature": round}));
        expect(trace(telemetry).send().unwrap(), 204);
        if round % 3 == 0 {
            let patch = json!([{"op": "replace", "path": "/target", "value": 1.5}]);
            expect(
                server
                    .patch(&format!("/digitaltwins/{twin}"), &patch)
                    .send()
                    .unwrap(),
                204,
            );
        }
        if round % 7 == 0 {
            let target = format!("room-{}", round % 3);
            expect(
                server.put_json(&format!("/digitaltwins/{target}"), &room("r")),
                200,
            );
            let body = json!({"$targetId": target, "$relationshipName": "locatedIn", "since": round.to_string()});
            let path = format!("/digitaltwins/{twin}/relationships/loc");
            expect(
                trace(server.request(Method::PUT, &path).json(&body))
                    .send()
                    .unwrap(),
                200,
            );
        }
        if round % 11 == 0 {
            let deleted = server.delete(&format!("/digitaltwins/{twin}/relationships/loc"));
            assert!(matches!(deleted.status().as_u16(), 204 | 404));
        }
    }
    expect(
        server.put_json(&format!("/digitaltwins/{LAST_TWIN}"), &room("r")),
        200,
    );
}

/// Reads events on connection after connection, dropping each after `per_connection` events
/// and resuming with `Last-Event-ID`, until the writer's last twin appears; then waits on the
/// same connection for a heartbeat, which must come with no event before it. Returns the events
/// and the number of connections.
fn read_with_reconnects(
    url: &str,
    filter: Option<&str>,
    per_connection: usize,
) -> (Vec<(u64, Value)>, usize) {
    let mut events: Vec<(u64, Value)> = Vec::new();
    let mut connections = 0;
    loop {
        let last = events.last().map(|(id, _)| *id);
        let mut query = vec![("from", "1")];
        if last.is_some() {
            // Deliberately far ahead: Last-Event-ID must override it.
            query = vec![("from", "999999")];
        }
        query.extend(filter.map(|filter| ("filter", filter)));
        let mut sse = Sse::connect(url, &query, last);
        connections += 1;
        for _ in 0..per_connection {
            match sse.next() {
                Message::Event { id, kind, data } => {
                    assert_eq!(kind, data["type"], "event {id}");
                    assert_eq!(data["id"], id.to_string());
                    let last_write = data["subject"] == LAST_TWIN;
                    events.push((id, data));
                    if last_write {
                        match sse.next() {
                            Message::Heartbeat => return (events, connections),
                            event => panic!("nothing was written after the last twin: {event:?}"),
                        }
                    }
                }
                Message::Heartbeat => {}
            }
        }
    }
}

/// The CloudEvent type `twinlog export`'s records must yield, tracking which twins and
/// relationships exist; `None` for model records.
fn expected_types(exported: &[Value]) -> BTreeMap<u64, (String, String, Option<String>)> {
    let mut twins = HashSet::new();
    let mut relationships = HashSet::new();
    let mut expected = BTreeMap::new();
    for record in exported {
        let twin = record["twin"].as_str().unwrap().to_owned();
        let relationship = record["relationshipId"].as_str().map(str::to_owned);
        let kind = match record["kind"].as_str().unwrap() {
            "TwinReplaced" if twins.insert(twin.clone()) => "Microsoft.DigitalTwins.Twin.Create",
            "TwinReplaced" | "TwinPatched" => "Microsoft.DigitalTwins.Twin.Update",
            "TwinDeleted" => {
                twins.remove(&twin);
                "Microsoft.DigitalTwins.Twin.Delete"
            }
            "RelationshipReplaced"
                if relationships.insert((twin.clone(), relationship.clone())) =>
            {
                "Microsoft.DigitalTwins.Relationship.Create"
            }
            "RelationshipReplaced" | "RelationshipPatched" => {
                "Microsoft.DigitalTwins.Relationship.Update"
            }
            "RelationshipDeleted" => {
                relationships.remove(&(twin.clone(), relationship.clone()));
                "Microsoft.DigitalTwins.Relationship.Delete"
            }
            "Telemetry" => "microsoft.iot.telemetry",
            _ => continue,
        };
        let subject = match relationship {
            Some(id) => format!("{twin}/relationships/{id}"),
            None => twin,
        };
        let trace = record["traceparent"].as_str().map(str::to_owned);
        expected.insert(
            record["lsn"].as_u64().unwrap(),
            (kind.to_owned(), subject, trace),
        );
    }
    expected
}

#[test]
fn the_feed_delivers_every_committed_change_in_order_across_reconnections() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &["--feed-heartbeat-s", "1", "--public-host", "twins.example"],
    );
    let telemetry_filter = format!(
        "type = 'microsoft.iot.telemetry' AND (subject = 'thermo-1' OR ENDS_WITH(subject, '-3')) OR subject = '{LAST_TWIN}'"
    );
    let (everything, filtered) = std::thread::scope(|scope| {
        scope.spawn(|| write_load(&server));
        let (everything, connections) = read_with_reconnects(&server.url, None, 57);
        assert!(connections > 3, "{connections} connections");
        let (filtered, _) = read_with_reconnects(&server.url, Some(&telemetry_filter), 10);
        (everything, filtered)
    });
    assert!(server.terminate().success());

    let expected = expected_types(&export(dir.path()));
    let lsns: Vec<u64> = everything.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        lsns,
        expected.keys().copied().collect::<Vec<_>>(),
        "every change once, in LSN order"
    );
    let mut traced = 0;
    for (lsn, event) in &everything {
        let (kind, subject, trace) = &expected[lsn];
        assert_eq!(event["type"], kind.as_str(), "LSN {lsn}");
        assert_eq!(event["subject"], subject.as_str(), "LSN {lsn}");
        assert_eq!(event["source"], "twins.example");
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["lsn"], lsn.to_string());
        assert_eq!(
            event.get("traceparent").and_then(Value::as_str),
            trace.as_deref()
        );
        assert_ne!(
            event.get("traceparent").and_then(Value::as_str),
            Some(INVALID_TRACEPARENT)
        );
        traced += usize::from(trace.is_some());
        if kind == "microsoft.iot.telemetry" {
            assert_eq!(event["dataschema"], "dtmi:test:Thermostat;1");
        }
    }
    assert!(
        traced >= (WRITE_ROUNDS / 4) as usize,
        "{traced} traced events"
    );

    let expected_filtered: Vec<u64> = expected
        .iter()
        .filter(|(_, (kind, subject, _))| {
            kind == "microsoft.iot.telemetry" && (subject == "thermo-1" || subject.ends_with("-3"))
                || subject == LAST_TWIN
        })
        .map(|(lsn, _)| *lsn)
        .collect();
    let filtered_lsns: Vec<u64> = filtered.iter().map(|(id, _)| *id).collect();
    assert_eq!(filtered_lsns, expected_filtered);
    assert_eq!(filtered_lsns.len() as u64, 2 * WRITE_ROUNDS / 5 + 1);
}

#[test]
fn bad_parameters_are_adt_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let message = expect_error(
        server.get(&format!(
            "/feed?{}",
            serde_urlencoded::to_string([("filter", "type = 'x' AND")]).unwrap()
        )),
        400,
        "EventRouteFilterInvalid",
    );
    assert!(message.starts_with("filter: position 15"), "{message}");
    let message = expect_error(server.get("/feed?from=-3"), 400, "InvalidArgument");
    assert!(message.starts_with("from "), "{message}");
    let message = expect_error(
        server
            .request(Method::GET, "/feed")
            .header("Last-Event-ID", "yesterday")
            .send()
            .unwrap(),
        400,
        "InvalidArgument",
    );
    assert!(message.contains("Last-Event-ID"), "{message}");
    let description = expect(server.get("/openapi.json"), 200);
    assert!(description["paths"]["/feed"]["get"].is_object());
}
