//! [`CloudEvent`]: one committed record as a CloudEvents 1.0 event, and its structured-mode JSON.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

/// The CloudEvents version every event conforms to.
pub const SPEC_VERSION: &str = "1.0";

/// The media type of every event's `data`.
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// ADT's event types, as `type` carries them.
pub mod event_type {
    pub const TWIN_CREATE: &str = "Microsoft.DigitalTwins.Twin.Create";
    pub const TWIN_UPDATE: &str = "Microsoft.DigitalTwins.Twin.Update";
    pub const TWIN_DELETE: &str = "Microsoft.DigitalTwins.Twin.Delete";
    pub const RELATIONSHIP_CREATE: &str = "Microsoft.DigitalTwins.Relationship.Create";
    pub const RELATIONSHIP_UPDATE: &str = "Microsoft.DigitalTwins.Relationship.Update";
    pub const RELATIONSHIP_DELETE: &str = "Microsoft.DigitalTwins.Relationship.Delete";
    pub const TELEMETRY: &str = "microsoft.iot.telemetry";
}

/// One CloudEvents 1.0 event made from one committed log record (a record yields zero or one).
#[derive(Debug, Clone)]
pub struct CloudEvent {
    /// The record's LSN; also the extension attribute `lsn`.
    pub lsn: u64,
    /// Derived from the LSN alone: unique per event, the same every time the record is read.
    pub id: String,
    /// One of [`event_type`].
    pub event_type: &'static str,
    /// The region's host name.
    pub source: String,
    /// The twin id, or `<twinId>/relationships/<relationshipId>`.
    pub subject: String,
    /// RFC 3339, UTC, with milliseconds.
    pub time: String,
    /// Always [`DATA_CONTENT_TYPE`].
    pub datacontenttype: &'static str,
    /// The twin's model, for telemetry.
    pub dataschema: Option<String>,
    /// The W3C trace context of the request that made the change, when it carried a valid one.
    pub traceparent: Option<String>,
    /// The component that sent telemetry; the extension attribute `component`.
    pub component: Option<String>,
    /// Compact JSON text (no line breaks), written into the event as it is: the projection builds
    /// it once, and encoding the event never takes it apart again.
    pub data: Box<RawValue>,
}

impl PartialEq for CloudEvent {
    fn eq(&self, other: &CloudEvent) -> bool {
        self.lsn == other.lsn
            && self.id == other.id
            && self.event_type == other.event_type
            && self.source == other.source
            && self.subject == other.subject
            && self.time == other.time
            && self.datacontenttype == other.datacontenttype
            && self.dataschema == other.dataschema
            && self.traceparent == other.traceparent
            && self.component == other.component
            && self.data.get() == other.data.get()
    }
}

impl CloudEvent {
    /// The `id` of the event made from record `lsn`: the LSN in decimal.
    pub fn id_for(lsn: u64) -> String {
        lsn.to_string()
    }

    /// The CloudEvents JSON format (structured mode), compact, as text: see the `Serialize` impl.
    pub fn to_json_text(&self) -> String {
        serde_json::to_string(self).expect("an event of strings and JSON text serialises")
    }
}

/// The CloudEvents JSON format (structured mode): the context attributes, the extension
/// attributes `lsn` (and `component` where there is one), and `data`. Written field by field, so
/// that encoding an event builds no intermediate JSON tree.
///
/// `lsn` is a decimal string: CloudEvents' Integer is 32-bit, and LSNs are 64-bit.
impl Serialize for CloudEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut json = serializer.serialize_map(None)?;
        json.serialize_entry("specversion", SPEC_VERSION)?;
        json.serialize_entry("id", &self.id)?;
        json.serialize_entry("type", self.event_type)?;
        json.serialize_entry("source", &self.source)?;
        json.serialize_entry("subject", &self.subject)?;
        json.serialize_entry("time", &self.time)?;
        json.serialize_entry("datacontenttype", self.datacontenttype)?;
        if let Some(schema) = &self.dataschema {
            json.serialize_entry("dataschema", schema)?;
        }
        if let Some(traceparent) = &self.traceparent {
            json.serialize_entry("traceparent", traceparent)?;
        }
        if let Some(component) = &self.component {
            json.serialize_entry("component", component)?;
        }
        json.serialize_entry("lsn", &format_args!("{}", self.lsn))?;
        json.serialize_entry("data", &self.data)?;
        json.end()
    }
}
