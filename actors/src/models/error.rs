//! Why the registry refuses a command or a query, one variant per ADT error code.

use twinlog_dtdl::DtdlError;

/// A refusal of the model registry. [`ModelError::code`] and [`ModelError::status`] are what
/// ADT answers for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("{reason}")]
    InvalidArgument { reason: String },
    #[error("the upload holds {count} models, over the limit of {max}")]
    LimitExceeded { count: usize, max: usize },
    #[error("{0}")]
    DtdlParserError(DtdlError),
    #[error("{} of the uploaded models already stored: {}", ids.len(), ids.join(", "))]
    ModelAlreadyExists { ids: Vec<String> },
    #[error("model {model_id} is not stored")]
    ModelNotFound { model_id: String },
    #[error("model {model_id} is still referenced by {} stored model(s): {}", referenced_by.len(), referenced_by.join(", "))]
    ModelReferencesNotDeleted {
        model_id: String,
        referenced_by: Vec<String>,
    },
}

impl ModelError {
    /// ADT's error code, for the body's `error.code` and the `x-ms-error-code` header.
    pub fn code(&self) -> &'static str {
        match self {
            ModelError::InvalidArgument { .. } => "InvalidArgument",
            ModelError::LimitExceeded { .. } => "LimitExceeded",
            ModelError::DtdlParserError(_) => "DTDLParserError",
            ModelError::ModelAlreadyExists { .. } => "ModelAlreadyExists",
            ModelError::ModelNotFound { .. } => "ModelNotFound",
            ModelError::ModelReferencesNotDeleted { .. } => "ModelReferencesNotDeleted",
        }
    }

    /// The HTTP status ADT answers with.
    pub fn status(&self) -> u16 {
        match self {
            ModelError::InvalidArgument { .. }
            | ModelError::LimitExceeded { .. }
            | ModelError::DtdlParserError(_) => 400,
            ModelError::ModelNotFound { .. } => 404,
            ModelError::ModelAlreadyExists { .. }
            | ModelError::ModelReferencesNotDeleted { .. } => 409,
        }
    }
}
