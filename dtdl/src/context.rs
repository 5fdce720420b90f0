//! `@context`: which DTDL version a model is written in, and whether its extensions exist.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dtmi::Dtmi;
use crate::error::ProblemKind;
use crate::path;

/// The DTDL version of a model, decided by its `@context`. It selects the rules the model is
/// checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DtdlVersion {
    V2,
    V3,
}

impl DtdlVersion {
    pub fn number(self) -> u8 {
        match self {
            Self::V2 => 2,
            Self::V3 => 3,
        }
    }
}

const V2_CONTEXT: &str = "dtmi:dtdl:context;2";
const V3_CONTEXT: &str = "dtmi:dtdl:context;3";
const V3_EXTENSION_PREFIX: &str = "dtmi:dtdl:extension:";

/// The DTDL v3 feature extensions. An unknown `dtmi:dtdl:extension:` context is refused, so
/// that a misspelt extension is caught rather than silently ignored.
const V3_EXTENSIONS: [&str; 7] = [
    "dtmi:dtdl:extension:quantitativeTypes;1",
    "dtmi:dtdl:extension:historization;1",
    "dtmi:dtdl:extension:annotation;1",
    "dtmi:dtdl:extension:overriding;1",
    "dtmi:dtdl:extension:requirement;1",
    "dtmi:dtdl:extension:mqtt;1",
    "dtmi:dtdl:extension:mqtt;2",
];

/// The version of a model. The DTDL context comes first; the others are extensions: DTDL v3
/// feature extensions, or partner contexts (any other DTMI).
pub fn parse(context: &Value, at: &str) -> Result<DtdlVersion, (String, ProblemKind)> {
    let mut entries = path::one_or_many(context, at).into_iter();
    let version = match entries.next() {
        Some((_, Value::String(text))) if text == V2_CONTEXT => DtdlVersion::V2,
        Some((_, Value::String(text))) if text == V3_CONTEXT => DtdlVersion::V3,
        Some((first_at, first)) => {
            return Err((
                first_at,
                ProblemKind::InvalidContext {
                    found: first.to_string(),
                },
            ))
        }
        None => {
            return Err((
                at.to_owned(),
                ProblemKind::InvalidContext {
                    found: context.to_string(),
                },
            ))
        }
    };
    for (entry_at, entry) in entries {
        let Value::String(text) = entry else {
            return Err((
                entry_at,
                ProblemKind::WrongShape {
                    expected: "a context DTMI string",
                },
            ));
        };
        Dtmi::parse(text, DtdlVersion::V3).map_err(|reason| {
            (
                entry_at.clone(),
                ProblemKind::InvalidDtmi {
                    value: text.clone(),
                    reason,
                },
            )
        })?;
        let unsupported = text == V2_CONTEXT
            || text == V3_CONTEXT
            || text.starts_with(V3_EXTENSION_PREFIX)
                && (version == DtdlVersion::V2 || !V3_EXTENSIONS.contains(&text.as_str()));
        if unsupported {
            return Err((
                entry_at,
                ProblemKind::UnsupportedContext {
                    context: text.clone(),
                    version: version.number(),
                },
            ));
        }
    }
    Ok(version)
}
