//! A webhook endpoint for the event-route tests: a real HTTP server on a loopback address that
//! records the CloudEvents batches it accepts, and can refuse (500) or stall a share of requests.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;

/// The media type of a CloudEvents JSON batch.
pub const BATCH_CONTENT_TYPE: &str = "application/cloudevents-batch+json";

/// How the receiver treats requests: shares in thousandths, drawn at random per request.
#[derive(Default)]
pub struct Behaviour {
    /// Answered 500 and not recorded.
    pub fail_per_mille: AtomicU32,
    /// Answered 200 only after `stall`, past the sender's timeout, and not recorded: the sender
    /// has given up on them and must send them again.
    pub stall_per_mille: AtomicU32,
}

#[derive(Default)]
struct Recorded {
    /// Every event of every batch answered 200 in time, in arrival order.
    events: Vec<Value>,
    requests: usize,
    refused: usize,
    stalled: usize,
    /// Requests whose body was not a CloudEvents batch (wrong content type, not an array).
    malformed: usize,
}

pub struct Receiver {
    pub url: String,
    pub behaviour: Arc<Behaviour>,
    recorded: Arc<Mutex<Recorded>>,
    handle: ServerHandle,
}

impl Receiver {
    /// Listens on `addr` (port 0: any free one).
    pub fn start(addr: SocketAddr, stall: Duration) -> Receiver {
        let listener = TcpListener::bind(addr).expect("the receiver binds");
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let behaviour = Arc::new(Behaviour::default());
        let recorded: Arc<Mutex<Recorded>> = Arc::default();
        let shared = (behaviour.clone(), recorded.clone());
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let shared = shared.clone();
                    App::new().default_service(web::to(move |request: HttpRequest, body: String| {
                        let (behaviour, recorded) = shared.clone();
                        async move { answer(&behaviour, &recorded, stall, &request, &body).await }
                    }))
                })
                .workers(2)
                .listen(listener)
                .unwrap()
                .run();
                handle_tx.send(server.handle()).unwrap();
                server.await.unwrap();
            })
        });
        Receiver {
            url,
            behaviour,
            recorded,
            handle: handle_rx.recv().unwrap(),
        }
    }

    /// Every event recorded so far, in arrival order (duplicates kept).
    pub fn events(&self) -> Vec<Value> {
        self.recorded.lock().unwrap().events.clone()
    }

    /// Requests received, refused (500) and stalled.
    pub fn requests(&self) -> (usize, usize, usize) {
        let recorded = self.recorded.lock().unwrap();
        (recorded.requests, recorded.refused, recorded.stalled)
    }

    pub fn malformed(&self) -> usize {
        self.recorded.lock().unwrap().malformed
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn answer(
    behaviour: &Behaviour,
    recorded: &Mutex<Recorded>,
    stall: Duration,
    request: &HttpRequest,
    body: &str,
) -> HttpResponse {
    let draw = rand::random_range(0..1000);
    let fail = behaviour.fail_per_mille.load(Ordering::Relaxed);
    let stalls = draw >= fail && draw < fail + behaviour.stall_per_mille.load(Ordering::Relaxed);
    {
        let mut recorded = recorded.lock().unwrap();
        recorded.requests += 1;
        let batch = request
            .headers()
            .get("content-type")
            .filter(|value| *value == BATCH_CONTENT_TYPE)
            .and_then(|_| serde_json::from_str::<Vec<Value>>(body).ok());
        let Some(events) = batch else {
            recorded.malformed += 1;
            return HttpResponse::UnsupportedMediaType().finish();
        };
        if draw < fail {
            recorded.refused += 1;
            return HttpResponse::InternalServerError().finish();
        }
        if !stalls {
            recorded.events.extend(events);
            return HttpResponse::Ok().finish();
        }
        recorded.stalled += 1;
    }
    actix_web::rt::time::sleep(stall).await;
    HttpResponse::Ok().finish()
}
