//! Feeding the read model from the log: a rebuild from the first record, and a follower thread
//! that applies each commit as it lands.
//!
//! The follower reads the log on its own thread, since redb reads block, and takes the shared
//! model's lock only to apply a chunk it has already read and decoded: a query waits for one
//! chunk at most, and the log's writer never waits for the read model at all.
//!
//! The lock is a `Mutex`, not an `RwLock`: [`TwinState`](crate::twin::TwinState) keeps a
//! `Cell` cache for its decisions, so it is `Send` but not `Sync`, and queries take turns.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tokio::runtime::Runtime;
use tokio::sync::{oneshot, watch};
use twinlog_migrations::reader::{LogReader, Replay};
use twinlog_migrations::Event;

use super::{ReadModel, ReadModelError};
use crate::log::{EventLog, LogHead};

/// How many records the follower reads and decodes before it takes the lock to apply them.
/// Larger chunks take the lock less often; smaller ones hold it for less time.
pub const APPLY_CHUNK_RECORDS: usize = 1024;

/// One committed record, decoded.
struct Committed {
    lsn: u64,
    twin_id: String,
    event: Event,
}

/// Up to [`APPLY_CHUNK_RECORDS`] records from `replay`; none once it reaches the end of the log.
fn read_chunk(replay: &mut Replay) -> Result<Vec<Committed>, ReadModelError> {
    let mut chunk = Vec::new();
    for stored in replay.by_ref().take(APPLY_CHUNK_RECORDS) {
        let stored = stored?;
        let record = stored.decode()?;
        chunk.push(Committed {
            lsn: record.header.lsn,
            twin_id: record.header.twin_id.to_owned(),
            event: record.event()?,
        });
    }
    Ok(chunk)
}

/// Reads every record from `from_lsn` to the end of the log, and hands it to `apply` a chunk at
/// a time.
fn catch_up(
    reader: &LogReader,
    from_lsn: u64,
    mut apply: impl FnMut(&[Committed]) -> Result<(), ReadModelError>,
) -> Result<(), ReadModelError> {
    let mut replay = reader.replay_from(from_lsn);
    loop {
        let chunk = read_chunk(&mut replay)?;
        if chunk.is_empty() {
            return Ok(());
        }
        apply(&chunk)?;
    }
}

impl ReadModel {
    /// The read model of everything `log` holds now, from LSN 1. Blocking: run it off async
    /// workers.
    pub fn rebuild(log: &EventLog) -> Result<ReadModel, ReadModelError> {
        let mut model = ReadModel::new();
        catch_up(log.reader(), 1, |chunk| model.apply_chunk(chunk))?;
        Ok(model)
    }

    fn apply_chunk(&mut self, chunk: &[Committed]) -> Result<(), ReadModelError> {
        chunk
            .iter()
            .try_for_each(|record| self.apply(record.lsn, &record.twin_id, &record.event))
    }
}

/// Keeps a shared [`ReadModel`] up to date with an [`EventLog`] on a dedicated thread. The thread
/// ends when the follower is dropped (which waits for it) or when the log is closed.
pub struct ReadModelFollower {
    model: Arc<Mutex<ReadModel>>,
    /// Dropped to tell the thread to stop.
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ReadModelFollower {
    /// Follows `log` from where `model` stands: give it [`ReadModel::rebuild`]'s result to skip
    /// the replay on the follower's thread, or [`ReadModel::new`] to replay there. The follower
    /// holds the log's reader and head, not the log itself, so the log still closes when its
    /// last handle is dropped.
    pub fn start(log: &EventLog, model: ReadModel) -> Result<ReadModelFollower, ReadModelError> {
        let model = Arc::new(Mutex::new(model));
        let (stop, stopped) = oneshot::channel();
        // A current-thread runtime only to wait on the head and the stop signal; it drives no I/O.
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let follow = Follow {
            reader: log.reader().clone(),
            head: log.subscribe(),
            model: model.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("read-model".to_owned())
            .spawn(move || follow.run(&runtime, stopped))?;
        Ok(ReadModelFollower {
            model,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The read model, for queries, which must not change it. The follower holds its lock only
    /// while it applies one chunk. A panic while applying (the log and the code disagree) stops
    /// the follower and poisons the lock: the model may be half-changed.
    pub fn model(&self) -> &Arc<Mutex<ReadModel>> {
        &self.model
    }

    /// Whether the thread still follows the log: false once the log has closed, or a record
    /// failed to apply. A model whose follower has stopped grows stale.
    pub fn is_following(&self) -> bool {
        self.thread
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
    }
}

impl Drop for ReadModelFollower {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            // A panic on the thread has already poisoned the model, which tells its readers.
            let _ = thread.join();
        }
    }
}

/// What the follower's thread holds.
struct Follow {
    reader: LogReader,
    head: watch::Receiver<LogHead>,
    model: Arc<Mutex<ReadModel>>,
}

impl Follow {
    fn run(mut self, runtime: &Runtime, mut stopped: oneshot::Receiver<()>) {
        loop {
            // Marked seen before the catch-up, so a commit that lands during it wakes the wait.
            self.head.borrow_and_update();
            if let Err(error) = self.catch_up() {
                tracing::error!(%error, "the read model could not follow the log; it retries at the next commit");
            }
            let go_on = runtime.block_on(async {
                tokio::select! {
                    changed = self.head.changed() => changed.is_ok(),
                    _ = &mut stopped => false,
                }
            });
            if !go_on {
                return;
            }
        }
    }

    fn catch_up(&self) -> Result<(), ReadModelError> {
        let from_lsn = self.lock().lsn() + 1;
        catch_up(&self.reader, from_lsn, |chunk| {
            self.lock().apply_chunk(chunk)
        })
    }

    /// The model. A panic while applying ends this thread, so while it runs only a query can
    /// have poisoned the lock, and queries do not change the model: it is whole.
    fn lock(&self) -> MutexGuard<'_, ReadModel> {
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
