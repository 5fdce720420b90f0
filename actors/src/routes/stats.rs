//! [`RouteStats`]: one route's delivery figures, written by its delivery task (and its replays)
//! and read by metrics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::log::LogHead;

/// A route's delivery figures, for metrics. Written by its delivery task, and by its replays for
/// `replayed_events` and `dead_letters`.
#[derive(Debug, Default)]
pub struct RouteStats {
    /// The last LSN the route is done with: delivered, dead-lettered, or not matching its filter.
    pub position: AtomicU64,
    /// The commit time of the first record after `position`, while the route is reading or
    /// delivering it; 0 once the route has caught up with what it last read.
    pub(super) pending_since_ms: AtomicU64,
    /// Events the endpoint took.
    pub delivered_events: AtomicU64,
    /// Attempts that failed (non-2xx, timeout, unreachable), each retried or given up.
    pub failed_attempts: AtomicU64,
    /// Events stored as dead letters.
    pub dead_lettered_events: AtomicU64,
    /// Dead letters that a replay delivered.
    pub replayed_events: AtomicU64,
    /// Dead letters the route holds now: counted when the route starts, then kept up to date by
    /// its delivery and its replays.
    pub dead_letters: AtomicU64,
    /// Whether the route holds at a batch its endpoint refuses because its dead letters are full.
    pub holding: AtomicBool,
    /// Whether the route reads the log itself, being behind the routes' shared window of
    /// projected events: it then costs a projection of its own.
    pub behind_window: AtomicBool,
}

impl RouteStats {
    /// Committed records the route has not dealt with yet.
    pub fn lag_events(&self, head: &LogHead) -> u64 {
        head.lsn
            .saturating_sub(self.position.load(Ordering::Relaxed))
    }

    /// How long the oldest record the route has not dealt with has been committed, in ms; 0 when
    /// it has dealt with all. Between reads it counts from the head's commit, a lower bound.
    pub fn lag_ms(&self, head: &LogHead, now_ms: u64) -> u64 {
        if self.lag_events(head) == 0 {
            return 0;
        }
        let since = match self.pending_since_ms.load(Ordering::Relaxed) {
            0 => head.time_ms,
            since => since,
        };
        now_ms.saturating_sub(since)
    }
}
