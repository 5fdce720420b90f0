//! Whatever shape an upload takes, the parser answers with problems, never a panic: every
//! node of a model that uses every construct is replaced, in turn, by every kind of JSON.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use twinlog_dtdl::{parse_batch, Dtmi, Interface, ProblemKind};

fn rich_model(context: &str, id: &str) -> Value {
    json!({
        "@context": context,
        "@id": id,
        "@type": "Interface",
        "displayName": {"en": "Rich"},
        "description": "Uses every construct",
        "comment": "for the malformation test",
        "extends": ["dtmi:test:Base;1", {"@type": "Interface", "contents": [{"@type": "Property", "name": "inline", "schema": "string"}]}],
        "schemas": [{"@id": "dtmi:test:Mode;1", "@type": "Enum", "valueSchema": "string", "enumValues": [{"name": "on", "enumValue": "on"}]}],
        "contents": [
            {"@type": ["Property", "Temperature"], "name": "temperature", "schema": "double", "unit": "degreeCelsius", "writable": true},
            {"@type": "Property", "name": "mode", "schema": "dtmi:test:Mode;1"},
            {"@type": "Property", "name": "settings", "schema": {"@type": "Object", "fields": [
                {"name": "limits", "schema": {"@type": "Map", "mapKey": {"name": "k", "schema": "string"}, "mapValue": {"name": "v", "schema": "integer"}}},
                {"name": "level", "schema": {"@type": "Enum", "valueSchema": "integer", "enumValues": [{"name": "one", "enumValue": 1}]}}
            ]}},
            {"@type": "Telemetry", "name": "series", "schema": {"@type": "Array", "elementSchema": "long"}},
            {"@type": "Relationship", "name": "feeds", "target": "dtmi:test:Base;1", "minMultiplicity": 0, "maxMultiplicity": 3,
             "properties": [{"@type": "Property", "name": "since", "schema": "date"}]},
            {"@type": "Component", "name": "part", "schema": "dtmi:test:Base;1"},
            {"@type": "Component", "name": "inlinePart", "schema": {"@type": "Interface", "@id": "dtmi:test:Part;1", "contents": []}},
            {"@type": "Command", "name": "reset", "request": {"name": "delay", "schema": "duration"}}
        ]
    })
}

fn base(context: &str) -> Value {
    json!({"@context": context, "@id": "dtmi:test:Base;1", "@type": "Interface", "contents": [{"@type": "Property", "name": "baseValue", "schema": "string"}]})
}

fn nested_arrays(depth: usize) -> Value {
    (0..depth).fold(json!(0), |inner, _| json!([inner]))
}

fn replacements() -> Vec<Value> {
    vec![
        Value::Null,
        json!(0),
        json!(-1),
        json!(1.5e300),
        json!(""),
        json!("x"),
        json!("dtmi:test:Base;1"),
        json!("dtmi:1bad"),
        json!("\u{1F600}\u{0301}"),
        json!(true),
        json!([]),
        json!({}),
        json!([null, 1, "a"]),
        json!({"@type": "Interface"}),
        json!({"@type": ["Property", 5]}),
        nested_arrays(40),
        Value::Array(vec![json!({}); 5_000]),
    ]
}

/// The path (as keys and indices) of every node under `value`.
fn node_paths(value: &Value, prefix: &mut Vec<Step>, paths: &mut Vec<Vec<Step>>) {
    paths.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(Step::Key(key.clone()));
                node_paths(child, prefix, paths);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prefix.push(Step::Index(i));
                node_paths(child, prefix, paths);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn node_mut<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get_mut(key.as_str()),
        Step::Index(i) => node.get_mut(*i),
    })
}

fn no_stored_models() -> HashMap<Dtmi, Arc<Interface>> {
    HashMap::new()
}

#[test]
fn the_rich_models_load_as_written() {
    for context in ["dtmi:dtdl:context;2", "dtmi:dtdl:context;3"] {
        let models = [base(context), rich_model(context, "dtmi:test:Rich;1")];
        let loaded =
            parse_batch(&models, &no_stored_models()).unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_eq!(loaded.len(), 2);
    }
}

#[test]
fn every_node_replaced_by_every_shape_gives_an_answer() {
    let mut uploads = 0;
    for context in ["dtmi:dtdl:context;2", "dtmi:dtdl:context;3"] {
        let original = rich_model(context, "dtmi:test:Rich;1");
        let mut paths = Vec::new();
        node_paths(&original, &mut Vec::new(), &mut paths);
        for path in &paths {
            for replacement in replacements() {
                let mut model = original.clone();
                if let Some(node) = node_mut(&mut model, path) {
                    *node = replacement;
                }
                let root = path.is_empty();
                let result = parse_batch(&[base(context), model], &no_stored_models());
                assert!(
                    !root || result.is_err(),
                    "a non-Interface upload is refused"
                );
                if let Ok(interfaces) = result {
                    exercise_values(&interfaces[1]);
                }
                uploads += 1;
            }
            let mut removed = original.clone();
            if let Some((Step::Key(key), parent_path)) = path.split_last() {
                if let Some(Value::Object(parent)) = node_mut(&mut removed, parent_path) {
                    parent.remove(key);
                }
            }
            let _ = parse_batch(&[base(context), removed], &no_stored_models());
        }
    }
    assert!(uploads > 1_000, "{uploads} uploads tried");
}

/// Every kind of value in every member of a twin, a component and a relationship.
fn exercise_values(interface: &Interface) {
    let names: Vec<String> = interface.members().keys().cloned().collect();
    for replacement in replacements() {
        for name in &names {
            let mut twin = Map::new();
            twin.insert(name.clone(), replacement.clone());
            let _ = interface.validate_twin(&twin);
            let _ = interface.validate_telemetry(&twin);
            let _ = interface.validate_relationship(name, &twin);
            let _ = interface.validate_component(name, &twin);
        }
    }
}

#[test]
fn non_object_uploads_and_missing_pieces_are_problems() {
    for model in [
        Value::Null,
        json!(1),
        json!("dtmi:test:A;1"),
        json!([]),
        json!([{"@context": "dtmi:dtdl:context;3"}]),
        json!({}),
    ] {
        let error = parse_batch(std::slice::from_ref(&model), &no_stored_models())
            .expect_err(&model.to_string());
        assert!(!error.problems.is_empty());
        assert_eq!(error.problems[0].model, "upload[0]");
    }
    assert!(parse_batch(&[], &no_stored_models())
        .expect("an empty upload resolves nothing")
        .is_empty());
}

#[test]
fn deep_nesting_is_refused_without_recursing_through_it() {
    let mut model = rich_model("dtmi:dtdl:context;3", "dtmi:test:Deep;1");
    model["contents"][0]["schema"] = nested_arrays(500);
    let error = parse_batch(&[base("dtmi:dtdl:context;3"), model], &no_stored_models())
        .expect_err("too deep");
    assert!(error.problems.iter().any(|problem| matches!(
        problem.kind,
        ProblemKind::LimitExceeded {
            what: "JSON nesting depth",
            ..
        }
    )));

    let mut object_chain = json!({"@type": "Array", "elementSchema": "double"});
    for _ in 0..60 {
        object_chain = json!({"@type": "Array", "elementSchema": object_chain});
    }
    let mut model = rich_model("dtmi:dtdl:context;3", "dtmi:test:Deep;1");
    model["contents"][0]["schema"] = object_chain;
    let error = parse_batch(&[base("dtmi:dtdl:context;3"), model], &no_stored_models())
        .expect_err("nested past 5");
    assert!(error.problems.iter().any(|problem| matches!(
        problem.kind,
        ProblemKind::LimitExceeded {
            what: "complex schema nesting",
            ..
        }
    )));
}

#[test]
fn a_huge_upload_is_answered() {
    let contents: Vec<Value> = (0..20_000)
        .map(|i| json!({"@type": "Property", "name": format!("p{i}"), "schema": 7}))
        .collect();
    let model = json!({"@context": "dtmi:dtdl:context;2", "@id": "dtmi:test:Huge;1", "@type": "Interface", "contents": contents});
    let error =
        parse_batch(&[model], &no_stored_models()).expect_err("bad schemas and too many contents");
    assert_eq!(error.problems.len(), 20_001);
}
