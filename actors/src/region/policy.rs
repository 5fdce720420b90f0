//! When a failed twin is restarted, how long it waits first, and when it is quarantined instead.

use std::time::Duration;

/// The region supervisor's restart rules: exponential backoff between restarts, and a limit on
/// restarts within a window past which the twin is quarantined for a cool-down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// The wait before the first restart after a failure; each further restart within the window
    /// doubles it, up to `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    pub limit: RestartLimit,
    /// How long a quarantined twin refuses requests before it may start again.
    pub quarantine_cooldown: Duration,
}

/// More than `restarts` restarts within `window` quarantines a twin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartLimit {
    pub restarts: usize,
    pub window: Duration,
}

/// `restart_limit(5, 10s)`: the sixth restart within ten seconds quarantines the twin.
pub const fn restart_limit(restarts: usize, window: Duration) -> RestartLimit {
    RestartLimit { restarts, window }
}

impl Default for RestartPolicy {
    fn default() -> RestartPolicy {
        RestartPolicy {
            backoff_initial: Duration::from_millis(10),
            backoff_max: Duration::from_secs(2),
            limit: restart_limit(5, Duration::from_secs(10)),
            quarantine_cooldown: Duration::from_secs(60),
        }
    }
}

impl RestartPolicy {
    /// The wait before a restart that is the `recent`-th within the window (1 for the first).
    pub fn backoff(&self, recent: usize) -> Duration {
        let doublings = recent.saturating_sub(1).min(20) as u32;
        self.backoff_initial
            .saturating_mul(1 << doublings)
            .min(self.backoff_max)
    }
}
