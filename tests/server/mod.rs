//! A real `twinlog serve` process on a loopback port picked by the OS, for the HTTP tests. It is
//! killed when dropped, so a failing test leaves no server behind.

#![allow(dead_code)] // each test file uses its own part of this

pub mod receiver;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::Method;
use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_twinlog");
pub const API: &str = "api-version=2023-10-31";

pub struct Server {
    child: Child,
    pub url: String,
    pub client: Client,
    /// Sent as a bearer token with every request, when set.
    pub token: Option<String>,
}

impl Server {
    /// Starts a server on `dir` with extra `args`, and waits until `/healthz` answers.
    pub fn start(dir: &Path, args: &[&str]) -> Server {
        let server = Server::start_without_probe(dir, args);
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.request(Method::GET, "/healthz").send().is_err() {
            assert!(Instant::now() < deadline, "/healthz never answered");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Starts a server and returns once it has printed its address (for clients other than
    /// this one, which speaks only plain HTTP).
    pub fn start_without_probe(dir: &Path, args: &[&str]) -> Server {
        // Built first: a child started before a failure here would outlive the test.
        let client = client();
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0", "--workers", "2"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("twinlog starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = lines
            .next()
            .and_then(Result::ok)
            .and_then(|line| line.strip_prefix("listening on ").map(str::to_owned))
            .unwrap_or_else(|| panic!("twinlog serve {args:?} printed no address"));
        Server {
            child,
            url,
            client,
            token: None,
        }
    }

    /// A request to `path`, with `api-version` (as every ADT client sends) and the token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let separator = if path.contains('?') { '&' } else { '?' };
        let request = self
            .client
            .request(method, format!("{}{path}{separator}{API}", self.url));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().unwrap()
    }

    pub fn put_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PUT, path).json(body).send().unwrap()
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path).json(body).send().unwrap()
    }

    /// A JSON Patch, as ADT's SDKs send it.
    pub fn patch(&self, path: &str, patch: &Value) -> RequestBuilder {
        self.request(Method::PATCH, path)
            .header("Content-Type", "application/json-patch+json")
            .body(patch.to_string())
    }

    pub fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().unwrap()
    }

    /// `POST /query` with `body` (`{"query"}` or `{"continuationToken"}`), and
    /// `max-items-per-page` when `page_items` is given.
    pub fn query(&self, body: &Value, page_items: Option<&str>) -> Response {
        let request = self.request(Method::POST, "/query").json(body);
        match page_items {
            Some(items) => request.header("max-items-per-page", items),
            None => request,
        }
        .send()
        .unwrap()
    }

    /// Runs `text` (one page of up to 1,000 results) until `done` holds for its results, or
    /// fails after `deadline`; returns the results and how long they took to satisfy `done`.
    pub fn query_until(
        &self,
        text: &str,
        deadline: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> (Vec<Value>, Duration) {
        let started = Instant::now();
        loop {
            let page = expect(self.query(&json!({ "query": text }), None), 200);
            let results = page["value"].as_array().unwrap().clone();
            if done(&results) {
                return (results, started.elapsed());
            }
            assert!(
                started.elapsed() < deadline,
                "`{text}` still answered {results:?} after {deadline:?}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Sends SIGKILL: the process dies at once, whatever it is doing (and is reaped on drop).
    pub fn kill_9(&self) {
        let signalled = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(signalled.success());
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> ExitStatus {
        let signalled = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(signalled.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "twinlog did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP client for the tests. reqwest's rustls (linked in for webhook deliveries)
/// needs a process-wide crypto provider: the server's own, ring.
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The body of an answer that must have `status`, as JSON (`Null` when empty).
pub fn expect(response: Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let text = response.text().unwrap();
    assert_eq!(got, status, "body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// Checks an ADT error answer: status, `x-ms-error-code`, and the body's code; returns the message.
pub fn expect_error(response: Response, status: u16, code: &str) -> String {
    let header = response
        .headers()
        .get("x-ms-error-code")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = expect(response, status);
    assert_eq!(header.as_deref(), Some(code), "x-ms-error-code of {body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

/// `twinlog export DIR` of a stopped node: every record, one JSON object per line.
pub fn export(dir: &Path) -> Vec<Value> {
    let out = Command::new(BIN).arg("export").arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

/// A thermostat with a `display` component, a telemetry, and a relationship to a room.
pub fn small_models() -> Value {
    json!([
        {
            "@id": "dtmi:test:Display;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [{"@type": "Property", "name": "brightness", "schema": "double"}]
        },
        {
            "@id": "dtmi:test:Room;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [{"@type": "Property", "name": "name", "schema": "string"}]
        },
        {
            "@id": "dtmi:test:Thermostat;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "target", "schema": "double"},
                {"@type": "Telemetry", "name": "temperature", "schema": "double"},
                {"@type": "Component", "name": "display", "schema": "dtmi:test:Display;1"},
                {"@type": "Relationship", "name": "locatedIn", "target": "dtmi:test:Room;1",
                 "properties": [{"@type": "Property", "name": "since", "schema": "string"}]}
            ]
        }
    ])
}

pub fn thermostat(target: f64) -> Value {
    json!({
        "$metadata": {"$model": "dtmi:test:Thermostat;1"},
        "target": target,
        "display": {"$metadata": {}, "brightness": 0.5}
    })
}

pub fn room(name: &str) -> Value {
    json!({"$metadata": {"$model": "dtmi:test:Room;1"}, "name": name})
}

/// Every RealEstateCore model, for uploads of a real ontology.
pub fn realestatecore() -> Vec<Value> {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/dtdl/realestatecore"
    ));
    let mut files = Vec::new();
    let mut pending = vec![root];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            // Some files open with a byte-order mark, which JSON does not allow.
            serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap()
        })
        .collect()
}
