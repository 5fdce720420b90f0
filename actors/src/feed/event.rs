//! [`CloudEvent`]: one committed record as a CloudEvents 1.0 event, and its structured-mode JSON.

use serde_json::{Map, Value};

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
#[derive(Debug, Clone, PartialEq)]
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
    pub data: Value,
}

impl CloudEvent {
    /// The `id` of the event made from record `lsn`: the LSN in decimal.
    pub fn id_for(lsn: u64) -> String {
        lsn.to_string()
    }

    /// The CloudEvents JSON format (structured mode): the context attributes, the extension
    /// attributes `lsn` (and `component` where there is one), and `data`.
    ///
    /// `lsn` is a decimal string: CloudEvents' Integer is 32-bit, and LSNs are 64-bit.
    pub fn to_json(&self) -> Value {
        let mut json = Map::new();
        let mut text = |key: &str, value: &str| {
            json.insert(key.to_owned(), Value::from(value));
        };
        text("specversion", SPEC_VERSION);
        text("id", &self.id);
        text("type", self.event_type);
        text("source", &self.source);
        text("subject", &self.subject);
        text("time", &self.time);
        text("datacontenttype", self.datacontenttype);
        if let Some(schema) = &self.dataschema {
            text("dataschema", schema);
        }
        if let Some(traceparent) = &self.traceparent {
            text("traceparent", traceparent);
        }
        if let Some(component) = &self.component {
            text("component", component);
        }
        text("lsn", &self.lsn.to_string());
        json.insert("data".to_owned(), self.data.clone());
        Value::Object(json)
    }
}
