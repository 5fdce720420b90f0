//! ADT's `/eventroutes` against the real binary: routes are created, replaced, read, listed in
//! pages and deleted, and survive a restart; bad ones get ADT's codes (`EventRouteIdInvalid`,
//! `EventRouteEndpointInvalid`, `EventRouteFilterInvalid` naming the position,
//! `EventRouteNotFound`); the routes are in `/openapi.json`; and a bad endpoints file stops
//! `serve` with a message naming the file and the field.

mod server;

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};
use server::{expect, expect_error, Server, BIN};

/// An endpoints file with a webhook (to a port nothing answers on; these tests deliver nothing)
/// and an SSE endpoint.
fn endpoints_file(dir: &std::path::Path) -> String {
    let path = dir.join("endpoints.toml");
    std::fs::write(
        &path,
        "[[endpoints]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/events\"\n\
         \n[[endpoints]]\nname = \"dashboard\"\nkind = \"sse\"\n",
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

fn route(endpoint: &str, filter: &str) -> Value {
    json!({"endpointName": endpoint, "filter": filter})
}

#[test]
fn event_routes_are_created_replaced_listed_in_pages_and_deleted_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let endpoints = endpoints_file(dir.path());
    let server = Server::start(&data, &["--endpoints-file", &endpoints]);
    expect(server.get("/eventroutes"), 200);
    assert_eq!(expect(server.get("/eventroutes"), 200)["value"], json!([]));
    let telemetry = "type = 'microsoft.iot.telemetry'";
    expect(
        server.put_json("/eventroutes/b", &route("hook", "true")),
        204,
    );
    expect(
        server.put_json("/eventroutes/a", &route("dashboard", "false")),
        204,
    );
    expect(
        server.put_json("/eventroutes/a", &route("hook", telemetry)),
        204,
    );
    expect(
        server.put_json("/eventroutes/c.1", &route("dashboard", "true")),
        204,
    );
    assert_eq!(
        expect(server.get("/eventroutes/a"), 200),
        json!({"id": "a", "endpointName": "hook", "filter": telemetry})
    );

    let first = server
        .request(Method::GET, "/eventroutes")
        .header("max-items-per-page", "2")
        .send()
        .unwrap();
    let first = expect(first, 200);
    assert_eq!(first["value"].as_array().unwrap().len(), 2);
    let next = first["nextLink"].as_str().unwrap();
    let second = expect(server.client.get(next).send().unwrap(), 200);
    let ids: Vec<&str> = first["value"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["value"].as_array().unwrap())
        .map(|route| route["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b", "c.1"]);
    assert!(second.get("nextLink").is_none());

    expect(server.delete("/eventroutes/b"), 204);
    expect_error(server.get("/eventroutes/b"), 404, "EventRouteNotFound");
    expect_error(server.delete("/eventroutes/b"), 404, "EventRouteNotFound");
    assert!(server.terminate().success());

    let server = Server::start(&data, &["--endpoints-file", &endpoints]);
    let listed = expect(server.get("/eventroutes"), 200);
    assert_eq!(
        listed["value"],
        json!([
            {"id": "a", "endpointName": "hook", "filter": telemetry},
            {"id": "c.1", "endpointName": "dashboard", "filter": "true"}
        ])
    );
    let paths = expect(server.get("/openapi.json"), 200)["paths"].clone();
    for path in [
        "/eventroutes",
        "/eventroutes/{id}",
        "/eventroutes/{id}/deadletters",
        "/eventroutes/{id}/deadletters/replay",
    ] {
        assert!(paths[path].is_object(), "{path} is not in /openapi.json");
    }
}

#[test]
fn bad_event_routes_get_adts_error_codes() {
    let dir = tempfile::tempdir().unwrap();
    let endpoints = endpoints_file(dir.path());
    let server = Server::start(&dir.path().join("data"), &["--endpoints-file", &endpoints]);
    let message = expect_error(
        server.put_json("/eventroutes/no%20spaces", &route("hook", "true")),
        400,
        "EventRouteIdInvalid",
    );
    assert!(message.contains("no spaces"), "{message}");
    expect_error(
        server.put_json(
            &format!("/eventroutes/{}", "r".repeat(65)),
            &route("hook", "true"),
        ),
        400,
        "EventRouteIdInvalid",
    );
    let message = expect_error(
        server.put_json("/eventroutes/r", &route("elsewhere", "true")),
        400,
        "EventRouteEndpointInvalid",
    );
    assert!(message.contains("elsewhere"), "{message}");
    let message = expect_error(
        server.put_json("/eventroutes/r", &route("hook", "type = 'a' AND")),
        400,
        "EventRouteFilterInvalid",
    );
    assert!(message.contains("position 15"), "{message}");
    let message = expect_error(
        server.put_json("/eventroutes/r", &json!({"endpointName": "hook"})),
        400,
        "InvalidArgument",
    );
    assert!(message.contains("filter"), "{message}");
    expect_error(server.get("/eventroutes/r"), 404, "EventRouteNotFound");
    expect_error(
        server.get("/eventroutes/r/deadletters"),
        404,
        "EventRouteNotFound",
    );
    expect_error(
        server
            .request(Method::POST, "/eventroutes/r/deadletters/replay")
            .send()
            .unwrap(),
        404,
        "EventRouteNotFound",
    );
    expect(
        server.put_json("/eventroutes/feed", &route("dashboard", "true")),
        204,
    );
    expect_error(
        server
            .request(Method::POST, "/eventroutes/feed/deadletters/replay")
            .send()
            .unwrap(),
        400,
        "EventRouteEndpointInvalid",
    );
    expect_error(
        server
            .request(
                Method::GET,
                "/eventroutes/feed/deadletters?continuationToken=zz",
            )
            .send()
            .unwrap(),
        400,
        "InvalidArgument",
    );
}

#[test]
fn a_bad_endpoints_file_stops_serve_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("endpoints.toml");
    let serve = |text: &str| {
        std::fs::write(&path, text).unwrap();
        let out = Command::new(BIN)
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0", "--endpoints-file"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(!out.status.success(), "serve started with {text:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let path_text = path.to_str().unwrap();
    for (text, field) in [
        ("[[endpoints]]\nname = \"h\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\ntimeout_ms = \"soon\"\n", "timeout_ms"),
        ("[[endpoints]]\nname = \"h\"\nkind = \"webhook\"\n", "`url` is required"),
        ("[[endpoints]]\nname = \"h\"\nkind = \"webhook\"\nurl = \"gopher://x/\"\n", "`url`"),
    ] {
        let stderr = serve(text);
        assert!(stderr.contains(path_text) && stderr.contains(field), "{stderr}");
    }
    let missing = dir.path().join("missing.toml");
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--endpoints-file"])
        .arg(&missing)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(missing.to_str().unwrap()));
}
