//! The read model as its follower and the queries share it. The lock hands itself over fairly,
//! so that the follower, waiting while a query runs, gets the model next rather than the next
//! query; the model's LSN is published beside the lock, so that its lag is read without it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};

use super::{QueryRunError, ReadModel};

/// A [`ReadModel`] that one follower changes and queries read, one at a time: the model is not
/// `Sync`, since a [`TwinState`](crate::twin::TwinState) keeps a `Cell` cache for its
/// decisions.
#[derive(Debug)]
pub struct SharedReadModel {
    model: Mutex<ReadModel>,
    /// The model's LSN, stored each time the follower lets go of the lock.
    lsn: AtomicU64,
    /// Set when applying a record panicked: the model may be half-changed, and its follower
    /// has stopped.
    halted: AtomicBool,
}

impl SharedReadModel {
    pub fn new(model: ReadModel) -> SharedReadModel {
        SharedReadModel {
            lsn: AtomicU64::new(model.lsn()),
            model: Mutex::new(model),
            halted: AtomicBool::new(false),
        }
    }

    /// The LSN of the last record the model reflects, read without the lock.
    pub fn lsn(&self) -> u64 {
        self.lsn.load(Ordering::Acquire)
    }

    /// Runs `read` on the model, unless applying a record panicked. The lock is then handed to
    /// whoever waits for it, so that queries run back to back do not keep the follower out.
    pub fn read<R>(&self, read: impl FnOnce(&ReadModel) -> R) -> Result<R, QueryRunError> {
        let model = self.model.lock();
        if self.halted.load(Ordering::Acquire) {
            return Err(QueryRunError::Halted { lsn: model.lsn() });
        }
        let read = read(&model);
        MutexGuard::unlock_fair(model);
        Ok(read)
    }

    /// Runs `apply` on the model: at once if the lock is free, else after waiting for it if
    /// `wait`, else not at all. Letting go publishes the model's LSN and hands the lock to a
    /// waiting query; a panic in `apply` marks the model halted before the lock is let go.
    pub(super) fn apply<R>(
        &self,
        wait: bool,
        apply: impl FnOnce(&mut ReadModel) -> R,
    ) -> Option<R> {
        let mut model = match wait {
            true => self.model.lock(),
            false => self.model.try_lock()?,
        };
        // Declared after the guard, so dropped before it when `apply` panics.
        let halt_on_panic = HaltOnPanic(&self.halted);
        let applied = apply(&mut model);
        drop(halt_on_panic);
        self.lsn.store(model.lsn(), Ordering::Release);
        MutexGuard::unlock_fair(model);
        Some(applied)
    }
}

/// Marks the model halted if dropped in a panic.
struct HaltOnPanic<'a>(&'a AtomicBool);

impl Drop for HaltOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}
