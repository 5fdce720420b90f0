use std::time::Duration;

use crate::routes::policy::{Retry, RetryPolicy};

#[test]
fn backoff_doubles_up_to_its_maximum_then_gives_up_at_the_limit() {
    let policy = RetryPolicy {
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_millis(500),
        attempts_max: 5,
    };
    let waits: Vec<Retry> = (1..=5)
        .map(|attempt| policy.after_failure(attempt))
        .collect();
    let ms = |ms| Retry::After(Duration::from_millis(ms));
    assert_eq!(waits, [ms(100), ms(200), ms(400), ms(500), Retry::GiveUp]);
    assert_eq!(policy.after_failure(u32::MAX), Retry::GiveUp);
}

#[test]
fn a_single_attempt_gives_up_at_once_and_huge_limits_do_not_overflow() {
    let once = RetryPolicy {
        attempts_max: 1,
        ..RetryPolicy::default()
    };
    assert_eq!(once.after_failure(1), Retry::GiveUp);
    let patient = RetryPolicy {
        backoff_initial: Duration::from_secs(1),
        backoff_max: Duration::from_secs(60),
        attempts_max: u32::MAX,
    };
    assert_eq!(
        patient.after_failure(1_000),
        Retry::After(Duration::from_secs(60))
    );
}
