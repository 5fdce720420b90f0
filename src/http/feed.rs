//! `GET /feed`: the change feed as Server-Sent Events. Each event is one committed change as a
//! CloudEvent (`id:` its LSN, `event:` its type, `data:` its JSON), in LSN order; a client that
//! reconnects with `Last-Event-ID` continues right after the last event it saw, with no gap.
//!
//! Each connection has one producer task: it reads the log in batches on tokio's blocking pool,
//! filters, and hands the events to a small bounded channel that the response drains. A slow
//! client therefore only slows its own producer, which reads on from the log at the client's
//! pace: memory per connection is the channel, one batch and the feed's bounded twin cache.
//! Caught up, the producer waits for the next commit, sending an SSE comment every heartbeat
//! interval so that proxies keep an idle connection open.

use std::convert::Infallible;
use std::io::Write;
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::stream;
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use twinlog_actors::feed::{ChangeFeed, CloudEvent, Filter};
use twinlog_actors::log::LogHead;
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult, ErrorResponse};
use super::AppState;

/// How the feed names itself and keeps idle connections alive.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Every event's `source`: the region's public host name.
    pub source: String,
    /// How long a connection may go without a byte before it gets an SSE comment.
    pub heartbeat: Duration,
}

/// Events read from the log per blocking call.
const BATCH_EVENTS_MAX: usize = 256;
/// Encoded events waiting for a client: the most a connection buffers beyond one batch.
const CHANNEL_EVENTS_MAX: usize = 64;

const LAST_EVENT_ID: &str = "Last-Event-ID";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The first LSN to send (default: only changes committed from now on). `Last-Event-ID`,
    /// when sent, overrides it.
    #[param(value_type = Option<u64>)]
    from: Option<String>,
    /// An event-route filter, in ADT's language (default: `true`).
    filter: Option<String>,
}

/// The change feed: every committed change after a position, as CloudEvents over Server-Sent
/// Events, endlessly. Reconnect with `Last-Event-ID` to continue without a gap.
#[utoipa::path(get, path = "/feed", tag = "feed",
    params(FeedQuery,
           ("Last-Event-ID" = Option<u64>, Header, description = "the LSN of the last event received; the feed continues after it")),
    responses((status = 200, description = "an endless text/event-stream of CloudEvents", content_type = "text/event-stream", body = String),
              (status = 400, description = "a bad `from`, `filter` or `Last-Event-ID`", body = ErrorResponse)))]
pub async fn feed(
    state: web::Data<AppState>,
    query: web::Query<FeedQuery>,
    request: HttpRequest,
) -> ApiResult {
    let log = state.data_plane.log().clone();
    let after_lsn = after_lsn(&query, request.headers(), || log.head().lsn)?;
    let filter = match query.filter.as_deref() {
        Some(text) => Filter::parse(text)?,
        None => Filter::everything(),
    };
    let (events, drained) = mpsc::channel(CHANNEL_EVENTS_MAX);
    let producer = Producer {
        feed: Some(ChangeFeed::new(&log, after_lsn, &state.feed.source)),
        commits: log.subscribe(),
        filter,
        heartbeat: state.feed.heartbeat,
        events,
        stopping: state.stopping.clone(),
    };
    actix_web::rt::spawn(producer.run());
    let body = stream::unfold(drained, |mut drained| async move {
        let next = drained.recv().await?;
        Some((Ok::<Bytes, Infallible>(next), drained))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// The LSN the feed starts after: `Last-Event-ID` (the last one received), else `from` - 1,
/// else the log's head now.
fn after_lsn(
    query: &FeedQuery,
    headers: &HeaderMap,
    head_lsn: impl FnOnce() -> u64,
) -> Result<u64, ApiError> {
    if let Some(value) = headers.get(LAST_EVENT_ID) {
        let text = value.to_str().unwrap_or("").trim();
        return text.parse::<u64>().map_err(|_| {
            ApiError::invalid_argument(format!(
                "the {LAST_EVENT_ID} header must be the LSN of an event (a whole number), not `{}`",
                text.escape_debug()
            ))
        });
    }
    match query.from.as_deref() {
        None => Ok(head_lsn()),
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map(|from| from.saturating_sub(1))
            .map_err(|_| {
                ApiError::invalid_argument(format!(
                    "from must be an LSN (a whole number from 0), not `{}`",
                    text.escape_debug()
                ))
            }),
    }
}

/// One connection's reader of the log.
struct Producer {
    /// Away on the blocking pool while a batch is read.
    feed: Option<ChangeFeed>,
    commits: watch::Receiver<LogHead>,
    filter: Filter,
    heartbeat: Duration,
    events: mpsc::Sender<Bytes>,
    stopping: watch::Receiver<bool>,
}

/// Why a producer stops: the client left, or the server is stopping.
struct Gone;

impl Producer {
    async fn run(mut self) {
        let mut last_sent = Instant::now();
        loop {
            // Seen before reading, so that a commit landing during the read wakes the wait below.
            self.commits.borrow_and_update();
            let batch = match self.read().await {
                Ok(batch) => batch,
                Err(reason) => {
                    tracing::error!(error = %reason, "change feed stopped");
                    let _ = self.events.send(failure(&reason)).await;
                    return;
                }
            };
            if batch.is_empty() {
                if self.wait(&mut last_sent).await.is_err() {
                    return;
                }
                continue;
            }
            for event in batch.iter().filter(|event| self.filter.matches(event)) {
                if self.events.send(encode(event)).await.is_err() {
                    return;
                }
                last_sent = Instant::now();
            }
            // A long run of events the filter drops still keeps the connection alive.
            if last_sent.elapsed() >= self.heartbeat && self.beat(&mut last_sent).await.is_err() {
                return;
            }
        }
    }

    async fn beat(&self, last_sent: &mut Instant) -> Result<(), Gone> {
        self.events
            .send(Bytes::from_static(b": heartbeat\n\n"))
            .await
            .map_err(|_| Gone)?;
        *last_sent = Instant::now();
        Ok(())
    }

    /// The next batch, read on the blocking pool (redb reads block).
    async fn read(&mut self) -> Result<Vec<CloudEvent>, String> {
        let mut feed = self
            .feed
            .take()
            .ok_or("the feed's reader stopped in an earlier batch")?;
        let (feed, batch) = web::block(move || {
            let batch = feed.next_batch(BATCH_EVENTS_MAX);
            (feed, batch)
        })
        .await
        .map_err(|e| format!("the feed's reader stopped: {e}"))?;
        let position = feed.position();
        self.feed = Some(feed);
        batch.map_err(|e| format!("after LSN {position}: {e}"))
    }

    /// Caught up: waits for a commit, sending heartbeats meanwhile.
    async fn wait(&mut self, last_sent: &mut Instant) -> Result<(), Gone> {
        loop {
            let quiet = self.heartbeat.saturating_sub(last_sent.elapsed());
            // `None`: quiet for a heartbeat interval.
            let woken = tokio::select! {
                changed = self.commits.changed() => Some(changed.map_err(|_| Gone)),
                () = tokio::time::sleep(quiet) => None,
                () = self.events.closed() => Some(Err(Gone)),
                _ = self.stopping.wait_for(|stopping| *stopping) => Some(Err(Gone)),
            };
            match woken {
                Some(woken) => return woken,
                None => self.beat(last_sent).await?,
            }
        }
    }
}

/// One SSE event. An event's JSON is compact, with no raw line break, so `data:` is one line.
fn encode(event: &CloudEvent) -> Bytes {
    let mut frame = Vec::with_capacity(256 + event.data.get().len());
    // Writes into a Vec cannot fail.
    let _ = write!(
        frame,
        "id: {}\nevent: {}\ndata: ",
        event.lsn, event.event_type
    );
    serde_json::to_writer(&mut frame, event).expect("an event serialises");
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

/// The last message of a feed that cannot go on: an `error` event in ADT's error shape.
fn failure(reason: &str) -> Bytes {
    let body = serde_json::json!({"error": {"code": "InternalServerError", "message": reason}});
    Bytes::from(format!("event: error\ndata: {body}\n\n"))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn query(from: Option<&str>) -> FeedQuery {
        FeedQuery {
            from: from.map(str::to_owned),
            filter: None,
        }
    }

    #[test]
    fn last_event_id_wins_over_from_and_from_defaults_to_now() {
        let none = HeaderMap::new();
        assert_eq!(after_lsn(&query(None), &none, || 41).unwrap(), 41);
        assert_eq!(after_lsn(&query(Some("1")), &none, || 41).unwrap(), 0);
        assert_eq!(after_lsn(&query(Some("0")), &none, || 41).unwrap(), 0);
        assert_eq!(after_lsn(&query(Some("10")), &none, || 41).unwrap(), 9);
        let mut resumed = HeaderMap::new();
        resumed.insert(
            HeaderName::from_static("last-event-id"),
            HeaderValue::from_static("17"),
        );
        assert_eq!(after_lsn(&query(Some("3")), &resumed, || 41).unwrap(), 17);
    }

    #[test]
    fn a_bad_position_is_refused_naming_its_parameter() {
        let none = HeaderMap::new();
        for bad in ["-1", "x", "1.5", "18446744073709551616"] {
            let refused = after_lsn(&query(Some(bad)), &none, || 0).unwrap_err();
            assert_eq!(refused.code, "InvalidArgument");
            assert!(refused.message.starts_with("from "), "{}", refused.message);
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("last-event-id"),
            HeaderValue::from_static("abc"),
        );
        let refused = after_lsn(&query(None), &headers, || 0).unwrap_err();
        assert!(
            refused.message.contains(LAST_EVENT_ID),
            "{}",
            refused.message
        );
    }

    #[test]
    fn an_event_is_one_sse_message_named_by_its_lsn_and_type() {
        let event = CloudEvent {
            lsn: 9,
            id: CloudEvent::id_for(9),
            event_type: "microsoft.iot.telemetry",
            source: "here".to_owned(),
            subject: "t".to_owned(),
            time: "2024-01-01T00:00:00.000Z".to_owned(),
            datacontenttype: "application/json",
            dataschema: None,
            traceparent: None,
            component: None,
            data: serde_json::value::to_raw_value(&serde_json::json!({"text": "two\nlines"}))
                .unwrap(),
        };
        let text = String::from_utf8(encode(&event).to_vec()).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], "id: 9");
        assert_eq!(lines[1], "event: microsoft.iot.telemetry");
        let data: serde_json::Value =
            serde_json::from_str(lines[2].strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["data"]["text"], "two\nlines");
        assert_eq!(data["lsn"], "9");
        assert_eq!(data["type"], "microsoft.iot.telemetry");
        assert_eq!(&lines[3..], ["", ""]);
    }
}
