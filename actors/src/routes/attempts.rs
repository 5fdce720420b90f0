//! Attempts at one batch of a route: retries with backoff until its endpoint takes it or the
//! retry policy gives up, and, when the route's dead letters are full, holding at the batch
//! instead of giving up.

use std::sync::atomic::Ordering;

use tokio_util::sync::CancellationToken;

use super::delivery::Delivery;
use super::policy::Retry;

/// Whether a batch reached its endpoint.
pub(super) enum Outcome {
    Delivered,
    GaveUp {
        attempts: u32,
        reason: String,
    },
    /// The route is stopping; the batch counts as not delivered.
    Cancelled,
}

impl Delivery {
    /// Delivers `body`, a batch of `events` events, as [`Delivery::deliver`] does; but when the
    /// policy gives up and the route's dead letters have no room for the batch, holds at it:
    /// attempts it again after the policy's longest backoff, until the endpoint takes it, a replay
    /// makes room, or the route stops. The route then moves no further, which its lag and
    /// `holding` show, and drops nothing.
    pub(super) async fn deliver_or_hold(
        &self,
        body: &[u8],
        events: usize,
        cancel: &CancellationToken,
    ) -> Outcome {
        let mut held = false;
        let outcome = loop {
            let outcome = self.deliver(body, cancel).await;
            let Outcome::GaveUp { attempts, reason } = &outcome else {
                break outcome;
            };
            let stored = self.stats.dead_letters.load(Ordering::Relaxed);
            if stored.saturating_add(events as u64) <= self.dead_letters_max {
                break outcome;
            }
            if !held {
                tracing::error!(
                    dead_letters = stored,
                    dead_letters_max = self.dead_letters_max,
                    events,
                    attempts,
                    %reason,
                    "the route's dead letters are full: it holds at this batch until its endpoint takes it or a replay makes room"
                );
                self.stats.holding.store(true, Ordering::Relaxed);
                held = true;
            }
            tokio::select! {
                () = tokio::time::sleep(self.webhook.endpoint().retry.backoff_max) => {}
                () = cancel.cancelled() => break Outcome::Cancelled,
            }
        };
        if held {
            self.stats.holding.store(false, Ordering::Relaxed);
            tracing::info!("the route no longer holds");
        }
        outcome
    }

    /// Attempts `body` until the endpoint takes it or the retry policy gives up.
    async fn deliver(&self, body: &[u8], cancel: &CancellationToken) -> Outcome {
        let policy = self.webhook.endpoint().retry;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let posted = tokio::select! {
                posted = self.webhook.post(body.to_vec()) => posted,
                () = cancel.cancelled() => return Outcome::Cancelled,
            };
            let Err(error) = posted else {
                return Outcome::Delivered;
            };
            self.stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
            match policy.after_failure(attempts) {
                Retry::After(wait) => {
                    tracing::debug!(attempts, %error, wait_ms = wait.as_millis() as u64, "delivery attempt failed");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = cancel.cancelled() => return Outcome::Cancelled,
                    }
                }
                Retry::GiveUp => {
                    return Outcome::GaveUp {
                        attempts,
                        reason: error.to_string(),
                    }
                }
            }
        }
    }
}
