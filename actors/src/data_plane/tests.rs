use std::time::Duration;

use actix::{Arbiter, System};

use serde_json::{json, Value};

use super::*;
use twinlog_migrations::Event;

use crate::log::LogOptions;

fn models() -> Value {
    json!([
        {
            "@id": "dtmi:example:Sensor;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [{"@type": "Property", "name": "reading", "schema": "double"}]
        },
        {
            "@id": "dtmi:example:Room;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "area", "schema": "double"},
                {"@type": "Relationship", "name": "hasSensor", "target": "dtmi:example:Sensor;1",
                 "properties": [{"@type": "Property", "name": "since", "schema": "string"}]}
            ]
        }
    ])
}

/// Runs `body` against a data plane on `dir`, as one life of a process: its twin actors' arbiter
/// is stopped and joined at the end, which releases the log for the next life.
pub(crate) fn with_plane<F: std::future::Future<Output = ()>>(
    dir: &std::path::Path,
    body: impl FnOnce(DataPlane) -> F,
) {
    let system = System::new();
    let arbiter = Arbiter::new();
    system.block_on(async {
        let log = EventLog::open(dir, LogOptions::new("test")).unwrap();
        let options = RegionOptions {
            idle_timeout: Duration::from_secs(60),
            ..RegionOptions::new("test")
        };
        body(DataPlane::start(log, options, vec![arbiter.handle()]).unwrap()).await
    });
    arbiter.stop();
    arbiter.join().unwrap();
}

pub(crate) fn twin(model: &str, property: &str, value: f64) -> Value {
    json!({"$metadata": {"$model": model}, property: value})
}

#[test]
fn twins_and_relationships_round_trip_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    with_plane(dir.path(), |plane| async move {
        let uploaded = plane.upload_models(models()).await.unwrap();
        assert_eq!(uploaded.len(), 2);
        assert_eq!(uploaded[0]["id"], "dtmi:example:Sensor;1");
        plane
            .put_twin("room-1", twin("dtmi:example:Room;1", "area", 20.0), true)
            .await
            .unwrap();
        plane
            .put_twin(
                "sensor-1",
                twin("dtmi:example:Sensor;1", "reading", 1.5),
                false,
            )
            .await
            .unwrap();
        let body =
            json!({"$targetId": "sensor-1", "$relationshipName": "hasSensor", "since": "2026"});
        let relationship = plane
            .put_relationship("room-1", "r1", body, true)
            .await
            .unwrap();
        assert_eq!(relationship.body["$sourceId"], "room-1");

        let incoming = plane.list_incoming_relationships("sensor-1").await.unwrap();
        assert_eq!(incoming.len(), 1);
        assert_eq!(
            incoming[0]["$relationshipLink"],
            "/digitaltwins/room-1/relationships/r1"
        );
        let refused = plane.delete_twin("sensor-1", None).await.unwrap_err();
        assert_eq!(refused.code(), "RelationshipsNotDeleted");

        let etag = plane
            .patch_twin(
                "room-1",
                json!([{"op": "replace", "path": "/area", "value": 25.0}]),
                None,
            )
            .await
            .unwrap();
        let room = plane.get_twin("room-1").await.unwrap();
        assert_eq!((room.etag, room.body["area"].clone()), (etag, json!(25.0)));
    });
    // A second process life: models, twins and the incoming index come back from the log alone.
    with_plane(dir.path(), |plane| async move {
        assert_eq!(plane.list_models(&[], false).unwrap().len(), 2);
        assert_eq!(
            plane.get_twin("room-1").await.unwrap().body["area"],
            json!(25.0)
        );
        assert_eq!(
            plane
                .list_incoming_relationships("sensor-1")
                .await
                .unwrap()
                .len(),
            1
        );
        plane
            .delete_relationship("room-1", "r1", None)
            .await
            .unwrap();
        assert!(plane
            .list_incoming_relationships("sensor-1")
            .await
            .unwrap()
            .is_empty());
        plane.delete_twin("sensor-1", None).await.unwrap();
        assert_eq!(
            plane.get_twin("sensor-1").await.unwrap_err().code(),
            "DigitalTwinNotFound"
        );
    });
}

#[test]
fn a_relationship_to_a_missing_or_mistyped_target_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    with_plane(dir.path(), |plane| async move {
        plane.upload_models(models()).await.unwrap();
        plane
            .put_twin("room-1", twin("dtmi:example:Room;1", "area", 20.0), false)
            .await
            .unwrap();
        plane
            .put_twin("room-2", twin("dtmi:example:Room;1", "area", 10.0), false)
            .await
            .unwrap();
        let to = |target: &str| json!({"$targetId": target, "$relationshipName": "hasSensor"});
        let missing = plane
            .put_relationship("room-1", "r1", to("nobody"), false)
            .await
            .unwrap_err();
        assert_eq!(
            (missing.code(), missing.status()),
            ("TargetTwinNotFound", 404)
        );
        let mistyped = plane
            .put_relationship("room-1", "r1", to("room-2"), false)
            .await
            .unwrap_err();
        assert_eq!(mistyped.code(), "ValidationFailed");
        let itself = plane
            .put_relationship("room-1", "r1", to("room-1"), false)
            .await
            .unwrap_err();
        assert_eq!(itself.code(), "OperationNotAllowed");
        assert!(plane
            .list_incoming_relationships("room-2")
            .await
            .unwrap()
            .is_empty());
    });
}

#[test]
fn reserved_and_oversized_twin_ids_are_invalid_arguments() {
    let dir = tempfile::tempdir().unwrap();
    with_plane(dir.path(), |plane| async move {
        for id in ["$models", "", &"x".repeat(129)] {
            let error = plane.get_twin(id).await.unwrap_err();
            assert_eq!(
                (error.code(), error.status()),
                ("InvalidArgument", 400),
                "{id:?}"
            );
        }
    });
}

#[test]
fn model_lifecycle_is_durable_and_guarded() {
    let dir = tempfile::tempdir().unwrap();
    with_plane(dir.path(), |plane| async move {
        plane.upload_models(models()).await.unwrap();
        let again = plane.upload_models(models()).await.unwrap_err();
        assert_eq!((again.code(), again.status()), ("ModelAlreadyExists", 409));
        let referenced = plane
            .delete_model("dtmi:example:Sensor;1")
            .await
            .unwrap_err();
        assert_eq!(referenced.code(), "ModelReferencesNotDeleted");
        plane
            .decommission_model("dtmi:example:Room;1")
            .await
            .unwrap();
        let refused = plane
            .put_twin("r", twin("dtmi:example:Room;1", "area", 1.0), false)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "ModelDecommissioned");
        plane.delete_model("dtmi:example:Room;1").await.unwrap();
        assert_eq!(
            plane
                .get_model("dtmi:example:Room;1", false)
                .unwrap_err()
                .code(),
            "ModelNotFound"
        );
        let deps = plane
            .list_models(&["dtmi:example:Sensor;1".to_owned()], true)
            .unwrap();
        assert_eq!(deps.len(), 1);
        assert!(deps[0].get("model").is_some());
    });
}

#[test]
fn a_traced_handle_records_the_trace_context_on_every_twin_write() {
    const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let dir = tempfile::tempdir().unwrap();
    with_plane(dir.path(), |plane| async move {
        plane.upload_models(models()).await.unwrap();
        let traced = plane.traced(Some(TRACEPARENT));
        traced
            .put_twin("room-1", twin("dtmi:example:Room;1", "area", 20.0), true)
            .await
            .unwrap();
        plane
            .put_twin(
                "sensor-1",
                twin("dtmi:example:Sensor;1", "reading", 1.0),
                true,
            )
            .await
            .unwrap();
        let body = json!({"$targetId": "sensor-1", "$relationshipName": "hasSensor"});
        traced
            .put_relationship("room-1", "r1", body, true)
            .await
            .unwrap();
        traced
            .patch_twin(
                "room-1",
                json!([{"op": "replace", "path": "/area", "value": 3.0}]),
                None,
            )
            .await
            .unwrap();
        traced
            .send_telemetry("sensor-1", None, "m-1", None, json!({"t": 1}))
            .await
            .unwrap();
        traced
            .delete_relationship("room-1", "r1", None)
            .await
            .unwrap();
        traced.delete_twin("room-1", None).await.unwrap();

        let records: Vec<(String, Event)> = plane
            .log()
            .replay_from(1)
            .map(|stored| {
                let stored = stored.unwrap();
                let record = stored.decode().unwrap();
                (record.header.twin_id.to_owned(), record.event().unwrap())
            })
            .collect();
        let traces: Vec<(&str, &str, Option<&str>)> = records
            .iter()
            .map(|(twin, event)| (twin.as_str(), event.kind(), event.traceparent()))
            .collect();
        let traced = Some(TRACEPARENT);
        assert_eq!(
            traces,
            [
                ("$models", "ModelsUploaded", None),
                ("room-1", "TwinReplaced", traced),
                ("sensor-1", "TwinReplaced", None),
                ("room-1", "RelationshipReplaced", traced),
                ("room-1", "TwinPatched", traced),
                ("sensor-1", "Telemetry", traced),
                ("room-1", "RelationshipDeleted", traced),
                ("room-1", "TwinDeleted", traced),
            ]
        );
    });
}
