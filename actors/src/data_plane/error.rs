//! Why a data-plane operation failed, with the ADT code and HTTP status it answers with.

use crate::log::AppendError;
use crate::models::ModelError;
use crate::region::TwinFailure;
use crate::twin::TwinError;

/// The one error of every data-plane operation. [`DataPlaneError::code`],
/// [`DataPlaneError::status`] and [`DataPlaneError::retry_after_s`] are what the HTTP layer
/// sends, so it maps errors in one place.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataPlaneError {
    #[error(transparent)]
    Twin(#[from] TwinError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{reason}")]
    InvalidArgument { reason: String },
    #[error(transparent)]
    Failure(#[from] TwinFailure<TwinError>),
    #[error("the event log failed: {reason}")]
    Log { reason: String },
}

impl From<AppendError> for DataPlaneError {
    fn from(error: AppendError) -> DataPlaneError {
        DataPlaneError::Log {
            reason: error.to_string(),
        }
    }
}

impl DataPlaneError {
    pub(super) fn invalid(reason: impl Into<String>) -> DataPlaneError {
        DataPlaneError::InvalidArgument {
            reason: reason.into(),
        }
    }

    /// ADT's error code, for the body's `error.code` and the `x-ms-error-code` header.
    pub fn code(&self) -> &'static str {
        match self {
            DataPlaneError::Twin(error) | DataPlaneError::Failure(TwinFailure::Rejected(error)) => {
                error.code()
            }
            DataPlaneError::Model(error) => error.code(),
            DataPlaneError::InvalidArgument { .. } => "InvalidArgument",
            DataPlaneError::Failure(TwinFailure::Busy { .. }) => "TooManyRequests",
            DataPlaneError::Failure(TwinFailure::Quarantined { .. }) => "TwinQuarantined",
            DataPlaneError::Failure(TwinFailure::Panicked { .. }) => "InternalServerError",
            DataPlaneError::Failure(_) | DataPlaneError::Log { .. } => "ServiceUnavailable",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            DataPlaneError::Twin(error) | DataPlaneError::Failure(TwinFailure::Rejected(error)) => {
                error.status()
            }
            DataPlaneError::Model(error) => error.status(),
            DataPlaneError::InvalidArgument { .. } => 400,
            DataPlaneError::Failure(TwinFailure::Busy { .. }) => 429,
            DataPlaneError::Failure(TwinFailure::Panicked { .. }) => 500,
            DataPlaneError::Failure(_) | DataPlaneError::Log { .. } => 503,
        }
    }

    /// When a client should retry, for `Retry-After`.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            DataPlaneError::Failure(TwinFailure::Quarantined { retry_after_s, .. }) => {
                Some(*retry_after_s)
            }
            DataPlaneError::Failure(
                TwinFailure::Busy { .. }
                | TwinFailure::Unavailable { .. }
                | TwinFailure::Storage { .. },
            )
            | DataPlaneError::Log { .. } => Some(1),
            _ => None,
        }
    }
}
