//! The model registry against RealEstateCore and small inline models: uploads, their refusals,
//! decommissioning, deletion, `dependenciesFor`, ModelData, and replay.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use twinlog_migrations::Event;

use super::*;
use crate::aggregate::testing::execute;

pub(crate) const REAL_ESTATE_CORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/dtdl/realestatecore"
);
const AT_MS: u64 = 1_700_000_000_000;
const SPACE: &str = "dtmi:digitaltwins:rec_3_3:core:Space;1";
const ROOM: &str = "dtmi:digitaltwins:rec_3_3:core:Room;1";
const AGENT: &str = "dtmi:digitaltwins:rec_3_3:core:Agent;1";

/// Every RealEstateCore Interface, sorted by file path so runs repeat.
pub(crate) fn real_estate_core() -> Vec<Value> {
    fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("ontology directory {} is required: {e}", dir.display()));
        for path in entries.map(|entry| entry.expect("directory entry").path()) {
            if path.is_dir() {
                collect(&path, files);
            } else if path
                .extension()
                .is_some_and(|extension| extension == "json")
            {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    collect(Path::new(REAL_ESTATE_CORE), &mut files);
    files.sort();
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).expect("read a model");
            serde_json::from_str(text.trim_start_matches('\u{feff}')).expect("a model is JSON")
        })
        .collect()
}

fn upload(models: Value) -> ModelCommand {
    ModelCommand::Upload {
        models,
        at_ms: AT_MS,
    }
}

fn pump() -> Value {
    json!({
        "@id": "dtmi:test:Pump;1", "@type": "Interface", "@context": "dtmi:dtdl:context;2",
        "displayName": "Pump", "description": {"en": "Moves water", "de": "Fördert Wasser"},
        "contents": [
            {"@type": "Property", "name": "rpm", "schema": "integer"},
            {"@type": "Relationship", "name": "feeds", "target": "dtmi:test:Tank;1"}
        ]
    })
}

fn tank() -> Value {
    json!({"@id": "dtmi:test:Tank;1", "@type": "Interface", "@context": "dtmi:dtdl:context;2"})
}

fn registry_with(models: Value) -> ModelRegistry {
    let mut registry = ModelRegistry::new();
    execute(&mut registry, upload(models)).unwrap_or_else(|e| panic!("{e}"));
    registry
}

#[test]
fn realestatecore_uploads_in_one_batch_and_serves_model_data() {
    let models = real_estate_core();
    let registry = registry_with(Value::Array(models.clone()));
    assert_eq!(registry.len(), models.len());
    assert_eq!(registry.version(), 1);
    let ids: Vec<&str> = registry.list().map(|model| model.id().as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "listed by DTMI");

    let room = registry.get(ROOM).unwrap();
    assert!(room.interface().is_a(&SPACE.parse().unwrap()));
    let data = room.model_data(false);
    assert_eq!(data["id"], ROOM);
    assert_eq!(data["displayName"], json!({"en": "Room"}));
    assert_eq!(data["uploadTime"], "2023-11-14T22:13:20.000Z");
    assert_eq!(data["decommissioned"], false);
    assert!(data.get("model").is_none());
    assert_eq!(room.model_data(true)["model"]["@id"], ROOM);
}

#[test]
fn plain_text_names_become_language_maps() {
    let registry = registry_with(json!([pump(), tank()]));
    let data = registry.get("dtmi:test:Pump;1").unwrap().model_data(false);
    assert_eq!(data["displayName"], json!({"en": "Pump"}));
    assert_eq!(
        data["description"],
        json!({"en": "Moves water", "de": "Fördert Wasser"})
    );
    let tank = registry.get("dtmi:test:Tank;1").unwrap().model_data(false);
    assert!(tank.get("displayName").is_none(), "no name, no key: {tank}");
}

#[test]
fn uploads_that_are_not_a_non_empty_array_are_invalid_arguments() {
    let registry = ModelRegistry::new();
    for body in [
        json!({"@id": "dtmi:test:Pump;1"}),
        json!([]),
        json!("x"),
        Value::Null,
    ] {
        let refused = registry.handle(upload(body.clone())).unwrap_err();
        assert_eq!(
            (refused.code(), refused.status()),
            ("InvalidArgument", 400),
            "{body}"
        );
    }
    let too_many = Value::Array(vec![tank(); UPLOAD_MODELS_MAX + 1]);
    let refused = registry.handle(upload(too_many)).unwrap_err();
    assert_eq!(refused.code(), "LimitExceeded");
    assert!(refused
        .to_string()
        .contains(&format!("{}", UPLOAD_MODELS_MAX + 1)));
}

#[test]
fn a_model_twice_in_one_upload_is_an_invalid_argument() {
    let refused = ModelRegistry::new()
        .handle(upload(json!([tank(), pump(), tank()])))
        .unwrap_err();
    assert_eq!(refused.code(), "InvalidArgument");
    assert!(refused.to_string().contains("dtmi:test:Tank;1"));
    assert!(
        refused.to_string().contains("positions 0 and 2"),
        "{refused}"
    );
}

#[test]
fn a_stored_model_uploaded_again_already_exists() {
    let registry = registry_with(json!([tank()]));
    let refused = registry
        .handle(upload(json!([pump(), tank()])))
        .unwrap_err();
    assert_eq!(
        (refused.code(), refused.status()),
        ("ModelAlreadyExists", 409)
    );
    assert!(refused.to_string().contains("dtmi:test:Tank;1"));
    assert!(registry.handle(upload(json!([pump()]))).is_ok());
}

#[test]
fn dtdl_problems_are_listed_with_their_paths() {
    let mut broken = pump();
    broken["contents"][0]["schema"] = json!("integr");
    let refused = ModelRegistry::new()
        .handle(upload(json!([broken, tank()])))
        .unwrap_err();
    assert_eq!((refused.code(), refused.status()), ("DTDLParserError", 400));
    let message = refused.to_string();
    assert!(message.contains("dtmi:test:Pump;1"), "{message}");
    assert!(message.contains("integr"), "{message}");

    let unresolved = ModelRegistry::new()
        .handle(upload(json!([pump()])))
        .unwrap_err();
    assert_eq!(unresolved.code(), "DTDLParserError");
    assert!(
        unresolved.to_string().contains("dtmi:test:Tank;1"),
        "{unresolved}"
    );
}

#[test]
fn decommissioning_marks_the_model_once() {
    let mut registry = registry_with(json!([tank()]));
    let events = execute(
        &mut registry,
        ModelCommand::Decommission {
            model_id: "dtmi:test:Tank;1".into(),
            at_ms: AT_MS,
        },
    )
    .unwrap();
    assert_eq!(events.len(), 1);
    assert!(registry
        .get("dtmi:test:Tank;1")
        .unwrap()
        .is_decommissioned());
    assert_eq!(
        registry.get("dtmi:test:Tank;1").unwrap().model_data(false)["decommissioned"],
        true
    );
    let again = registry
        .handle(ModelCommand::Decommission {
            model_id: "dtmi:test:Tank;1".into(),
            at_ms: AT_MS,
        })
        .unwrap();
    assert!(again.is_empty(), "decommissioning twice records nothing");
}

#[test]
fn unknown_and_malformed_model_ids_are_refused() {
    let registry = registry_with(json!([tank()]));
    for command in [
        ModelCommand::Decommission {
            model_id: "dtmi:test:Nope;1".into(),
            at_ms: AT_MS,
        },
        ModelCommand::Delete {
            model_id: "dtmi:test:Nope;1".into(),
            at_ms: AT_MS,
        },
    ] {
        let refused = registry.handle(command).unwrap_err();
        assert_eq!((refused.code(), refused.status()), ("ModelNotFound", 404));
        assert!(refused.to_string().contains("dtmi:test:Nope;1"));
    }
    let refused = registry.get("not a dtmi").unwrap_err();
    assert_eq!((refused.code(), refused.status()), ("InvalidArgument", 400));
}

#[test]
fn a_model_others_depend_on_cannot_be_deleted_until_they_are() {
    let mut registry = registry_with(json!([pump(), tank()]));
    let delete = |id: &str| ModelCommand::Delete {
        model_id: id.into(),
        at_ms: AT_MS,
    };
    let refused = registry.handle(delete("dtmi:test:Tank;1")).unwrap_err();
    assert_eq!(
        (refused.code(), refused.status()),
        ("ModelReferencesNotDeleted", 409)
    );
    assert!(
        refused.to_string().contains("dtmi:test:Pump;1"),
        "{refused}"
    );

    execute(&mut registry, delete("dtmi:test:Pump;1")).unwrap();
    execute(&mut registry, delete("dtmi:test:Tank;1")).unwrap();
    assert!(registry.is_empty());
    execute(&mut registry, upload(json!([tank()]))).expect("a deleted model can be uploaded again");
}

#[test]
fn dependencies_for_follows_references_transitively() {
    let registry = registry_with(Value::Array(real_estate_core()));
    let found: Vec<String> = registry
        .dependencies_for(&[ROOM.to_owned()])
        .unwrap()
        .iter()
        .map(|model| model.id().to_string())
        .collect();
    for expected in [ROOM, SPACE, AGENT] {
        assert!(
            found.iter().any(|id| id == expected),
            "{expected} in {found:?}"
        );
    }
    let refused = registry
        .dependencies_for(&["dtmi:test:Nope;1".to_owned()])
        .unwrap_err();
    assert_eq!(refused.code(), "ModelNotFound");

    let small = registry_with(json!([pump(), tank()]));
    let ids: Vec<&str> = small
        .dependencies_for(&["dtmi:test:Pump;1".to_owned()])
        .unwrap()
        .into_iter()
        .map(|model| model.id().as_str())
        .collect();
    assert_eq!(ids, ["dtmi:test:Pump;1", "dtmi:test:Tank;1"]);
}

#[test]
fn replaying_the_events_rebuilds_the_same_registry() {
    let mut live = ModelRegistry::new();
    let mut log: Vec<Event> = Vec::new();
    let commands = [
        upload(json!([tank()])),
        upload(json!([pump()])),
        ModelCommand::Decommission {
            model_id: "dtmi:test:Tank;1".into(),
            at_ms: AT_MS + 1,
        },
        ModelCommand::Delete {
            model_id: "dtmi:test:Pump;1".into(),
            at_ms: AT_MS + 2,
        },
        upload(json!([{"@id": "dtmi:test:Tank;1"}])),
    ];
    for command in commands {
        if let Ok(events) = execute(&mut live, command) {
            log.extend(events);
        }
    }
    let mut replayed = ModelRegistry::new();
    for event in &log {
        replayed.apply(event);
    }
    let data = |registry: &ModelRegistry| -> Vec<Value> {
        registry
            .list()
            .map(|model| model.model_data(true))
            .collect()
    };
    assert_eq!(data(&replayed), data(&live));
    assert_eq!(replayed.version(), live.version());
    assert_eq!(live.version(), 4);
}

#[test]
#[should_panic(expected = "does not belong to the model registry")]
fn a_twin_event_in_the_registry_stream_is_a_disagreement_between_log_and_code() {
    ModelRegistry::new().apply(&Event::TwinDeleted { at_ms: AT_MS });
}
