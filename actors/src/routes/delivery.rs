//! One webhook route's delivery: reads the committed events after the route's cursor from the
//! node's [`ProjectionWindow`] (or, behind it, from the log itself), keeps what its filter
//! matches, POSTs it in batches in LSN order, retries with backoff, dead-letters what its
//! endpoint will not take, and moves the cursor.
//!
//! Invariant: see docs/design.md "Event routes". The cursor only ever names an LSN whose events,
//! and every earlier one's, were delivered or are stored as dead letters; it may lag behind that
//! (events are then delivered again after a restart) but never run ahead.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use twinlog_migrations::routes::StoredDeadLetter;

use crate::feed::{FeedError, Filter, ProjectionWindow, WindowReader};
use crate::log::{wall_clock_ms, EventLog};

use super::attempts::Outcome;
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
    Store(#[from] StoreError),
    #[error("the reading thread failed: {0}")]
    Thread(String),
}

/// What one read gave: the events the filter kept, ready to send.
struct ReadBatch {
    /// The LSN of each kept event, in order.
    lsns: Vec<u64>,
    /// Each kept event's structured JSON text, in the same order, shared with the window.
    texts: Vec<Arc<str>>,
    /// The route's position once it has dealt with this read.
    position: u64,
    /// The commit time of the first record read; 0 if the read found nothing new.
    first_record_ms: u64,
}

/// Everything one route's delivery task holds.
pub(crate) struct Delivery {
    pub route_id: Arc<str>,
    pub filter: Arc<Filter>,
    pub webhook: Webhook,
    pub log: EventLog,
    pub store: RouteStore,
    /// The node's projected events, shared by its routes.
    pub window: Arc<ProjectionWindow>,
    /// The most dead letters the route stores; past it, it holds at its batch.
    pub dead_letters_max: u64,
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
        let mut reader = WindowReader::default();
        let mut persisted = cursor;
        let mut persisted_at = Instant::now();
        let mut head = self.log.subscribe();
        loop {
            head.borrow_and_update();
            let position = self.stats.position.load(Ordering::Relaxed);
            let (returned, read) = self.read(std::mem::take(&mut reader), position).await;
            reader = returned;
            self.stats
                .behind_window
                .store(reader.is_behind(), Ordering::Relaxed);
            let batch = match read {
                Ok(batch) => batch,
                Err(error) => {
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
                let body = batch_body(&batch.texts);
                match self.deliver_or_hold(&body, batch.lsns.len(), &cancel).await {
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
                        let stored = dead_letters.len() as u64;
                        self.stats
                            .dead_lettered_events
                            .fetch_add(stored, Ordering::Relaxed);
                        self.stats.dead_letters.fetch_add(stored, Ordering::Relaxed);
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

    /// The route's stored cursor (and the count of its dead letters, into its stats), read again
    /// until they can be, or `None` if cancelled first.
    async fn read_cursor(&self, cancel: &CancellationToken) -> Option<u64> {
        loop {
            let store = self.store.clone();
            let route_id = self.route_id.clone();
            let read = tokio::task::spawn_blocking(move || {
                Ok::<_, StoreError>((
                    store.cursor(&route_id)?,
                    store.dead_letter_count(&route_id)?,
                ))
            })
            .await;
            let error = match read {
                Ok(Ok((cursor, dead_letters))) => {
                    self.stats
                        .dead_letters
                        .store(dead_letters, Ordering::Relaxed);
                    return Some(cursor);
                }
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

    /// The batch after `position`, read and filtered on a blocking thread (redb reads and JSON
    /// work stay off the async workers). Hands the reader back, or a new one if the thread
    /// failed with it.
    async fn read(
        &self,
        mut reader: WindowReader,
        position: u64,
    ) -> (WindowReader, Result<ReadBatch, ReadFailure>) {
        let filter = self.filter.clone();
        let window = self.window.clone();
        let read = tokio::task::spawn_blocking(move || {
            let read = read_batch(&mut reader, &window, position, &filter);
            (reader, read)
        })
        .await;
        match read {
            Ok((reader, read)) => (reader, read),
            Err(failed) => (
                WindowReader::default(),
                Err(ReadFailure::Thread(failed.to_string())),
            ),
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

/// The events after `position` that `filter` keeps.
fn read_batch(
    reader: &mut WindowReader,
    window: &ProjectionWindow,
    position: u64,
    filter: &Filter,
) -> Result<ReadBatch, ReadFailure> {
    let slice = reader.read_after(window, position)?;
    let (lsns, texts) = slice
        .events()
        .iter()
        .filter(|shared| filter.matches(&shared.event))
        .map(|shared| (shared.event.lsn, shared.json.clone()))
        .unzip();
    Ok(ReadBatch {
        lsns,
        texts,
        position: slice.position(),
        first_record_ms: slice.first_record_ms(),
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
                event: event.to_string(),
            },
        })
        .collect()
}
