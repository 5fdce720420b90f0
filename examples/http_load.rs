//! The HTTP ingestion load generator: single-event telemetry POSTs over keep-alive connections to
//! 10,000 twins, and NDJSON batches of 1,000 events, each against `twinlog serve` and, with the
//! same client in the same run, against a no-op actix-web handler on the same routes.
//!
//! Run: `cargo build --release && cargo run --release --example http_load -- [--seconds 10]`.
//! It starts `target/release/twinlog serve` on a loopback port with a temporary data directory,
//! so the server and this client share the machine's cores. Bounded in time; loopback only.
//!
//! For a count of the server's instructions per event (`scripts/ingest_instructions.sh`), it
//! drives a server already running instead: `--server http://127.0.0.1:PORT` with `--set-up`
//! (the model and the twins, nothing else), or with `--workload single|batch --requests N`
//! (exactly N requests of that workload, no baseline).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TWINS: u64 = 10_000;
const CONNECTIONS: usize = 64;
const BATCH_CONNECTIONS: usize = 4;
const BATCH_EVENTS: u64 = 1_000;
const MODEL: &str = "dtmi:bench:Sensor;1";

/// Makes this run's message ids differ from any earlier run's against the same server, so that
/// none is a repeat that the twin would accept without recording it.
static RUN: LazyLock<u128> = LazyLock::new(|| {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos())
});

/// How long a workload runs: for a time, or for a number of requests.
#[derive(Clone, Copy)]
enum Budget {
    Seconds(Duration),
    Requests(u64),
}

struct Figures {
    requests: u64,
    events: u64,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

impl Figures {
    fn report(&mut self, name: &str) {
        self.latencies_us.sort_unstable();
        let at = |p: f64| {
            self.latencies_us
                [((self.latencies_us.len() as f64 * p) as usize).min(self.latencies_us.len() - 1)]
        };
        let seconds = self.elapsed.as_secs_f64();
        println!(
            "{name}: {:.0} requests/s, {:.0} events/s; latency p50 {} us, p99 {} us, p99.9 {} us ({} requests in {seconds:.1} s)",
            self.requests as f64 / seconds,
            self.events as f64 / seconds,
            at(0.5),
            at(0.99),
            at(0.999),
            self.requests,
        );
    }
}

/// One keep-alive HTTP/1.1 connection that sends prepared requests and reads each reply whole.
/// A general-purpose client spends more CPU per request than the no-op server does, and the two
/// share the cores, so the baseline would measure the client; this one does the least a client can.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(address: SocketAddr) -> Connection {
        let stream = TcpStream::connect(address).await.expect("connect");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Connection {
            stream,
            buffer: Vec::with_capacity(4096),
        }
    }

    /// Sends `request` and returns the reply's status once its whole body has arrived.
    async fn send(&mut self, request: &[u8]) -> u16 {
        self.stream
            .write_all(request)
            .await
            .expect("send a request");
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head_len) =
                response.parse(&self.buffer).expect("a well-formed reply")
            {
                let body_len = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
                    .unwrap_or(0);
                let status = response.code.expect("a status");
                if self.buffer.len() >= head_len + body_len {
                    self.buffer.drain(..head_len + body_len);
                    return status;
                }
            }
            let read = self
                .stream
                .read_buf(&mut self.buffer)
                .await
                .expect("read a reply");
            assert!(read > 0, "the server closed the connection");
        }
    }
}

/// Runs `connections` loops of `request` within `budget`, each on its own connection and awaiting
/// its reply before sending the next.
async fn drive(
    address: SocketAddr,
    connections: usize,
    budget: Budget,
    events_per_request: u64,
    request: fn(u64) -> Vec<u8>,
) -> Figures {
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(address).await;
            let mut latencies = Vec::new();
            loop {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let within = match budget {
                    Budget::Seconds(duration) => started.elapsed() < duration,
                    Budget::Requests(requests) => n < requests,
                };
                if !within {
                    break;
                }
                let bytes = request(n);
                let sent = Instant::now();
                let status = connection.send(&bytes).await;
                assert!((200..300).contains(&status), "request {n}: status {status}");
                latencies.push(sent.elapsed().as_micros() as u64);
            }
            latencies
        }));
    }
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.extend(task.await.expect("a load task"));
    }
    let elapsed = started.elapsed();
    let requests = latencies_us.len() as u64;
    Figures {
        requests,
        events: requests * events_per_request,
        elapsed,
        latencies_us,
    }
}

fn post(path: &str, content_type: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{extra_headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn batch_body(n: u64) -> String {
    use std::fmt::Write;
    let mut body = String::with_capacity(BATCH_EVENTS as usize * 80);
    for i in 0..BATCH_EVENTS {
        let event = n * BATCH_EVENTS + i;
        let _ = writeln!(
            body,
            r#"{{"twinId":"sensor-{}","messageId":"b{}-{event}","data":{{"temperature":21.5}}}}"#,
            event % TWINS,
            *RUN
        );
    }
    body
}

fn single(n: u64) -> Vec<u8> {
    post(
        &format!("/digitaltwins/sensor-{}/telemetry", n % TWINS),
        "application/json",
        &format!("Message-Id: m{}-{n}\r\n", *RUN),
        r#"{"temperature":21.5}"#,
    )
}

fn batch(n: u64) -> Vec<u8> {
    post(
        "/telemetry/batch",
        "application/x-ndjson",
        "",
        &batch_body(n),
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    Single,
    Batch,
}

async fn run_workloads(name: &str, address: SocketAddr, workloads: &[Workload], budget: Budget) {
    for workload in workloads {
        match workload {
            Workload::Single => {
                drive(address, CONNECTIONS, budget, 1, single)
                    .await
                    .report(&format!(
                        "{name} single-event telemetry, {CONNECTIONS} connections"
                    ))
            }
            Workload::Batch => drive(address, BATCH_CONNECTIONS, budget, BATCH_EVENTS, batch)
                .await
                .report(&format!(
                    "{name} NDJSON batches of {BATCH_EVENTS}, {BATCH_CONNECTIONS} connections"
                )),
        }
    }
}

/// A no-op server on the same routes: reads the body, answers at once.
fn start_noop() -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            use actix_web::{web, App, HttpResponse, HttpServer};
            let server = HttpServer::new(|| {
                App::new()
                    .route(
                        "/digitaltwins/{id}/telemetry",
                        web::post()
                            .to(|_: web::Bytes| async { HttpResponse::NoContent().finish() }),
                    )
                    .route(
                        "/telemetry/batch",
                        web::post().to(|_: web::Bytes| async {
                            HttpResponse::Ok().body(r#"{"accepted":1000,"rejected":0}"#)
                        }),
                    )
            })
            .workers(2)
            .bind("127.0.0.1:0")
            .expect("bind the no-op server");
            sender.send(server.addrs()[0]).expect("report the address");
            server.run().await
        })
    });
    format!(
        "http://{}",
        receiver.recv().expect("the no-op server's address")
    )
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_twinlog(dir: &std::path::Path) -> (Server, String) {
    use std::io::BufRead;
    // This example runs from <target>/<profile>/examples/, beside the server binary.
    let binary = std::env::current_exe()
        .expect("this example's path")
        .parent()
        .and_then(std::path::Path::parent)
        .expect("the target profile directory")
        .join("twinlog");
    let mut child = Command::new(&binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `cargo build --release` first)",
                binary.display()
            )
        });
    let stdout = child.stdout.take().expect("stdout");
    let line = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.starts_with("listening on "))
        .expect("the server's listening line");
    let url = line.trim_start_matches("listening on ").trim().to_owned();
    (Server(child), url)
}

async fn set_up_twins(client: &reqwest::Client, base: &str) {
    let model = json!([{
        "@id": MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
        "contents": [{"@type": "Telemetry", "name": "temperature", "schema": "double"},
                     {"@type": "Property", "name": "location", "schema": "string"}]
    }]);
    let uploaded = client
        .post(format!("{base}/models"))
        .json(&model)
        .send()
        .await
        .expect("upload the model");
    assert!(
        uploaded.status().is_success(),
        "model upload: {}",
        uploaded.status()
    );
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, base, counter) = (client.clone(), base.to_owned(), counter.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if n >= TWINS {
                    return;
                }
                let twin = json!({"$metadata": {"$model": MODEL}, "location": format!("room {n}")});
                let put = client
                    .put(format!("{base}/digitaltwins/sensor-{n}"))
                    .json(&twin)
                    .send()
                    .await
                    .expect("create a twin");
                assert!(
                    put.status().is_success(),
                    "create sensor-{n}: {}",
                    put.status()
                );
            }
        }));
    }
    for task in tasks {
        task.await.expect("a set-up task");
    }
}

fn address_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .parse()
        .expect("a loopback http://address:port")
}

/// The value after `--name` on the command line.
fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn main() {
    let seconds = arg("--seconds")
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_secs);
    let budget = arg("--requests")
        .and_then(|n| n.parse().ok())
        .map_or(Budget::Seconds(seconds), Budget::Requests);
    let workloads: &[Workload] = match arg("--workload").as_deref() {
        None => &[Workload::Single, Workload::Batch],
        Some("single") => &[Workload::Single],
        Some("batch") => &[Workload::Batch],
        Some(other) => panic!("--workload is single or batch, not `{other}`"),
    };
    let set_up_only = std::env::args().any(|a| a == "--set-up");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    // reqwest's rustls (linked in for webhook deliveries) needs a process-wide crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .expect("a client");
    if let Some(twinlog) = arg("--server") {
        runtime.block_on(async {
            if set_up_only {
                set_up_twins(&client, &twinlog).await;
            } else {
                run_workloads("twinlog", address_of(&twinlog), workloads, budget).await;
            }
        });
        return;
    }
    let noop = start_noop();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (_server, twinlog) = start_twinlog(dir.path());
    runtime.block_on(async {
        set_up_twins(&client, &twinlog).await;
        run_workloads("no-op actix-web", address_of(&noop), workloads, budget).await;
        run_workloads("twinlog", address_of(&twinlog), workloads, budget).await;
    });
}
