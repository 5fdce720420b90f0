//! The endpoints file (`twinlog serve --endpoints-file`): the destinations that event routes may
//! name, kept by the operator beside the node, since they hold URLs and secrets.
//!
//! ```toml
//! [[endpoints]]
//! name = "alerts"
//! kind = "webhook"
//! url = "https://hooks.example.com/twins"
//! timeout_ms = 5000        # optional: each attempt's limit
//! attempts_max = 6         # optional: attempts per batch before its events are dead letters
//! backoff_initial_ms = 100 # optional
//! backoff_max_ms = 10000   # optional
//! headers = { Authorization = "Bearer ..." }
//!
//! [[endpoints]]
//! name = "dashboard"
//! kind = "sse"             # consumers read GET /feed; nothing is pushed
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Url;
use serde::Deserialize;

use super::policy::RetryPolicy;

/// Each delivery attempt's limit when the endpoint names none.
pub const TIMEOUT_DEFAULT: Duration = Duration::from_secs(5);

/// The endpoints a node knows, by name.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    by_name: BTreeMap<String, Endpoint>,
}

/// Where a route's events go.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// Pushed in CloudEvents batches by HTTP POST.
    Webhook(Arc<WebhookEndpoint>),
    /// Read by consumers of `GET /feed`; no delivery runs for it.
    Sse,
}

#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    pub name: String,
    pub url: Url,
    /// Sent with every POST (an `Authorization` header, say); marked sensitive, so never logged.
    pub headers: HeaderMap,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

/// Why the endpoints file was refused. Each names the file, and the endpoint and field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointsError {
    #[error("cannot read the endpoints file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the endpoints file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("the endpoints file {path}: endpoint `{endpoint}`: `{field}` {reason}")]
    Field {
        path: PathBuf,
        endpoint: String,
        field: &'static str,
        reason: String,
    },
    #[error("the endpoints file {path}: endpoint name `{endpoint}` is used {count} times")]
    DuplicateName {
        path: PathBuf,
        endpoint: String,
        count: usize,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointsFile {
    #[serde(default)]
    endpoints: Vec<EndpointEntry>,
}

/// One `[[endpoints]]` stanza. Flat rather than a tagged enum, so that a mistake's message
/// points at its line and key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointEntry {
    name: String,
    kind: EndpointKind,
    url: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    timeout_ms: Option<u64>,
    attempts_max: Option<u32>,
    backoff_initial_ms: Option<u64>,
    backoff_max_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum EndpointKind {
    Webhook,
    Sse,
}

impl Endpoints {
    /// Reads and checks an endpoints file.
    pub fn load(path: &Path) -> Result<Endpoints, EndpointsError> {
        let text = std::fs::read_to_string(path).map_err(|source| EndpointsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Endpoints::parse(path, &text)
    }

    /// Checks the text of an endpoints file; `path` is for messages.
    pub fn parse(path: &Path, text: &str) -> Result<Endpoints, EndpointsError> {
        let file: EndpointsFile = toml::from_str(text).map_err(|source| EndpointsError::Parse {
            path: path.to_owned(),
            source,
        })?;
        let mut by_name = BTreeMap::new();
        for entry in &file.endpoints {
            let name = &entry.name;
            if name.trim().is_empty() {
                return Err(EndpointsError::Field {
                    path: path.to_owned(),
                    endpoint: name.clone(),
                    field: "name",
                    reason: "may not be empty".into(),
                });
            }
            let endpoint = match entry.kind {
                EndpointKind::Webhook => entry.check_webhook(path)?,
                EndpointKind::Sse => entry.check_sse(path)?,
            };
            if by_name.insert(name.clone(), endpoint).is_some() {
                let count = file.endpoints.iter().filter(|e| &e.name == name).count();
                return Err(EndpointsError::DuplicateName {
                    path: path.to_owned(),
                    endpoint: name.clone(),
                    count,
                });
            }
        }
        Ok(Endpoints { by_name })
    }

    pub fn get(&self, name: &str) -> Option<&Endpoint> {
        self.by_name.get(name)
    }

    /// The endpoints' names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl EndpointEntry {
    fn field_error(&self, path: &Path, field: &'static str, reason: String) -> EndpointsError {
        EndpointsError::Field {
            path: path.to_owned(),
            endpoint: self.name.clone(),
            field,
            reason,
        }
    }

    fn check_sse(&self, path: &Path) -> Result<Endpoint, EndpointsError> {
        let webhook_fields = [
            ("url", self.url.is_some()),
            ("headers", self.headers.is_some()),
            ("timeout_ms", self.timeout_ms.is_some()),
            ("attempts_max", self.attempts_max.is_some()),
            ("backoff_initial_ms", self.backoff_initial_ms.is_some()),
            ("backoff_max_ms", self.backoff_max_ms.is_some()),
        ];
        match webhook_fields.into_iter().find(|(_, set)| *set) {
            Some((field, _)) => Err(self.field_error(
                path,
                field,
                "is for webhooks; an sse endpoint has none (its consumers read GET /feed)".into(),
            )),
            None => Ok(Endpoint::Sse),
        }
    }

    fn check_webhook(&self, path: &Path) -> Result<Endpoint, EndpointsError> {
        let field = |field: &'static str, reason: String| self.field_error(path, field, reason);
        let text = self
            .url
            .as_deref()
            .ok_or_else(|| field("url", "is required for a webhook".into()))?;
        let url = Url::parse(text).map_err(|error| field("url", format!("`{text}`: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(field(
                "url",
                format!("`{url}` must be http or https, not {}", url.scheme()),
            ));
        }
        let mut headers = HeaderMap::new();
        for (key, value) in self.headers.iter().flatten() {
            let header = HeaderName::from_bytes(key.as_bytes())
                .map_err(|_| field("headers", format!("`{key}` is not a header name")))?;
            if header == CONTENT_TYPE {
                return Err(field(
                    "headers",
                    "may not set Content-Type: deliveries are application/cloudevents-batch+json"
                        .into(),
                ));
            }
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                field(
                    "headers",
                    format!("the value of `{key}` is not a valid header value"),
                )
            })?;
            value.set_sensitive(true);
            headers.insert(header, value);
        }
        let positive_ms = |name: &'static str, value: Option<u64>, default: Duration| match value {
            None => Ok(default),
            Some(0) => Err(field(name, "must be at least 1".into())),
            Some(ms) => Ok(Duration::from_millis(ms)),
        };
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            backoff_initial: positive_ms(
                "backoff_initial_ms",
                self.backoff_initial_ms,
                defaults.backoff_initial,
            )?,
            backoff_max: positive_ms("backoff_max_ms", self.backoff_max_ms, defaults.backoff_max)?,
            attempts_max: match self.attempts_max.unwrap_or(defaults.attempts_max) {
                0 => return Err(field("attempts_max", "must be at least 1".into())),
                attempts => attempts,
            },
        };
        if retry.backoff_max < retry.backoff_initial {
            return Err(field(
                "backoff_max_ms",
                format!(
                    "{} ms is below backoff_initial_ms, {} ms",
                    retry.backoff_max.as_millis(),
                    retry.backoff_initial.as_millis()
                ),
            ));
        }
        Ok(Endpoint::Webhook(Arc::new(WebhookEndpoint {
            name: self.name.clone(),
            url,
            headers,
            timeout: positive_ms("timeout_ms", self.timeout_ms, TIMEOUT_DEFAULT)?,
            retry,
        })))
    }
}
