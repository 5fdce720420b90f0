//! Bearer tokens from the auth file: none or unknown is 401 with `WWW-Authenticate`, a reader
//! writing (event routes too) is 403, a reader reading or querying (`POST /query`) is served; probes stay open; and
//! without an auth file the server will not listen beyond loopback; past the rate limit, 429
//! with `Retry-After`.

mod server;

use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use server::{expect, expect_error, small_models, thermostat, Server, BIN};

/// `twinlog token new`: the token on stderr, its stanza on stdout.
fn new_token(name: &str, role: &str) -> (String, String) {
    let out = Command::new(BIN)
        .args(["token", "new", "--name", name, "--role", role])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let token = stderr
        .lines()
        .find_map(|line| line.strip_prefix("token: "))
        .expect("the token is printed")
        .to_owned();
    let stanza = String::from_utf8(out.stdout).unwrap();
    assert!(!stanza.contains(&token), "the stanza holds only the hash");
    assert!(stanza.contains("[[tokens]]") && stanza.contains(&format!("role = \"{role}\"")));
    (token, stanza)
}

#[test]
fn owners_write_readers_read_and_strangers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (owner, owner_stanza) = new_token("ingest", "owner");
    let (reader, reader_stanza) = new_token("dashboard", "reader");
    assert_ne!(owner, reader);
    let auth_file = dir.path().join("auth.toml");
    std::fs::write(&auth_file, format!("{owner_stanza}\n{reader_stanza}")).unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, &["--auth-file", auth_file.to_str().unwrap()]);

    expect(server.get("/healthz"), 200);
    expect(server.get("/readyz"), 200);
    let anonymous = server.get("/digitaltwins/t1");
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    expect_error(anonymous, 401, "Unauthorized");
    server.token = Some("not-a-token".into());
    expect_error(server.get("/digitaltwins/t1"), 401, "Unauthorized");

    server.token = Some(owner);
    expect(server.post_json("/models", &small_models()), 201);
    expect(server.put_json("/digitaltwins/t1", &thermostat(20.0)), 200);
    expect(server.get("/metrics"), 200);

    server.token = Some(reader);
    assert_eq!(expect(server.get("/digitaltwins/t1"), 200)["target"], 20.0);
    expect(server.get("/models"), 200);
    let (found, _) = server.query_until(
        "SELECT T.target FROM DIGITALTWINS T WHERE T.$dtId = 't1'",
        Duration::from_secs(5),
        |results| !results.is_empty(),
    );
    assert_eq!(found, [serde_json::json!({"target": 20.0})]);
    let message = expect_error(
        server.put_json("/digitaltwins/t2", &thermostat(1.0)),
        403,
        "Forbidden",
    );
    assert!(message.contains("dashboard"), "{message}");
    let telemetry = server
        .request(Method::POST, "/digitaltwins/t1/telemetry")
        .header("Message-Id", "m1")
        .json(&serde_json::json!({}))
        .send()
        .unwrap();
    expect_error(telemetry, 403, "Forbidden");
    expect_error(server.delete("/digitaltwins/t1"), 403, "Forbidden");
    // Event routes: readers list them; only owners change them or replay their dead letters.
    expect(server.get("/eventroutes"), 200);
    let route = serde_json::json!({"endpointName": "any", "filter": "true"});
    expect_error(server.put_json("/eventroutes/r", &route), 403, "Forbidden");
    expect_error(server.delete("/eventroutes/r"), 403, "Forbidden");
    let replay = server
        .request(Method::POST, "/eventroutes/r/deadletters/replay")
        .send()
        .unwrap();
    expect_error(replay, 403, "Forbidden");
}

#[test]
fn without_an_auth_file_only_loopback_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let refused = Command::new(BIN)
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--insecure-no-auth"), "{stderr}");
}

#[test]
fn over_the_rate_limit_is_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--rate-limit-rps", "1"]);
    expect(server.get("/models"), 200);
    let limited = server.get("/models");
    assert_eq!(limited.headers()["retry-after"], "1");
    expect_error(limited, 429, "TooManyRequests");
    expect(server.get("/healthz"), 200);
}
