//! [`TimeText`]: events' RFC 3339 times, with the date and time of day formatted once per second
//! rather than once per event.

use crate::aggregate::rfc3339_from_ms;

/// The last second formatted. A feed's events come in commit order, so most share their second
/// with the one before and only need their milliseconds written.
#[derive(Debug, Default)]
pub(super) struct TimeText {
    second: Option<u64>,
    /// `YYYY-MM-DDTHH:MM:SS` of `second`.
    prefix: String,
}

impl TimeText {
    /// `at_ms` as [`rfc3339_from_ms`] writes it.
    pub(super) fn format(&mut self, at_ms: u64) -> String {
        let second = at_ms / 1000;
        if self.second != Some(second) {
            let whole = rfc3339_from_ms(second * 1000);
            // Past chrono's range every time is written as its end, milliseconds and all.
            let Some(prefix) = whole.strip_suffix(".000Z") else {
                return rfc3339_from_ms(at_ms);
            };
            self.prefix.clear();
            self.prefix.push_str(prefix);
            self.second = Some(second);
        }
        let millis = at_ms % 1000;
        let mut text = String::with_capacity(self.prefix.len() + 5);
        text.push_str(&self.prefix);
        text.push('.');
        for digit in [millis / 100, millis / 10 % 10, millis % 10] {
            text.push(char::from(b'0' + digit as u8));
        }
        text.push('Z');
        text
    }
}
