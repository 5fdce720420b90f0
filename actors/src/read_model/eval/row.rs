//! One result row: what each alias of the query stands for, in a slot of its own, and the
//! values and documents read from it.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value};
use twinlog_dtdl::Dtmi;

use crate::query::ast::Path;
use crate::read_model::top_level::{Probed, PropertyNames, TopLevel};
use crate::read_model::EvalError;
use crate::twin::{Relationship, TwinState};

/// A twin or a relationship bound to an alias. Its documents are built only when a result
/// needs them; conditions read single values from the state.
#[derive(Clone, Copy)]
pub(super) enum Entity<'m> {
    Twin {
        state: &'m TwinState,
        top_level: &'m TopLevel,
    },
    Relationship {
        source: &'m TwinState,
        id: &'m str,
        relationship: &'m Relationship,
    },
}

impl<'m> Entity<'m> {
    /// The value at `path` in the entity's document; the document itself for an empty path.
    fn field(self, path: &[String], probe: Probe<'_>) -> Option<Cow<'m, Value>> {
        match self {
            Entity::Twin { state, top_level } => match probe {
                Probe::Known(name) => match top_level.probe(name) {
                    Probed::Absent => None,
                    // A scalar has nothing below it.
                    Probed::Scalar(value) => (path.len() == 1).then_some(Cow::Borrowed(value)),
                    Probed::Nested => state.document_field(path),
                },
                Probe::Unknown => None,
                Probe::Document => state.document_field(path),
            },
            Entity::Relationship {
                source,
                id,
                relationship,
            } => relationship.document_field(source.twin_id(), id, path),
        }
    }

    /// The twin's or relationship's document, as ADT renders it.
    pub(super) fn document(self) -> Value {
        self.field(&[], Probe::Document)
            .map(Cow::into_owned)
            .unwrap_or_default()
    }

    /// What results are ordered by: a twin's id, or a relationship's source id and own id.
    pub(super) fn key(self) -> (&'m str, &'m str) {
        match self {
            Entity::Twin { state, .. } => (state.twin_id(), ""),
            Entity::Relationship { source, id, .. } => (source.twin_id(), id),
        }
    }

    /// A twin's own model; a relationship has none.
    pub(super) fn model(self) -> Option<&'m Dtmi> {
        match self {
            Entity::Twin { state, .. } => state.twin().map(|twin| twin.model()),
            Entity::Relationship { .. } => None,
        }
    }
}

/// How a twin's value at a path is found, decided once per query from the path's first segment.
#[derive(Clone, Copy)]
pub(super) enum Probe<'q> {
    /// An empty path, or a system name (`$dtId`, `$etag`, `$metadata`): the document has it.
    Document,
    /// A property or component name some twin has had: the twin's top-level layout has it.
    Known(&'q Arc<str>),
    /// A name no twin has ever had at its top level: no twin has a value there.
    Unknown,
}

/// A path with its alias resolved to a row slot.
#[derive(Clone, Copy)]
pub(super) struct Field<'q> {
    pub(super) slot: usize,
    pub(super) segments: &'q [String],
    probe: Probe<'q>,
}

impl Field<'_> {
    pub(super) fn find<'m>(&self, row: &[Entity<'m>]) -> Option<Cow<'m, Value>> {
        row.get(self.slot)?.field(self.segments, self.probe)
    }
}

/// The query's aliases by slot: the FROM alias (or none) in slot 0, then each JOIN's target
/// and relationship alias in the order written, which is the order a row binds them.
pub(super) struct Slots<'q> {
    names: Vec<Option<&'q str>>,
    properties: &'q PropertyNames,
}

impl<'q> Slots<'q> {
    /// The slots of a query whose paths name twins' properties among `properties`.
    pub(super) fn new(root: Option<&'q str>, properties: &'q PropertyNames) -> Slots<'q> {
        Slots {
            names: vec![root],
            properties,
        }
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
        let probe = match path.segments.first() {
            None => Probe::Document,
            Some(first) if first.starts_with('$') => Probe::Document,
            Some(first) => self
                .properties
                .get(first)
                .map_or(Probe::Unknown, Probe::Known),
        };
        Ok(Field {
            slot: self.slot(path.alias.as_deref())?,
            segments: &path.segments,
            probe,
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
