//! Why an event-route operation failed, with the ADT code and HTTP status it answers with.

use crate::feed::FilterError;
use crate::log::AppendError;

use super::store::StoreError;

/// The one error of every [`super::EventRoutes`] operation. [`RouteError::code`] and
/// [`RouteError::status`] are what the HTTP layer sends.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    #[error("event route id `{id}` is invalid: {reason}")]
    IdInvalid { id: String, reason: String },
    #[error("endpoint `{endpoint_name}` {reason}")]
    EndpointInvalid {
        endpoint_name: String,
        reason: &'static str,
    },
    #[error("the filter is invalid: {0}")]
    FilterInvalid(#[from] FilterError),
    #[error("no event route `{id}`")]
    NotFound { id: String },
    #[error(
        "there are already {routes_max} event routes, the most a node keeps; delete one first"
    )]
    LimitExceeded { routes_max: usize },
    #[error("the event route store failed: {0}")]
    Store(#[from] StoreError),
    #[error("the event log failed: {0}")]
    Log(#[from] AppendError),
    #[error("event route deliveries have stopped")]
    Stopped,
}

impl RouteError {
    /// ADT's error code, for the body's `error.code` and the `x-ms-error-code` header.
    pub fn code(&self) -> &'static str {
        match self {
            RouteError::IdInvalid { .. } => "EventRouteIdInvalid",
            RouteError::EndpointInvalid { .. } => "EventRouteEndpointInvalid",
            RouteError::FilterInvalid(error) => error.code(),
            RouteError::NotFound { .. } => "EventRouteNotFound",
            RouteError::LimitExceeded { .. } => "LimitExceeded",
            RouteError::Store(_) => "InternalServerError",
            RouteError::Log(_) | RouteError::Stopped => "ServiceUnavailable",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            RouteError::IdInvalid { .. }
            | RouteError::EndpointInvalid { .. }
            | RouteError::FilterInvalid(_)
            | RouteError::LimitExceeded { .. } => 400,
            RouteError::NotFound { .. } => 404,
            RouteError::Store(_) => 500,
            RouteError::Log(_) | RouteError::Stopped => 503,
        }
    }
}
