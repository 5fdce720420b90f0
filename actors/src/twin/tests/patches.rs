//! JSON Patch on twins and components: what may be written, what must exist, and which times
//! move.

use super::*;

const AT: &str = "2023-11-14T22:13:20.000Z";
const LATER: &str = "2023-11-14T22:14:20.000Z";

fn patch_component(component: &str, operations: Value) -> TwinCommand {
    TwinCommand::Patch(PatchTwin {
        patch: operations,
        component: Some(component.to_owned()),
        if_match: None,
        models: models(),
        at_ms: LATER_MS,
    })
}

#[test]
fn add_replace_and_remove_move_only_the_touched_times() {
    let mut state = thermostat("t1");
    let operations = json!([
        {"op": "replace", "path": "/target", "value": 19},
        {"op": "remove", "path": "/mode"},
        {"op": "add", "path": "/limits", "value": {"low": 10, "high": 25}}
    ]);
    let events = run(&mut state, patch(operations, LATER_MS)).unwrap();
    assert!(matches!(
        &events[..],
        [Event::TwinPatched {
            at_ms: LATER_MS,
            ..
        }]
    ));
    let document = state.twin_document().unwrap();
    assert_eq!(document["target"], 19);
    assert!(document.get("mode").is_none());
    assert!(
        document["$metadata"].get("mode").is_none(),
        "a removed property loses its metadata"
    );
    assert_eq!(document["limits"]["high"], 25);
    assert_eq!(document["$etag"], "W/\"2\"");
    assert_eq!(document["$metadata"]["$lastUpdateTime"], LATER);
    assert_eq!(document["$metadata"]["target"]["lastUpdateTime"], LATER);
    assert_eq!(document["$metadata"]["limits"]["lastUpdateTime"], LATER);
    assert_eq!(
        document["display"]["$metadata"]["$lastUpdateTime"], AT,
        "the component was not touched"
    );
    assert_eq!(
        document["display"]["$metadata"]["brightness"]["lastUpdateTime"],
        AT
    );
}

#[test]
fn a_path_that_does_not_exist_is_an_invalid_patch() {
    let state = thermostat("t1");
    let cases = [
        (
            json!([{"op": "replace", "path": "/limits", "value": {}}]),
            "/limits",
        ),
        (json!([{"op": "remove", "path": "/limits"}]), "/limits"),
        (
            json!([{"op": "add", "path": "/limits/low", "value": 1}]),
            "/limits/low",
        ),
        (
            json!([{"op": "replace", "path": "/display/brightness/x", "value": 1}]),
            "/display/brightness/x",
        ),
    ];
    for (operations, path) in cases {
        let refused = assert_refused(
            &state,
            patch(operations, LATER_MS),
            "JsonPatchInvalid",
            path,
        );
        assert_eq!(refused.status(), 400);
        assert!(refused.to_string().contains("operation 0"), "{refused}");
    }
}

#[test]
fn system_paths_and_other_operations_cannot_be_patched() {
    let state = thermostat("t1");
    let cases = [
        (
            json!([{"op": "replace", "path": "/$dtId", "value": "x"}]),
            "/$dtId",
        ),
        (
            json!([{"op": "replace", "path": "/$etag", "value": "x"}]),
            "/$etag",
        ),
        (
            json!([{"op": "replace", "path": "/$metadata/$lastUpdateTime", "value": "x"}]),
            "/$metadata/$lastUpdateTime",
        ),
        (
            json!([{"op": "add", "path": "/$metadata/target/lastUpdateTime", "value": AT}]),
            "lastUpdateTime",
        ),
        (
            json!([{"op": "replace", "path": "/display/$metadata", "value": {}}]),
            "/display/$metadata",
        ),
        (
            json!([{"op": "replace", "path": "", "value": {}}]),
            "whole document",
        ),
        (
            json!([{"op": "move", "from": "/target", "path": "/limits"}]),
            "`move`",
        ),
        (
            json!([{"op": "test", "path": "/target", "value": 21.5}]),
            "`test`",
        ),
        (
            json!([{"op": "jump", "path": "/target"}]),
            "not a JSON Patch",
        ),
        (json!([{"op": "add", "value": 1}]), "not a JSON Patch"),
        (
            json!({"op": "add", "path": "/target", "value": 1}),
            "an array",
        ),
        (json!("remove everything"), "an array"),
    ];
    for (operations, needle) in cases {
        assert_refused(
            &state,
            patch(operations, LATER_MS),
            "JsonPatchInvalid",
            needle,
        );
    }
}

#[test]
fn the_patched_twin_is_validated_as_a_whole() {
    let state = thermostat("t1");
    let cases = [
        (
            json!([{"op": "replace", "path": "/target", "value": "warm"}]),
            "$.target",
        ),
        (
            json!([{"op": "add", "path": "/colour", "value": "red"}]),
            "$.colour",
        ),
        (json!([{"op": "remove", "path": "/display"}]), "$.display"),
        (
            json!([{"op": "add", "path": "/$metadata/target/sourceTime", "value": "noon"}]),
            "$.$metadata.target.sourceTime",
        ),
        (
            json!([{"op": "remove", "path": "/$metadata/$model"}]),
            "$.$metadata.$model",
        ),
    ];
    for (operations, path) in cases {
        assert_refused(
            &state,
            patch(operations, LATER_MS),
            "ValidationFailed",
            path,
        );
    }
}

#[test]
fn source_times_can_be_set_even_for_a_property_the_same_patch_adds() {
    let mut state = thermostat("t1");
    let operations = json!([
        {"op": "add", "path": "/$metadata/target/sourceTime", "value": "2023-11-14T22:00:00Z"},
        {"op": "add", "path": "/limits", "value": {"low": 1}},
        {"op": "add", "path": "/$metadata/limits/sourceTime", "value": "2023-11-14T21:00:00Z"}
    ]);
    run(&mut state, patch(operations, LATER_MS)).unwrap();
    let metadata = &state.twin_document().unwrap()["$metadata"];
    assert_eq!(
        metadata["target"],
        json!({"sourceTime": "2023-11-14T22:00:00Z", "lastUpdateTime": LATER})
    );
    assert_eq!(metadata["limits"]["sourceTime"], "2023-11-14T21:00:00Z");
    assert_eq!(metadata["mode"], json!({"lastUpdateTime": AT}));
    run(
        &mut state,
        patch(
            json!([{"op": "remove", "path": "/$metadata/target/sourceTime"}]),
            LATER_MS,
        ),
    )
    .unwrap();
    assert_eq!(
        state.twin_document().unwrap()["$metadata"]["target"],
        json!({"lastUpdateTime": LATER})
    );
}

#[test]
fn a_patch_may_move_the_twin_to_another_model_that_fits() {
    let mut state = thermostat("t1");
    let to_sensor = json!([{"op": "replace", "path": "/$metadata/$model", "value": SENSOR}]);
    assert_refused(
        &state,
        patch(to_sensor, LATER_MS),
        "ValidationFailed",
        "$.display",
    );
    let to_retired = json!([{"op": "replace", "path": "/$metadata/$model", "value": RETIRED}]);
    assert_refused(
        &state,
        patch(to_retired, LATER_MS),
        "ModelDecommissioned",
        RETIRED,
    );
    let to_unknown =
        json!([{"op": "replace", "path": "/$metadata/$model", "value": "dtmi:test:Nope;1"}]);
    assert_refused(
        &state,
        patch(to_unknown, LATER_MS),
        "ValidationFailed",
        "dtmi:test:Nope;1",
    );
    let fitting = json!([
        {"op": "replace", "path": "/$metadata/$model", "value": SENSOR},
        {"op": "remove", "path": "/mode"},
        {"op": "remove", "path": "/display"}
    ]);
    run(&mut state, patch(fitting, LATER_MS)).unwrap();
    assert_eq!(state.existing().unwrap().model().as_str(), SENSOR);
    assert_eq!(
        state.twin_document().unwrap()["$metadata"]["target"]["lastUpdateTime"],
        AT
    );
}

#[test]
fn components_are_patched_by_twin_paths_or_relative_ones() {
    let mut state = thermostat("t1");
    run(
        &mut state,
        patch(
            json!([{"op": "replace", "path": "/display/brightness", "value": 10}]),
            LATER_MS,
        ),
    )
    .unwrap();
    let display = state.component_document("display").unwrap();
    assert_eq!(display["brightness"], 10);
    assert_eq!(display["$metadata"]["$lastUpdateTime"], LATER);
    assert_eq!(display["$metadata"]["brightness"]["lastUpdateTime"], LATER);
    assert_eq!(
        state.twin_document().unwrap()["$metadata"]["target"]["lastUpdateTime"],
        AT
    );

    let relative = json!([
        {"op": "replace", "path": "/brightness", "value": 20},
        {"op": "add", "path": "/$metadata/brightness/sourceTime", "value": "2023-11-14T22:14:00Z"}
    ]);
    let events = run(&mut state, patch_component("display", relative)).unwrap();
    let Event::TwinPatched {
        patch: recorded, ..
    } = &events[0]
    else {
        panic!("{events:?}")
    };
    assert!(
        recorded.contains("/display/brightness"),
        "recorded absolute: {recorded}"
    );
    let display = state.component_document("display").unwrap();
    assert_eq!(display["brightness"], 20);
    assert_eq!(
        display["$metadata"]["brightness"]["sourceTime"],
        "2023-11-14T22:14:00Z"
    );

    let refused = assert_refused(
        &state,
        patch_component("screen", json!([])),
        "ComponentNotFound",
        "screen",
    );
    assert_eq!(refused.status(), 404);
    assert_refused(
        &state,
        patch_component("target", json!([])),
        "ComponentNotFound",
        "target",
    );
    assert_refused(
        &state,
        patch_component("display", json!([{"op": "remove", "path": "/contrast"}])),
        "JsonPatchInvalid",
        "/display/contrast",
    );
}

#[test]
fn if_match_guards_a_patch_and_an_empty_patch_records_nothing() {
    let mut state = thermostat("t1");
    let guarded = |tags: &[&str]| {
        TwinCommand::Patch(PatchTwin {
            patch: json!([{"op": "replace", "path": "/target", "value": 20}]),
            component: None,
            if_match: Some(IfMatch::OneOf(
                tags.iter().map(|tag| (*tag).to_owned()).collect(),
            )),
            models: models(),
            at_ms: LATER_MS,
        })
    };
    let refused = assert_refused(
        &state,
        guarded(&["W/\"5\""]),
        "PreconditionFailed",
        "W/\"1\"",
    );
    assert_eq!(refused.status(), 412);
    run(&mut state, guarded(&["W/\"5\"", "W/\"1\""])).unwrap();
    assert!(run(&mut state, patch(json!([]), LATER_MS))
        .unwrap()
        .is_empty());
    assert_eq!(state.version(), 2);
}
