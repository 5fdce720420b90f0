//! Why a twin command or query is refused, one variant per ADT error code.

/// A refusal of a twin, component, relationship or telemetry command. [`TwinError::code`] and
/// [`TwinError::status`] are what ADT answers for it, so the HTTP layer maps it in one place.
/// Messages name the twin, the path or the field, and carry the numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TwinError {
    #[error("{reason}")]
    InvalidArgument { reason: String },
    /// `path` is a JSON path into the document that was checked, such as `$.comfort.target`.
    #[error("{path}: {reason}")]
    ValidationFailed { path: String, reason: String },
    #[error("model {model_id} is decommissioned: no twin may be created with it or move to it")]
    ModelDecommissioned { model_id: String },
    #[error("{reason}")]
    JsonPatchInvalid { reason: String },
    #[error("{reason}")]
    PreconditionFailed { reason: String },
    #[error("twin {twin_id} does not exist")]
    DigitalTwinNotFound { twin_id: String },
    #[error("twin {twin_id} still has {outgoing} outgoing and {incoming} incoming relationship(s); delete them first")]
    RelationshipsNotDeleted {
        twin_id: String,
        outgoing: usize,
        incoming: usize,
    },
    #[error("target twin {target_id} does not exist")]
    TargetTwinNotFound { target_id: String },
    #[error("relationship {relationship_id} of twin {twin_id} does not exist")]
    RelationshipNotFound {
        twin_id: String,
        relationship_id: String,
    },
    #[error("twin {twin_id} has no component {component}")]
    ComponentNotFound { twin_id: String, component: String },
    #[error("`{name}` is not a relationship of model {model_id} or of the models it extends")]
    InvalidRelationship { name: String, model_id: String },
    #[error("{reason}")]
    OperationNotAllowed { reason: String },
}

impl TwinError {
    /// ADT's error code, for the body's `error.code` and the `x-ms-error-code` header.
    pub fn code(&self) -> &'static str {
        match self {
            TwinError::InvalidArgument { .. } => "InvalidArgument",
            TwinError::ValidationFailed { .. } => "ValidationFailed",
            TwinError::ModelDecommissioned { .. } => "ModelDecommissioned",
            TwinError::JsonPatchInvalid { .. } => "JsonPatchInvalid",
            TwinError::PreconditionFailed { .. } => "PreconditionFailed",
            TwinError::DigitalTwinNotFound { .. } => "DigitalTwinNotFound",
            TwinError::RelationshipsNotDeleted { .. } => "RelationshipsNotDeleted",
            TwinError::TargetTwinNotFound { .. } => "TargetTwinNotFound",
            TwinError::RelationshipNotFound { .. } => "RelationshipNotFound",
            TwinError::ComponentNotFound { .. } => "ComponentNotFound",
            TwinError::InvalidRelationship { .. } => "InvalidRelationship",
            TwinError::OperationNotAllowed { .. } => "OperationNotAllowed",
        }
    }

    /// The HTTP status ADT answers with.
    pub fn status(&self) -> u16 {
        match self {
            TwinError::InvalidArgument { .. }
            | TwinError::ValidationFailed { .. }
            | TwinError::ModelDecommissioned { .. }
            | TwinError::JsonPatchInvalid { .. }
            | TwinError::RelationshipsNotDeleted { .. }
            | TwinError::InvalidRelationship { .. }
            | TwinError::OperationNotAllowed { .. } => 400,
            TwinError::DigitalTwinNotFound { .. }
            | TwinError::TargetTwinNotFound { .. }
            | TwinError::RelationshipNotFound { .. }
            | TwinError::ComponentNotFound { .. } => 404,
            TwinError::PreconditionFailed { .. } => 412,
        }
    }

    pub(super) fn validation(path: impl Into<String>, reason: impl Into<String>) -> TwinError {
        TwinError::ValidationFailed {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl From<twinlog_dtdl::ValueError> for TwinError {
    fn from(error: twinlog_dtdl::ValueError) -> TwinError {
        TwinError::ValidationFailed {
            path: error.path,
            reason: error.message,
        }
    }
}
