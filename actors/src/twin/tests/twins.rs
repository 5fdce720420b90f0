//! Creating, replacing, reading and deleting twins.

use super::*;

#[test]
fn a_created_twin_renders_as_adt_does() {
    let state = thermostat("t1");
    let document = state.twin_document().unwrap();
    let time = "2023-11-14T22:13:20.000Z";
    assert_eq!(
        document,
        json!({
            "$dtId": "t1",
            "$etag": "W/\"1\"",
            "$metadata": {
                "$model": THERMOSTAT,
                "$lastUpdateTime": time,
                "target": {"lastUpdateTime": time},
                "mode": {"lastUpdateTime": time}
            },
            "target": 21.5,
            "mode": "heat",
            "display": {
                "$metadata": {"$lastUpdateTime": time, "brightness": {"lastUpdateTime": time}},
                "brightness": 80
            }
        })
    );
    assert_eq!(state.existing().unwrap().etag(), "W/\"1\"");
    assert_eq!(
        state.component_document("display").unwrap(),
        document["display"]
    );
}

#[test]
fn a_realestatecore_room_is_created_with_its_inherited_properties() {
    let body = rec_body(
        ROOM,
        json!({"personCapacity": 12, "customTags": {"quiet": true}}),
    );
    let state = twin_from("room-1", body.clone());
    let document = state.twin_document().unwrap();
    assert_eq!(document["personCapacity"], 12);
    assert_eq!(document["$metadata"]["$model"], ROOM);
    assert_eq!(
        document["CO2"]["$metadata"]["$lastUpdateTime"],
        "2023-11-14T22:13:20.000Z"
    );

    let mut missing = body;
    missing.as_object_mut().unwrap().remove("CO2");
    assert_refused(
        &TwinState::new("room-2"),
        put(missing, AT_MS),
        "ValidationFailed",
        "$.CO2",
    );
}

#[test]
fn the_body_dtid_and_etag_are_ignored_and_source_times_are_kept() {
    let mut body = thermostat_body();
    body["$dtId"] = json!("someone-else");
    body["$etag"] = json!("W/\"99\"");
    body["$metadata"]["target"] =
        json!({"sourceTime": "2023-11-14T20:00:00Z", "lastUpdateTime": "1999-01-01T00:00:00Z"});
    let document = twin_from("t1", body).twin_document().unwrap();
    assert_eq!(document["$dtId"], "t1");
    assert_eq!(document["$etag"], "W/\"1\"");
    assert_eq!(
        document["$metadata"]["target"],
        json!({"sourceTime": "2023-11-14T20:00:00Z", "lastUpdateTime": "2023-11-14T22:13:20.000Z"})
    );
}

#[test]
fn a_twin_needs_a_stored_model() {
    let state = TwinState::new("t1");
    let mut body = thermostat_body();
    body["$metadata"] = json!({});
    assert_refused(
        &state,
        put(body.clone(), AT_MS),
        "ValidationFailed",
        "$.$metadata.$model",
    );
    body["$metadata"]["$model"] = json!("dtmi:test:Unknown;1");
    assert_refused(
        &state,
        put(body.clone(), AT_MS),
        "ValidationFailed",
        "dtmi:test:Unknown;1",
    );
    body["$metadata"]["$model"] = json!("not a dtmi");
    assert_refused(
        &state,
        put(body, AT_MS),
        "ValidationFailed",
        "$.$metadata.$model",
    );
}

#[test]
fn a_decommissioned_model_creates_no_twin() {
    let refused = assert_refused(
        &TwinState::new("t1"),
        put(json!({"$metadata": {"$model": RETIRED}}), AT_MS),
        "ModelDecommissioned",
        RETIRED,
    );
    assert_eq!(refused.status(), 400);
}

#[test]
fn properties_and_components_are_validated_against_the_model() {
    let state = TwinState::new("t1");
    let cases = [
        ("/target", json!("warm"), "$.target"),
        ("/mode", json!("freeze"), "$.mode"),
        ("/limits", json!({"low": 1, "middle": 2}), "$.limits.middle"),
        ("/colour", json!("red"), "$.colour"),
        ("/display/brightness", json!(1.5), "$.display.brightness"),
        ("/display/contrast", json!(3), "$.display.contrast"),
        ("/temperature", json!(20), "$.temperature"),
    ];
    for (pointer, value, path) in cases {
        let mut body = thermostat_body();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent).unwrap()[key] = value;
        let refused = assert_refused(&state, put(body, AT_MS), "ValidationFailed", path);
        assert_eq!(refused.status(), 400);
    }
}

#[test]
fn every_component_must_be_present_with_its_metadata() {
    let state = TwinState::new("t1");
    let mut body = thermostat_body();
    body.as_object_mut().unwrap().remove("display");
    assert_refused(
        &state,
        put(body.clone(), AT_MS),
        "ValidationFailed",
        "$.display",
    );
    body["display"] = json!({"brightness": 3});
    assert_refused(&state, put(body, AT_MS), "ValidationFailed", "$.display");
    let mut body = thermostat_body();
    body["target"] = json!({"$metadata": {}});
    assert_refused(&state, put(body, AT_MS), "ValidationFailed", "$.target");
}

#[test]
fn bad_shapes_are_refused_not_panicked_on() {
    let state = TwinState::new("t1");
    for body in [json!([]), json!("twin"), Value::Null, json!(7)] {
        assert_refused(&state, put(body, AT_MS), "InvalidArgument", "JSON object");
    }
    let shapes = [
        (json!({"$metadata": 5}), "$.$metadata"),
        (json!({"$metadata": {"$model": 5}}), "$.$metadata.$model"),
        (
            json!({"$metadata": {"$model": THERMOSTAT, "$colour": 1}}),
            "$.$metadata.$colour",
        ),
        (
            json!({"$metadata": {"$model": THERMOSTAT}, "$colour": 1}),
            "$.$colour",
        ),
        (
            json!({"$metadata": {"$model": THERMOSTAT, "target": 5}, "target": 1}),
            "$.$metadata.target",
        ),
        (
            json!({"$metadata": {"$model": THERMOSTAT, "target": {"sourceTime": "noon"}}, "target": 1}),
            "$.$metadata.target.sourceTime",
        ),
        (
            json!({"$metadata": {"$model": THERMOSTAT, "target": {"desired": 1}}, "target": 1}),
            "$.$metadata.target.desired",
        ),
        (
            json!({"$metadata": {"$model": THERMOSTAT}, "display": {"$metadata": [], "brightness": 1}}),
            "$.display.$metadata",
        ),
    ];
    for (body, path) in shapes {
        assert_refused(&state, put(body, AT_MS), "ValidationFailed", path);
    }
}

#[test]
fn if_none_match_star_only_creates() {
    let create_only = |at_ms| {
        TwinCommand::Replace(ReplaceTwin {
            body: thermostat_body(),
            if_none_match_any: true,
            models: models(),
            at_ms,
        })
    };
    let mut state = TwinState::new("t1");
    run(&mut state, create_only(AT_MS)).expect("created");
    let refused = assert_refused(
        &state,
        create_only(LATER_MS),
        "PreconditionFailed",
        "W/\"1\"",
    );
    assert_eq!(refused.status(), 412);
}

#[test]
fn replacing_a_twin_resets_its_content_and_times_and_moves_its_etag() {
    let mut state = thermostat("t1");
    run(&mut state, put(json!({"$metadata": {"$model": THERMOSTAT}, "target": 18, "display": {"$metadata": {}}}), LATER_MS)).unwrap();
    let document = state.twin_document().unwrap();
    assert_eq!(document["$etag"], "W/\"2\"");
    assert!(document.get("mode").is_none());
    assert_eq!(
        document["$metadata"]["target"]["lastUpdateTime"],
        "2023-11-14T22:14:20.000Z"
    );
    assert_eq!(
        document["display"],
        json!({"$metadata": {"$lastUpdateTime": "2023-11-14T22:14:20.000Z"}})
    );
}

#[test]
fn a_missing_twin_is_not_found() {
    let state = TwinState::new("ghost");
    for command in [
        patch(json!([]), AT_MS),
        TwinCommand::Delete(DeleteTwin {
            if_match: None,
            incoming_relationships: 0,
            at_ms: AT_MS,
        }),
    ] {
        let refused = assert_refused(&state, command, "DigitalTwinNotFound", "ghost");
        assert_eq!(refused.status(), 404);
    }
    assert_eq!(
        state.twin_document().unwrap_err().code(),
        "DigitalTwinNotFound"
    );
    let refused = thermostat("t1").component_document("screen").unwrap_err();
    assert_eq!(
        (refused.code(), refused.status()),
        ("ComponentNotFound", 404)
    );
}

#[test]
fn delete_honours_if_match_and_a_recreated_twin_continues_the_version_count() {
    let delete = |if_match, incoming_relationships| {
        TwinCommand::Delete(DeleteTwin {
            if_match,
            incoming_relationships,
            at_ms: LATER_MS,
        })
    };
    let mut state = thermostat("t1");
    assert_refused(
        &state,
        delete(Some(IfMatch::OneOf(vec!["W/\"7\"".into()])), 0),
        "PreconditionFailed",
        "W/\"7\"",
    );
    let refused = assert_refused(
        &state,
        delete(None, 2),
        "RelationshipsNotDeleted",
        "2 incoming",
    );
    assert_eq!(refused.status(), 400);
    run(
        &mut state,
        delete(
            Some(IfMatch::OneOf(vec!["W/\"3\"".into(), "\"1\"".into()])),
            0,
        ),
    )
    .expect("weak match");
    assert!(state.twin().is_none());
    run(&mut state, put(thermostat_body(), LATER_MS)).unwrap();
    assert_eq!(
        state.existing().unwrap().etag(),
        "W/\"3\"",
        "the stream goes on: no ETag reused"
    );
    run(&mut state, delete(Some(IfMatch::Any), 0)).unwrap();
    assert_eq!(state.version(), 4);
}
