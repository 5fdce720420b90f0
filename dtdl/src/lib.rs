//! twinlog-dtdl: a parser, resolver and validator for DTDL v2 and v3 Interfaces, and the
//! validation of twin values against them.
//!
//! # Layout
//! - [`parse_batch`] (in `resolve`): an upload of models in, resolved [`Interface`]s or a
//!   [`DtdlError`] listing every problem out. Stored models are reached through [`Lookup`].
//! - `interface`: the resolved [`Interface`] with its inherited contents flattened in, and the
//!   parse of one model into unresolved definitions.
//! - `content`: Properties, Telemetry, Relationships, Components and Commands.
//! - `schema`: primitives, Array, Enum, Map and Object, and the resolution of references.
//! - `dtmi`: the [`Dtmi`] type and its syntax rules. `context`: `@context` and [`DtdlVersion`].
//! - `parser`: the walk over a model, and the checks all elements share. `text`: language maps.
//! - `limits`: every numeric limit, named. `path`: the JSON paths that errors point at.
//! - `value`: twin, component, relationship and telemetry values against their schemas.
//! - `error`: [`DtdlError`], [`Problem`], [`ProblemKind`] and [`ValueError`].
//!
//! An upload travels: JSON -> `interface::parse` (definitions, problems) -> `resolve` (order,
//! cycles, inheritance, references) -> `Arc<Interface>` -> `value` checks on every twin write.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::Arc;

mod content;
mod context;
mod dtmi;
mod error;
mod interface;
pub mod limits;
mod parser;
mod path;
mod resolve;
mod schema;
#[cfg(test)]
mod test_models;
mod text;
mod value;

pub use content::{Command, Component, Content, Property, Relationship, Telemetry};
pub use context::DtdlVersion;
pub use dtmi::{Dtmi, DtmiError};
pub use error::{DtdlError, Problem, ProblemKind, ValueError};
pub use interface::{Interface, Member};
pub use resolve::parse_batch;
pub use schema::{
    ArraySchema, EnumSchema, EnumValue, EnumValueSchema, Field, MapSchema, ObjectSchema, Primitive,
    Schema,
};
pub use text::LanguageMap;
pub use value::validate_value;

/// The models already stored, which an upload may refer to. They were resolved when they were
/// uploaded, so they are taken as they are.
pub trait Lookup {
    fn interface(&self, id: &Dtmi) -> Option<Arc<Interface>>;
}

impl<S: BuildHasher> Lookup for HashMap<Dtmi, Arc<Interface>, S> {
    fn interface(&self, id: &Dtmi) -> Option<Arc<Interface>> {
        self.get(id).cloned()
    }
}

impl Lookup for BTreeMap<Dtmi, Arc<Interface>> {
    fn interface(&self, id: &Dtmi) -> Option<Arc<Interface>> {
        self.get(id).cloned()
    }
}
