//! The JSON paths that problems and value errors point at, such as `$.contents[3].schema`.

use serde_json::Value;

/// `base.key`, or `base['key']` when the key is not a plain identifier (`@id`, `a b`).
pub fn key(base: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        // Built by hand rather than with `format!`: validation builds one for every value it
        // checks, telemetry's included.
        let mut path = String::with_capacity(base.len() + 1 + key.len());
        path.push_str(base);
        path.push('.');
        path.push_str(key);
        path
    } else {
        format!(
            "{base}['{}']",
            key.replace('\\', "\\\\").replace('\'', "\\'")
        )
    }
}

/// The items of a value that holds one element or an array of them, each with its path:
/// `base[i]` for an array's items, `base` for a single value.
pub fn one_or_many<'v>(value: &'v Value, base: &str) -> Vec<(String, &'v Value)> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (index(base, i), item))
            .collect(),
        single => vec![(base.to_owned(), single)],
    }
}

/// `base[index]`.
pub fn index(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}
