//! Feeding the read model from the log: a rebuild from the first record, and a follower thread
//! that applies each commit as it lands.
//!
//! The follower reads the log on its own thread, since redb reads block, and applies records to
//! a model of its own, which nothing else reads. After each chunk of records it publishes a
//! snapshot of that model (see [`SharedReadModel`]); queries read snapshots, so the follower
//! never waits for a query, and the log's writer never waits for the follower.

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::runtime::Runtime;
use tokio::sync::{oneshot, watch};
use twinlog_migrations::reader::{LogReader, Replay};

use super::{ReadModel, ReadModelError, SharedReadModel};
use crate::log::{EventLog, LogHead};

/// How many records the follower applies at most between two snapshots. A snapshot costs a few
/// reference counts, but the first change after it to each twin and index node copies that
/// node; a chunk spreads those copies over many records, and applying one takes a small part
/// of the read model's freshness target.
const PUBLISH_RECORDS_MAX: usize = 1024;

/// Applies up to [`PUBLISH_RECORDS_MAX`] records from `replay` to `model`; whether the replay
/// may hold more. A record that fails to read leaves the model at the records before it.
fn apply_chunk(replay: &mut Replay, model: &mut ReadModel) -> Result<bool, ReadModelError> {
    let mut applied = 0;
    for stored in replay.by_ref().take(PUBLISH_RECORDS_MAX) {
        let stored = stored?;
        let record = stored.decode()?;
        let header = &record.header;
        model.apply(
            header.lsn,
            header.twin_id,
            header.twin_version,
            &record.event()?,
        )?;
        applied += 1;
    }
    Ok(applied == PUBLISH_RECORDS_MAX)
}

impl ReadModel {
    /// The read model of everything `log` holds now, from LSN 1. Blocking: run it off async
    /// workers.
    pub fn rebuild(log: &EventLog) -> Result<ReadModel, ReadModelError> {
        let mut model = ReadModel::new();
        let mut replay = log.reader().replay_from(1);
        while apply_chunk(&mut replay, &mut model)? {}
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
        let shared = Arc::new(SharedReadModel::new(model.clone()));
        let (stop, stopped) = oneshot::channel();
        // A current-thread runtime only to wait on the head and the stop signal; it drives no I/O.
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let follow = Follow {
            reader: log.reader().clone(),
            head: log.subscribe(),
            model,
            shared: shared.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("read-model".to_owned())
            .spawn(move || follow.run(&runtime, stopped))?;
        Ok(ReadModelFollower {
            model: shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The read model's latest snapshot, for queries. A panic while applying (the log and the
    /// code disagree) stops the follower and halts the model: queries are refused from then on.
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
    /// The follower's own model, ahead of the shared snapshot while it applies a chunk.
    model: ReadModel,
    shared: Arc<SharedReadModel>,
}

impl Follow {
    fn run(mut self, runtime: &Runtime, mut stopped: oneshot::Receiver<()>) {
        // A panic below means the log and the code disagree: the model is half-changed, and
        // queries are told rather than served a model that no longer follows the log.
        let shared = self.shared.clone();
        let _halt_on_panic = shared.halt_on_panic();
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

    /// Applies every record the log holds beyond the model, publishing a snapshot after each
    /// chunk, and after the records that applied before a failure.
    fn catch_up(&mut self) -> Result<(), ReadModelError> {
        let mut replay = self.reader.replay_from(self.model.lsn() + 1);
        loop {
            let published_lsn = self.model.lsn();
            let applied = apply_chunk(&mut replay, &mut self.model);
            if self.model.lsn() != published_lsn {
                self.shared.publish(&self.model);
            }
            if !applied? {
                return Ok(());
            }
        }
    }
}
