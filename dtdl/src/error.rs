//! The errors of this crate: problems found in an upload, and a value that breaks its schema.

use std::fmt;

use crate::dtmi::DtmiError;

/// Every problem found in an upload. The upload is all-or-nothing, so one problem refuses it
/// all, and listing every problem at once saves the caller a round trip per mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DtdlError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for DtdlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        write!(
            f,
            "{count} DTDL problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n- {problem}")?;
        }
        Ok(())
    }
}

/// One rule broken at one place: `model` is the `@id` of the uploaded model (or its position,
/// `upload[3]`, when it has no usable `@id`), `path` a JSON path inside that model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{model} at {path}: {kind}")]
pub struct Problem {
    pub model: String,
    pub path: String,
    pub kind: ProblemKind,
}

/// Which rule a [`Problem`] breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    #[error("expected {expected}")]
    WrongShape { expected: &'static str },
    #[error("`{property}` is required")]
    MissingProperty { property: &'static str },
    #[error("`{property}` is not a property of {element}")]
    UnknownProperty {
        property: String,
        element: &'static str,
    },
    #[error("`{value}` is not a valid DTMI: {reason}")]
    InvalidDtmi { value: String, reason: DtmiError },
    #[error("`{id}` uses a prefix reserved for DTDL itself (`dtmi:dtdl:`, `dtmi:standard:`)")]
    ReservedDtmi { id: String },
    #[error(
        "`@context` must start with `dtmi:dtdl:context;2` or `dtmi:dtdl:context;3`; found {found}"
    )]
    InvalidContext { found: String },
    #[error("context `{context}` is not available in DTDL v{version}")]
    UnsupportedContext { context: String, version: u8 },
    #[error("`@type` {found} is not valid here; expected {expected}")]
    UnknownType {
        found: String,
        expected: &'static str,
    },
    #[error("name `{name}` must match ^[A-Za-z](\\w*[A-Za-z0-9])?$")]
    InvalidName { name: String },
    #[error("`{property}` has {chars} characters, over the limit of {max}")]
    TooLong {
        property: &'static str,
        chars: usize,
        max: usize,
    },
    #[error("`{name}` is not a schema of DTDL v{version}")]
    UnknownSchema { name: String, version: u8 },
    #[error("name `{name}` is already used {by}")]
    DuplicateName { name: String, by: String },
    #[error("{what} `{value}` appears more than once")]
    Duplicate { what: &'static str, value: String },
    #[error("model `{id}` appears more than once in the upload")]
    DuplicateModel { id: String },
    #[error("model `{id}` already exists")]
    ModelAlreadyExists { id: String },
    #[error("{role} `{id}` is neither in the upload nor stored")]
    Unresolved { role: &'static str, id: String },
    #[error("{role} `{id}` is not {expected}")]
    WrongKind {
        role: &'static str,
        id: String,
        expected: &'static str,
    },
    #[error("`extends` cycle: {}", cycle.join(" -> "))]
    ExtendsCycle { cycle: Vec<String> },
    #[error("component cycle: {}", cycle.join(" -> "))]
    ComponentCycle { cycle: Vec<String> },
    #[error("component schema `{interface}` has component `{component}`, and DTDL v3 forbids nested components")]
    NestedComponent {
        interface: String,
        component: String,
    },
    #[error("a DTDL v2 Interface cannot use the DTDL v3 Interface `{id}` ({role})")]
    VersionMix { role: &'static str, id: String },
    #[error("DTDL v2 does not allow Arrays in a Property's schema")]
    ArrayInV2Property,
    #[error("{what} {count} exceeds the limit of {max}")]
    LimitExceeded {
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("`minMultiplicity` must be 0, found {found}")]
    MinMultiplicity { found: String },
    #[error("`maxMultiplicity` must be an integer of at least 1, found {found}")]
    MaxMultiplicity { found: String },
    #[error("enum value {found} does not match `valueSchema` {value_schema}")]
    EnumValueType {
        found: String,
        value_schema: &'static str,
    },
}

/// A twin, component, relationship or telemetry value that breaks its model. `path` is a JSON
/// path into the document that was validated, such as `$.settings.limits[2]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ValueError {
    pub path: String,
    pub message: String,
}

impl ValueError {
    pub(crate) fn new(path: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}
