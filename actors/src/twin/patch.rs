//! JSON Patch (RFC 6902) as ADT takes it: add, replace and remove, on the paths a twin or a
//! relationship lets a client write.

use json_patch::jsonptr::{Pointer, PointerBuf};
use json_patch::PatchOperation;
use serde_json::{Map, Value};

use super::document::{is_component, sync_metadata, METADATA, MODEL, SOURCE_TIME};
use super::error::TwinError;

/// A patch parsed and checked against the paths it may touch.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Patch(Vec<PatchOperation>);

/// The part of a twin a patch operation touches, for `lastUpdateTime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Touched {
    /// `/$metadata/$model`: the twin alone.
    Model,
    /// A top-level key: a property, or a whole component; which, the patched document says.
    TopLevel(String),
    /// One property of a component.
    ComponentProperty { component: String, property: String },
}

impl Patch {
    /// Parses a request body: a JSON array of add, replace and remove operations.
    pub(super) fn parse(body: &Value) -> Result<Patch, TwinError> {
        let operations: Vec<PatchOperation> = match body {
            Value::Array(_) => serde_json::from_value(body.clone())
                .map_err(|e| invalid(format!("the body is not a JSON Patch: {e}")))?,
            _ => {
                return Err(invalid(
                    "the body must be a JSON Patch: an array of operations".to_owned(),
                ))
            }
        };
        for (index, operation) in operations.iter().enumerate() {
            if !matches!(
                operation,
                PatchOperation::Add(_) | PatchOperation::Replace(_) | PatchOperation::Remove(_)
            ) {
                return Err(invalid(format!(
                    "operation {index}: `{}` is not supported; use add, replace or remove",
                    op_name(operation)
                )));
            }
            if operation.path().is_root() {
                return Err(invalid(format!(
                    "operation {index}: the whole document cannot be patched; name a path"
                )));
            }
        }
        Ok(Patch(operations))
    }

    /// Parses a patch that an event recorded.
    pub(super) fn from_recorded(text: &str) -> Result<Patch, serde_json::Error> {
        serde_json::from_str(text).map(Patch)
    }

    pub(super) fn to_json_text(&self) -> String {
        // A Vec of operations of JSON values always serialises.
        serde_json::to_string(&self.0).expect("a JSON Patch serialises")
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Paths relative to `component`, made absolute.
    pub(super) fn under_component(self, component: &str) -> Patch {
        let prefix = PointerBuf::from_tokens([component]);
        Patch(
            self.0
                .into_iter()
                .map(|mut operation| {
                    let path = match &mut operation {
                        PatchOperation::Add(op) => &mut op.path,
                        PatchOperation::Replace(op) => &mut op.path,
                        PatchOperation::Remove(op) => &mut op.path,
                        PatchOperation::Move(op) => &mut op.path,
                        PatchOperation::Copy(op) => &mut op.path,
                        PatchOperation::Test(op) => &mut op.path,
                    };
                    *path = prefix.concat(path);
                    operation
                })
                .collect(),
        )
    }

    /// Checks that every path is one a twin lets a client write, and says what each touches.
    pub(super) fn twin_targets(&self) -> Result<Vec<Touched>, TwinError> {
        self.0
            .iter()
            .enumerate()
            .map(|(index, operation)| twin_target(operation.path()).ok_or_else(|| {
                invalid(format!(
                    "operation {index}: `{}` cannot be patched; patch properties, components, `/{METADATA}/{MODEL}` or `/{METADATA}/<property>/{SOURCE_TIME}`",
                    operation.path()
                ))
            }))
            .collect()
    }

    /// Checks that every path is a relationship property, not a `$` key.
    pub(super) fn check_relationship_paths(&self) -> Result<(), TwinError> {
        for (index, operation) in self.0.iter().enumerate() {
            let first = operation
                .path()
                .first()
                .map(|token| token.decoded().into_owned());
            if first.is_none_or(|key| key.starts_with('$')) {
                return Err(invalid(format!(
                    "operation {index}: `{}` cannot be patched; only a relationship's properties can",
                    operation.path()
                )));
            }
        }
        Ok(())
    }

    /// Applies the operations one by one to a twin document, keeping its property metadata in
    /// step after each (see `document::sync_metadata`).
    pub(super) fn apply_to_twin(&self, document: &mut Map<String, Value>) -> Result<(), TwinError> {
        self.apply(document, sync_metadata)
    }

    /// Applies the operations to a relationship's properties.
    pub(super) fn apply_to_properties(
        &self,
        properties: &mut Map<String, Value>,
    ) -> Result<(), TwinError> {
        self.apply(properties, |_| {})
    }

    fn apply(
        &self,
        target: &mut Map<String, Value>,
        after_each: impl Fn(&mut Map<String, Value>),
    ) -> Result<(), TwinError> {
        let mut document = Value::Object(std::mem::take(target));
        let mut outcome = Ok(());
        for (index, operation) in self.0.iter().enumerate() {
            if let Err(e) = json_patch::patch(&mut document, std::slice::from_ref(operation)) {
                outcome = Err(invalid(format!(
                    "operation {index} ({} {}): {}; a path that is replaced or removed must exist, and one that is added needs its parent",
                    op_name(operation),
                    operation.path(),
                    e.kind
                )));
                break;
            }
            if let Value::Object(map) = &mut document {
                after_each(map);
            }
        }
        // Every operation has a non-empty path, so the document stays an object.
        if let Value::Object(map) = document {
            *target = map;
        }
        outcome
    }
}

/// What a twin patch path touches, or `None` if a client may not write it.
fn twin_target(path: &Pointer) -> Option<Touched> {
    let tokens: Vec<String> = path
        .tokens()
        .map(|token| token.decoded().into_owned())
        .collect();
    let is_name = |token: &String| !token.starts_with('$');
    match tokens.as_slice() {
        [metadata, model] if metadata == METADATA && model == MODEL => Some(Touched::Model),
        [metadata, property, source_time]
            if metadata == METADATA && is_name(property) && source_time == SOURCE_TIME =>
        {
            Some(Touched::TopLevel(property.clone()))
        }
        [component, metadata, property, source_time]
            if is_name(component)
                && metadata == METADATA
                && is_name(property)
                && source_time == SOURCE_TIME =>
        {
            Some(Touched::ComponentProperty {
                component: component.clone(),
                property: property.clone(),
            })
        }
        [key] if is_name(key) => Some(Touched::TopLevel(key.clone())),
        [key, inner, ..] if is_name(key) && is_name(inner) => Some(Touched::ComponentProperty {
            component: key.clone(),
            property: inner.clone(),
        }),
        _ => None,
    }
}

impl Touched {
    /// A deep path inside a property's value reads as a component property until the patched
    /// document says otherwise: then the whole property is what changed.
    pub(super) fn resolve(self, document: &Map<String, Value>) -> Touched {
        match self {
            Touched::ComponentProperty { component, .. }
                if !document.get(&component).is_some_and(is_component) =>
            {
                Touched::TopLevel(component)
            }
            other => other,
        }
    }
}

fn op_name(operation: &PatchOperation) -> &'static str {
    match operation {
        PatchOperation::Add(_) => "add",
        PatchOperation::Remove(_) => "remove",
        PatchOperation::Replace(_) => "replace",
        PatchOperation::Move(_) => "move",
        PatchOperation::Copy(_) => "copy",
        PatchOperation::Test(_) => "test",
    }
}

fn invalid(reason: String) -> TwinError {
    TwinError::JsonPatchInvalid { reason }
}
