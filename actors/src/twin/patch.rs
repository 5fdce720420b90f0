//! JSON Patch (RFC 6902) as ADT takes it: add, replace and remove, on the paths a twin or a
//! relationship lets a client write.

use json_patch::jsonptr::{Pointer, PointerBuf};
use json_patch::PatchOperation;
use serde_json::{Map, Value};

use super::document::{is_component, sync_key, METADATA, MODEL, SOURCE_TIME};
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

    /// When every operation adds or replaces `/name` for an existing property `name` of the
    /// twin with a value that is not a component, the properties the patch sets and their final
    /// values, in the document's key order; otherwise `None`. Such a patch always applies, and
    /// leaves the metadata, the components and the other properties as they were.
    pub(super) fn property_values<'p>(
        &'p self,
        document: &Map<String, Value>,
    ) -> Option<Vec<(String, &'p Value)>> {
        let mut values: Vec<(String, &Value)> = Vec::with_capacity(self.0.len());
        for operation in &self.0 {
            let value = match operation {
                PatchOperation::Add(op) => &op.value,
                PatchOperation::Replace(op) => &op.value,
                _ => return None,
            };
            let mut tokens = operation.path().tokens();
            let name = tokens.next()?.decoded().into_owned();
            let sets_property = tokens.next().is_none()
                && !name.starts_with('$')
                && !is_component(value)
                && document.get(&name).is_some_and(|old| !is_component(old));
            if !sets_property {
                return None;
            }
            match values.iter_mut().find(|(set, _)| *set == name) {
                Some(earlier) => earlier.1 = value,
                None => values.push((name, value)),
            }
        }
        values.sort_by(|(a, _), (b, _)| a.cmp(b));
        Some(values)
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

    /// Applies the operations one by one to a twin document whose metadata is in step, and
    /// keeps it in step after each (so that a later operation of the same patch can set the
    /// `sourceTime` of a property an earlier one added). `targets` are [`Patch::twin_targets`].
    pub(super) fn apply_to_twin(
        &self,
        document: &mut Map<String, Value>,
        targets: &[Touched],
    ) -> Result<(), TwinError> {
        self.apply(document, |index, document| match &targets[index] {
            Touched::Model => {}
            Touched::TopLevel(name) => sync_key(document, None, name),
            Touched::ComponentProperty {
                component,
                property,
            } => sync_key(document, Some(component), property),
        })
    }

    /// Applies the operations to a relationship's properties.
    pub(super) fn apply_to_properties(
        &self,
        properties: &mut Map<String, Value>,
    ) -> Result<(), TwinError> {
        self.apply(properties, |_, _| {})
    }

    fn apply(
        &self,
        target: &mut Map<String, Value>,
        after_each: impl Fn(usize, &mut Map<String, Value>),
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
                after_each(index, map);
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
