//! Proves that today's code reads the frozen format-v1 log (`migrations/fixtures/v1/events.redb`)
//! and replays exactly the events it was written with. Every later format must keep this passing,
//! by reading v1 directly or through an upcaster; the fixture itself never changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use twinlog_actors::log::{EventLog, LogOptions, NewEvent};
use twinlog_migrations::reader::LogFile;
use twinlog_migrations::{Event, Role};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/fixtures/v1")
}

/// The events the fixture was written with, in LSN order.
fn fixture_events() -> Vec<(&'static str, Event)> {
    let telemetry = |id: &str, source_time: Option<&str>, component: Option<&str>, data: &str| {
        Event::Telemetry {
            message_id: id.to_owned(),
            source_time: source_time.map(str::to_owned),
            component: component.map(str::to_owned),
            data: data.to_owned(),
        }
    };
    vec![
        ("pump-1", telemetry("m-1", None, None, r#"{"flow":12.5}"#)),
        (
            "pump-1",
            telemetry(
                "m-2",
                Some("2026-01-02T03:04:05.678Z"),
                None,
                r#"{"flow":12.75}"#,
            ),
        ),
        (
            "room-α",
            telemetry(
                "m-1",
                None,
                Some("thermostat"),
                r#"{"temperature":21.5,"unit":"°C"}"#,
            ),
        ),
        (
            "pump-2",
            telemetry("m-1", None, None, r#"{"flow":0,"alarms":["dry-run"]}"#),
        ),
        ("pump-1", telemetry("m-3", None, None, r#"{"flow":13}"#)),
        (
            "room-α",
            telemetry(
                "m-2",
                Some("2026-01-02T03:04:06Z"),
                Some("thermostat"),
                r#"{"temperature":21.75}"#,
            ),
        ),
        (
            "pump-2",
            telemetry("m-2", None, None, r#"{"nested":{"a":[1,2,{"b":null}]}}"#),
        ),
        ("pump-1", telemetry("m-4", None, None, r#"{}"#)),
        (
            "room-α",
            telemetry("m-3", None, None, r#"{"occupied":true}"#),
        ),
        ("pump-2", telemetry("m-3", None, None, r#"{"flow":-1e-3}"#)),
        (
            "pump-1",
            telemetry("m-5", None, None, r#"{"text":"line\nbreak \"quoted\""}"#),
        ),
        (
            "pump-2",
            telemetry("m-4", None, None, r#"{"big":18446744073709551615}"#),
        ),
    ]
}

#[test]
fn format_v1_fixture_replays_exactly_its_events() {
    let file = LogFile::open(&fixture_dir()).expect("open the v1 fixture read-only");
    assert_eq!(file.meta.format_version, 1);
    assert_eq!(
        (file.meta.region.as_str(), file.meta.epoch, file.meta.role),
        ("fixture", 1, Role::Primary)
    );
    assert!(
        !file.repaired_copy,
        "the fixture must be a cleanly closed file"
    );
    let mut versions = std::collections::HashMap::new();
    let mut replayed = 0;
    let mut last_time_ms = 0;
    for (stored, (twin, event)) in file.reader.replay_from(1).zip(fixture_events()) {
        let stored = stored.unwrap();
        let record = stored.decode().unwrap();
        replayed += 1;
        let version = versions.entry(twin).or_insert(0);
        *version += 1;
        assert_eq!(record.header.lsn, replayed);
        assert_eq!(record.header.epoch, 1);
        assert_eq!(record.header.twin_id, twin);
        assert_eq!(record.header.twin_version, *version);
        assert_eq!(record.event().unwrap(), event, "LSN {replayed}");
        assert!(record.header.time_ms >= last_time_ms);
        last_time_ms = record.header.time_ms;
    }
    assert_eq!(replayed, fixture_events().len() as u64);
    assert_eq!(file.reader.last_lsn().unwrap(), replayed);

    let report = twinlog_migrations::verify(&fixture_dir()).unwrap();
    assert_eq!(
        (report.last_lsn, report.twins, report.checkpoint_lsn),
        (12, 3, 10)
    );
}

#[test]
fn todays_writer_continues_a_format_v1_log() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture_dir().join("events.redb"),
        dir.path().join("events.redb"),
    )
    .unwrap();
    let log = EventLog::open(dir.path(), LogOptions::new("fixture")).unwrap();
    assert_eq!(log.twin_head("pump-1").map(|h| h.version), Some(5));
    let event = Event::Telemetry {
        message_id: "m-6".into(),
        source_time: None,
        component: None,
        data: "{}".into(),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ack = rt
        .block_on(log.append(vec![NewEvent::new(Arc::from("pump-1"), &event)]))
        .unwrap()[0];
    assert_eq!((ack.lsn, ack.twin_version), (13, 6));
    drop(log);
    assert_eq!(twinlog_migrations::verify(dir.path()).unwrap().last_lsn, 13);
}

/// Writes the fixture. It ran once, when format v1 was released; it refuses to overwrite.
#[test]
#[ignore = "writes the frozen fixture; run only when a new format is released"]
fn write_format_v1_fixture() {
    let dir = fixture_dir();
    assert!(
        !dir.join("events.redb").exists(),
        "the v1 fixture is frozen; never rewrite it"
    );
    let options = LogOptions {
        checkpoint_interval_events: 5,
        ..LogOptions::new("fixture")
    };
    let log = EventLog::open(&dir, options).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (twin, event) in fixture_events() {
        rt.block_on(log.append(vec![NewEvent::new(Arc::from(twin), &event)]))
            .unwrap();
    }
}
