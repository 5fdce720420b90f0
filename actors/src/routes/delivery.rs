//! One webhook route's delivery: reads the committed log from the route's cursor through a
//! [`ChangeFeed`], keeps what its filter matches, POSTs it in batches in LSN order, retries with
//! backoff, dead-letters what its endpoint will not take, and moves the cursor.
//!
//! Invariant: see docs/design.md "Event routes". The cursor only ever names an LSN whose events,
//! and every earlier one's, were delivered or are stored as dead letters; it may lag behind that
//! (events are then delivered again after a restart) but never run ahead.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use twinlog_migrations::reader::ReadError;
use twinlog_migrations::routes::StoredDeadLetter;
use twinlog_migrations::RecordError;

use crate::feed::{ChangeFeed, FeedError, Filter};
use crate::log::{wall_clock_ms, EventLog};

use super::policy::Retry;
use super::stats::RouteStats;
use super::store::{self, DeadLetter, RouteStore, StoreError};
use super::webhook::{batch_body, Webhook};

/// How long a route waits before reading again after its log or store could not be read.
const READ_RETRY: Duration = Duration::from_secs(1);

/// Why a route could not read its next batch. It waits and reads again.
#[derive(Debug, thiserror::Error)]
enum ReadFailure {
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Log(#[from] ReadError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the reading thread failed: {0}")]
    Thread(String),
}

/// What one read gave: the events the filter kept, ready to send.
struct ReadBatch {
    /// The LSN of each kept event, in order.
    lsns: Vec<u64>,
    /// Each kept event's structured JSON text, in the same order.
    texts: Vec<String>,
    /// The feed's position after this read.
    position: u64,
    /// The commit time of the first record read; 0 if the read found nothing new.
    first_record_ms: u64,
}

/// Whether a batch reached its endpoint.
enum Outcome {
    Delivered,
    GaveUp {
        attempts: u32,
        reason: String,
    },
    /// The route is stopping; the batch counts as not delivered.
    Cancelled,
}

/// Everything one route's delivery task holds.
pub(crate) struct Delivery {
    pub route_id: Arc<str>,
    pub filter: Arc<Filter>,
    pub webhook: Webhook,
    pub log: EventLog,
    pub store: RouteStore,
    /// The CloudEvents `source` of every event.
    pub source: Arc<str>,
    pub batch_events_max: usize,
    pub cursor_persist_interval: Duration,
    pub stats: Arc<RouteStats>,
}

impl Delivery {
    /// Delivers until `cancel` fires or the log closes, then stores the cursor where it got to.
    pub async fn run(self, cancel: CancellationToken) {
        let span = tracing::info_span!(
            "route",
            route_id = %self.route_id,
            endpoint = %self.webhook.endpoint().name,
            region = %self.log.meta().region,
        );
        self.deliver_all(cancel).instrument(span).await;
    }

    async fn deliver_all(&self, cancel: CancellationToken) {
        let Some(cursor) = self.read_cursor(&cancel).await else {
            return;
        };
        self.stats.position.store(cursor, Ordering::Relaxed);
        tracing::info!(cursor, "route delivering");
        let mut feed = Some(ChangeFeed::new(&self.log, cursor, &self.source));
        let mut persisted = cursor;
        let mut persisted_at = Instant::now();
        let mut head = self.log.subscribe();
        loop {
            head.borrow_and_update();
            let position = self.stats.position.load(Ordering::Relaxed);
            let reading = feed
                .take()
                .unwrap_or_else(|| ChangeFeed::new(&self.log, position, &self.source));
            let (returned, read) = self.read(reading).await;
            feed = returned;
            let batch = match read {
                Ok(batch) => batch,
                Err(error) => {
                    // A feed that failed may have moved past events it never returned: the next
                    // read starts a new one from what the route has dealt with.
                    feed = None;
                    tracing::error!(position, %error, "route cannot read the log; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(READ_RETRY) => continue,
                        () = cancel.cancelled() => break,
                    }
                }
            };
            if batch.first_record_ms == 0 {
                // Caught up with the committed log: wait for the next commit, storing the cursor
                // meanwhile once it is due (never more often, however often the route catches up).
                self.stats.pending_since_ms.store(0, Ordering::Relaxed);
                let unstored = batch.position != persisted;
                let due_in = self
                    .cursor_persist_interval
                    .saturating_sub(persisted_at.elapsed());
                if unstored && due_in.is_zero() {
                    if self.store_cursor(batch.position) {
                        persisted = batch.position;
                    }
                    persisted_at = Instant::now();
                    continue;
                }
                tokio::select! {
                    changed = head.changed() => if changed.is_err() { break },
                    () = tokio::time::sleep(due_in), if unstored => {}
                    () = cancel.cancelled() => break,
                }
                continue;
            }
            self.stats
                .pending_since_ms
                .store(batch.first_record_ms, Ordering::Relaxed);
            let position = batch.position;
            if !batch.lsns.is_empty() {
                match self.deliver(batch_body(&batch.texts), &cancel).await {
                    Outcome::Delivered => {
                        self.stats
                            .delivered_events
                            .fetch_add(batch.lsns.len() as u64, Ordering::Relaxed);
                    }
                    Outcome::GaveUp { attempts, reason } => {
                        tracing::warn!(
                            events = batch.lsns.len(),
                            first_lsn = batch.lsns[0],
                            attempts,
                            %reason,
                            "giving up on a batch: its events become dead letters"
                        );
                        let dead_letters = dead_letters_of(batch, attempts, &reason);
                        if !self
                            .store_dead_letters(position, &dead_letters, &cancel)
                            .await
                        {
                            // Stopping before they are stored: the cursor stays before them.
                            return;
                        }
                        self.stats
                            .dead_lettered_events
                            .fetch_add(dead_letters.len() as u64, Ordering::Relaxed);
                        (persisted, persisted_at) = (position, Instant::now());
                    }
                    Outcome::Cancelled => break,
                }
            }
            self.stats.position.store(position, Ordering::Relaxed);
            if persisted_at.elapsed() >= self.cursor_persist_interval {
                if self.store_cursor(position) {
                    persisted = position;
                }
                persisted_at = Instant::now();
            }
        }
        // Queued cursor writes are not known durable: the last one is written and waited for, so
        // that a stopped route's cursor is stored when `stop` returns.
        let position = self.stats.position.load(Ordering::Relaxed);
        if position != cursor {
            self.persist(position, &[]).await;
        }
        tracing::info!(position, "route stopped");
    }

    /// The route's stored cursor, read again until it can be, or `None` if cancelled first.
    async fn read_cursor(&self, cancel: &CancellationToken) -> Option<u64> {
        loop {
            let store = self.store.clone();
            let route_id = self.route_id.clone();
            let read = tokio::task::spawn_blocking(move || store.cursor(&route_id)).await;
            let error = match read {
                Ok(Ok(cursor)) => return Some(cursor),
                Ok(Err(error)) => ReadFailure::Store(error),
                Err(panicked) => ReadFailure::Thread(panicked.to_string()),
            };
            tracing::error!(%error, "route cannot read its cursor; retrying");
            tokio::select! {
                () = tokio::time::sleep(READ_RETRY) => {}
                () = cancel.cancelled() => return None,
            }
        }
    }

    /// The next batch, read, filtered and encoded on a blocking thread (redb reads and JSON work
    /// stay off the async workers). Hands the feed back, unless the thread failed with it.
    async fn read(
        &self,
        mut feed: ChangeFeed,
    ) -> (Option<ChangeFeed>, Result<ReadBatch, ReadFailure>) {
        let filter = self.filter.clone();
        let log = self.log.clone();
        let max = self.batch_events_max;
        let read = tokio::task::spawn_blocking(move || {
            let read = read_batch(&mut feed, &filter, &log, max);
            (feed, read)
        })
        .await;
        match read {
            Ok((feed, read)) => (Some(feed), read),
            Err(failed) => (None, Err(ReadFailure::Thread(failed.to_string()))),
        }
    }

    /// Attempts `body` until the endpoint takes it or the retry policy gives up.
    async fn deliver(&self, body: Vec<u8>, cancel: &CancellationToken) -> Outcome {
        let policy = self.webhook.endpoint().retry;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let posted = tokio::select! {
                posted = self.webhook.post(body.clone()) => posted,
                () = cancel.cancelled() => return Outcome::Cancelled,
            };
            let Err(error) = posted else {
                return Outcome::Delivered;
            };
            self.stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
            match policy.after_failure(attempts) {
                Retry::After(wait) => {
                    tracing::debug!(attempts, %error, wait_ms = wait.as_millis() as u64, "delivery attempt failed");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = cancel.cancelled() => return Outcome::Cancelled,
                    }
                }
                Retry::GiveUp => {
                    return Outcome::GaveUp {
                        attempts,
                        reason: error.to_string(),
                    }
                }
            }
        }
    }

    /// Queues the cursor at `position` for the log writer's next commit, without waiting for it:
    /// delivery goes on meanwhile, and the queue keeps cursor writes in order. `false` if the
    /// writer's queue is full (the cursor is stored next time) or closed. A failed commit is
    /// logged; it leaves the stored cursor where it was, which only means more duplicates later.
    fn store_cursor(&self, position: u64) -> bool {
        let queued = self
            .log
            .submit_side(store::advance(&self.route_id, position, &[]));
        match queued {
            Ok(pending) => {
                let failed = async move {
                    if let Err(error) = pending.await {
                        tracing::error!(position, %error, "route cannot store its cursor");
                    }
                };
                tokio::spawn(failed.instrument(tracing::Span::current()));
                true
            }
            Err(error) => {
                tracing::warn!(position, %error, "route cannot queue its cursor; it will next time");
                false
            }
        }
    }

    /// Stores the cursor at `position`, with `dead_letters` in the same commit, and waits until
    /// it is durable. A failure is logged and leaves the stored cursor where it was.
    async fn persist(&self, position: u64, dead_letters: &[DeadLetter]) -> bool {
        let ops = store::advance(&self.route_id, position, dead_letters);
        match self.log.write_side(ops).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(position, dead_letters = dead_letters.len(), %error, "route cannot store its cursor");
                false
            }
        }
    }

    /// Stores `dead_letters` with the cursor past them, trying again until it can; `false` if the
    /// route stops first. The route never moves on before its dead letters are durable: a cursor
    /// stored past events that are neither delivered nor dead letters would lose them.
    async fn store_dead_letters(
        &self,
        position: u64,
        dead_letters: &[DeadLetter],
        cancel: &CancellationToken,
    ) -> bool {
        while !self.persist(position, dead_letters).await {
            tokio::select! {
                () = tokio::time::sleep(READ_RETRY) => {}
                () = cancel.cancelled() => return false,
            }
        }
        true
    }
}

fn read_batch(
    feed: &mut ChangeFeed,
    filter: &Filter,
    log: &EventLog,
    max: usize,
) -> Result<ReadBatch, ReadFailure> {
    let before = feed.position();
    let events = feed.next_batch(max)?;
    let position = feed.position();
    let first_record_ms = if position > before {
        match log.reader().get(before + 1)? {
            Some(stored) => stored.decode()?.header.time_ms.max(1),
            None => 1,
        }
    } else {
        0
    };
    let (lsns, texts) = events
        .iter()
        .filter(|event| filter.matches(event))
        .map(|event| (event.lsn, event.to_json().to_string()))
        .unzip();
    Ok(ReadBatch {
        lsns,
        texts,
        position,
        first_record_ms,
    })
}

fn dead_letters_of(batch: ReadBatch, attempts: u32, reason: &str) -> Vec<DeadLetter> {
    let dead_lettered_ms = wall_clock_ms();
    batch
        .lsns
        .into_iter()
        .zip(batch.texts)
        .map(|(lsn, event)| DeadLetter {
            lsn,
            letter: StoredDeadLetter {
                dead_lettered_ms,
                attempts,
                reason: reason.to_owned(),
                event,
            },
        })
        .collect()
}
