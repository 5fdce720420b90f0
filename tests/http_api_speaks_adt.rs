//! The HTTP API answers as ADT's data plane does (api-version 2023-10-31): models, twins,
//! components, relationships, telemetry, paging, ETags and error shapes, against the real binary.

mod server;

use reqwest::Method;
use serde_json::{json, Value};
use server::{expect, expect_error, realestatecore, room, small_models, thermostat, Server};

fn started() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    (dir, server)
}

fn with_small_models() -> (tempfile::TempDir, Server) {
    let (dir, server) = started();
    expect(server.post_json("/models", &small_models()), 201);
    (dir, server)
}

#[test]
fn realestatecore_uploads_lists_in_pages_and_decommissions() {
    let (_dir, server) = started();
    let ontology = realestatecore();
    let uploaded = expect(
        server.post_json("/models", &Value::Array(ontology.clone())),
        201,
    );
    assert_eq!(uploaded.as_array().unwrap().len(), ontology.len());
    assert!(
        uploaded[0]["model"].is_object(),
        "uploads echo the definition"
    );
    expect_error(
        server.post_json("/models", &json!([ontology[0]])),
        409,
        "ModelAlreadyExists",
    );

    const CHAIR: &str = "dtmi:digitaltwins:rec_3_3:asset:Chair;1";
    const FURNITURE: &str = "dtmi:digitaltwins:rec_3_3:asset:Furniture;1";
    let chair = expect(server.get(&format!("/models/{CHAIR}")), 200);
    assert_eq!(chair["id"], CHAIR);
    assert!(chair.get("model").is_none());
    assert!(chair["uploadTime"].is_string());
    let chair = expect(
        server.get(&format!("/models/{CHAIR}?includeModelDefinition=true")),
        200,
    );
    assert_eq!(chair["model"]["extends"], FURNITURE);

    // Every page but the last is full, and nextLink leads through all of them exactly once.
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/models?api-version=2023-10-31", server.url));
    while let Some(link) = next {
        let page = expect(
            server
                .client
                .get(&link)
                .header("max-items-per-page", "100")
                .send()
                .unwrap(),
            200,
        );
        let values = page["value"].as_array().unwrap();
        assert!(values.len() <= 100);
        seen.extend(values.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        next = page["nextLink"].as_str().map(str::to_owned);
        if let Some(link) = &next {
            assert!(
                link.starts_with(&server.url),
                "nextLink is absolute: {link}"
            );
            assert_eq!(values.len(), 100);
        }
    }
    assert_eq!(seen.len(), ontology.len());

    let dependencies = expect(
        server.get(&format!(
            "/models?dependenciesFor={CHAIR}&includeModelDefinition=true"
        )),
        200,
    );
    let ids: Vec<&str> = dependencies["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&CHAIR) && ids.contains(&FURNITURE), "{ids:?}");
    assert!(dependencies["value"][0]["model"].is_object());

    let decommission = json!([{"op": "replace", "path": "/decommissioned", "value": true}]);
    expect(
        server
            .patch(&format!("/models/{CHAIR}"), &decommission)
            .send()
            .unwrap(),
        204,
    );
    assert_eq!(
        expect(server.get(&format!("/models/{CHAIR}")), 200)["decommissioned"],
        true
    );
    let other_patch = json!([{"op": "replace", "path": "/displayName", "value": "x"}]);
    expect_error(
        server
            .patch(&format!("/models/{CHAIR}"), &other_patch)
            .send()
            .unwrap(),
        400,
        "InvalidArgument",
    );
    expect_error(
        server.delete(&format!("/models/{FURNITURE}")),
        409,
        "ModelReferencesNotDeleted",
    );
    expect(server.delete(&format!("/models/{CHAIR}")), 204);
    expect_error(
        server.get(&format!("/models/{CHAIR}")),
        404,
        "ModelNotFound",
    );
    expect_error(server.get("/models/not-a-dtmi"), 400, "InvalidArgument");
}

#[test]
fn twins_round_trip_with_etags_and_preconditions() {
    let (_dir, server) = with_small_models();
    let created = server.put_json("/digitaltwins/t1", &thermostat(21.0));
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let twin = expect(created, 200);
    assert_eq!(twin["$dtId"], "t1");
    assert_eq!(twin["$etag"], etag.as_str());
    assert!(etag.starts_with("W/\""), "{etag}");

    let read = server.get("/digitaltwins/t1");
    assert_eq!(read.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(expect(read, 200)["target"], 21.0);

    let create_only = server
        .request(Method::PUT, "/digitaltwins/t1")
        .header("If-None-Match", "*")
        .json(&thermostat(1.0))
        .send()
        .unwrap();
    expect_error(create_only, 412, "PreconditionFailed");
    let not_star = server
        .request(Method::PUT, "/digitaltwins/t2")
        .header("If-None-Match", "W/\"1\"")
        .json(&thermostat(1.0))
        .send()
        .unwrap();
    let message = expect_error(not_star, 400, "InvalidArgument");
    assert!(message.contains("If-None-Match"), "{message}");

    let patch = json!([{"op": "replace", "path": "/target", "value": 22.5}]);
    let stale = server
        .patch("/digitaltwins/t1", &patch)
        .header("If-Match", "W/\"999\"")
        .send()
        .unwrap();
    expect_error(stale, 412, "PreconditionFailed");
    let patched = server
        .patch("/digitaltwins/t1", &patch)
        .header("If-Match", etag.as_str())
        .send()
        .unwrap();
    let new_etag = patched.headers()["etag"].to_str().unwrap().to_owned();
    expect(patched, 204);
    assert_ne!(new_etag, etag);
    assert_eq!(expect(server.get("/digitaltwins/t1"), 200)["target"], 22.5);
    let bad_path = json!([{"op": "replace", "path": "/nope", "value": 1}]);
    expect_error(
        server.patch("/digitaltwins/t1", &bad_path).send().unwrap(),
        400,
        "JsonPatchInvalid",
    );

    let component = server.get("/digitaltwins/t1/components/display");
    assert!(component.headers().contains_key("etag"));
    assert_eq!(expect(component, 200)["brightness"], 0.5);
    let brighter = json!([{"op": "replace", "path": "/brightness", "value": 0.9}]);
    expect(
        server
            .patch("/digitaltwins/t1/components/display", &brighter)
            .send()
            .unwrap(),
        204,
    );
    assert_eq!(
        expect(server.get("/digitaltwins/t1/components/display"), 200)["brightness"],
        0.9
    );
    expect_error(
        server.get("/digitaltwins/t1/components/nope"),
        404,
        "ComponentNotFound",
    );

    let stale_delete = server
        .request(Method::DELETE, "/digitaltwins/t1")
        .header("If-Match", etag.as_str())
        .send()
        .unwrap();
    expect_error(stale_delete, 412, "PreconditionFailed");
    expect(server.delete("/digitaltwins/t1"), 204);
    let message = expect_error(server.get("/digitaltwins/t1"), 404, "DigitalTwinNotFound");
    assert!(message.contains("t1"), "{message}");
}

#[test]
fn relationships_list_in_pages_with_their_incoming_side() {
    let (_dir, server) = with_small_models();
    expect(server.put_json("/digitaltwins/room", &room("lab")), 200);
    for i in 0..3 {
        expect(
            server.put_json(&format!("/digitaltwins/t{i}"), &thermostat(20.0)),
            200,
        );
        let body = json!({"$targetId": "room", "$relationshipName": "locatedIn", "since": "2026"});
        let put = server.put_json(&format!("/digitaltwins/t{i}/relationships/r{i}"), &body);
        assert!(put.headers().contains_key("etag"));
        let relationship = expect(put, 200);
        assert_eq!(relationship["$sourceId"], format!("t{i}"));
        assert_eq!(relationship["$relationshipId"], format!("r{i}"));
    }
    let missing_target = json!({"$targetId": "nowhere", "$relationshipName": "locatedIn"});
    expect_error(
        server.put_json("/digitaltwins/t0/relationships/bad", &missing_target),
        404,
        "TargetTwinNotFound",
    );

    let read = expect(server.get("/digitaltwins/t0/relationships/r0"), 200);
    assert_eq!(read["$targetId"], "room");
    let patch = json!([{"op": "replace", "path": "/since", "value": "2027"}]);
    expect(
        server
            .patch("/digitaltwins/t0/relationships/r0", &patch)
            .send()
            .unwrap(),
        204,
    );
    assert_eq!(
        expect(server.get("/digitaltwins/t0/relationships/r0"), 200)["since"],
        "2027"
    );

    let outgoing = expect(
        server.get("/digitaltwins/t0/relationships?relationshipName=locatedIn"),
        200,
    );
    assert_eq!(outgoing["value"].as_array().unwrap().len(), 1);
    let none = expect(
        server.get("/digitaltwins/t0/relationships?relationshipName=other"),
        200,
    );
    assert_eq!(none["value"], json!([]));

    let first = expect(
        server
            .request(Method::GET, "/digitaltwins/room/incomingrelationships")
            .header("max-items-per-page", "2")
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(first["value"].as_array().unwrap().len(), 2);
    let next = first["nextLink"].as_str().expect("a second page");
    let second = expect(server.client.get(next).send().unwrap(), 200);
    let mut sources: Vec<Value> = first["value"].as_array().unwrap().clone();
    sources.extend(second["value"].as_array().unwrap().iter().cloned());
    let mut links: Vec<&str> = sources
        .iter()
        .map(|r| r["$relationshipLink"].as_str().unwrap())
        .collect();
    links.sort();
    assert_eq!(
        links,
        [
            "/digitaltwins/t0/relationships/r0",
            "/digitaltwins/t1/relationships/r1",
            "/digitaltwins/t2/relationships/r2"
        ]
    );

    expect_error(
        server.delete("/digitaltwins/room"),
        400,
        "RelationshipsNotDeleted",
    );
    expect(server.delete("/digitaltwins/t0/relationships/r0"), 204);
    expect_error(
        server.get("/digitaltwins/t0/relationships/r0"),
        404,
        "RelationshipNotFound",
    );
}

#[test]
fn telemetry_needs_a_message_id_and_batches_report_each_line() {
    let (_dir, server) = with_small_models();
    expect(server.put_json("/digitaltwins/t1", &thermostat(20.0)), 200);
    let reading = json!({"temperature": 20.5});
    let message = expect_error(
        server.post_json("/digitaltwins/t1/telemetry", &reading),
        400,
        "InvalidArgument",
    );
    assert!(message.contains("Message-Id"), "{message}");
    let sent = server
        .request(Method::POST, "/digitaltwins/t1/telemetry")
        .header("Message-Id", "m1")
        .header("Telemetry-Source-Time", "2026-01-02T03:04:05Z")
        .json(&reading)
        .send()
        .unwrap();
    expect(sent, 204);
    let bad_time = server
        .request(Method::POST, "/digitaltwins/t1/telemetry")
        .header("Message-Id", "m2")
        .header("Telemetry-Source-Time", "yesterday")
        .json(&reading)
        .send()
        .unwrap();
    let message = expect_error(bad_time, 400, "InvalidArgument");
    assert!(message.contains("Telemetry-Source-Time"), "{message}");
    let component = server
        .request(
            Method::POST,
            "/digitaltwins/t1/components/display/telemetry",
        )
        .header("Message-Id", "m3")
        .json(&json!({}))
        .send()
        .unwrap();
    expect(component, 204);
    let nobody = server
        .request(Method::POST, "/digitaltwins/ghost/telemetry")
        .header("Message-Id", "m4")
        .json(&reading)
        .send()
        .unwrap();
    expect_error(nobody, 404, "DigitalTwinNotFound");

    let mut lines: Vec<String> = (0..300)
        .map(|i| {
            json!({"twinId": "t1", "messageId": format!("b{i}"), "data": {"temperature": i}})
                .to_string()
        })
        .collect();
    lines.insert(10, String::new());
    lines.push(json!({"twinId": "ghost", "messageId": "x", "data": {}}).to_string());
    lines.push("{not json".into());
    lines.push(
        json!({"twinId": "t1", "messageId": "y", "sourceTime": "soon", "data": {}}).to_string(),
    );
    let batch = server
        .request(Method::POST, "/telemetry/batch")
        .header("Content-Type", "application/x-ndjson")
        .body(lines.join("\n"))
        .send()
        .unwrap();
    let report = expect(batch, 200);
    assert_eq!(report["accepted"], 300, "{report}");
    assert_eq!(report["rejected"], 3, "{report}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors[0]["line"], 302);
    assert_eq!(errors[0]["code"], "DigitalTwinNotFound");
    assert_eq!(errors[1]["line"], 303);
    assert_eq!(errors[2]["code"], "InvalidArgument");
    let wrong_type = server
        .request(Method::POST, "/telemetry/batch")
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .unwrap();
    expect_error(wrong_type, 400, "InvalidArgument");

    let metrics = server.get("/metrics").text().unwrap();
    assert!(metrics.contains(r#"twinlog_http_requests_total{method="POST",route="/digitaltwins/{id}/telemetry",status="204"} 1"#), "{metrics}");
    let appended = metrics
        .lines()
        .find_map(|line| line.strip_prefix("twinlog_log_events_appended_total "))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap();
    assert!(appended >= 302.0, "{appended}");
    let batch_events_sum = metrics
        .lines()
        .find_map(|line| line.strip_prefix("twinlog_log_commit_batch_events_sum "))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap();
    assert_eq!(
        batch_events_sum, appended,
        "the commit-size histogram sums the appended events"
    );
    assert!(
        metrics.contains(r#"twinlog_log_commit_batch_events_bucket{le="+Inf"}"#),
        "{metrics}"
    );
}

#[test]
fn bad_requests_get_adt_error_bodies_never_a_5xx() {
    let (_dir, server) = with_small_models();
    let malformed = server
        .request(Method::PUT, "/digitaltwins/t1")
        .header("Content-Type", "application/json")
        .body("{\"$metadata\": ")
        .send()
        .unwrap();
    let message = expect_error(malformed, 400, "InvalidArgument");
    assert!(message.contains("JSON"), "{message}");
    let untyped = server
        .request(Method::PUT, "/digitaltwins/t1")
        .body("{}")
        .send()
        .unwrap();
    let message = expect_error(untyped, 400, "InvalidArgument");
    assert!(message.contains("Content-Type"), "{message}");
    let mut huge = thermostat(1.0);
    huge["padding"] = json!("x".repeat(40 * 1024));
    let message = expect_error(
        server.put_json("/digitaltwins/t1", &huge),
        413,
        "PayloadTooLarge",
    );
    assert!(message.contains("32768"), "{message}");
    expect_error(
        server.put_json("/digitaltwins/$models", &thermostat(1.0)),
        400,
        "InvalidArgument",
    );
    expect_error(
        server.put_json(
            &format!("/digitaltwins/{}", "a".repeat(200)),
            &thermostat(1.0),
        ),
        400,
        "InvalidArgument",
    );
    expect_error(
        server
            .request(Method::POST, "/digitaltwins/t1")
            .send()
            .unwrap(),
        405,
        "MethodNotAllowed",
    );
    expect_error(server.get("/no/such/thing"), 404, "NotFound");
    let message = expect_error(
        server
            .client
            .get(format!("{}/models?api-version=2020-05-31", server.url))
            .send()
            .unwrap(),
        400,
        "InvalidArgument",
    );
    assert!(message.contains("api-version"), "{message}");
    // Without api-version is accepted too, and traceparent is ignored.
    let plain = server
        .client
        .get(format!("{}/models", server.url))
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .send()
        .unwrap();
    expect(plain, 200);
    expect_error(
        server
            .request(Method::GET, "/models")
            .header("max-items-per-page", "lots")
            .send()
            .unwrap(),
        400,
        "InvalidArgument",
    );
    expect_error(
        server.get("/models?continuationToken=forged"),
        400,
        "InvalidArgument",
    );

    let description = expect(server.get("/openapi.json"), 200);
    assert!(description["paths"]["/digitaltwins/{id}"]["put"].is_object());
    assert!(description["components"]["schemas"]["ErrorResponse"].is_object());
}
