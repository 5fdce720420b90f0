//! The events that log records carry, and their postcard encoding.
//!
//! Postcard is not self-describing: a variant is stored as its index. New variants are therefore
//! only ever added at the end, and an existing variant's fields never change; a change of shape is
//! a new variant (and, if old records must read differently, a new format version with an
//! upcaster). docs/design.md, "Events", keeps the rule.

use serde::{Deserialize, Serialize};

/// One change to a twin's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// Telemetry sent to a twin or one of its components. It never changes twin state, but it is in
    /// the log so that it replicates, replays and can be exported.
    Telemetry {
        /// The sender's `Message-Id`, unique per twin within the de-duplication window.
        message_id: String,
        /// `Telemetry-Source-Time` as the sender gave it (RFC 3339).
        source_time: Option<String>,
        /// The component path, for component telemetry.
        component: Option<String>,
        /// The telemetry body, a JSON object kept as its text so that postcard can carry it.
        data: String,
    },
}

impl Event {
    /// The variant's name, as `twinlog export` prints it in `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Telemetry { .. } => "Telemetry",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        // Serialising an in-memory enum of strings into a Vec cannot fail.
        postcard::to_stdvec(self).expect("postcard encodes Event into a Vec")
    }

    pub fn decode(bytes: &[u8]) -> Result<Event, EventDecodeError> {
        postcard::from_bytes(bytes).map_err(|source| EventDecodeError {
            len: bytes.len(),
            source,
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("event payload of {len} bytes does not decode: {source}")]
pub struct EventDecodeError {
    pub len: usize,
    #[source]
    pub source: postcard::Error,
}
