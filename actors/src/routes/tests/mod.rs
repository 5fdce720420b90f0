mod delivery;
mod endpoints;
mod policy;
mod routes;
mod stats;
mod store;
mod webhook;

use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

use twinlog_migrations::Event;

use crate::log::tests::runtime;
use crate::log::{EventLog, LogOptions, NewEvent};

fn open_log(dir: &std::path::Path) -> EventLog {
    EventLog::open(dir, LogOptions::new("test")).unwrap()
}

/// Appends `count` telemetry events to twin `twin`; returns the last LSN.
async fn append_telemetry(log: &EventLog, twin: &str, count: u64) -> u64 {
    let events = (0..count)
        .map(|n| {
            NewEvent::new(
                Arc::from(twin),
                &Event::Telemetry {
                    message_id: format!("m{n}"),
                    source_time: None,
                    component: None,
                    data: format!(r#"{{"n":{n}}}"#),
                },
            )
        })
        .collect();
    log.append(events).await.unwrap().last().unwrap().lsn
}

/// A webhook receiver on a loopback port. It answers every request with `status` (200 at first;
/// tests change it), except on `/stall`, where it answers 200 only after two seconds. It records
/// each request's content type, authorization and body, and apart the path and body of each
/// request it answered 2xx to.
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    seen: Arc<Mutex<Vec<(String, String, String)>>>,
    accepted: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let status = Arc::new(AtomicU16::new(200));
        let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
        let accepted: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = (status.clone(), seen.clone(), accepted.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    let shared = shared.clone();
                    App::new().default_service(web::to(
                        move |request: HttpRequest, body: String| {
                            let (answer, recorded, accepted) = shared.clone();
                            async move {
                                let header = |name: &str| {
                                    request
                                        .headers()
                                        .get(name)
                                        .map(|v| v.to_str().unwrap().to_owned())
                                        .unwrap_or_default()
                                };
                                let entry = (
                                    header("content-type"),
                                    header("authorization"),
                                    body.clone(),
                                );
                                recorded.lock().unwrap().push(entry);
                                let path = request.path().to_owned();
                                if path == "/stall" {
                                    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
                                    accepted.lock().unwrap().push((path, body));
                                    return HttpResponse::Ok().finish();
                                }
                                let status = actix_web::http::StatusCode::from_u16(
                                    answer.load(Ordering::Relaxed),
                                )
                                .unwrap();
                                if status.is_success() {
                                    accepted.lock().unwrap().push((path, body));
                                }
                                HttpResponse::build(status).finish()
                            }
                        },
                    ))
                })
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
                .unwrap()
            })
        });
        Receiver {
            url,
            status,
            seen,
            accepted,
        }
    }

    /// Every event of every batch it answered 2xx to, in arrival order.
    fn accepted_events(&self) -> Vec<serde_json::Value> {
        self.accepted_events_where(|_| true)
    }

    /// Every event of every batch to `path` it answered 2xx to, in arrival order.
    fn accepted_events_at(&self, path: &str) -> Vec<serde_json::Value> {
        self.accepted_events_where(|at| at == path)
    }

    fn accepted_events_where(&self, at: impl Fn(&str) -> bool) -> Vec<serde_json::Value> {
        self.accepted
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, _)| at(path))
            .flat_map(|(_, body)| serde_json::from_str::<Vec<serde_json::Value>>(body).unwrap())
            .collect()
    }
}

/// Waits until `done` holds, for at most ten seconds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
