//! The text formats of primitive values: date, time, dateTime, duration, uuid and bytes.

/// RFC 3339 `full-date`: `2024-02-29`, a real calendar day.
pub fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    // ASCII first, so that slicing by byte below stays on character boundaries.
    if !text.is_ascii() || bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (
        digits(&text[0..4]),
        digits(&text[5..7]),
        digits(&text[8..10]),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

/// RFC 3339 `partial-time`, optionally with a `time-offset`: `12:30:00`, `12:30:00.5Z`.
pub fn is_time(text: &str) -> bool {
    let (clock, offset) = split_offset(text);
    is_partial_time(clock) && offset.is_none_or(is_offset)
}

/// RFC 3339 `date-time`: a date, `T`, a time and a required offset.
pub fn is_date_time(text: &str) -> bool {
    let Some((date, time)) = text.split_once(['T', 't']) else {
        return false;
    };
    let (clock, offset) = split_offset(time);
    is_date(date) && is_partial_time(clock) && offset.is_some_and(is_offset)
}

/// ISO 8601 duration: `P1Y2M3DT4H5M6.5S`, `PT0.5S`, `P2W`. At least one part, parts in
/// order, a fraction only on the seconds.
pub fn is_duration(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('P') else {
        return false;
    };
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return false,
        None => (rest, None),
    };
    let date_ok = parts_in_order(date, "YMWD", false);
    let time_ok = time.is_none_or(|time| parts_in_order(time, "HMS", true));
    date_ok && time_ok && (!date.is_empty() || time.is_some())
}

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Standard base64 with padding, as JSON carries `bytes`.
pub fn is_base64(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    text.len().is_multiple_of(4)
        && padding <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `hh:mm:ss` with an optional fraction; `60` seconds allows a leap second.
fn is_partial_time(text: &str) -> bool {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let bytes = whole.as_bytes();
    if !whole.is_ascii() || bytes.len() != 8 || bytes[2] != b':' || bytes[5] != b':' {
        return false;
    }
    let in_range = |part: &str, max: u32| digits(part).is_some_and(|n| n <= max);
    in_range(&whole[0..2], 23)
        && in_range(&whole[3..5], 59)
        && in_range(&whole[6..8], 60)
        && fraction.is_none_or(|fraction| digits(fraction).is_some())
}

/// Splits `12:00:00+01:00` into the clock and the offset (`Z`, `+01:00`), if any.
fn split_offset(text: &str) -> (&str, Option<&str>) {
    match text.find(['Z', 'z', '+', '-']) {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    }
}

fn is_offset(text: &str) -> bool {
    if text.eq_ignore_ascii_case("z") {
        return true;
    }
    let Some(rest) = text.strip_prefix(['+', '-']) else {
        return false;
    };
    let bytes = rest.as_bytes();
    rest.is_ascii()
        && bytes.len() == 5
        && bytes[2] == b':'
        && digits(&rest[0..2]).is_some_and(|hours| hours <= 23)
        && digits(&rest[3..5]).is_some_and(|minutes| minutes <= 59)
}

/// `text` is a run of `<number><designator>` parts whose designators appear in `order`, each
/// at most once and in that order; only the last designator may carry a fraction.
fn parts_in_order(mut text: &str, order: &str, last_may_be_fractional: bool) -> bool {
    let mut remaining = order;
    while !text.is_empty() {
        let Some(designator_at) = text.find(|c: char| c.is_ascii_alphabetic()) else {
            return false;
        };
        let number = &text[..designator_at];
        let Some(designator) = text[designator_at..].chars().next() else {
            return false;
        };
        let Some(position) = remaining.find(designator) else {
            return false;
        };
        let fractional_ok = last_may_be_fractional && remaining[position..].len() == 1;
        let number_ok = match number.split_once('.') {
            Some((whole, fraction)) => {
                fractional_ok && digits(whole).is_some() && digits(fraction).is_some()
            }
            None => digits(number).is_some(),
        };
        if !number_ok {
            return false;
        }
        remaining = &remaining[position + 1..];
        text = &text[designator_at + 1..];
    }
    true
}
