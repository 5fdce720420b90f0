//! The contract every aggregate keeps: decisions and state changes that are pure functions of
//! the state, the command and the events; and how aggregates write times and name JSON types.

/// An aggregate's decision logic and its state.
///
/// Applying the same events in the same order to the same state must always yield the same
/// state: replay, restarts and replicas depend on it. Nothing here does I/O, reads a clock, or
/// draws a random number; the time of a decision, and anything the decision needs from outside
/// the aggregate, come in the command.
///
/// The shell runs `handle`, appends the events it returns to the log, waits until they are
/// durable, and only then `apply`s them, one by one, in order. Replay calls `apply` alone, with
/// every event of the stream in log order. So:
/// - `handle` never changes the state; a refusal (`Err`) leaves nothing behind, and an empty
///   `Ok` means the command was accepted with nothing to record (an idempotent repeat).
/// - `apply` never refuses: an event `handle` produced always applies. An event that cannot
///   apply means the log and the code disagree; `apply` then panics, naming the event, and the
///   shell rebuilds the aggregate from the log rather than go on with a half-changed state.
/// - Every applied event, whatever its kind, is one more record of the stream, so the state
///   can count its stream's version without being told.
pub trait Aggregate {
    type Command;
    type Event;
    type Error;

    fn handle(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    fn apply(&mut self, event: &Self::Event);
}

/// `at_ms` (milliseconds since the Unix epoch) as ADT writes times: RFC 3339 in UTC, with
/// milliseconds. A time past chrono's range (about 262,000 years ahead) is written as its end.
pub fn rfc3339_from_ms(at_ms: u64) -> String {
    let at_ms = i64::try_from(at_ms).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp_millis(at_ms)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether `text` is an RFC 3339 date-time, as `sourceTime` and `Telemetry-Source-Time` must be.
pub fn is_rfc3339(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// The JSON type of `value`, for messages about a body of the wrong shape.
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What the aggregates' tests share.
#[cfg(test)]
pub(crate) mod testing {
    use super::Aggregate;

    /// Runs a command as the shell does: decide, then apply what was decided.
    pub(crate) fn execute<A: Aggregate>(
        state: &mut A,
        command: A::Command,
    ) -> Result<Vec<A::Event>, A::Error> {
        let events = state.handle(command)?;
        for event in &events {
            state.apply(event);
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_as_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_from_ms(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert!(rfc3339_from_ms(u64::MAX).starts_with('+'));
        assert!(is_rfc3339("2023-11-14T22:13:20.123+01:00"));
        assert!(!is_rfc3339("yesterday"));
    }
}
