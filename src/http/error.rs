//! Every error the API answers, in ADT's shape: mapped once, in [`ApiError`]'s `ResponseError`.

use std::fmt;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use twinlog_actors::data_plane::DataPlaneError;
use twinlog_actors::feed::FilterError;
use twinlog_actors::query::QueryError;
use twinlog_actors::read_model::{EvalError, QueryRunError};
use twinlog_actors::routes::RouteError;
use utoipa::ToSchema;

use super::query::TokenError;

/// The header ADT's SDKs read the error code from.
pub const ERROR_CODE_HEADER: &str = "x-ms-error-code";

/// An error answer: ADT's status, code and a message naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Sent as `Retry-After` (429, 503).
    pub retry_after_s: Option<u64>,
}

/// ADT's error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// ADT's error code, also sent in the `x-ms-error-code` header.
    pub code: String,
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }

    pub fn json_patch_invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "JsonPatchInvalid", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    pub fn too_many_requests(message: impl Into<String>, retry_after_s: u64) -> ApiError {
        ApiError {
            retry_after_s: Some(retry_after_s),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", message)
        }
    }

    pub fn not_ready(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            message,
        )
    }

    /// An error whose status and code the layer below chose (its `status()` and `code()`).
    fn chosen(status: u16, code: &'static str, message: String) -> ApiError {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, code, message)
    }

    /// An error answer that actix-web (routing, extractors, limits) produced without a code of
    /// ours: the code follows from the status, the message from the cause.
    fn from_status(status: StatusCode, message: String) -> ApiError {
        let code = match status {
            StatusCode::NOT_FOUND => "NotFound",
            StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
            StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLarge",
            StatusCode::REQUEST_TIMEOUT => "RequestTimeout",
            s if s.is_client_error() => "InvalidArgument",
            _ => "InternalServerError",
        };
        ApiError::new(status, code, message)
    }

    fn body(&self) -> ErrorResponse {
        ErrorResponse {
            error: ErrorBody {
                code: self.code.to_owned(),
                message: self.message.clone(),
            },
        }
    }
}

/// The end of a gate middleware (auth, rate limit): answers the request with `refusal`'s
/// ADT error, or passes it on to `next` when there is none.
pub async fn refuse_or_pass<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
    refusal: Option<ApiError>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if let Some(refusal) = refusal {
        return Ok(request.error_response(refusal).map_into_right_body());
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((ERROR_CODE_HEADER, self.code));
        if let Some(retry_after_s) = self.retry_after_s {
            response.insert_header((header::RETRY_AFTER, retry_after_s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(self.body())
    }
}

impl From<DataPlaneError> for ApiError {
    fn from(error: DataPlaneError) -> ApiError {
        ApiError {
            retry_after_s: error.retry_after_s(),
            ..ApiError::chosen(error.status(), error.code(), error.to_string())
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> ApiError {
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::new(status, error.code(), error.to_string())
    }
}

/// A query that parsed but cannot run is still the query's fault: ADT's `SqlQueryError`.
impl From<EvalError> for ApiError {
    fn from(error: EvalError) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "SqlQueryError", error.to_string())
    }
}

impl From<QueryRunError> for ApiError {
    fn from(error: QueryRunError) -> ApiError {
        match error {
            // The model no longer follows the log: only a restart mends it.
            QueryRunError::Halted { .. } => {
                ApiError::not_ready(format!("{error}; restart the node"))
            }
            _ => ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", error.to_string())
    }
}

/// A route filter given as the `filter` parameter (a route's own filter comes as a
/// [`RouteError`]).
impl From<FilterError> for ApiError {
    fn from(error: FilterError) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            error.code(),
            format!("filter: {error}"),
        )
    }
}

impl From<RouteError> for ApiError {
    fn from(error: RouteError) -> ApiError {
        ApiError::chosen(error.status(), error.code(), error.to_string())
    }
}

/// `JsonConfig`'s error handler: a body that is too large, of the wrong type, or not JSON.
pub fn json_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api_error = match &error {
        JsonPayloadError::OverflowKnownLength { length, limit } => ApiError::from_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body has {length} bytes, over the limit of {limit} bytes"),
        ),
        JsonPayloadError::Overflow { limit } => ApiError::from_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over the limit of {limit} bytes"),
        ),
        JsonPayloadError::ContentType => ApiError::invalid_argument(
            "Content-Type must be application/json or application/json-patch+json",
        ),
        JsonPayloadError::Deserialize(cause) => {
            ApiError::invalid_argument(format!("the request body is not valid JSON: {cause}"))
        }
        other => ApiError::invalid_argument(format!("the request body: {other}")),
    };
    api_error.into()
}

/// `QueryConfig`'s error handler.
pub fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::invalid_argument(format!("the query string: {error}")).into()
}

/// `PathConfig`'s error handler.
pub fn path_error(error: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::invalid_argument(format!("the request path: {error}")).into()
}

/// The unknown-path handler: ADT's 404 body rather than an empty one.
pub async fn unknown_path(request: HttpRequest) -> ApiResult {
    Err(ApiError::from_status(
        StatusCode::NOT_FOUND,
        format!("no resource at {}", request.path()),
    ))
}

/// Gives every error answer that is not already ADT-shaped (actix-web's own 405, payload and
/// timeout errors) ADT's body and `x-ms-error-code`, so no client ever sees another shape.
pub fn adt_shape<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if response.headers().contains_key(ERROR_CODE_HEADER) {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let message = match (status, response.response().error()) {
        (StatusCode::METHOD_NOT_ALLOWED, _) => format!(
            "{} is not allowed on {}",
            response.request().method(),
            response.request().path()
        ),
        (_, Some(cause)) => cause.to_string(),
        (_, None) => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned(),
    };
    let answer = ApiError::from_status(status, message).error_response();
    let (request, _) = response.into_parts();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, answer).map_into_right_body::<B>(),
    ))
}

/// A shorthand the handlers' signatures share.
pub type ApiResult<T = HttpResponse> = Result<T, ApiError>;
