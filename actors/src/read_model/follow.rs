//! Feeding the read model from the log: a rebuild from the first record, and a follower thread
//! that applies each commit as it lands.
//!
//! The follower reads the log on its own thread, since redb reads block, and takes the shared
//! model's lock only to apply records it has already read and decoded; the log's writer never
//! waits for the read model at all. While a query holds the lock, the follower reads on, and
//! once the query lets go (the lock is handed to the follower, see [`SharedReadModel`]) it
//! applies everything read so far, for at most [`APPLY_BUDGET`] per hold: under a steady stream
//! of queries it falls behind by at most what the log gains during one query and one budget.

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::sync::{oneshot, watch};
use twinlog_migrations::reader::{LogReader, Replay};
use twinlog_migrations::Event;

use super::{ReadModel, ReadModelError, SharedReadModel};
use crate::log::{EventLog, LogHead};

/// How long the follower holds the lock at most to apply what it has read: a query waits at
/// most this long for it. It is long enough to apply tens of thousands of records, so that a
/// follower that waited for a long query applies all it read meanwhile in one turn: a shorter
/// turn between two such queries would let it fall behind for good.
pub const APPLY_BUDGET: Duration = Duration::from_millis(50);

/// How many records the follower reads ahead while a query holds the lock, before it waits
/// for the lock: the memory a stalled query can make it hold.
pub const READ_AHEAD_RECORDS_MAX: usize = 65_536;

/// How many records the follower reads between two looks at whether the lock is free.
const READ_CHUNK_RECORDS: usize = 1024;

/// One committed record, decoded.
struct Committed {
    lsn: u64,
    twin_id: String,
    event: Event,
}

/// Up to [`READ_CHUNK_RECORDS`] records from `replay` into `pending`; whether the replay
/// reached the end of the log.
fn read_chunk(
    replay: &mut Replay,
    pending: &mut VecDeque<Committed>,
) -> Result<bool, ReadModelError> {
    let mut read = 0;
    for stored in replay.by_ref().take(READ_CHUNK_RECORDS) {
        let stored = stored?;
        let record = stored.decode()?;
        pending.push_back(Committed {
            lsn: record.header.lsn,
            twin_id: record.header.twin_id.to_owned(),
            event: record.event()?,
        });
        read += 1;
    }
    Ok(read < READ_CHUNK_RECORDS)
}

impl ReadModel {
    /// The read model of everything `log` holds now, from LSN 1. Blocking: run it off async
    /// workers.
    pub fn rebuild(log: &EventLog) -> Result<ReadModel, ReadModelError> {
        let mut model = ReadModel::new();
        for stored in log.reader().replay_from(1) {
            let stored = stored?;
            let record = stored.decode()?;
            model.apply(record.header.lsn, record.header.twin_id, &record.event()?)?;
        }
        Ok(model)
    }
}

/// Keeps a shared [`ReadModel`] up to date with an [`EventLog`] on a dedicated thread. The thread
/// ends when the follower is dropped (which waits for it) or when the log is closed.
pub struct ReadModelFollower {
    model: Arc<SharedReadModel>,
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
        let model = Arc::new(SharedReadModel::new(model));
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

    /// The read model, for queries. The follower holds its lock only while it applies records
    /// it has read, [`APPLY_BUDGET`] at most at a time. A panic while applying (the log and the
    /// code disagree) stops the follower and halts the model: it may be half-changed.
    pub fn model(&self) -> &Arc<SharedReadModel> {
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
            // A panic on the thread has already halted the model, which tells its readers.
            let _ = thread.join();
        }
    }
}

/// What the follower's thread holds.
struct Follow {
    reader: LogReader,
    head: watch::Receiver<LogHead>,
    model: Arc<SharedReadModel>,
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

    /// Applies every record the log holds beyond the model. While a query holds the lock it
    /// reads on, up to [`READ_AHEAD_RECORDS_MAX`] records, so that one hold applies them all.
    fn catch_up(&self) -> Result<(), ReadModelError> {
        let mut replay = self.reader.replay_from(self.model.lsn() + 1);
        let mut pending = VecDeque::new();
        let mut at_end = false;
        loop {
            if !at_end {
                at_end = read_chunk(&mut replay, &mut pending)?;
            }
            if pending.is_empty() {
                return Ok(());
            }
            let wait = at_end || pending.len() >= READ_AHEAD_RECORDS_MAX;
            if let Some(applied) = self
                .model
                .apply(wait, |model| apply_for(model, &mut pending))
            {
                applied?;
            }
        }
    }
}

/// Applies records from the front of `pending` until none is left or [`APPLY_BUDGET`] is spent.
fn apply_for(
    model: &mut ReadModel,
    pending: &mut VecDeque<Committed>,
) -> Result<(), ReadModelError> {
    let started = Instant::now();
    while let Some(record) = pending.pop_front() {
        model.apply(record.lsn, &record.twin_id, &record.event)?;
        if started.elapsed() >= APPLY_BUDGET {
            break;
        }
    }
    Ok(())
}
