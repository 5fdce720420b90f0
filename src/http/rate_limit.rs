//! The optional rate limit: one token bucket for the whole server, refilled at
//! `--rate-limit-rps` with a burst of one second's worth; past it, 429 with `Retry-After`.

use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use super::error::{refuse_or_pass, ApiError};
use super::{ops, AppState};

pub struct RateLimiter {
    rate_per_s: f64,
    bucket: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl RateLimiter {
    pub fn new(rate_per_s: u32) -> RateLimiter {
        let rate_per_s = f64::from(rate_per_s.max(1));
        RateLimiter {
            rate_per_s,
            bucket: Mutex::new(Bucket {
                tokens: rate_per_s,
                refilled: Instant::now(),
            }),
        }
    }

    /// Takes one token, or says in how many seconds one will be there.
    fn take(&self, now: Instant) -> Result<(), u64> {
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let refill = now.saturating_duration_since(bucket.refilled).as_secs_f64() * self.rate_per_s;
        bucket.tokens = (bucket.tokens + refill).min(self.rate_per_s);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err((((1.0 - bucket.tokens) / self.rate_per_s).ceil() as u64).max(1))
    }
}

/// Refuses API requests over the limit. Probes and metrics are never limited, so that an
/// overloaded server still reports on itself.
pub async fn limit(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .expect("the app carries its state");
    let refusal = match (&state.rate_limiter, ops::is_ops(request.path())) {
        (Some(limiter), false) => limiter.take(Instant::now()).err().map(|retry_after_s| {
            ApiError::too_many_requests(
                format!(
                    "over the server's rate limit of {} requests/s",
                    limiter.rate_per_s
                ),
                retry_after_s,
            )
        }),
        _ => None,
    };
    refuse_or_pass(request, next, refusal).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(2);
        let start = Instant::now();
        assert_eq!(limiter.take(start), Ok(()));
        assert_eq!(limiter.take(start), Ok(()));
        assert_eq!(limiter.take(start), Err(1));
        assert_eq!(limiter.take(start + Duration::from_millis(500)), Ok(()));
        assert_eq!(limiter.take(start + Duration::from_millis(500)), Err(1));
    }
}
