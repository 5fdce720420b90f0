//! The JSON paths that problems and value errors point at, such as `$.contents[3].schema`.

/// `base.key`, or `base['key']` when the key is not a plain identifier (`@id`, `a b`).
pub fn key(base: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{base}.{key}")
    } else {
        format!(
            "{base}['{}']",
            key.replace('\\', "\\\\").replace('\'', "\\'")
        )
    }
}

/// `base[index]`.
pub fn index(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}
