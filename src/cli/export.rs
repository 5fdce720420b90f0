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
    #[serde(flatten)]
    fields: Fields<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Fields<'a> {
    #[serde(rename_all = "camelCase")]
    Telemetry {
        message_id: &'a str,
        source_time: Option<&'a str>,
        component: Option<&'a str>,
        data: &'a RawValue,
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
    let fields = match event {
        Event::Telemetry {
            message_id,
            source_time,
            component,
            data,
        } => Fields::Telemetry {
            message_id,
            source_time: source_time.as_deref(),
            component: component.as_deref(),
            data: serde_json::from_str(data)
                .with_context(|| format!("LSN {}: telemetry data is not JSON", h.lsn))?,
        },
    };
    Ok(Line {
        lsn: h.lsn,
        epoch: h.epoch,
        twin: h.twin_id,
        version: h.twin_version,
        time: rfc3339_ms(h.time_ms),
        time_ms: h.time_ms,
        kind: event.kind(),
        fields,
    })
}

fn rfc3339_ms(time_ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(time_ms as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
