//! Model documents and uploads shared by the unit tests.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::{parse_batch, Dtmi, Interface, Problem, ProblemKind};

pub fn v2(id: &str, contents: Value) -> Value {
    json!({"@context": "dtmi:dtdl:context;2", "@id": id, "@type": "Interface", "contents": contents})
}

pub fn v3(id: &str, contents: Value) -> Value {
    json!({"@context": "dtmi:dtdl:context;3", "@id": id, "@type": "Interface", "contents": contents})
}

pub fn property(name: &str, schema: impl Into<Value>) -> Value {
    json!({"@type": "Property", "name": name, "schema": schema.into()})
}

pub fn component(name: &str, schema: impl Into<Value>) -> Value {
    json!({"@type": "Component", "name": name, "schema": schema.into()})
}

/// `model` with `key` set to `value`.
pub fn with(mut model: Value, key: &str, value: Value) -> Value {
    model[key] = value;
    model
}

#[track_caller]
pub fn loaded(models: &[Value]) -> Vec<Arc<Interface>> {
    parse_batch(models, &HashMap::<Dtmi, Arc<Interface>>::new()).unwrap_or_else(|e| panic!("{e}"))
}

#[track_caller]
pub fn problems(models: &[Value]) -> Vec<Problem> {
    match parse_batch(models, &HashMap::<Dtmi, Arc<Interface>>::new()) {
        Ok(_) => panic!("the upload was accepted"),
        Err(error) => error.problems,
    }
}

/// Asserts that the upload is refused with a problem in `model` at `path` whose kind passes
/// `kind`.
#[track_caller]
pub fn assert_refused(
    models: &[Value],
    model: &str,
    path: &str,
    kind: impl Fn(&ProblemKind) -> bool,
) {
    let found = problems(models);
    assert!(
        found
            .iter()
            .any(|problem| problem.model == model && problem.path == path && kind(&problem.kind)),
        "expected a problem in {model} at {path}, got:\n{}",
        found
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
