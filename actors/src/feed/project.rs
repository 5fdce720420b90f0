//! One record of a twin's stream, applied to that twin's state, as the [`CloudEvent`] ADT would
//! send for it: what the state was before decides Create or Update and supplies a Delete's
//! document, a telemetry event's `dataschema` and an Update's `modelId`.

use serde::Serialize;
use serde_json::value::{to_raw_value, RawValue};
use serde_json::Value;
use twinlog_migrations::Event;

use super::event::{event_type, CloudEvent, DATA_CONTENT_TYPE};
use super::time::TimeText;
use crate::twin::TwinState;

/// The parts of a record the projection reads.
pub(super) struct Committed<'a> {
    pub lsn: u64,
    pub twin_version: u64,
    pub time_ms: u64,
    pub event: &'a Event,
}

/// What every event of a feed shares: its `source`, and the formatting of its times.
pub(super) struct Projection<'a> {
    pub source: &'a str,
    pub times: &'a mut TimeText,
}

/// Applies `record` to `state` (the twin's stream up to the record before it) and returns the
/// event ADT would send for it. `Err` carries why the record does not fit the state: the log and
/// the code disagree.
pub(super) fn advance(
    state: &mut TwinState,
    record: &Committed<'_>,
    projection: Projection<'_>,
) -> Result<CloudEvent, String> {
    let twin_id = state.twin_id().to_owned();
    let (kind, subject, at_ms, data) = match record.event.untraced() {
        Event::TwinReplaced { at_ms, .. } => {
            let before = state
                .twin()
                .map(|twin| Value::Object(twin.content().clone()));
            state.apply_record(record.twin_version, record.event);
            let twin = state.existing().map_err(|e| e.to_string())?;
            let (kind, data) = match before {
                None => (
                    event_type::TWIN_CREATE,
                    raw(&state.twin_document().map_err(|e| e.to_string())?),
                ),
                Some(before) => {
                    let after = Value::Object(twin.content().clone());
                    (
                        event_type::TWIN_UPDATE,
                        update(twin.model(), &before, &after),
                    )
                }
            };
            (kind, twin_id, *at_ms, data)
        }
        Event::TwinPatched { at_ms, patch } => {
            state.apply_record(record.twin_version, record.event);
            let twin = state.existing().map_err(|e| e.to_string())?;
            let data = raw(&UpdateData {
                model_id: twin.model().as_str(),
                patch: &*recorded(patch)?,
            });
            (event_type::TWIN_UPDATE, twin_id, *at_ms, data)
        }
        Event::TwinDeleted { at_ms } => {
            let data = raw(&state.twin_document().map_err(|e| e.to_string())?);
            state.apply_record(record.twin_version, record.event);
            (event_type::TWIN_DELETE, twin_id, *at_ms, data)
        }
        Event::RelationshipReplaced {
            at_ms,
            relationship_id,
            ..
        } => {
            let before = relationship(state, relationship_id);
            state.apply_record(record.twin_version, record.event);
            let after = relationship(state, relationship_id)
                .ok_or_else(|| format!("relationship {relationship_id} was not replaced"))?;
            let (kind, data) = match before {
                None => (event_type::RELATIONSHIP_CREATE, raw(&after)),
                Some(before) => {
                    let model = state.existing().map_err(|e| e.to_string())?.model();
                    let (before, after) = (without_etag(before), without_etag(after));
                    (
                        event_type::RELATIONSHIP_UPDATE,
                        update(model, &before, &after),
                    )
                }
            };
            let subject = relationship_subject(&twin_id, relationship_id);
            (kind, subject, *at_ms, data)
        }
        Event::RelationshipPatched {
            at_ms,
            relationship_id,
            patch,
        } => {
            state.apply_record(record.twin_version, record.event);
            let model = state.existing().map_err(|e| e.to_string())?.model();
            let data = raw(&UpdateData {
                model_id: model.as_str(),
                patch: &*recorded(patch)?,
            });
            let subject = relationship_subject(&twin_id, relationship_id);
            (event_type::RELATIONSHIP_UPDATE, subject, *at_ms, data)
        }
        Event::RelationshipDeleted {
            at_ms,
            relationship_id,
        } => {
            let data = relationship(state, relationship_id)
                .ok_or_else(|| format!("relationship {relationship_id} does not exist"))?;
            let data = raw(&data);
            state.apply_record(record.twin_version, record.event);
            let subject = relationship_subject(&twin_id, relationship_id);
            (event_type::RELATIONSHIP_DELETE, subject, *at_ms, data)
        }
        Event::Telemetry {
            component, data, ..
        } => {
            // Telemetry changes nothing a later event is made from, and applying it would fill
            // the cached state's de-duplication window with message ids: it is left unapplied,
            // as a rebuild from the twin's stream leaves it.
            let dataschema = state.twin().map(|twin| twin.model().to_string());
            let data = recorded(data)?;
            return Ok(CloudEvent {
                dataschema,
                component: component.clone(),
                ..event(
                    record,
                    projection,
                    event_type::TELEMETRY,
                    twin_id,
                    record.time_ms,
                    data,
                )
            });
        }
        Event::ModelsUploaded { .. }
        | Event::ModelDecommissioned { .. }
        | Event::ModelDeleted { .. }
        | Event::Traced { .. } => {
            return Err(format!("{} in a twin's stream", record.event.kind()))
        }
    };
    Ok(event(record, projection, kind, subject, at_ms, data))
}

fn event(
    record: &Committed<'_>,
    projection: Projection<'_>,
    kind: &'static str,
    subject: String,
    at_ms: u64,
    data: Box<RawValue>,
) -> CloudEvent {
    CloudEvent {
        lsn: record.lsn,
        id: CloudEvent::id_for(record.lsn),
        event_type: kind,
        source: projection.source.to_owned(),
        subject,
        time: projection.times.format(at_ms),
        datacontenttype: DATA_CONTENT_TYPE,
        dataschema: None,
        traceparent: record.event.traceparent().map(str::to_owned),
        component: None,
        data,
    }
}

/// ADT's Update data, written straight to text.
#[derive(Serialize)]
struct UpdateData<'a, P: Serialize> {
    #[serde(rename = "modelId")]
    model_id: &'a str,
    patch: P,
}

/// ADT's Update data: the model, and the JSON Patch from `before` to `after`.
fn update(model: &twinlog_dtdl::Dtmi, before: &Value, after: &Value) -> Box<RawValue> {
    raw(&UpdateData {
        model_id: model.as_str(),
        patch: json_patch::diff(before, after),
    })
}

/// `data` as compact JSON text.
fn raw(data: &impl Serialize) -> Box<RawValue> {
    to_raw_value(data).expect("JSON values and patches serialise")
}

/// JSON text a record holds (a telemetry body, a patch), checked, as event data. The writers
/// record compact text, which is kept as it is; text with line breaks is written again compact,
/// since SSE sends an event's JSON as one line.
pub(super) fn recorded(text: &str) -> Result<Box<RawValue>, String> {
    if text.contains(['\n', '\r']) {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(raw(&value))
    } else {
        RawValue::from_string(text.to_owned()).map_err(|e| e.to_string())
    }
}

fn relationship(state: &TwinState, relationship_id: &str) -> Option<Value> {
    state.relationship_document(relationship_id).ok()
}

/// A relationship document as content: its ETag changes with every write and is no change.
fn without_etag(document: Value) -> Value {
    match document {
        Value::Object(mut map) => {
            map.remove("$etag");
            Value::Object(map)
        }
        other => other,
    }
}

fn relationship_subject(twin_id: &str, relationship_id: &str) -> String {
    format!("{twin_id}/relationships/{relationship_id}")
}
