//! The HTTP ingestion load generator: single-event telemetry POSTs over keep-alive connections to
//! 10,000 twins, and NDJSON batches of 1,000 events, each against `twinlog serve` and, with the
//! same client in the same run, against a no-op actix-web handler on the same routes.
//!
//! Run: `cargo build --release && cargo run --release --example http_load -- [--seconds 10]`.
//! It starts `target/release/twinlog serve` on a loopback port with a temporary data directory,
//! so the server and this client share the machine's cores. Bounded in time; loopback only.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

const TWINS: u64 = 10_000;
const CONNECTIONS: usize = 64;
const BATCH_CONNECTIONS: usize = 4;
const BATCH_EVENTS: u64 = 1_000;
const MODEL: &str = "dtmi:bench:Sensor;1";

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

/// Runs `connections` loops of `request` for `duration`, each awaiting its reply before the next.
async fn drive<F, Fut>(
    connections: usize,
    duration: Duration,
    events_per_request: u64,
    request: F,
) -> Figures
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (request, counter) = (request.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < duration {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                assert!(request(n).await, "request {n} failed");
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

fn batch_body(n: u64) -> String {
    (0..BATCH_EVENTS)
        .map(|i| {
            let event = n * BATCH_EVENTS + i;
            json!({"twinId": format!("sensor-{}", event % TWINS), "messageId": format!("b{event}"), "data": {"temperature": 21.5}})
                .to_string()
                + "\n"
        })
        .collect()
}

async fn single(client: reqwest::Client, base: String, n: u64) -> bool {
    client
        .post(format!(
            "{base}/digitaltwins/sensor-{}/telemetry",
            n % TWINS
        ))
        .header("Message-Id", format!("m{n}"))
        .header("Content-Type", "application/json")
        .body(r#"{"temperature":21.5}"#)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

async fn batch(client: reqwest::Client, base: String, n: u64) -> bool {
    client
        .post(format!("{base}/telemetry/batch"))
        .header("Content-Type", "application/x-ndjson")
        .body(batch_body(n))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

async fn run_workloads(name: &str, client: &reqwest::Client, base: &str, seconds: Duration) {
    let (c, b) = (client.clone(), base.to_owned());
    drive(CONNECTIONS, seconds, 1, move |n| {
        single(c.clone(), b.clone(), n)
    })
    .await
    .report(&format!(
        "{name} single-event telemetry, {CONNECTIONS} connections"
    ));
    let (c, b) = (client.clone(), base.to_owned());
    drive(BATCH_CONNECTIONS, seconds, BATCH_EVENTS, move |n| {
        batch(c.clone(), b.clone(), n)
    })
    .await
    .report(&format!(
        "{name} NDJSON batches of {BATCH_EVENTS}, {BATCH_CONNECTIONS} connections"
    ));
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
    let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/twinlog");
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

fn main() {
    let seconds = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_secs);
    let noop = start_noop();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (_server, twinlog) = start_twinlog(dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .expect("a client");
        set_up_twins(&client, &twinlog).await;
        run_workloads("no-op actix-web", &client, &noop, seconds).await;
        run_workloads("twinlog", &client, &twinlog, seconds).await;
    });
}
