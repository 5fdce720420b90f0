//! The server's life: SIGTERM stops it cleanly (exit 0) and a restart on the same data directory
//! serves the same twins, rebuilt from the log; the chaos drill exists only with `--chaos`, and a
//! panicking command fails alone while the twin's next command succeeds.

mod server;

use reqwest::Method;
use serde_json::json;
use server::{expect, expect_error, small_models, thermostat, Server};

#[test]
fn sigterm_exits_zero_and_a_restart_keeps_the_twins() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    expect(server.post_json("/models", &small_models()), 201);
    let etag = {
        let created = server.put_json("/digitaltwins/t1", &thermostat(20.0));
        created.headers()["etag"].to_str().unwrap().to_owned()
    };
    let patch = json!([{"op": "replace", "path": "/target", "value": 23.0}]);
    expect(
        server.patch("/digitaltwins/t1", &patch).send().unwrap(),
        204,
    );
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "{status:?}");

    let server = Server::start(dir.path(), &[]);
    let read = server.get("/digitaltwins/t1");
    assert_ne!(read.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(expect(read, 200)["target"], 23.0);
    assert_eq!(
        expect(server.get("/models/dtmi:test:Thermostat;1"), 200)["id"],
        "dtmi:test:Thermostat;1"
    );
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn the_chaos_drill_fails_one_command_and_the_next_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--chaos"]);
    expect(server.post_json("/models", &small_models()), 201);
    expect(server.put_json("/digitaltwins/t1", &thermostat(20.0)), 200);
    expect(
        server
            .request(Method::POST, "/admin/chaos/twins/t1/panic")
            .send()
            .unwrap(),
        204,
    );
    let patch = json!([{"op": "replace", "path": "/target", "value": 30.0}]);
    let failed = server.patch("/digitaltwins/t1", &patch).send().unwrap();
    let message = expect_error(failed, 500, "InternalServerError");
    assert!(message.contains("restarting"), "{message}");
    assert_eq!(expect(server.get("/digitaltwins/t1"), 200)["target"], 20.0);
    expect(
        server.patch("/digitaltwins/t1", &patch).send().unwrap(),
        204,
    );
    assert_eq!(expect(server.get("/digitaltwins/t1"), 200)["target"], 30.0);
    let metrics = server.get("/metrics").text().unwrap();
    assert!(metrics.contains("twinlog_twin_panics_total 1"), "{metrics}");
}

#[test]
fn without_chaos_the_drill_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    expect_error(
        server
            .request(Method::POST, "/admin/chaos/twins/t1/panic")
            .send()
            .unwrap(),
        404,
        "NotFound",
    );
}
