use std::sync::atomic::Ordering;

use twinlog_migrations::GENESIS_HASH;

use crate::log::LogHead;
use crate::routes::RouteStats;

fn head(lsn: u64, time_ms: u64) -> LogHead {
    LogHead {
        lsn,
        epoch: 1,
        hash: GENESIS_HASH,
        time_ms,
    }
}

#[test]
fn lag_counts_records_behind_the_head_and_the_age_of_the_oldest() {
    let stats = RouteStats::default();
    stats.position.store(90, Ordering::Relaxed);
    assert_eq!(stats.lag_events(&head(100, 5_000)), 10);
    // Between reads the oldest record's time is not known: the head's commit time bounds it.
    assert_eq!(stats.lag_ms(&head(100, 5_000), 7_000), 2_000);
    // While the route reads or delivers, it knows when the first record after its position was
    // committed.
    stats.pending_since_ms.store(4_000, Ordering::Relaxed);
    assert_eq!(stats.lag_ms(&head(100, 5_000), 7_000), 3_000);
    stats.position.store(100, Ordering::Relaxed);
    assert_eq!(stats.lag_events(&head(100, 5_000)), 0);
    assert_eq!(stats.lag_ms(&head(100, 5_000), 7_000), 0);
    // A clock that steps back does not make a lag negative.
    stats.position.store(90, Ordering::Relaxed);
    assert_eq!(stats.lag_ms(&head(100, 5_000), 1_000), 0);
}
