//! Outgoing relationships: their rules, preconditions, patches and documents.

use twinlog_dtdl::Dtmi;

use super::*;

fn dtmi(id: &str) -> Dtmi {
    id.parse().expect("a DTMI")
}

fn put_relationship(id: &str, body: Value, target_model: Option<&str>) -> TwinCommand {
    TwinCommand::ReplaceRelationship(ReplaceRelationship {
        relationship_id: id.to_owned(),
        body,
        target_model: target_model.map(dtmi),
        if_none_match_any: false,
        models: models(),
        at_ms: AT_MS,
    })
}

fn patch_relationship(id: &str, patch: Value, if_match: Option<IfMatch>) -> TwinCommand {
    TwinCommand::PatchRelationship(PatchRelationship {
        relationship_id: id.to_owned(),
        patch,
        if_match,
        models: models(),
        at_ms: LATER_MS,
    })
}

fn delete_relationship(id: &str, if_match: Option<IfMatch>) -> TwinCommand {
    TwinCommand::DeleteRelationship(DeleteRelationship {
        relationship_id: id.to_owned(),
        if_match,
        at_ms: LATER_MS,
    })
}

fn room() -> TwinState {
    twin_from("room-1", rec_body(ROOM, json!({})))
}

#[test]
fn a_room_is_part_of_a_building_and_the_documents_say_so() {
    let mut state = room();
    let body =
        json!({"$targetId": "building-1", "$relationshipName": "isPartOf", "$etag": "ignored"});
    run(&mut state, put_relationship("r1", body, Some(BUILDING))).expect("Building is a Space");
    assert_eq!(
        state.relationship_document("r1").unwrap(),
        json!({
            "$relationshipId": "r1", "$etag": "W/\"2\"", "$sourceId": "room-1",
            "$targetId": "building-1", "$relationshipName": "isPartOf"
        })
    );
    let relationship = state.relationship("r1").unwrap();
    assert_eq!(
        relationship.incoming_document("room-1", "r1"),
        json!({
            "$relationshipId": "r1", "$sourceId": "room-1", "$relationshipName": "isPartOf",
            "$relationshipLink": "/digitaltwins/room-1/relationships/r1"
        })
    );
    assert_eq!(
        state.existing().unwrap().etag(),
        "W/\"1\"",
        "the twin's ETag stays"
    );
    assert_eq!(
        state
            .relationship_documents(Some("isPartOf"))
            .unwrap()
            .len(),
        1
    );
    assert!(state
        .relationship_documents(Some("ownedBy"))
        .unwrap()
        .is_empty());
    run(
        &mut state,
        put_relationship(
            "r2",
            json!({"$targetId": "p1", "$relationshipName": "ownedBy"}),
            Some(PERSON),
        ),
    )
    .expect("a Person is an Agent");
    assert_eq!(state.relationship_documents(None).unwrap().len(), 2);
}

#[test]
fn the_name_must_be_a_relationship_of_the_source_model() {
    let refused = assert_refused(
        &room(),
        put_relationship(
            "r1",
            json!({"$targetId": "b", "$relationshipName": "flysTo"}),
            Some(BUILDING),
        ),
        "InvalidRelationship",
        "flysTo",
    );
    assert_eq!(refused.status(), 400);
    assert!(refused.to_string().contains(ROOM));
}

#[test]
fn the_target_must_exist_and_be_what_the_relationship_declares() {
    let state = room();
    let body = json!({"$targetId": "nowhere", "$relationshipName": "isPartOf"});
    let refused = assert_refused(
        &state,
        put_relationship("r1", body, None),
        "TargetTwinNotFound",
        "nowhere",
    );
    assert_eq!(refused.status(), 404);
    let body = json!({"$targetId": "p1", "$relationshipName": "isPartOf"});
    assert_refused(
        &state,
        put_relationship("r1", body, Some(PERSON)),
        "ValidationFailed",
        "$.$targetId",
    );
    let untyped = json!({"$targetId": "p1", "$relationshipName": "isLocationOf"});
    assert!(
        state
            .handle(put_relationship("r1", untyped, Some(PERSON)))
            .is_ok(),
        "no target: any twin"
    );
}

#[test]
fn a_twin_cannot_relate_to_itself() {
    let body = json!({"$targetId": "room-1", "$relationshipName": "isPartOf"});
    let refused = assert_refused(
        &room(),
        put_relationship("r1", body, Some(ROOM)),
        "OperationNotAllowed",
        "room-1",
    );
    assert_eq!(refused.status(), 400);
}

#[test]
fn system_fields_of_the_body_are_required_strings() {
    let state = room();
    for body in [
        json!({"$relationshipName": "isPartOf"}),
        json!({"$targetId": 5, "$relationshipName": "isPartOf"}),
        json!({"$targetId": "b"}),
        json!(["isPartOf"]),
    ] {
        assert_refused(
            &state,
            put_relationship("r1", body, Some(BUILDING)),
            "InvalidArgument",
            "",
        );
    }
}

#[test]
fn relationship_properties_and_max_multiplicity_are_enforced() {
    let mut state = thermostat("t1");
    let controls = |since: Value| json!({"$targetId": "room-1", "$relationshipName": "controls", "since": since});
    assert_refused(
        &state,
        put_relationship("c1", controls(json!(5)), Some(ROOM)),
        "ValidationFailed",
        "$.since",
    );
    let mut unknown = controls(json!("2024-01-01T00:00:00Z"));
    unknown["colour"] = json!("red");
    assert_refused(
        &state,
        put_relationship("c1", unknown, Some(ROOM)),
        "ValidationFailed",
        "$.colour",
    );

    run(
        &mut state,
        put_relationship("c1", controls(json!("2024-01-01T00:00:00Z")), Some(ROOM)),
    )
    .unwrap();
    let refused = assert_refused(
        &state,
        put_relationship("c2", controls(json!("2024-02-01T00:00:00Z")), Some(ROOM)),
        "ValidationFailed",
        "at most 1",
    );
    assert!(refused.to_string().contains("has 1 already"), "{refused}");
    run(
        &mut state,
        put_relationship("c1", controls(json!("2024-03-01T00:00:00Z")), Some(ROOM)),
    )
    .expect("replacing the one relationship stays within the maximum");
}

#[test]
fn if_none_match_star_only_creates_a_relationship() {
    let mut state = room();
    let create_only = || {
        TwinCommand::ReplaceRelationship(ReplaceRelationship {
            relationship_id: "r1".into(),
            body: json!({"$targetId": "b", "$relationshipName": "isPartOf"}),
            target_model: Some(dtmi(BUILDING)),
            if_none_match_any: true,
            models: models(),
            at_ms: AT_MS,
        })
    };
    run(&mut state, create_only()).unwrap();
    assert_refused(
        &state,
        create_only(),
        "PreconditionFailed",
        "relationship r1",
    );
}

#[test]
fn patches_change_properties_under_if_match() {
    let mut state = thermostat("t1");
    let body = json!({"$targetId": "room-1", "$relationshipName": "controls", "since": "2024-01-01T00:00:00Z"});
    run(&mut state, put_relationship("c1", body, Some(ROOM))).unwrap();
    let replace = json!([{"op": "replace", "path": "/since", "value": "2025-01-01T00:00:00Z"}]);
    assert_refused(
        &state,
        patch_relationship(
            "c1",
            replace.clone(),
            Some(IfMatch::OneOf(vec!["W/\"1\"".into()])),
        ),
        "PreconditionFailed",
        "W/\"2\"",
    );
    run(
        &mut state,
        patch_relationship("c1", replace, Some(IfMatch::OneOf(vec!["W/\"2\"".into()]))),
    )
    .unwrap();
    let document = state.relationship_document("c1").unwrap();
    assert_eq!(document["since"], "2025-01-01T00:00:00Z");
    assert_eq!(document["$etag"], "W/\"3\"");
    assert_eq!(state.relationship("c1").unwrap().last_update_ms(), LATER_MS);

    let cases = [
        (
            json!([{"op": "replace", "path": "/since", "value": 3}]),
            "ValidationFailed",
            "$.since",
        ),
        (
            json!([{"op": "remove", "path": "/colour"}]),
            "JsonPatchInvalid",
            "/colour",
        ),
        (
            json!([{"op": "replace", "path": "/$targetId", "value": "x"}]),
            "JsonPatchInvalid",
            "$targetId",
        ),
        (json!({"op": "remove"}), "JsonPatchInvalid", "array"),
    ];
    for (patch, code, needle) in cases {
        assert_refused(&state, patch_relationship("c1", patch, None), code, needle);
    }
    let refused = assert_refused(
        &state,
        patch_relationship("nope", json!([]), None),
        "RelationshipNotFound",
        "nope",
    );
    assert_eq!(refused.status(), 404);
}

#[test]
fn delete_honours_if_match_and_then_the_twin_may_go() {
    let mut state = room();
    let body = json!({"$targetId": "b", "$relationshipName": "isPartOf"});
    run(&mut state, put_relationship("r1", body, Some(BUILDING))).unwrap();
    let delete_twin = TwinCommand::Delete(DeleteTwin {
        if_match: None,
        incoming_relationships: 0,
        at_ms: LATER_MS,
    });
    assert_refused(
        &state,
        delete_twin.clone(),
        "RelationshipsNotDeleted",
        "1 outgoing",
    );
    assert_refused(
        &state,
        delete_relationship("r1", Some(IfMatch::OneOf(vec!["W/\"1\"".into()]))),
        "PreconditionFailed",
        "W/\"2\"",
    );
    assert_refused(
        &state,
        delete_relationship("r9", None),
        "RelationshipNotFound",
        "r9",
    );
    run(&mut state, delete_relationship("r1", Some(IfMatch::Any))).unwrap();
    assert_eq!(
        state.relationship("r1").unwrap_err().code(),
        "RelationshipNotFound"
    );
    run(&mut state, delete_twin).expect("no relationships left");
    assert_eq!(
        state.relationship("r1").unwrap_err().code(),
        "DigitalTwinNotFound"
    );
}
