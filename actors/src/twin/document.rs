//! The twin's content in its stored shape, the one patches address:
//!
//! ```json
//! {"$metadata": {"$model": "dtmi:…;1", "prop": {"sourceTime": "…"}, "other": {}},
//!  "prop": 1, "other": "x",
//!  "comp": {"$metadata": {"p": {}}, "p": 2}}
//! ```
//!
//! Every property has a `$metadata` entry (so that a patch can add its `sourceTime`), and
//! nothing else does. A component is an object with `$metadata`, as ADT requires of every
//! component in a twin; that is how a stored document tells components from properties without
//! its model. Times (`lastUpdateTime`) are kept beside the document, not in it.

use std::sync::Arc;

use serde_json::{Map, Value};
use twinlog_dtdl::{Content, Dtmi, Interface};

use super::error::TwinError;
use crate::aggregate::is_rfc3339;
use crate::models::ModelRegistry;

pub(super) const METADATA: &str = "$metadata";
pub(super) const MODEL: &str = "$model";
pub(super) const SOURCE_TIME: &str = "sourceTime";
/// Times a client may send back from a document it read; they are the server's to set.
const LAST_UPDATE_TIME: &str = "lastUpdateTime";
const LEVEL_LAST_UPDATE_TIME: &str = "$lastUpdateTime";
/// System keys of a twin that a body may carry and that are ignored: `$dtId` comes from the path.
const IGNORED_TWIN_KEYS: [&str; 2] = ["$dtId", "$etag"];

/// Whether `value`, at the top of a twin, is a component.
pub(super) fn is_component(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|object| object.contains_key(METADATA))
}

/// The names of a level's properties: its keys that are not system keys or components.
pub(super) fn property_names(level: &Map<String, Value>) -> impl Iterator<Item = &String> {
    level
        .iter()
        .filter(|(key, value)| !key.starts_with('$') && !is_component(value))
        .map(|(key, _)| key)
}

/// The components of a twin document, by name.
pub(super) fn components(
    document: &Map<String, Value>,
) -> impl Iterator<Item = (&String, &Map<String, Value>)> {
    document.iter().filter_map(|(key, value)| match value {
        Value::Object(component) if !key.starts_with('$') && component.contains_key(METADATA) => {
            Some((key, component))
        }
        _ => None,
    })
}

/// A PUT body in the stored shape: ignored keys and times dropped, property `$metadata` entries
/// made to match the properties, and the shape checked.
pub(super) fn canonical(mut document: Map<String, Value>) -> Result<Map<String, Value>, TwinError> {
    for key in IGNORED_TWIN_KEYS {
        document.remove(key);
    }
    document
        .entry(METADATA)
        .or_insert_with(|| Value::Object(Map::new()));
    sync_metadata(&mut document);
    check_shape(&document)?;
    Ok(document)
}

/// Checks the shape of a document whose metadata is in step ([`sync_metadata`]): the twin's
/// level, then each component's.
pub(super) fn check_shape(document: &Map<String, Value>) -> Result<(), TwinError> {
    check_level(document, None)?;
    for (name, component) in components(document) {
        check_level(component, Some(name))?;
    }
    Ok(())
}

/// Gives every property of the twin and of its components a `$metadata` entry, removes entries
/// of properties that are gone, and drops times. Lenient: shapes it cannot fix are left for
/// [`check_shape`] to refuse.
fn sync_metadata(document: &mut Map<String, Value>) {
    sync_level(document);
    for (key, value) in document.iter_mut() {
        if let Value::Object(component) = value {
            if !key.starts_with('$') && component.contains_key(METADATA) {
                sync_level(component);
            }
        }
    }
}

fn sync_level(level: &mut Map<String, Value>) {
    let properties: Vec<String> = property_names(level).cloned().collect();
    let Some(Value::Object(metadata)) = level.get_mut(METADATA) else {
        return;
    };
    metadata.remove(LEVEL_LAST_UPDATE_TIME);
    metadata.retain(|key, _| key.starts_with('$') || properties.contains(key));
    for property in properties {
        let entry = metadata
            .entry(property)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(entry) = entry {
            entry.remove(LAST_UPDATE_TIME);
        }
    }
}

/// [`sync_metadata`] for a document that was in step before one patch operation changed only
/// the key `name` of the twin (`component: None`) or of one component. Only that key's entry
/// can be out of step, plus the whole of a component that the operation put there; so the
/// result is what `sync_metadata` of the whole document would give.
pub(super) fn sync_key(document: &mut Map<String, Value>, component: Option<&str>, name: &str) {
    let level = match component {
        None => document,
        Some(component) => match document.get_mut(component) {
            Some(Value::Object(level)) if level.contains_key(METADATA) => level,
            // A path inside a property's value: no metadata of its own.
            _ => return,
        },
    };
    let is_property = match level.get_mut(name) {
        Some(Value::Object(inner)) if component.is_none() && inner.contains_key(METADATA) => {
            sync_level(inner);
            false
        }
        Some(value) => !is_component(value),
        None => false,
    };
    let Some(Value::Object(metadata)) = level.get_mut(METADATA) else {
        return;
    };
    if !is_property {
        metadata.remove(name);
        return;
    }
    match metadata.get_mut(name) {
        Some(Value::Object(entry)) => {
            entry.remove(LAST_UPDATE_TIME);
        }
        Some(_) => {}
        None => {
            metadata.insert(name.to_owned(), Value::Object(Map::new()));
        }
    }
}

/// The JSON path of a level: `$` for the twin, `$.name` for its component `name`. Built only
/// for a refusal.
fn level_path(component: Option<&str>) -> String {
    component.map_or_else(|| "$".to_owned(), |name| format!("$.{name}"))
}

/// Checks one level (the twin, or its component `component`) after [`sync_level`].
fn check_level(level: &Map<String, Value>, component: Option<&str>) -> Result<(), TwinError> {
    let is_twin = component.is_none();
    let at = || level_path(component);
    if let Some(key) = level
        .keys()
        .find(|key| key.starts_with('$') && *key != METADATA)
    {
        return Err(TwinError::validation(
            format!("{}.{key}", at()),
            format!("`{key}` is not a system property a twin may set"),
        ));
    }
    let metadata_at = || format!("{}.{METADATA}", at());
    let Some(Value::Object(metadata)) = level.get(METADATA) else {
        return Err(TwinError::validation(metadata_at(), "must be an object"));
    };
    for (key, entry) in metadata {
        let entry_at = || format!("{}.{key}", metadata_at());
        if key == MODEL && is_twin {
            if !entry.is_string() {
                return Err(TwinError::validation(
                    entry_at(),
                    "must be a model id (a string)",
                ));
            }
            continue;
        }
        if key.starts_with('$') {
            return Err(TwinError::validation(
                entry_at(),
                format!("`{key}` is not metadata a twin may set"),
            ));
        }
        let Value::Object(entry) = entry else {
            return Err(TwinError::validation(entry_at(), "must be an object"));
        };
        for (name, value) in entry {
            if name != SOURCE_TIME {
                return Err(TwinError::validation(
                    format!("{}.{name}", entry_at()),
                    format!("only `{SOURCE_TIME}` may be set in a property's metadata"),
                ));
            }
            if !value.as_str().is_some_and(is_rfc3339) {
                return Err(TwinError::validation(
                    format!("{}.{name}", entry_at()),
                    "must be an RFC 3339 date-time",
                ));
            }
        }
    }
    if is_twin && !metadata.contains_key(MODEL) {
        return Err(TwinError::validation(
            format!("{}.{MODEL}", metadata_at()),
            "the twin's model is required",
        ));
    }
    Ok(())
}

/// The model a stored-shape document names, which must be stored.
pub(super) fn model_of(
    document: &Map<String, Value>,
    models: &ModelRegistry,
) -> Result<(Dtmi, Arc<Interface>), TwinError> {
    let at = format!("$.{METADATA}.{MODEL}");
    let text = document
        .get(METADATA)
        .and_then(|metadata| metadata.get(MODEL))
        .and_then(Value::as_str)
        .ok_or_else(|| TwinError::validation(&at, "the twin's model is required"))?;
    let id: Dtmi = text.parse().map_err(|reason| {
        TwinError::validation(&at, format!("`{text}` is not a DTMI: {reason}"))
    })?;
    let interface = models
        .interface_of(&id)
        .cloned()
        .ok_or_else(|| TwinError::validation(&at, format!("model {id} is not uploaded")))?;
    Ok((id, interface))
}

/// Checks a stored-shape document against its model: every component present (as an object
/// with `$metadata`) and nothing else shaped like one, then every value against its schema.
pub(super) fn validate(
    document: &Map<String, Value>,
    interface: &Interface,
) -> Result<(), TwinError> {
    for component in interface.components() {
        if !document.get(&component.name).is_some_and(is_component) {
            return Err(TwinError::validation(
                format!("$.{}", component.name),
                format!(
                    "component `{}` is required, as an object with `{METADATA}` (at least `{{\"{METADATA}\": {{}}}}`)",
                    component.name
                ),
            ));
        }
    }
    for (name, _) in components(document) {
        if !matches!(interface.member(name), Some(Content::Component(_))) {
            return Err(TwinError::validation(
                format!("$.{name}"),
                format!(
                    "`{name}` is not a component of {}, so it may not carry `{METADATA}`",
                    interface.id()
                ),
            ));
        }
    }
    interface.validate_twin(document)?;
    Ok(())
}
