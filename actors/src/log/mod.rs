//! The durable event log: appends acknowledged only once fsync'd, group-committed by one writer
//! thread, and read by snapshots while appends continue.
//!
//! Invariants (docs/design.md, "LSN", "Twin versions", "Derived data") are kept by
//! [`writer::LogWriter`]; this module is the handle that producers and readers hold.

mod open;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot, watch};
use twinlog_migrations::reader::{LogReader, Replay, StoredRecord};
use twinlog_migrations::record::Hash;
use twinlog_migrations::{Event, FormatError, LogMeta, ReadError, SideTable, TwinHead};

pub use open::OpenError;

/// Tuning of an [`EventLog`]. The defaults suit a server; tests shrink them.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// The region this log belongs to. A new log records it; an existing log must match it.
    pub region: String,
    /// The most events one commit takes. Larger batches amortise the fsync further but make
    /// each commit, and so the wait of the first producer in it, longer.
    pub batch_events_max: usize,
    /// How many append requests may wait for the writer before producers wait to send.
    pub queue_requests_max: usize,
    /// Every this many events, the twin heads are checkpointed in the commit that crosses it,
    /// which bounds the replay needed on open.
    pub checkpoint_interval_events: u64,
}

impl LogOptions {
    pub fn new(region: &str) -> LogOptions {
        LogOptions {
            region: region.to_owned(),
            batch_events_max: 4096,
            queue_requests_max: 65_536,
            checkpoint_interval_events: 100_000,
        }
    }
}

/// One event to append: the twin whose stream it extends, and the encoded [`Event`].
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub twin_id: Arc<str>,
    pub payload: Vec<u8>,
}

impl NewEvent {
    pub fn new(twin_id: Arc<str>, event: &Event) -> NewEvent {
        NewEvent {
            twin_id,
            payload: event.encode(),
        }
    }
}

/// Where an appended event landed. Returned only once it is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub lsn: u64,
    pub twin_version: u64,
    pub time_ms: u64,
}

/// The log's durable end, published after every commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    pub lsn: u64,
    pub epoch: u64,
    pub hash: Hash,
    pub time_ms: u64,
}

/// Upper bounds of the commit-size buckets of [`LogStats`], in events per commit.
pub const BATCH_EVENTS_BUCKETS: [u64; 13] =
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

/// Counters of the writer's work, for metrics and benchmarks.
#[derive(Debug, Default)]
pub struct LogStats {
    pub commits: AtomicU64,
    pub events: AtomicU64,
    /// Set when a commit has failed: the writer refuses appends until the log is reopened.
    pub failed: std::sync::atomic::AtomicBool,
    /// Commits per size bucket ([`BATCH_EVENTS_BUCKETS`], then one for larger), not cumulative.
    batch_events: [AtomicU64; BATCH_EVENTS_BUCKETS.len() + 1],
}

impl LogStats {
    pub(super) fn record_commit(&self, events: u64) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        if events == 0 {
            // A commit of side writes alone: an fsync, but no batch of events to size.
            return;
        }
        self.events.fetch_add(events, Ordering::Relaxed);
        let bucket = BATCH_EVENTS_BUCKETS
            .iter()
            .position(|&bound| events <= bound)
            .unwrap_or(BATCH_EVENTS_BUCKETS.len());
        self.batch_events[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// Commits per size bucket, in the order of [`BATCH_EVENTS_BUCKETS`] plus one for larger.
    pub fn batch_events_counts(&self) -> Vec<u64> {
        self.batch_events
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }

    /// The mean events per commit since the log was opened.
    pub fn mean_batch_events(&self) -> f64 {
        let commits = self.commits.load(Ordering::Relaxed);
        if commits == 0 {
            return 0.0;
        }
        self.events.load(Ordering::Relaxed) as f64 / commits as f64
    }
}

/// Why an append was not acknowledged. None of its events is durable.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    #[error("storage failed after LSN {last_durable_lsn}: {reason}; the log accepts no appends until it is reopened")]
    Storage {
        last_durable_lsn: u64,
        reason: String,
    },
    #[error("the log writer's queue is full ({queue_requests_max} requests waiting); retry later")]
    QueueFull { queue_requests_max: usize },
    #[error("the log writer has stopped")]
    Closed,
}

/// What an append's producer is told once the append is durable, or why it never will be: for a
/// producer that answers its own callers from the writer's thread (through
/// [`EventLog::submit_to`]) rather than waking a thread of its own to await a [`Pending`].
///
/// It runs on the writer thread, between commits, so it must neither block nor take long: hand
/// the result on (a channel send, an atomic store) and return. A panic in it is caught and
/// logged; the writer goes on.
pub trait AppendCompletion: Send + 'static {
    fn complete(self: Box<Self>, result: Result<Vec<Appended>, AppendError>);
}

impl AppendCompletion for oneshot::Sender<Result<Vec<Appended>, AppendError>> {
    fn complete(self: Box<Self>, result: Result<Vec<Appended>, AppendError>) {
        let _ = self.send(result);
    }
}

/// A submission the log's queue would not take, with the completion it was never handed.
#[derive(Debug)]
pub struct Refused<C> {
    pub error: AppendError,
    pub completion: C,
}

/// An append's completion, told exactly once: by the writer, or, should its request be dropped
/// untold (the writer gone), with [`AppendError::Closed`].
pub(crate) struct Completion(Option<Box<dyn AppendCompletion>>);

impl Completion {
    fn new(completion: Box<dyn AppendCompletion>) -> Completion {
        Completion(Some(completion))
    }

    pub(crate) fn complete(mut self, result: Result<Vec<Appended>, AppendError>) {
        if let Some(completion) = self.0.take() {
            tell(completion, result);
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if let Some(completion) = self.0.take() {
            tell(completion, Err(AppendError::Closed));
        }
    }
}

/// Runs a producer's completion so that nothing in it can unwind into the writer.
fn tell(completion: Box<dyn AppendCompletion>, result: Result<Vec<Appended>, AppendError>) {
    let told = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        completion.complete(result);
    }));
    if told.is_err() {
        tracing::error!("an append's completion panicked; the log writer goes on");
    }
}

/// A request to the writer on its way to durability: resolves once its commit is durable, or
/// with why it will not be.
#[must_use = "a write is known durable only through its pending future"]
pub struct Pending<T> {
    done: oneshot::Receiver<Result<T, AppendError>>,
}

/// An append on its way to durability: resolves with where its events landed, or why none did.
pub type PendingAppend = Pending<Vec<Appended>>;

/// A side write on its way to durability.
pub type PendingSideWrite = Pending<()>;

impl<T> std::future::Future for Pending<T> {
    type Output = Result<T, AppendError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.done)
            .poll(cx)
            .map(|done| done.unwrap_or(Err(AppendError::Closed)))
    }
}

/// The committed heads of every twin, shared between the writer (which publishes them after each
/// commit) and readers.
pub(crate) type SharedHeads = Arc<RwLock<FxHashMap<Arc<str>, TwinHead>>>;

/// One change to a side table (node-local state beside the log, see
/// `twinlog_migrations::format::SideTable`), made by [`EventLog::write_side`].
#[derive(Debug, Clone)]
pub enum SideOp {
    Put {
        table: SideTable,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// Puts `value` only if `key` holds nothing yet.
    PutIfAbsent {
        table: SideTable,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Remove {
        table: SideTable,
        key: Vec<u8>,
    },
    /// Removes every key in `start..end`.
    RemoveRange {
        table: SideTable,
        start: Vec<u8>,
        end: Vec<u8>,
    },
}

/// What the writer's queue carries: events to append, or side-table changes to commit with them.
pub(crate) enum WriterRequest {
    Append {
        events: Vec<NewEvent>,
        reply: Completion,
    },
    Side {
        ops: Vec<SideOp>,
        reply: oneshot::Sender<Result<(), AppendError>>,
    },
}

/// The durable event log of one data directory. Cheap to clone; the writer stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

struct Inner {
    requests: Option<mpsc::Sender<WriterRequest>>,
    reader: LogReader,
    heads: SharedHeads,
    head: watch::Receiver<LogHead>,
    meta: LogMeta,
    stats: Arc<LogStats>,
    writer: Option<JoinHandle<()>>,
    path: PathBuf,
    #[cfg(test)]
    commit_gate: CommitGate,
}

/// Decides the writer's next commit before anything of it is written, and may hold the writer
/// meanwhile: how tests stall a commit, or fail it as storage would.
#[cfg(test)]
pub(crate) type CommitGate = Arc<std::sync::Mutex<Option<CommitVerdict>>>;

#[cfg(test)]
pub(crate) type CommitVerdict = Box<dyn FnOnce() -> Result<(), String> + Send>;

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what it holds and exit; joining it releases the
        // file before a reopen in the same process.
        self.requests.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl EventLog {
    /// Opens the log in data directory `dir`, creating both if needed, and recovers its derived
    /// data from the last checkpoint plus a replay of the records after it.
    pub fn open(dir: &Path, options: LogOptions) -> Result<EventLog, OpenError> {
        open::open(dir, options)
    }

    /// Appends `events` in order and returns once all of them are durable. One producer's appends
    /// are committed in the order its calls are made. Never blocks the calling thread; waits for
    /// room when the writer's queue is full.
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, AppendError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let requests = self.inner.requests.as_ref().ok_or(AppendError::Closed)?;
        let (reply, acked) = oneshot::channel();
        let reply = Completion::new(Box::new(reply));
        requests
            .send(WriterRequest::Append { events, reply })
            .await
            .map_err(|_| AppendError::Closed)?;
        Pending { done: acked }.await
    }

    /// Applies `ops` in order to the side tables, in the writer's next group commit, and returns
    /// once they are durable. Side writes share the append transactions instead of opening write
    /// transactions of their own, which would stall the writer; one queued while no append is
    /// waiting commits on its own. Ops queued by one caller commit in the order of its calls.
    pub async fn write_side(&self, ops: Vec<SideOp>) -> Result<(), AppendError> {
        if ops.is_empty() {
            return Ok(());
        }
        let requests = self.inner.requests.as_ref().ok_or(AppendError::Closed)?;
        let (reply, done) = oneshot::channel();
        requests
            .send(WriterRequest::Side { ops, reply })
            .await
            .map_err(|_| AppendError::Closed)?;
        Pending { done }.await
    }

    /// Queues `ops` now, behind everything queued before this call, and returns what resolves
    /// once they are durable: for a caller that must not wait on a commit to go on (a route
    /// storing its cursor). A full queue is refused at once rather than waited on.
    pub fn submit_side(&self, ops: Vec<SideOp>) -> Result<PendingSideWrite, AppendError> {
        let (reply, done) = oneshot::channel();
        if ops.is_empty() {
            let _ = reply.send(Ok(()));
        } else {
            self.try_queue(WriterRequest::Side { ops, reply })?;
        }
        Ok(Pending { done })
    }

    /// Queues `events` now, behind everything queued before this call, and returns what resolves
    /// once they are durable. For callers that must fix their order synchronously (producers
    /// pipelining their appends); a full queue is refused at once rather than waited on.
    pub fn submit(&self, events: Vec<NewEvent>) -> Result<PendingAppend, AppendError> {
        let (reply, acked) = oneshot::channel();
        self.submit_to(events, reply)
            .map_err(|refused| refused.error)?;
        Ok(Pending { done: acked })
    }

    /// Queues `events` as [`EventLog::submit`] does, and tells `completion`, on the writer thread,
    /// once they are durable or why they will not be. A refused submission is not told: it hands
    /// `completion` back, untold, with why.
    pub fn submit_to<C: AppendCompletion>(
        &self,
        events: Vec<NewEvent>,
        completion: C,
    ) -> Result<(), Refused<C>> {
        if events.is_empty() {
            Box::new(completion).complete(Ok(Vec::new()));
            return Ok(());
        }
        let Some(requests) = self.inner.requests.as_ref() else {
            return Err(Refused {
                error: AppendError::Closed,
                completion,
            });
        };
        // A permit first, so that the completion is handed over only once the queue has room.
        let permit = match requests.try_reserve() {
            Ok(permit) => permit,
            Err(refusal) => {
                let error = match refusal {
                    mpsc::error::TrySendError::Full(()) => AppendError::QueueFull {
                        queue_requests_max: requests.max_capacity(),
                    },
                    mpsc::error::TrySendError::Closed(()) => AppendError::Closed,
                };
                return Err(Refused { error, completion });
            }
        };
        permit.send(WriterRequest::Append {
            events,
            reply: Completion::new(Box::new(completion)),
        });
        Ok(())
    }

    /// Queues `request` behind everything queued before, or refuses it at once.
    fn try_queue(&self, request: WriterRequest) -> Result<(), AppendError> {
        let requests = self.inner.requests.as_ref().ok_or(AppendError::Closed)?;
        requests.try_send(request).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => AppendError::QueueFull {
                queue_requests_max: requests.max_capacity(),
            },
            mpsc::error::TrySendError::Closed(_) => AppendError::Closed,
        })
    }

    /// Every record from `lsn` on, in constant memory.
    pub fn replay_from(&self, lsn: u64) -> Replay {
        self.inner.reader.replay_from(lsn)
    }

    /// The committed head of one twin's stream.
    pub fn twin_head(&self, twin_id: &str) -> Option<TwinHead> {
        read_heads(&self.inner.heads).get(twin_id).copied()
    }

    /// One twin's committed records from `from_version` on, oldest first.
    pub fn twin_stream(
        &self,
        twin_id: &str,
        from_version: u64,
    ) -> Result<Vec<StoredRecord>, ReadError> {
        match self.twin_head(twin_id) {
            Some(head) => self.inner.reader.twin_stream(twin_id, head, from_version),
            None => Ok(Vec::new()),
        }
    }

    /// The durable end of the log.
    pub fn head(&self) -> LogHead {
        *self.inner.head.borrow()
    }

    /// A receiver that changes after every commit, for followers of the log.
    pub fn subscribe(&self) -> watch::Receiver<LogHead> {
        self.inner.head.clone()
    }

    /// The metadata as it was when the log was opened.
    pub fn meta(&self) -> &LogMeta {
        &self.inner.meta
    }

    pub fn stats(&self) -> &LogStats {
        &self.inner.stats
    }

    /// Whether appends can succeed: the writer runs and has not failed a commit.
    pub fn accepts_appends(&self) -> bool {
        let running = self
            .inner
            .writer
            .as_ref()
            .is_some_and(|writer| !writer.is_finished());
        running && !self.inner.stats.failed.load(Ordering::Relaxed)
    }

    pub fn reader(&self) -> &LogReader {
        &self.inner.reader
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Has the writer's next commit wait for `verdict`, and fail with its error if it gives one.
    #[cfg(test)]
    pub(crate) fn gate_next_commit(&self, verdict: CommitVerdict) {
        *self
            .inner
            .commit_gate
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(verdict);
    }
}

/// Milliseconds since the Unix epoch by the wall clock (0 if the clock is before it).
pub fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Reads the shared heads. A poisoned lock only means a panic elsewhere while it was held; the
/// writer replaces whole entries, so the map is never half-updated and stays readable.
pub(crate) fn read_heads(
    heads: &SharedHeads,
) -> std::sync::RwLockReadGuard<'_, FxHashMap<Arc<str>, TwinHead>> {
    heads
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl From<FormatError> for OpenError {
    fn from(error: FormatError) -> OpenError {
        OpenError::Format(error)
    }
}

#[cfg(test)]
pub(crate) mod tests;
