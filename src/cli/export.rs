//! `twinlog export DIR`: every event as one JSON object per line, in LSN order, in constant memory.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use serde_json::value::RawValue;
use twinlog_migrations::reader::LogFile;
use twinlog_migrations::{Event, Record};

/// One exported line. The event's own fields follow the record's, flattened.
#[derive(Serialize)]
struct Line<'a> {
    lsn: u64,
    epoch: u64,
    twin: &'a str,
    version: u64,
    time: String,
    time_ms: u64,
    kind: &'static str,
    /// The W3C trace context of the request that caused the event, when it carried one.
    #[serde(skip_serializing_if = "Option::is_none")]
    traceparent: Option<&'a str>,
    #[serde(flatten)]
    fields: Fields<'a>,
}

/// An event's own fields, camelCase. JSON payloads (carried as text in the log) are embedded as
/// JSON, not as strings.
#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
enum Fields<'a> {
    Telemetry {
        message_id: &'a str,
        source_time: Option<&'a str>,
        component: Option<&'a str>,
        data: &'a RawValue,
    },
    ModelsUploaded {
        at_ms: u64,
        models: Vec<&'a RawValue>,
    },
    /// `ModelDecommissioned` and `ModelDeleted`.
    Model {
        at_ms: u64,
        model_id: &'a str,
    },
    TwinReplaced {
        at_ms: u64,
        document: &'a RawValue,
    },
    TwinPatched {
        at_ms: u64,
        patch: &'a RawValue,
    },
    TwinDeleted {
        at_ms: u64,
    },
    RelationshipReplaced {
        at_ms: u64,
        relationship_id: &'a str,
        document: &'a RawValue,
    },
    RelationshipPatched {
        at_ms: u64,
        relationship_id: &'a str,
        patch: &'a RawValue,
    },
    RelationshipDeleted {
        at_ms: u64,
        relationship_id: &'a str,
    },
}

pub fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    super::contain_panics(dir, || {
        let file = LogFile::open(dir)?;
        if file.repaired_copy {
            eprintln!(
                "note: {} was not closed cleanly; exporting a repaired private copy, the file is untouched",
                file.reader.path().display()
            );
        }
        let mut out = BufWriter::new(io::stdout().lock());
        for stored in file.reader.replay_from(1) {
            let stored = stored?;
            let record = stored
                .decode()
                .with_context(|| file.reader.path().display().to_string())?;
            let event = record
                .event()
                .with_context(|| file.reader.path().display().to_string())?;
            let written = serde_json::to_writer(&mut out, &line(&record, &event)?)
                .map_err(io::Error::from)
                .and_then(|()| out.write_all(b"\n"));
            match written {
                Ok(()) => {}
                // A reader such as `head` that has seen enough is not an error.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
                Err(e) => return Err(e.into()),
            }
        }
        match out.flush() {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(ExitCode::SUCCESS),
        }
    })
}

fn line<'a>(record: &'a Record<'a>, event: &'a Event) -> anyhow::Result<Line<'a>> {
    let h = &record.header;
    Ok(Line {
        lsn: h.lsn,
        epoch: h.epoch,
        twin: h.twin_id,
        version: h.twin_version,
        time: twinlog_actors::aggregate::rfc3339_from_ms(h.time_ms),
        time_ms: h.time_ms,
        kind: event.kind(),
        traceparent: event.traceparent(),
        fields: fields(h.lsn, event)?,
    })
}

/// The event's own fields; `lsn` names the record if a JSON payload does not parse.
fn fields<'a>(lsn: u64, event: &'a Event) -> anyhow::Result<Fields<'a>> {
    let json = |what: &str, text: &'a str| -> anyhow::Result<&'a RawValue> {
        serde_json::from_str(text).with_context(|| format!("LSN {lsn}: {what} is not JSON"))
    };
    let fields = match event {
        Event::Traced { event, .. } => return fields(lsn, event),
        Event::Telemetry {
            message_id,
            source_time,
            component,
            data,
        } => Fields::Telemetry {
            message_id,
            source_time: source_time.as_deref(),
            component: component.as_deref(),
            data: json("telemetry data", data)?,
        },
        Event::ModelsUploaded { at_ms, models } => Fields::ModelsUploaded {
            at_ms: *at_ms,
            models: models
                .iter()
                .map(|model| json("a model", model))
                .collect::<anyhow::Result<_>>()?,
        },
        Event::ModelDecommissioned { at_ms, model_id }
        | Event::ModelDeleted { at_ms, model_id } => Fields::Model {
            at_ms: *at_ms,
            model_id,
        },
        Event::TwinReplaced { at_ms, document } => Fields::TwinReplaced {
            at_ms: *at_ms,
            document: json("the twin document", document)?,
        },
        Event::TwinPatched { at_ms, patch } => Fields::TwinPatched {
            at_ms: *at_ms,
            patch: json("the twin patch", patch)?,
        },
        Event::TwinDeleted { at_ms } => Fields::TwinDeleted { at_ms: *at_ms },
        Event::RelationshipReplaced {
            at_ms,
            relationship_id,
            document,
        } => Fields::RelationshipReplaced {
            at_ms: *at_ms,
            relationship_id,
            document: json("the relationship document", document)?,
        },
        Event::RelationshipPatched {
            at_ms,
            relationship_id,
            patch,
        } => Fields::RelationshipPatched {
            at_ms: *at_ms,
            relationship_id,
            patch: json("the relationship patch", patch)?,
        },
        Event::RelationshipDeleted {
            at_ms,
            relationship_id,
        } => Fields::RelationshipDeleted {
            at_ms: *at_ms,
            relationship_id,
        },
    };
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn twin_and_model_events_export_camel_case_fields_with_embedded_json() {
        let exported = |event: Event| serde_json::to_value(fields(7, &event).unwrap()).unwrap();
        assert_eq!(
            exported(Event::RelationshipReplaced {
                at_ms: 5,
                relationship_id: "r1".into(),
                document: r#"{"$targetId":"b"}"#.into(),
            }),
            json!({"atMs": 5, "relationshipId": "r1", "document": {"$targetId": "b"}})
        );
        assert_eq!(
            exported(Event::ModelDeleted {
                at_ms: 1,
                model_id: "dtmi:a;1".into()
            }),
            json!({"atMs": 1, "modelId": "dtmi:a;1"})
        );
        assert_eq!(
            exported(Event::ModelsUploaded {
                at_ms: 1,
                models: vec!["{}".into()]
            }),
            json!({"atMs": 1, "models": [{}]})
        );
        // A traced event exports its own fields; `traceparent` goes beside `kind`.
        assert_eq!(
            exported(Event::TwinDeleted { at_ms: 1 }.traced("t".into())),
            json!({"atMs": 1})
        );
        let broken = Event::TwinPatched {
            at_ms: 1,
            patch: "[".into(),
        };
        let Err(refused) = fields(7, &broken) else {
            panic!("a patch that is not JSON does not export")
        };
        assert!(refused.to_string().contains("LSN 7"), "{refused}");
    }
}
