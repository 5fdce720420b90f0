//! How a route retries a batch its endpoint did not take, and when it gives up on it.

use std::time::Duration;

/// A batch's first retry waits this long by default; each further one doubles the wait.
pub const BACKOFF_INITIAL_DEFAULT: Duration = Duration::from_millis(100);
/// The longest wait between two attempts, by default.
pub const BACKOFF_MAX_DEFAULT: Duration = Duration::from_secs(10);
/// Attempts per batch, the first included, by default: with the backoff above, a dead endpoint
/// costs a batch about three seconds before its events go to the dead letters.
pub const ATTEMPTS_MAX_DEFAULT: u32 = 6;

/// Exponential backoff between the attempts at one batch, and a limit on the attempts past which
/// the batch's events become dead letters and the route moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; each further failure doubles it, up to
    /// `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// Attempts at one batch, the first included (at least 1).
    pub attempts_max: u32,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Wait, then attempt again.
    After(Duration),
    /// The limit is reached: dead-letter the batch.
    GiveUp,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            backoff_initial: BACKOFF_INITIAL_DEFAULT,
            backoff_max: BACKOFF_MAX_DEFAULT,
            attempts_max: ATTEMPTS_MAX_DEFAULT,
        }
    }
}

impl RetryPolicy {
    /// What follows the failure of attempt number `attempts` (1 for the first) at a batch.
    pub fn after_failure(&self, attempts: u32) -> Retry {
        if attempts >= self.attempts_max {
            return Retry::GiveUp;
        }
        let doublings = attempts.saturating_sub(1).min(20);
        Retry::After(
            self.backoff_initial
                .saturating_mul(1 << doublings)
                .min(self.backoff_max),
        )
    }
}
