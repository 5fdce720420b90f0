//! The change feed on real data-plane writes: each event type's shape, compared with what the
//! data plane answered at the time; and the same events whatever the cache size, batch size or
//! starting LSN.

use serde_json::{json, Value};

use super::project::recorded;
use super::time::TimeText;
use super::{event_type, ChangeFeed, CloudEvent, Filter, DATA_CONTENT_TYPE};
use crate::aggregate::rfc3339_from_ms;
use crate::data_plane::tests::{twin, with_plane};
use crate::data_plane::DataPlane;

pub(super) const SOURCE: &str = "west.twins.example";
const ROOM: &str = "dtmi:feed:Room;1";
const SENSOR: &str = "dtmi:feed:Sensor;1";
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn models() -> Value {
    json!([
        {
            "@id": "dtmi:feed:Thermostat;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "target", "schema": "double"},
                {"@type": "Telemetry", "name": "temperature", "schema": "double"}
            ]
        },
        {
            "@id": SENSOR, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "reading", "schema": "double"},
                {"@type": "Telemetry", "name": "level", "schema": "double"}
            ]
        },
        {
            "@id": ROOM, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "area", "schema": "double"},
                {"@type": "Property", "name": "name", "schema": "string"},
                {"@type": "Component", "name": "thermostat", "schema": "dtmi:feed:Thermostat;1"},
                {"@type": "Relationship", "name": "hasSensor", "target": SENSOR,
                 "properties": [{"@type": "Property", "name": "since", "schema": "string"}]}
            ]
        }
    ])
}

fn room(area: f64) -> Value {
    json!({
        "$metadata": {"$model": ROOM},
        "area": area,
        "thermostat": {"$metadata": {}, "target": 21.0}
    })
}

/// Every event of the log from the start, read in batches of `batch`.
pub(super) fn read_all(feed: &mut ChangeFeed, batch: usize) -> Vec<CloudEvent> {
    let mut events = Vec::new();
    loop {
        let next = feed.next_batch(batch).unwrap();
        if next.is_empty() {
            return events;
        }
        assert!(next.len() <= batch);
        events.extend(next);
    }
}

/// An event's `data`, parsed.
fn data(event: &CloudEvent) -> Value {
    serde_json::from_str(event.data.get()).unwrap()
}

/// The `$lastUpdateTime` of a twin document, which is the `at_ms` of its last change.
fn last_update(document: &Value) -> String {
    document["$metadata"]["$lastUpdateTime"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn each_write_becomes_the_event_adt_sends_for_it() {
    let dir = tempfile::tempdir().unwrap();
    with_plane(dir.path(), |plane| async move {
        plane.upload_models(models()).await.unwrap();
        let traced = plane.traced(Some(TRACEPARENT));
        let created = traced.put_twin("room-1", room(20.0), true).await.unwrap();
        let replaced = plane.put_twin("room-1", room(30.0), false).await.unwrap();
        let patch = json!([{"op": "add", "path": "/name", "value": "lab"}]);
        plane
            .patch_twin("room-1", patch.clone(), None)
            .await
            .unwrap();
        let patched = plane.get_twin("room-1").await.unwrap();
        plane
            .put_twin("sensor-1", twin(SENSOR, "reading", 1.0), true)
            .await
            .unwrap();
        let body =
            json!({"$targetId": "sensor-1", "$relationshipName": "hasSensor", "since": "2024"});
        let related = plane
            .put_relationship("room-1", "r1", body, true)
            .await
            .unwrap();
        let body =
            json!({"$targetId": "sensor-1", "$relationshipName": "hasSensor", "since": "2025"});
        plane
            .put_relationship("room-1", "r1", body, false)
            .await
            .unwrap();
        let relationship_patch = json!([{"op": "replace", "path": "/since", "value": "2026"}]);
        plane
            .patch_relationship("room-1", "r1", relationship_patch.clone(), None)
            .await
            .unwrap();
        let last_relationship = plane.get_relationship("room-1", "r1").await.unwrap();
        plane
            .send_telemetry("sensor-1", None, "m-1", None, json!({"level": 0.5}))
            .await
            .unwrap();
        traced
            .send_telemetry(
                "room-1",
                Some("thermostat"),
                "m-1",
                None,
                json!({"temperature": 20.5}),
            )
            .await
            .unwrap();
        plane
            .delete_relationship("room-1", "r1", None)
            .await
            .unwrap();
        let last_room = plane.get_twin("room-1").await.unwrap();
        plane.delete_twin("room-1", None).await.unwrap();

        let mut feed = ChangeFeed::new(plane.log(), 0, SOURCE);
        let events = read_all(&mut feed, 100);
        let head = plane.log().head();
        assert_eq!(feed.position(), head.lsn);
        // Every record but the model upload (LSN 1) yields one event, in LSN order.
        let lsns: Vec<u64> = events.iter().map(|e| e.lsn).collect();
        assert_eq!(lsns, (2..=head.lsn).collect::<Vec<_>>());
        for event in &events {
            assert_eq!(event.id, event.lsn.to_string());
            assert_eq!(event.source, SOURCE);
            assert_eq!(event.datacontenttype, DATA_CONTENT_TYPE);
        }
        let shapes: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e.event_type, e.subject.as_str()))
            .collect();
        assert_eq!(
            shapes,
            [
                (event_type::TWIN_CREATE, "room-1"),
                (event_type::TWIN_UPDATE, "room-1"),
                (event_type::TWIN_UPDATE, "room-1"),
                (event_type::TWIN_CREATE, "sensor-1"),
                (event_type::RELATIONSHIP_CREATE, "room-1/relationships/r1"),
                (event_type::RELATIONSHIP_UPDATE, "room-1/relationships/r1"),
                (event_type::RELATIONSHIP_UPDATE, "room-1/relationships/r1"),
                (event_type::TELEMETRY, "sensor-1"),
                (event_type::TELEMETRY, "room-1"),
                (event_type::RELATIONSHIP_DELETE, "room-1/relationships/r1"),
                (event_type::TWIN_DELETE, "room-1"),
            ]
        );

        // Create: the twin as the PUT answered it, at its time, with the request's trace.
        assert_eq!(data(&events[0]), created.body);
        assert_eq!(events[0].time, last_update(&created.body));
        assert_eq!(events[0].traceparent.as_deref(), Some(TRACEPARENT));
        assert_eq!(events[1].traceparent, None);
        // A PUT over an existing twin: the diff of the content.
        assert_eq!(
            data(&events[1]),
            json!({"modelId": ROOM, "patch": [{"op": "replace", "path": "/area", "value": 30.0}]})
        );
        assert_eq!(events[1].time, last_update(&replaced.body));
        // A PATCH: the patch as sent.
        assert_eq!(data(&events[2]), json!({"modelId": ROOM, "patch": patch}));
        assert_eq!(events[2].time, last_update(&patched.body));
        assert_eq!(data(&events[4]), related.body);
        assert_eq!(
            data(&events[5]),
            json!({"modelId": ROOM, "patch": [{"op": "replace", "path": "/since", "value": "2025"}]})
        );
        assert_eq!(
            data(&events[6]),
            json!({"modelId": ROOM, "patch": relationship_patch})
        );
        // Telemetry: its body, the twin's model as dataschema, the component when it has one.
        assert_eq!(data(&events[7]), json!({"level": 0.5}));
        assert_eq!(events[7].dataschema.as_deref(), Some(SENSOR));
        assert_eq!(events[7].component, None);
        assert_eq!(events[8].dataschema.as_deref(), Some(ROOM));
        assert_eq!(events[8].component.as_deref(), Some("thermostat"));
        assert_eq!(events[8].traceparent.as_deref(), Some(TRACEPARENT));
        let telemetry_record = plane.log().reader().get(events[8].lsn).unwrap().unwrap();
        let time_ms = telemetry_record.decode().unwrap().header.time_ms;
        assert_eq!(events[8].time, rfc3339_from_ms(time_ms));
        // Deletes: the document as it was before.
        assert_eq!(data(&events[9]), last_relationship.body);
        assert_eq!(data(&events[10]), last_room.body);
        assert!(events
            .iter()
            .all(|e| e.dataschema.is_none() == (e.event_type != event_type::TELEMETRY)));

        let json: Value = serde_json::from_str(&events[8].to_json_text()).unwrap();
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["type"], "microsoft.iot.telemetry");
        assert_eq!(json["lsn"], events[8].lsn.to_string());
        assert_eq!(json["component"], "thermostat");
        assert_eq!(json["traceparent"], TRACEPARENT);
        assert_eq!(json["data"], json!({"temperature": 20.5}));
        let created: Value = serde_json::from_str(&events[0].to_json_text()).unwrap();
        assert!(created.get("dataschema").is_none());

        let deletes = Filter::parse("ENDS_WITH(type, '.Delete')").unwrap();
        let deleted: Vec<u64> = events
            .iter()
            .filter(|e| deletes.matches(e))
            .map(|e| e.lsn)
            .collect();
        assert_eq!(deleted, [events[9].lsn, events[10].lsn]);
        assert_eq!(feed.next_batch(10).unwrap(), []);
        // What is committed after the end is read by the next call.
        plane.put_twin("room-1", room(5.0), true).await.unwrap();
        let again = feed.next_batch(10).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].event_type, event_type::TWIN_CREATE);
        assert_eq!(data(&again[0])["area"], json!(5.0));
    });
}

/// Interleaved writes to several twins: replacements, patches, relationships, telemetry,
/// deletions and re-creations, and model uploads in between.
pub(super) async fn busy_history(plane: &DataPlane) {
    plane.upload_models(models()).await.unwrap();
    for round in 0..6u32 {
        for n in 0..4u32 {
            let id = format!("room-{n}");
            let area = f64::from(round * 10 + n);
            plane.put_twin(&id, room(area), false).await.unwrap();
            let sensor = format!("sensor-{n}");
            plane
                .put_twin(&sensor, twin(SENSOR, "reading", area), false)
                .await
                .unwrap();
            let body = json!({"$targetId": sensor, "$relationshipName": "hasSensor", "since": format!("{round}")});
            plane.put_relationship(&id, "r", body, false).await.unwrap();
            let patch = json!([{"op": "replace", "path": "/thermostat/target", "value": area}]);
            plane.patch_twin(&id, patch, None).await.unwrap();
            plane
                .send_telemetry(
                    &sensor,
                    None,
                    &format!("m-{round}"),
                    None,
                    json!({"level": area}),
                )
                .await
                .unwrap();
            if (round + n) % 3 == 0 {
                plane.delete_relationship(&id, "r", None).await.unwrap();
                plane.delete_twin(&id, None).await.unwrap();
            }
        }
        if round == 2 {
            let extra = json!([{"@id": "dtmi:feed:Extra;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3"}]);
            plane.upload_models(extra).await.unwrap();
        }
    }
}

#[test]
fn a_tiny_cache_small_batches_and_a_late_start_give_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    with_plane(dir.path(), |plane| async move {
        busy_history(&plane).await;
        let head = plane.log().head().lsn;
        let whole = read_all(&mut ChangeFeed::new(plane.log(), 0, SOURCE), 1_000);
        assert!(whole.len() > 100, "{} events", whole.len());
        assert!(whole
            .iter()
            .any(|e| e.event_type == event_type::TWIN_DELETE));
        assert!(whole
            .iter()
            .any(|e| e.event_type == event_type::RELATIONSHIP_UPDATE));

        // One twin cached: nearly every record is a miss, rebuilt from the twin's stream.
        let mut tiny = ChangeFeed::new(plane.log(), 0, SOURCE).with_twins_cached(1);
        assert_eq!(read_all(&mut tiny, 7), whole);
        assert_eq!(tiny.position(), head);

        for start in [1, head / 3, head / 2, head - 2] {
            let late = read_all(
                &mut ChangeFeed::new(plane.log(), start, SOURCE).with_twins_cached(2),
                5,
            );
            let expected: Vec<CloudEvent> =
                whole.iter().filter(|e| e.lsn > start).cloned().collect();
            assert_eq!(late, expected, "started after LSN {start}");
        }
        assert_eq!(
            ChangeFeed::new(plane.log(), head, SOURCE)
                .next_batch(5)
                .unwrap(),
            []
        );
    });
}

#[test]
fn times_formatted_a_second_at_a_time_read_as_each_alone() {
    let mut times = TimeText::default();
    let second = 1_700_000_000_000;
    // Within a second, into the next, back, and past chrono's range.
    for at_ms in [
        second,
        second + 7,
        second + 999,
        second + 1_000,
        second + 90,
        0,
        59_999,
        u64::MAX,
        u64::MAX - 1_000,
        second + 43,
    ] {
        assert_eq!(times.format(at_ms), rfc3339_from_ms(at_ms), "{at_ms} ms");
    }
}

#[test]
fn recorded_json_is_kept_as_it_is_unless_it_spans_lines() {
    let compact = r#"{"b":[1,2.5e3],"a":"x\ny"}"#;
    assert_eq!(recorded(compact).unwrap().get(), compact);
    let spread = "{\r\n  \"a\": [1,\n 2],\n  \"b\": \"line\\nbreak\"\n}";
    let written = recorded(spread).unwrap();
    assert!(!written.get().contains(['\n', '\r']), "{}", written.get());
    assert_eq!(
        serde_json::from_str::<Value>(written.get()).unwrap(),
        json!({"a": [1, 2], "b": "line\nbreak"})
    );
    for bad in ["", "{", "{\n", "nope"] {
        assert!(recorded(bad).is_err(), "{bad:?}");
    }
}
