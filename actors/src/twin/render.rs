//! ADT's documents: the twin, a component, a relationship, and an incoming relationship; and
//! the value at a path in a twin or relationship document, found without rendering it.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::document::{components, is_component, METADATA, MODEL};
use super::error::TwinError;
use super::relationships::{RELATIONSHIP_NAME, TARGET_ID};
use super::state::{Relationship, Times, Twin, TwinState};
use crate::aggregate::rfc3339_from_ms;

const LAST_UPDATE_TIME: &str = "lastUpdateTime";
const LEVEL_LAST_UPDATE_TIME: &str = "$lastUpdateTime";
const DT_ID: &str = "$dtId";
const ETAG: &str = "$etag";
const RELATIONSHIP_ID: &str = "$relationshipId";
const SOURCE_ID: &str = "$sourceId";

impl TwinState {
    /// `GET /digitaltwins/{id}`: `$dtId`, `$etag`, `$metadata` (`$model`, `$lastUpdateTime`,
    /// each property's `lastUpdateTime` and `sourceTime`), the properties, and the components
    /// each with its own `$metadata`.
    pub fn twin_document(&self) -> Result<Value, TwinError> {
        let twin = self.existing()?;
        let mut document = twin.document.clone();
        stamp_times(&mut document, &twin.times);
        for (name, times) in &twin.component_times {
            if let Some(Value::Object(component)) = document.get_mut(name) {
                stamp_times(component, times);
            }
        }
        document.insert(DT_ID.to_owned(), Value::from(&*self.twin_id));
        document.insert(ETAG.to_owned(), Value::from(twin.etag()));
        Ok(Value::Object(document))
    }

    /// The value at `path` in [`TwinState::twin_document`]: the whole document for an empty
    /// path, `None` if the twin does not exist or has nothing there. Only a path into
    /// `$metadata` (but `$metadata.$model`) or onto a whole component, whose `$metadata` carries
    /// rendered times, renders the document; any other value is the stored one, borrowed, since
    /// the stored shape and the rendered one agree everywhere else (see `document`).
    pub fn document_field(&self, path: &[String]) -> Option<Cow<'_, Value>> {
        let twin = self.twin.as_deref()?;
        let Some((first, rest)) = path.split_first() else {
            return self.twin_document().ok().map(Cow::Owned);
        };
        let system = match first.as_str() {
            DT_ID => Some(Value::from(&*self.twin_id)),
            ETAG => Some(Value::from(twin.etag())),
            _ => None,
        };
        if let Some(value) = system {
            return rest.is_empty().then_some(Cow::Owned(value));
        }
        let top = twin.document.get(first)?;
        let rendered = if first == METADATA {
            rest != [MODEL]
        } else {
            is_component(top) && rest.first().is_none_or(|key| key == METADATA)
        };
        if rendered {
            let document = self.twin_document().ok()?;
            return field(&document, path).cloned().map(Cow::Owned);
        }
        field(top, rest).map(Cow::Borrowed)
    }

    /// `GET /digitaltwins/{id}/components/{component}`: the component's properties and its
    /// `$metadata`. Its ETag is the twin's.
    pub fn component_document(&self, component: &str) -> Result<Value, TwinError> {
        let twin = self.existing()?;
        let (document, times) = components(&twin.document)
            .find(|(name, _)| *name == component)
            .zip(twin.component_times.get(component))
            .map(|((_, document), times)| (document.clone(), times))
            .ok_or_else(|| self.component_not_found(component))?;
        let mut document = document;
        stamp_times(&mut document, times);
        Ok(Value::Object(document))
    }

    /// `GET /digitaltwins/{id}/relationships/{relationship_id}`.
    pub fn relationship_document(&self, relationship_id: &str) -> Result<Value, TwinError> {
        let relationship = self.relationship(relationship_id)?;
        Ok(relationship.document(&self.twin_id, relationship_id))
    }

    /// `GET /digitaltwins/{id}/relationships[?relationshipName=]`, by relationship id.
    pub fn relationship_documents(&self, name: Option<&str>) -> Result<Vec<Value>, TwinError> {
        let twin: &Twin = self.existing()?;
        Ok(twin
            .relationships
            .iter()
            .filter(|(_, relationship)| name.is_none_or(|name| relationship.name == name))
            .map(|(id, relationship)| relationship.document(&self.twin_id, id))
            .collect())
    }
}

impl Relationship {
    /// `{"$relationshipId", "$etag", "$sourceId", "$targetId", "$relationshipName", ...}`.
    pub fn document(&self, source_id: &str, relationship_id: &str) -> Value {
        let mut document = self.properties.clone();
        document.insert(RELATIONSHIP_ID.to_owned(), Value::from(relationship_id));
        document.insert(ETAG.to_owned(), Value::from(self.etag()));
        document.insert(SOURCE_ID.to_owned(), Value::from(source_id));
        document.insert(TARGET_ID.to_owned(), Value::from(self.target_id.as_str()));
        document.insert(
            RELATIONSHIP_NAME.to_owned(),
            Value::from(self.name.as_str()),
        );
        Value::Object(document)
    }

    /// The value at `path` in [`Relationship::document`], found without rendering it unless
    /// `path` is empty (the whole document).
    pub fn document_field(
        &self,
        source_id: &str,
        relationship_id: &str,
        path: &[String],
    ) -> Option<Cow<'_, Value>> {
        let Some((first, rest)) = path.split_first() else {
            return Some(Cow::Owned(self.document(source_id, relationship_id)));
        };
        let system = match first.as_str() {
            RELATIONSHIP_ID => Some(Value::from(relationship_id)),
            ETAG => Some(Value::from(self.etag())),
            SOURCE_ID => Some(Value::from(source_id)),
            TARGET_ID => Some(Value::from(self.target_id.as_str())),
            RELATIONSHIP_NAME => Some(Value::from(self.name.as_str())),
            _ => None,
        };
        match system {
            Some(value) => rest.is_empty().then_some(Cow::Owned(value)),
            None => field(self.properties.get(first)?, rest).map(Cow::Borrowed),
        }
    }

    /// An entry of `GET /digitaltwins/{target}/incomingrelationships`, for this relationship
    /// of the twin `source_id`.
    pub fn incoming_document(&self, source_id: &str, relationship_id: &str) -> Value {
        let mut document = Map::new();
        document.insert(RELATIONSHIP_ID.to_owned(), Value::from(relationship_id));
        document.insert(SOURCE_ID.to_owned(), Value::from(source_id));
        document.insert(
            RELATIONSHIP_NAME.to_owned(),
            Value::from(self.name.as_str()),
        );
        document.insert(
            "$relationshipLink".to_owned(),
            Value::from(format!(
                "/digitaltwins/{source_id}/relationships/{relationship_id}"
            )),
        );
        Value::Object(document)
    }
}

/// The value at `path` below `value`; `value` itself for an empty path.
fn field<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter()
        .try_fold(value, |value, key| value.get(key.as_str()))
}

/// Writes a level's `$lastUpdateTime` and each property's `lastUpdateTime` into its
/// `$metadata`, beside any `sourceTime`.
fn stamp_times(level: &mut Map<String, Value>, times: &Times) {
    let Some(Value::Object(metadata)) = level.get_mut(METADATA) else {
        return;
    };
    metadata.insert(
        LEVEL_LAST_UPDATE_TIME.to_owned(),
        Value::from(rfc3339_from_ms(times.updated_ms)),
    );
    for (property, updated_ms) in &times.properties {
        if let Some(Value::Object(entry)) = metadata.get_mut(property) {
            entry.insert(
                LAST_UPDATE_TIME.to_owned(),
                Value::from(rfc3339_from_ms(*updated_ms)),
            );
        }
    }
}
