//! The events that log records carry, and their postcard encoding.
//!
//! Postcard is not self-describing: a variant is stored as its index. New variants are therefore
//! only ever added at the end, and an existing variant's fields never change; a change of shape is
//! a new variant (and, if old records must read differently, a new format version with an
//! upcaster). docs/design.md, "Events", keeps the rule.

use serde::{Deserialize, Serialize};

/// One change to a stream: a twin's, or the model registry's (`$models`).
///
/// Every twin and model event carries `at_ms`, the time the command was decided, taken from the
/// command and never from a clock, so that replay yields the same `lastUpdateTime`s.
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
    /// Models uploaded to the registry, all together: the `$models` stream only. Each entry is one
    /// DTDL Interface as uploaded, as JSON text; replay parses them again, in order, against the
    /// models stored before them.
    ModelsUploaded {
        /// When the upload was decided: the models' `uploadTime`.
        at_ms: u64,
        models: Vec<String>,
    },
    /// A model marked decommissioned: no new twin may use it. The `$models` stream only.
    ModelDecommissioned { at_ms: u64, model_id: String },
    /// A model removed from the registry. The `$models` stream only.
    ModelDeleted { at_ms: u64, model_id: String },
    /// A twin created, or replaced whole. `document` is the validated twin content as JSON text:
    /// `$metadata` with `$model` and any `<property>.sourceTime`, the properties, and each
    /// component with its own `$metadata`. Every property's `lastUpdateTime` becomes `at_ms`.
    TwinReplaced { at_ms: u64, document: String },
    /// A twin changed by a JSON Patch (RFC 6902), as JSON text: its add, replace and remove
    /// operations, already validated against the state they apply to, with component patches'
    /// paths already made absolute. The properties the paths touch get `lastUpdateTime` `at_ms`.
    TwinPatched { at_ms: u64, patch: String },
    /// A twin deleted. Its stream goes on: a twin created again under the same id continues the
    /// version count, so no ETag is ever reused.
    TwinDeleted { at_ms: u64 },
    /// An outgoing relationship created, or replaced whole. `document` is JSON text holding
    /// `$targetId`, `$relationshipName` and the validated properties.
    RelationshipReplaced {
        at_ms: u64,
        relationship_id: String,
        document: String,
    },
    /// An outgoing relationship's properties changed by a JSON Patch, as JSON text, already
    /// validated against the state it applies to.
    RelationshipPatched {
        at_ms: u64,
        relationship_id: String,
        patch: String,
    },
    /// An outgoing relationship deleted.
    RelationshipDeleted { at_ms: u64, relationship_id: String },
    /// `event`, caused by a request that carried this W3C `traceparent`, kept so that the change
    /// feed can carry the trace on. It is `event` in every other respect: the same stream, and
    /// it applies exactly as `event` does. It never wraps another `Traced` ([`Event::traced`]).
    Traced {
        traceparent: String,
        event: Box<Event>,
    },
}

impl Event {
    /// The variant's name, as `twinlog export` prints it in `kind`; a traced event's is the
    /// name of the event it wraps.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Traced { event, .. } => event.kind(),
            Event::Telemetry { .. } => "Telemetry",
            Event::ModelsUploaded { .. } => "ModelsUploaded",
            Event::ModelDecommissioned { .. } => "ModelDecommissioned",
            Event::ModelDeleted { .. } => "ModelDeleted",
            Event::TwinReplaced { .. } => "TwinReplaced",
            Event::TwinPatched { .. } => "TwinPatched",
            Event::TwinDeleted { .. } => "TwinDeleted",
            Event::RelationshipReplaced { .. } => "RelationshipReplaced",
            Event::RelationshipPatched { .. } => "RelationshipPatched",
            Event::RelationshipDeleted { .. } => "RelationshipDeleted",
        }
    }

    /// This event as caused by a request with `traceparent`: wrapped once, whatever it was.
    pub fn traced(self, traceparent: String) -> Event {
        let event = match self {
            Event::Traced { event, .. } => event,
            event => Box::new(event),
        };
        Event::Traced { traceparent, event }
    }

    /// The event itself, or the one a [`Event::Traced`] wraps: what applies to a stream.
    pub fn untraced(&self) -> &Event {
        match self {
            Event::Traced { event, .. } => event,
            event => event,
        }
    }

    /// The `traceparent` of the request that caused this event, if it carried one.
    pub fn traceparent(&self) -> Option<&str> {
        match self {
            Event::Traced { traceparent, .. } => Some(traceparent),
            _ => None,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        // Room for a typical telemetry event up front: grown from empty, the Vec would be
        // reallocated at every doubling on the way.
        const TYPICAL_BYTES: usize = 128;
        // Serialising an in-memory enum of strings into a Vec cannot fail.
        postcard::to_extend(self, Vec::with_capacity(TYPICAL_BYTES))
            .expect("postcard encodes Event into a Vec")
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

#[cfg(test)]
mod tests {
    use super::Event;

    /// Postcard stores a variant as its index: these bytes are the format, and never change.
    #[test]
    fn existing_variants_keep_their_encoding_and_traced_comes_last() {
        let deleted = Event::TwinDeleted { at_ms: 5 };
        assert_eq!(deleted.encode(), [6, 5]);
        let traced = deleted.clone().traced("t".to_owned());
        assert_eq!(traced.encode(), [10, 1, b't', 6, 5]);
        assert_eq!(Event::decode(&traced.encode()).unwrap(), traced);
        assert_eq!(traced.untraced(), &deleted);
        assert_eq!(traced.traceparent(), Some("t"));
        assert_eq!(traced.kind(), "TwinDeleted");
        assert_eq!(deleted.untraced(), &deleted);
        assert_eq!(deleted.traceparent(), None);
    }

    #[test]
    fn tracing_twice_wraps_once_with_the_latest_context() {
        let twice = Event::TwinDeleted { at_ms: 5 }
            .traced("a".to_owned())
            .traced("b".to_owned());
        assert_eq!(twice.traceparent(), Some("b"));
        assert_eq!(twice.untraced(), &Event::TwinDeleted { at_ms: 5 });
    }
}
