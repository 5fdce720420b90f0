//! Telemetry: validated against the model, de-duplicated by `Message-Id`, and never a change
//! to the twin.

use super::*;

fn telemetry(message_id: &str, component: Option<&str>, body: Value) -> TwinCommand {
    TwinCommand::SendTelemetry(SendTelemetry {
        message_id: message_id.to_owned(),
        source_time: Some("2023-11-14T22:13:19Z".to_owned()),
        component: component.map(str::to_owned),
        body,
        models: models(),
    })
}

#[test]
fn telemetry_is_recorded_without_changing_the_twin() {
    let mut state = thermostat("t1");
    let before = state.twin_document().unwrap();
    let events = run(
        &mut state,
        telemetry("m1", None, json!({"temperature": 20.5, "extra": "kept"})),
    )
    .unwrap();
    assert_eq!(
        events,
        [Event::Telemetry {
            message_id: "m1".into(),
            source_time: Some("2023-11-14T22:13:19Z".into()),
            component: None,
            data: r#"{"extra":"kept","temperature":20.5}"#.into(),
        }]
    );
    assert_eq!(
        state.twin_document().unwrap(),
        before,
        "same content, same ETag"
    );
    assert_eq!(state.version(), 2, "but the stream moved on");
}

#[test]
fn telemetry_is_validated_against_the_model_or_the_component() {
    let mut state = thermostat("t1");
    assert_refused(
        &state,
        telemetry("m1", None, json!({"temperature": "hot"})),
        "ValidationFailed",
        "$.temperature",
    );
    assert_refused(
        &state,
        telemetry("m1", Some("display"), json!({"frames": 1.5})),
        "ValidationFailed",
        "$.frames",
    );
    run(
        &mut state,
        telemetry("m1", Some("display"), json!({"frames": 60})),
    )
    .unwrap();
    let refused = assert_refused(
        &state,
        telemetry("m2", Some("screen"), json!({})),
        "ComponentNotFound",
        "screen",
    );
    assert_eq!(refused.status(), 404);
    let refused = assert_refused(
        &TwinState::new("ghost"),
        telemetry("m1", None, json!({})),
        "DigitalTwinNotFound",
        "ghost",
    );
    assert_eq!(refused.status(), 404);
}

#[test]
fn bad_headers_and_bodies_are_invalid_arguments() {
    let state = thermostat("t1");
    assert_refused(
        &state,
        telemetry("", None, json!({})),
        "InvalidArgument",
        "Message-Id",
    );
    let long = "m".repeat(MESSAGE_ID_CHARS_MAX + 1);
    assert_refused(
        &state,
        telemetry(&long, None, json!({})),
        "InvalidArgument",
        &format!("{}", MESSAGE_ID_CHARS_MAX + 1),
    );
    assert_refused(
        &state,
        telemetry("m1", None, json!([1])),
        "InvalidArgument",
        "JSON object",
    );
    let TwinCommand::SendTelemetry(mut late) = telemetry("m1", None, json!({})) else {
        unreachable!()
    };
    late.source_time = Some("yesterday".into());
    assert_refused(
        &state,
        TwinCommand::SendTelemetry(late),
        "InvalidArgument",
        "yesterday",
    );
}

#[test]
fn a_resent_message_is_accepted_once_within_the_window() {
    let mut state = thermostat("t1");
    run(&mut state, telemetry("m1", None, json!({"temperature": 1}))).unwrap();
    assert!(
        run(&mut state, telemetry("m1", None, json!({"temperature": 1})))
            .unwrap()
            .is_empty()
    );
    for n in 0..TELEMETRY_DEDUP_IDS_MAX {
        run(&mut state, telemetry(&format!("n{n}"), None, json!({}))).unwrap();
    }
    assert_eq!(
        run(&mut state, telemetry("m1", None, json!({})))
            .unwrap()
            .len(),
        1,
        "m1 has left the window of {TELEMETRY_DEDUP_IDS_MAX}"
    );
    assert!(run(
        &mut state,
        telemetry(
            &format!("n{}", TELEMETRY_DEDUP_IDS_MAX - 1),
            None,
            json!({})
        )
    )
    .unwrap()
    .is_empty());
}

#[test]
fn a_twin_created_again_forgets_the_old_twins_messages() {
    let mut state = thermostat("t1");
    run(&mut state, telemetry("m1", None, json!({}))).unwrap();
    run(
        &mut state,
        TwinCommand::Delete(DeleteTwin {
            if_match: None,
            incoming_relationships: 0,
            at_ms: LATER_MS,
        }),
    )
    .unwrap();
    run(&mut state, put(thermostat_body(), LATER_MS)).unwrap();
    assert_eq!(
        run(&mut state, telemetry("m1", None, json!({})))
            .unwrap()
            .len(),
        1
    );
}
