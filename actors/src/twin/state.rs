//! What a twin's stream amounts to: the twin (if it exists now), its outgoing relationships,
//! its ETags, and the telemetry de-duplication window.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value};
use twinlog_dtdl::Dtmi;

use super::error::TwinError;
use super::validated::Validated;

/// How many recent telemetry `Message-Id`s a twin remembers, to accept a resent message without
/// recording it twice. A count, not a time window: the `Telemetry` event carries no time of its
/// own, and a count keeps replay deterministic and each twin's memory bounded.
pub const TELEMETRY_DEDUP_IDS_MAX: usize = 10_000;

/// One twin's stream, folded. A deleted twin has no [`Twin`], but its stream goes on: a twin
/// created again continues the version count, so its ETags are new.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinState {
    pub(super) twin_id: Arc<str>,
    /// Records of this stream applied, telemetry included: the log numbers them 1, 2, 3 …
    pub(super) version: u64,
    /// Shared, so that a copy of the state (a read model's snapshot) costs no copy of the twin
    /// until one of the two changes it.
    pub(super) twin: Option<Arc<Twin>>,
    pub(super) telemetry: TelemetryWindow,
    pub(super) validated: Validated,
}

/// A twin that exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Twin {
    pub(super) model: Dtmi,
    /// The content in the shape patches address (see `document`): `$metadata` with `$model` and
    /// each property's `sourceTime`, the properties, and each component with its `$metadata`.
    pub(super) document: Map<String, Value>,
    pub(super) times: Times,
    pub(super) component_times: BTreeMap<String, Times>,
    /// The stream version of the last change to the twin itself: its ETag.
    pub(super) version: u64,
    pub(super) relationships: BTreeMap<String, Relationship>,
}

/// When a twin, or one of its components, and each of its properties last changed (`at_ms` of
/// the change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Times {
    pub(super) updated_ms: u64,
    pub(super) properties: BTreeMap<String, u64>,
}

/// An outgoing relationship.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub(super) target_id: String,
    pub(super) name: String,
    /// The relationship's own properties; no `$` keys.
    pub(super) properties: Map<String, Value>,
    /// The stream version of its last change: its ETag.
    pub(super) version: u64,
    pub(super) updated_ms: u64,
}

/// The last [`TELEMETRY_DEDUP_IDS_MAX`] `Message-Id`s, oldest first, and the same as a set. The
/// two share each id's one allocation.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct TelemetryWindow {
    order: VecDeque<Arc<str>>,
    seen: HashSet<Arc<str>>,
}

impl TelemetryWindow {
    pub(super) fn contains(&self, message_id: &str) -> bool {
        self.seen.contains(message_id)
    }

    pub(super) fn remember(&mut self, message_id: &str) {
        let message_id: Arc<str> = Arc::from(message_id);
        if !self.seen.insert(message_id.clone()) {
            return;
        }
        self.order.push_back(message_id);
        if self.order.len() > TELEMETRY_DEDUP_IDS_MAX {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
    }

    pub(super) fn clear(&mut self) {
        self.order.clear();
        self.seen.clear();
    }
}

/// A weak ETag for the stream version of an entity's last change.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

impl TwinState {
    /// The state of a stream with no records yet.
    pub fn new(twin_id: impl Into<Arc<str>>) -> TwinState {
        TwinState {
            twin_id: twin_id.into(),
            version: 0,
            twin: None,
            telemetry: TelemetryWindow::default(),
            validated: Validated::default(),
        }
    }

    pub fn twin_id(&self) -> &str {
        &self.twin_id
    }

    /// The number of records of this stream applied.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn twin(&self) -> Option<&Twin> {
        self.twin.as_deref()
    }

    /// The twin, or `DigitalTwinNotFound`.
    pub fn existing(&self) -> Result<&Twin, TwinError> {
        self.twin
            .as_deref()
            .ok_or_else(|| TwinError::DigitalTwinNotFound {
                twin_id: self.twin_id.to_string(),
            })
    }

    /// The outgoing relationship `relationship_id`, or `DigitalTwinNotFound` or
    /// `RelationshipNotFound`.
    pub fn relationship(&self, relationship_id: &str) -> Result<&Relationship, TwinError> {
        self.existing()?
            .relationships
            .get(relationship_id)
            .ok_or_else(|| TwinError::RelationshipNotFound {
                twin_id: self.twin_id.to_string(),
                relationship_id: relationship_id.to_owned(),
            })
    }
}

impl Twin {
    pub fn model(&self) -> &Dtmi {
        &self.model
    }

    pub fn etag(&self) -> String {
        etag(self.version)
    }

    /// The outgoing relationships by id.
    pub fn relationships(&self) -> &BTreeMap<String, Relationship> {
        &self.relationships
    }

    pub fn last_update_ms(&self) -> u64 {
        self.times.updated_ms
    }

    /// The content as stored: `$metadata` with `$model` and each `sourceTime`, the properties,
    /// and each component with its `$metadata`; no ETag and no times.
    pub(crate) fn content(&self) -> &Map<String, Value> {
        &self.document
    }
}

impl Relationship {
    pub fn target_id(&self) -> &str {
        &self.target_id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn properties(&self) -> &Map<String, Value> {
        &self.properties
    }

    pub fn etag(&self) -> String {
        etag(self.version)
    }

    pub fn last_update_ms(&self) -> u64 {
        self.updated_ms
    }
}
