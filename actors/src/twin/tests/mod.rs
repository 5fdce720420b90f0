//! The twin aggregate against RealEstateCore and small inline models. Each file covers one
//! part of ADT's behaviour: twins, patches, relationships, telemetry, and replay.

mod patches;
mod relationships;
mod replay;
mod telemetry;
mod twins;
mod validated;

use std::sync::{Arc, OnceLock};

use serde_json::{json, Value};
use twinlog_migrations::Event;

use super::*;
use crate::aggregate::testing::execute;
use crate::models::tests::real_estate_core;
use crate::models::{ModelCommand, ModelRegistry};

pub(super) const AT_MS: u64 = 1_700_000_000_000;
pub(super) const LATER_MS: u64 = AT_MS + 60_000;
pub(super) const THERMOSTAT: &str = "dtmi:test:Thermostat;1";
pub(super) const DISPLAY: &str = "dtmi:test:Display;1";
pub(super) const SENSOR: &str = "dtmi:test:Sensor;1";
pub(super) const RETIRED: &str = "dtmi:test:Retired;1";
pub(super) const ROOM: &str = "dtmi:digitaltwins:rec_3_3:core:Room;1";
pub(super) const SPACE: &str = "dtmi:digitaltwins:rec_3_3:core:Space;1";
pub(super) const BUILDING: &str = "dtmi:digitaltwins:rec_3_3:core:Building;1";
pub(super) const PERSON: &str = "dtmi:digitaltwins:rec_3_3:agents:Person;1";

/// Models for the cases RealEstateCore lacks: a component, telemetry, a relationship with
/// properties and `maxMultiplicity`, enums and objects.
fn inline_models() -> Value {
    json!([
        {
            "@id": THERMOSTAT, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "target", "schema": "double", "writable": true},
                {"@type": "Property", "name": "mode", "schema": {
                    "@type": "Enum", "valueSchema": "string",
                    "enumValues": [{"name": "heat", "enumValue": "heat"}, {"name": "cool", "enumValue": "cool"}]}},
                {"@type": "Property", "name": "limits", "schema": {
                    "@type": "Object", "fields": [{"name": "low", "schema": "double"}, {"name": "high", "schema": "double"}]}},
                {"@type": "Telemetry", "name": "temperature", "schema": "double"},
                {"@type": "Component", "name": "display", "schema": DISPLAY},
                {"@type": "Relationship", "name": "controls", "target": SPACE, "maxMultiplicity": 1,
                 "properties": [{"@type": "Property", "name": "since", "schema": "dateTime"}]},
                {"@type": "Relationship", "name": "notifies"}
            ]
        },
        {
            "@id": DISPLAY, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "brightness", "schema": "integer"},
                {"@type": "Telemetry", "name": "frames", "schema": "integer"}
            ]
        },
        {
            "@id": SENSOR, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [{"@type": "Property", "name": "target", "schema": "double"}]
        },
        {"@id": RETIRED, "@type": "Interface", "@context": "dtmi:dtdl:context;3"}
    ])
}

/// RealEstateCore and the inline models, with [`RETIRED`] decommissioned. Built once.
pub(super) fn models() -> Arc<ModelRegistry> {
    static MODELS: OnceLock<Arc<ModelRegistry>> = OnceLock::new();
    MODELS
        .get_or_init(|| {
            let mut registry = ModelRegistry::new();
            let commands = [
                ModelCommand::Upload {
                    models: Value::Array(real_estate_core()),
                    at_ms: AT_MS,
                },
                ModelCommand::Upload {
                    models: inline_models(),
                    at_ms: AT_MS,
                },
                ModelCommand::Decommission {
                    model_id: RETIRED.to_owned(),
                    at_ms: AT_MS,
                },
            ];
            for command in commands {
                execute(&mut registry, command).unwrap_or_else(|e| panic!("{e}"));
            }
            Arc::new(registry)
        })
        .clone()
}

pub(super) fn thermostat_body() -> Value {
    json!({
        "$metadata": {"$model": THERMOSTAT},
        "target": 21.5,
        "mode": "heat",
        "display": {"$metadata": {}, "brightness": 80}
    })
}

/// A twin body of a RealEstateCore `model`, with `properties` and every component empty, as
/// ADT requires components to be present.
pub(super) fn rec_body(model: &str, properties: Value) -> Value {
    let mut body = properties;
    body["$metadata"] = json!({"$model": model});
    let interface = models()
        .interface_of(&model.parse().expect("a DTMI"))
        .cloned()
        .expect("a stored model");
    for component in interface.components() {
        body[component.name.as_str()] = json!({"$metadata": {}});
    }
    body
}

pub(super) fn put(body: Value, at_ms: u64) -> TwinCommand {
    TwinCommand::Replace(ReplaceTwin {
        body,
        if_none_match_any: false,
        models: models(),
        at_ms,
    })
}

pub(super) fn patch(operations: Value, at_ms: u64) -> TwinCommand {
    TwinCommand::Patch(PatchTwin {
        patch: operations,
        component: None,
        if_match: None,
        models: models(),
        at_ms,
    })
}

/// A twin created from `body` at [`AT_MS`].
pub(super) fn twin_from(id: &str, body: Value) -> TwinState {
    let mut state = TwinState::new(id);
    execute(&mut state, put(body, AT_MS)).unwrap_or_else(|e| panic!("{e}"));
    state
}

pub(super) fn thermostat(id: &str) -> TwinState {
    twin_from(id, thermostat_body())
}

pub(super) fn run(state: &mut TwinState, command: TwinCommand) -> Result<Vec<Event>, TwinError> {
    execute(state, command)
}

/// Asserts a refusal with `code`, whose message mentions `needle`; the state is untouched.
#[track_caller]
pub(super) fn assert_refused(
    state: &TwinState,
    command: TwinCommand,
    code: &str,
    needle: &str,
) -> TwinError {
    let before = state.clone();
    let refused = state.handle(command).expect_err("refused");
    assert_eq!(refused.code(), code, "{refused}");
    assert!(
        refused.to_string().contains(needle),
        "`{needle}` in: {refused}"
    );
    assert_eq!(*state, before);
    refused
}
