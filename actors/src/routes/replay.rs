//! Replaying a route's dead letters: POSTs them again, oldest first, in batches, and removes each
//! batch its endpoint takes.

use std::sync::atomic::Ordering;

use crate::log::EventLog;

use super::error::RouteError;
use super::stats::RouteStats;
use super::store::{self, RouteStore};
use super::webhook::{batch_body, Webhook};

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    /// Dead letters delivered, and removed.
    pub delivered: u64,
    /// Dead letters left, the ones the endpoint did not take among them.
    pub remaining: u64,
    /// Why the replay stopped before the end, if it did.
    pub last_error: Option<String>,
}

/// Replays every dead letter of `route_id`. Each batch gets one attempt: a replay is an
/// operator's "try again now", and stops at the first batch the endpoint refuses, leaving it and
/// the rest in place. Runs on the deliveries' runtime, since it reads redb on a blocking thread.
pub(crate) async fn replay(
    route_id: &str,
    webhook: &Webhook,
    store: &RouteStore,
    log: &EventLog,
    batch_events_max: usize,
    stats: &RouteStats,
) -> Result<ReplayReport, RouteError> {
    let mut from_lsn = 0;
    let mut delivered = 0;
    let mut last_error = None;
    loop {
        let letters = {
            let (store, route_id) = (store.clone(), route_id.to_owned());
            tokio::task::spawn_blocking(move || {
                store.dead_letters(&route_id, from_lsn, batch_events_max)
            })
            .await
            .map_err(|_| RouteError::Stopped)??
        };
        let Some(last) = letters.last() else {
            break;
        };
        from_lsn = last.lsn.saturating_add(1);
        let texts: Vec<&str> = letters.iter().map(|l| l.letter.event.as_str()).collect();
        if let Err(error) = webhook.post(batch_body(&texts)).await {
            tracing::warn!(route_id, first_lsn = letters[0].lsn, %error, "replay stopped: the endpoint refused a batch");
            last_error = Some(error.to_string());
            break;
        }
        log.write_side(store::remove_dead_letters(
            route_id,
            letters.iter().map(|l| l.lsn),
        ))
        .await?;
        let removed = letters.len() as u64;
        delivered += removed;
        stats.replayed_events.fetch_add(removed, Ordering::Relaxed);
        // The delivery only adds to the count meanwhile, so this subtraction is never early.
        let _ = stats
            .dead_letters
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| {
                Some(count.saturating_sub(removed))
            });
    }
    let remaining = {
        let (store, route_id) = (store.clone(), route_id.to_owned());
        tokio::task::spawn_blocking(move || store.dead_letter_count(&route_id))
            .await
            .map_err(|_| RouteError::Stopped)??
    };
    Ok(ReplayReport {
        delivered,
        remaining,
        last_error,
    })
}
