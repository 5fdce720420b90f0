//! The read model as its follower and the queries share it: the latest snapshot the follower
//! published, which a query takes without a lock and reads for as long as it likes, while the
//! follower goes on applying records to a model of its own and publishing newer snapshots.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::{QueryRunError, ReadModel};

/// The snapshot of a [`ReadModel`] that queries read, published by its one follower. Neither
/// side ever waits for the other: taking or publishing a snapshot is a few atomic operations
/// (`arc-swap` is lock-free for both), so a query starved of CPU holds up nobody.
#[derive(Debug)]
pub struct SharedReadModel {
    snapshot: ArcSwap<ReadModel>,
    /// Set when applying a record panicked: the follower's own model may be half-changed, and
    /// it has stopped, so the snapshot will never be fresher.
    halted: AtomicBool,
}

impl SharedReadModel {
    /// Shares `model` as the first snapshot.
    pub fn new(model: ReadModel) -> SharedReadModel {
        SharedReadModel {
            snapshot: ArcSwap::from_pointee(model),
            halted: AtomicBool::new(false),
        }
    }

    /// The LSN of the last record the latest snapshot reflects.
    pub fn lsn(&self) -> u64 {
        self.snapshot.load().lsn()
    }

    /// The latest snapshot, unless applying a record panicked. Holding it holds only the
    /// memory of what the follower has changed since.
    pub fn snapshot(&self) -> Result<Arc<ReadModel>, QueryRunError> {
        let snapshot = self.snapshot.load_full();
        if self.halted.load(Ordering::Acquire) {
            return Err(QueryRunError::Halted {
                lsn: snapshot.lsn(),
            });
        }
        Ok(snapshot)
    }

    /// Runs `read` on the latest snapshot, unless applying a record panicked.
    pub fn read<R>(&self, read: impl FnOnce(&ReadModel) -> R) -> Result<R, QueryRunError> {
        let snapshot = self.snapshot()?;
        Ok(read(&snapshot))
    }

    /// Makes a snapshot of `model` the one queries take. A query that holds an older one keeps
    /// it.
    pub(super) fn publish(&self, model: &ReadModel) {
        self.snapshot.store(Arc::new(model.clone()));
    }

    /// A guard that marks the model halted if it is dropped in a panic: the follower holds one
    /// while it applies records.
    pub(super) fn halt_on_panic(&self) -> HaltOnPanic<'_> {
        HaltOnPanic(&self.halted)
    }
}

/// Marks the model halted if dropped in a panic.
pub(super) struct HaltOnPanic<'a>(&'a AtomicBool);

impl Drop for HaltOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}
