//! One webhook endpoint's HTTP client: POSTs a batch of CloudEvents and says whether the endpoint
//! took it (a 2xx within the timeout) or why not.

use std::sync::Arc;

use reqwest::header::CONTENT_TYPE;
use reqwest::redirect;

use super::endpoints::WebhookEndpoint;

/// CloudEvents' JSON batch format: the body is a JSON array of events in structured form.
pub const BATCH_CONTENT_TYPE: &str = "application/cloudevents-batch+json";

/// How much of an answer's body is read (and thrown away) so that its connection can be reused;
/// an endpoint that says more only costs its connection.
const ANSWER_DRAIN_BYTES_MAX: usize = 64 * 1024;

/// Why an endpoint did not take a batch. Each is retried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostError {
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} did not answer within {timeout_ms} ms")]
    Timeout { url: String, timeout_ms: u128 },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
}

/// The client of one webhook endpoint. Cheap to clone: clones share connections.
#[derive(Debug, Clone)]
pub struct Webhook {
    endpoint: Arc<WebhookEndpoint>,
    client: reqwest::Client,
}

impl Webhook {
    pub fn new(endpoint: Arc<WebhookEndpoint>) -> Result<Webhook, reqwest::Error> {
        // reqwest's rustls needs a process-wide crypto provider: the server's own, ring. An error
        // only means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(endpoint.timeout)
            .connect_timeout(endpoint.timeout)
            .default_headers(endpoint.headers.clone())
            // A redirected POST would change meaning; a 3xx is a failure like any non-2xx.
            .redirect(redirect::Policy::none())
            .build()?;
        Ok(Webhook { endpoint, client })
    }

    pub fn endpoint(&self) -> &WebhookEndpoint {
        &self.endpoint
    }

    /// POSTs `body`, a JSON array of CloudEvents; `Ok` once the endpoint answered 2xx.
    pub async fn post(&self, body: Vec<u8>) -> Result<(), PostError> {
        let endpoint = &self.endpoint;
        let failed = |error: reqwest::Error| {
            if error.is_timeout() {
                PostError::Timeout {
                    url: endpoint.url.to_string(),
                    timeout_ms: endpoint.timeout.as_millis(),
                }
            } else {
                PostError::Unreachable {
                    url: endpoint.url.to_string(),
                    reason: error_chain(&error),
                }
            }
        };
        let mut answer = self
            .client
            .post(endpoint.url.clone())
            .header(CONTENT_TYPE, BATCH_CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .map_err(failed)?;
        let status = answer.status();
        let mut drained = 0;
        while drained < ANSWER_DRAIN_BYTES_MAX {
            match answer.chunk().await {
                Ok(Some(chunk)) => drained += chunk.len(),
                // The verdict is the status; a body cut short changes nothing.
                Ok(None) | Err(_) => break,
            }
        }
        if !status.is_success() {
            return Err(PostError::Status {
                url: endpoint.url.to_string(),
                status: status.as_u16(),
            });
        }
        Ok(())
    }
}

/// A CloudEvents JSON batch: the array of events given as their structured JSON texts.
pub fn batch_body<T: AsRef<str>>(texts: &[T]) -> Vec<u8> {
    let length = texts
        .iter()
        .map(|text| text.as_ref().len() + 1)
        .sum::<usize>()
        + 1;
    let mut body = Vec::with_capacity(length);
    body.push(b'[');
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(text.as_ref().as_bytes());
    }
    body.push(b']');
    body
}

/// reqwest's message with its causes ("error sending request: connection refused"), since the
/// outermost alone rarely says what happened.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
