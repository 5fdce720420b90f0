//! The read model against the data plane it follows: what a rebuild shows, its indexes, and
//! snapshots that later records leave alone. `sharing`: the follower, snapshots shared with
//! queries, and the query threads.

mod sharing;

use std::collections::BTreeSet;

use serde_json::{json, Value};
use twinlog_dtdl::Dtmi;
use twinlog_migrations::Event;

use super::*;
use crate::data_plane::tests::{twin, with_plane};
use crate::data_plane::DataPlane;

const SENSOR: &str = "dtmi:example:Sensor;1";
const ROOM: &str = "dtmi:example:Room;1";
const MEETING_ROOM: &str = "dtmi:example:MeetingRoom;1";

/// A sensor, a room that has sensors, and a meeting room that extends the room.
fn models() -> Value {
    json!([
        {
            "@id": SENSOR, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "reading", "schema": "double"},
                {"@type": "Telemetry", "name": "temperature", "schema": "double"}
            ]
        },
        {
            "@id": ROOM, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "area", "schema": "double"},
                {"@type": "Property", "name": "name", "schema": "string"},
                {"@type": "Relationship", "name": "hasSensor", "target": SENSOR}
            ]
        },
        {
            "@id": MEETING_ROOM, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "extends": ROOM,
            "contents": [{"@type": "Property", "name": "seats", "schema": "integer"}]
        }
    ])
}

fn has_sensor(target: &str) -> Value {
    json!({"$targetId": target, "$relationshipName": "hasSensor"})
}

/// Twins of all three models, three relationships, a patch, and telemetry (which moves ETags)
/// followed by a patch of the same twin.
async fn build_graph(plane: &DataPlane) {
    plane.upload_models(models()).await.unwrap();
    for (id, body) in [
        ("room-1", twin(ROOM, "area", 20.0)),
        (
            "meeting-1",
            json!({"$metadata": {"$model": MEETING_ROOM}, "seats": 8, "area": 30.0}),
        ),
        ("sensor-1", twin(SENSOR, "reading", 1.5)),
        ("sensor-2", twin(SENSOR, "reading", 2.5)),
    ] {
        plane.put_twin(id, body, true).await.unwrap();
    }
    for (source, relationship_id, target) in [
        ("room-1", "r1", "sensor-1"),
        ("meeting-1", "r2", "sensor-1"),
        ("meeting-1", "r3", "sensor-2"),
    ] {
        plane
            .put_relationship(source, relationship_id, has_sensor(target), true)
            .await
            .unwrap();
    }
    let patch = json!([{"op": "replace", "path": "/area", "value": 25.0}]);
    plane.patch_twin("room-1", patch, None).await.unwrap();
    plane
        .send_telemetry("sensor-1", None, "m1", None, json!({"temperature": 21.0}))
        .await
        .unwrap();
    // The read model skips telemetry, but the ETag of the change after it still counts it.
    let patch = json!([{"op": "replace", "path": "/reading", "value": 1.75}]);
    plane.patch_twin("sensor-1", patch, None).await.unwrap();
}

/// Deletes twin `sensor-2`, and first the relationship that targets it.
async fn delete_sensor_2(plane: &DataPlane) {
    plane
        .delete_relationship("meeting-1", "r3", None)
        .await
        .unwrap();
    plane.delete_twin("sensor-2", None).await.unwrap();
}

fn dtmi(text: &str) -> Dtmi {
    text.parse().unwrap()
}

fn of_model(model: &ReadModel, id: &str, exact: bool) -> BTreeSet<String> {
    let id = dtmi(id);
    model
        .twins_of_model(&id, exact)
        .map(str::to_owned)
        .collect()
}

fn incoming(model: &ReadModel, target_id: &str) -> BTreeSet<(String, String)> {
    model
        .incoming(target_id)
        .map(|(source, id)| (source.to_owned(), id.to_owned()))
        .collect()
}

fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

#[test]
fn a_rebuilt_read_model_shows_what_the_data_plane_shows() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        build_graph(&plane).await;
        let model = ReadModel::rebuild(plane.log()).unwrap();
        assert_eq!(model.lsn(), plane.log().head().lsn);
        assert_eq!(model.twin_count(), 4);
        assert_eq!(model.models().len(), 3);
        for id in ["room-1", "meeting-1", "sensor-1", "sensor-2"] {
            let state = model.twin(id).unwrap();
            let served = plane.get_twin(id).await.unwrap();
            assert_eq!(state.twin_document().unwrap(), served.body, "{id}");
            assert_eq!(state.existing().unwrap().etag(), served.etag, "{id}");
            assert_eq!(
                state.relationship_documents(None).unwrap(),
                plane.list_relationships(id, None).await.unwrap(),
                "{id}"
            );
            let served_incoming: BTreeSet<(String, String)> = plane
                .list_incoming_relationships(id)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    let field = |name: &str| r[name].as_str().unwrap().to_owned();
                    (field("$sourceId"), field("$relationshipId"))
                })
                .collect();
            assert_eq!(incoming(&model, id), served_incoming, "{id}");
        }
    });
}

#[test]
fn is_of_model_follows_inheritance_unless_exact() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        build_graph(&plane).await;
        let model = ReadModel::rebuild(plane.log()).unwrap();
        assert_eq!(of_model(&model, ROOM, false), set(["meeting-1", "room-1"]));
        assert_eq!(of_model(&model, ROOM, true), set(["room-1"]));
        assert_eq!(of_model(&model, MEETING_ROOM, false), set(["meeting-1"]));
        assert_eq!(
            of_model(&model, SENSOR, false),
            set(["sensor-1", "sensor-2"])
        );
        assert!(of_model(&model, "dtmi:example:Unknown;1", false).is_empty());
    });
}

#[test]
fn deleted_twins_and_relationships_leave_the_indexes() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        build_graph(&plane).await;
        delete_sensor_2(&plane).await;
        plane
            .delete_relationship("room-1", "r1", None)
            .await
            .unwrap();
        let model = ReadModel::rebuild(plane.log()).unwrap();
        assert!(model.twin("sensor-2").is_none());
        assert_eq!(model.twin_count(), 3);
        assert_eq!(of_model(&model, SENSOR, false), set(["sensor-1"]));
        assert!(incoming(&model, "sensor-2").is_empty());
        assert_eq!(
            incoming(&model, "sensor-1"),
            BTreeSet::from([("meeting-1".to_owned(), "r2".to_owned())])
        );

        // A twin created again continues its stream's ETags, as the data plane's does.
        let again = plane
            .put_twin("sensor-2", twin(SENSOR, "reading", 3.0), true)
            .await
            .unwrap();
        let model = ReadModel::rebuild(plane.log()).unwrap();
        assert_eq!(
            model.twin("sensor-2").unwrap().existing().unwrap().etag(),
            again.etag
        );
    });
}

#[test]
fn a_record_out_of_lsn_order_is_refused_and_changes_nothing() {
    let mut model = ReadModel::new();
    let event = Event::TwinDeleted { at_ms: 1 };
    let refused = model.apply(2, "room-1", 1, &event).unwrap_err();
    assert!(matches!(
        refused,
        ReadModelError::OutOfOrder {
            expected_lsn: 1,
            lsn: 2
        }
    ));
    assert_eq!(model.lsn(), 0);
    assert_eq!(model.twin_count(), 0);
}

/// What queries can see of `model`: its LSN, each twin's document, ETag and relationships, the
/// incoming and model indexes, and the registry's size.
fn view(model: &ReadModel) -> Value {
    let ids = ["room-1", "meeting-1", "sensor-1", "sensor-2"];
    let twins: Vec<Value> = ids
        .iter()
        .map(|id| match model.twin(id) {
            Some(state) => json!({
                "document": state.twin_document().unwrap(),
                "etag": state.existing().unwrap().etag(),
                "relationships": state.relationship_documents(None).unwrap(),
            }),
            None => Value::Null,
        })
        .collect();
    let incoming: Vec<Value> = ids.iter().map(|id| json!(incoming(model, id))).collect();
    let of_models: Vec<Value> = [SENSOR, ROOM, MEETING_ROOM]
        .iter()
        .map(|id| json!(of_model(model, id, false)))
        .collect();
    json!({
        "lsn": model.lsn(),
        "twins": twins,
        "incoming": incoming,
        "of_models": of_models,
        "twin_count": model.twin_count(),
        "models": model.models().len(),
    })
}

#[test]
fn a_snapshot_never_sees_a_later_record() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        build_graph(&plane).await;
        delete_sensor_2(&plane).await;
        let patch = json!([{"op": "add", "path": "/name", "value": "Lobby"}]);
        plane.patch_twin("room-1", patch, None).await.unwrap();
        plane
            .put_twin("sensor-2", twin(SENSOR, "reading", 3.0), true)
            .await
            .unwrap();
        plane
            .send_telemetry("sensor-1", None, "m2", None, json!({"temperature": 22.0}))
            .await
            .unwrap();
        let mut records = Vec::new();
        for stored in plane.log().reader().replay_from(1) {
            let stored = stored.unwrap();
            let record = stored.decode().unwrap();
            let event = record.event().unwrap();
            let header = &record.header;
            records.push((
                header.lsn,
                header.twin_id.to_owned(),
                header.twin_version,
                event,
            ));
        }
        // One model goes through every record, keeping a snapshot after each; each snapshot
        // must still show what a model of only the records up to it shows.
        let mut model = ReadModel::new();
        let mut snapshots = Vec::new();
        for (lsn, twin_id, version, event) in &records {
            model.apply(*lsn, twin_id, *version, event).unwrap();
            snapshots.push(model.clone());
        }
        for (at, snapshot) in snapshots.iter().enumerate() {
            let mut alone = ReadModel::new();
            for (lsn, twin_id, version, event) in &records[..=at] {
                alone.apply(*lsn, twin_id, *version, event).unwrap();
            }
            assert_eq!(
                view(snapshot),
                view(&alone),
                "the snapshot at LSN {}",
                at + 1
            );
        }
        assert_eq!(view(&model), view(snapshots.last().unwrap()));
    });
}
