//! `displayName`, `description` and `comment`: a string or a language map, with a length cap.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ProblemKind;
use crate::path;

/// Text by language tag, the shape ADT's ModelData gives `displayName` and `description`.
pub type LanguageMap = BTreeMap<String, String>;

/// The language a plain string is taken to be in, as ADT does.
const DEFAULT_LANGUAGE: &str = "en";

/// Reads a string or a `{language: text}` map, each text at most `chars_max` characters.
/// On failure, names the offending path.
pub fn parse(
    value: &Value,
    at: &str,
    property: &'static str,
    chars_max: usize,
) -> Result<LanguageMap, (String, ProblemKind)> {
    let entries: Vec<(String, String, &Value)> = match value {
        Value::String(_) => vec![(DEFAULT_LANGUAGE.to_owned(), at.to_owned(), value)],
        Value::Object(map) => map
            .iter()
            .map(|(language, text)| (language.clone(), path::key(at, language), text))
            .collect(),
        _ => {
            return Err((
                at.to_owned(),
                ProblemKind::WrongShape {
                    expected: "a string or a language map",
                },
            ))
        }
    };
    let mut texts = LanguageMap::new();
    for (language, text_at, text) in entries {
        if !language_tag_is_valid(&language) {
            return Err((
                text_at,
                ProblemKind::WrongShape {
                    expected: "a language tag such as `en` or `en-US` as the key",
                },
            ));
        }
        let Value::String(text) = text else {
            return Err((
                text_at,
                ProblemKind::WrongShape {
                    expected: "a string",
                },
            ));
        };
        let chars = text.chars().count();
        if chars > chars_max {
            return Err((
                text_at,
                ProblemKind::TooLong {
                    property,
                    chars,
                    max: chars_max,
                },
            ));
        }
        texts.insert(language, text.clone());
    }
    Ok(texts)
}

fn language_tag_is_valid(tag: &str) -> bool {
    !tag.is_empty()
        && tag
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
}
