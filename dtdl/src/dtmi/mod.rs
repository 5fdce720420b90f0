//! DTMIs (Digital Twin Model Identifiers): their syntax, and the version rules of DTDL v2 and v3.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::context::DtdlVersion;
use crate::limits::DTMI_CHARS_MAX;

#[cfg(test)]
mod tests;

/// A syntactically valid DTMI, such as `dtmi:com:example:Room;1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Dtmi(String);

/// Why a string is not a DTMI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmiError {
    #[error("it does not start with `dtmi:`")]
    Scheme,
    #[error("it has {chars} characters, over the limit of {max}")]
    TooLong { chars: usize, max: usize },
    #[error("segment `{segment}` must be letters, digits and `_`, not start with a digit and not end with `_`")]
    Segment { segment: String },
    #[error("DTDL v2 requires a version, such as `;1`")]
    MissingVersion,
    #[error("version `{version}` must be a positive integer{}", if *minor_allowed { ", optionally followed by `.minor`" } else { "" })]
    Version {
        version: String,
        minor_allowed: bool,
    },
}

/// Major versions are 1 to 999,999,999 and minor versions 0 to 999,999 (DTMI specification).
const MAJOR_DIGITS_MAX: usize = 9;
const MINOR_DIGITS_MAX: usize = 6;

impl Dtmi {
    /// Parses `text` under the rules of `version`: v2 requires `;<major>`, v3 also accepts
    /// `;<major>.<minor>` and no version at all.
    pub fn parse(text: &str, version: DtdlVersion) -> Result<Self, DtmiError> {
        let chars = text.chars().count();
        if chars > DTMI_CHARS_MAX {
            return Err(DtmiError::TooLong {
                chars,
                max: DTMI_CHARS_MAX,
            });
        }
        let body = text.strip_prefix("dtmi:").ok_or(DtmiError::Scheme)?;
        let (path, version_text) = match body.split_once(';') {
            Some((path, version_text)) => (path, Some(version_text)),
            None => (body, None),
        };
        if let Some(bad) = path.split(':').find(|segment| !segment_is_valid(segment)) {
            return Err(DtmiError::Segment {
                segment: bad.to_owned(),
            });
        }
        match (version_text, version) {
            (None, DtdlVersion::V2) => return Err(DtmiError::MissingVersion),
            (None, DtdlVersion::V3) => {}
            (Some(given), _) => {
                let minor_allowed = version == DtdlVersion::V3;
                if !version_is_valid(given, minor_allowed) {
                    return Err(DtmiError::Version {
                        version: given.to_owned(),
                        minor_allowed,
                    });
                }
            }
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether DTDL keeps this identifier for itself (`dtmi:dtdl:`, `dtmi:standard:`).
    pub fn is_reserved(&self) -> bool {
        self.0.starts_with("dtmi:dtdl:") || self.0.starts_with("dtmi:standard:")
    }

    /// An identifier for an element the model left anonymous, made from its parent's. The
    /// segment starts with `_`, as DTDL's own generated identifiers do, which keeps it apart
    /// from the letter-led segments authors write; a clash is refused as a duplicate model.
    pub(crate) fn child(&self, segment: &str) -> Self {
        match self.0.split_once(';') {
            Some((path, version)) => Self(format!("{path}:_{segment};{version}")),
            None => Self(format!("{}:_{segment}", self.0)),
        }
    }
}

fn segment_is_valid(segment: &str) -> bool {
    let Some(first) = segment.chars().next() else {
        return false;
    };
    !first.is_ascii_digit()
        && !segment.ends_with('_')
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn version_is_valid(version: &str, minor_allowed: bool) -> bool {
    match version.split_once('.') {
        Some((major, minor)) => {
            minor_allowed
                && number_is_valid(major, MAJOR_DIGITS_MAX, false)
                && number_is_valid(minor, MINOR_DIGITS_MAX, true)
        }
        None => number_is_valid(version, MAJOR_DIGITS_MAX, false),
    }
}

fn number_is_valid(digits: &str, digits_max: usize, zero_allowed: bool) -> bool {
    let all_digits = !digits.is_empty()
        && digits.len() <= digits_max
        && digits.bytes().all(|b| b.is_ascii_digit());
    all_digits && (digits == "0" && zero_allowed || !digits.starts_with('0'))
}

impl fmt::Display for Dtmi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses under the DTDL v3 rules, the wider of the two, as callers that hold an identifier
/// from a twin or a query do not know which version defined it.
impl FromStr for Dtmi {
    type Err = DtmiError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text, DtdlVersion::V3)
    }
}

impl TryFrom<String> for Dtmi {
    type Error = DtmiError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Dtmi> for String {
    fn from(dtmi: Dtmi) -> Self {
        dtmi.0
    }
}

impl std::borrow::Borrow<str> for Dtmi {
    fn borrow(&self) -> &str {
        &self.0
    }
}
