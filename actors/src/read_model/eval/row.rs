//! One result row: what each alias of the query stands for, in a slot of its own, and the
//! values and documents read from it.

use std::borrow::Cow;

use serde_json::{Map, Value};
use twinlog_dtdl::Dtmi;

use crate::query::ast::Path;
use crate::read_model::EvalError;
use crate::twin::{Relationship, TwinState};

/// A twin or a relationship bound to an alias. Its documents are built only when a result
/// needs them; conditions read single values from the state.
#[derive(Clone, Copy)]
pub(super) enum Entity<'m> {
    Twin(&'m TwinState),
    Relationship {
        source: &'m TwinState,
        id: &'m str,
        relationship: &'m Relationship,
    },
}

impl<'m> Entity<'m> {
    /// The value at `path` in the entity's document; the document itself for an empty path.
    fn field(self, path: &[String]) -> Option<Cow<'m, Value>> {
        match self {
            Entity::Twin(state) => state.document_field(path),
            Entity::Relationship {
                source,
                id,
                relationship,
            } => relationship.document_field(source.twin_id(), id, path),
        }
    }

    /// The twin's or relationship's document, as ADT renders it.
    pub(super) fn document(self) -> Value {
        self.field(&[]).map(Cow::into_owned).unwrap_or_default()
    }

    /// What results are ordered by: a twin's id, or a relationship's source id and own id.
    pub(super) fn key(self) -> (&'m str, &'m str) {
        match self {
            Entity::Twin(state) => (state.twin_id(), ""),
            Entity::Relationship { source, id, .. } => (source.twin_id(), id),
        }
    }

    /// A twin's own model; a relationship has none.
    pub(super) fn model(self) -> Option<&'m Dtmi> {
        match self {
            Entity::Twin(state) => state.twin().map(|twin| twin.model()),
            Entity::Relationship { .. } => None,
        }
    }
}

/// A path with its alias resolved to a row slot.
#[derive(Clone, Copy)]
pub(super) struct Field<'q> {
    pub(super) slot: usize,
    pub(super) segments: &'q [String],
}

impl Field<'_> {
    pub(super) fn find<'m>(&self, row: &[Entity<'m>]) -> Option<Cow<'m, Value>> {
        row.get(self.slot)?.field(self.segments)
    }
}

/// The query's aliases by slot: the FROM alias (or none) in slot 0, then each JOIN's target
/// and relationship alias in the order written, which is the order a row binds them.
pub(super) struct Slots<'q> {
    names: Vec<Option<&'q str>>,
}

impl<'q> Slots<'q> {
    pub(super) fn new(root: Option<&'q str>) -> Slots<'q> {
        Slots { names: vec![root] }
    }

    /// Declares the next alias, returning its slot.
    pub(super) fn declare(&mut self, alias: &'q str) -> usize {
        self.names.push(Some(alias));
        self.names.len() - 1
    }

    /// The slot of `alias` among those declared so far; no alias is the FROM collection's.
    pub(super) fn slot(&self, alias: Option<&str>) -> Result<usize, EvalError> {
        let Some(alias) = alias else {
            return Ok(0);
        };
        self.names
            .iter()
            .position(|name| *name == Some(alias))
            .ok_or_else(|| EvalError::UnknownAlias {
                alias: alias.to_owned(),
            })
    }

    pub(super) fn field(&self, path: &'q Path) -> Result<Field<'q>, EvalError> {
        Ok(Field {
            slot: self.slot(path.alias.as_deref())?,
            segments: &path.segments,
        })
    }
}

/// One projected result: each item under its output name. An item the row does not have is
/// left out, as ADT leaves it out.
pub(super) fn project(row: &[Entity<'_>], items: &[(&str, Field<'_>)]) -> Value {
    let mut result = Map::new();
    for (name, field) in items {
        if let Some(value) = field.find(row) {
            result.insert((*name).to_owned(), value.into_owned());
        }
    }
    Value::Object(result)
}
