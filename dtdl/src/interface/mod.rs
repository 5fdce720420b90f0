//! Interfaces: the resolved form callers use, with everything inherited flattened in, and
//! (in [`parse`]) the definitions read from a model before resolution.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::content::{Component, Content, Property, Relationship, Telemetry};
use crate::context::DtdlVersion;
use crate::dtmi::Dtmi;
use crate::schema::Schema;
use crate::text::LanguageMap;

pub(crate) mod parse;
#[cfg(test)]
mod tests;

/// A validated Interface with its references resolved. Built only by [`crate::parse_batch`],
/// which keeps its promises: every schema is resolved, names are unique across the whole
/// `extends` hierarchy, and each component's Interface is at hand.
#[derive(Debug, Clone)]
pub struct Interface {
    pub(crate) id: Dtmi,
    pub(crate) version: DtdlVersion,
    pub(crate) display_name: LanguageMap,
    pub(crate) description: LanguageMap,
    pub(crate) extends: Vec<Dtmi>,
    pub(crate) contents: Vec<Arc<Content>>,
    pub(crate) schemas: BTreeMap<Dtmi, Schema>,
    pub(crate) members: BTreeMap<String, Member>,
    pub(crate) component_interfaces: BTreeMap<Dtmi, Arc<Interface>>,
    pub(crate) bases: BTreeSet<Dtmi>,
    pub(crate) extends_depth: usize,
    pub(crate) dependencies: BTreeSet<Dtmi>,
}

/// A content of an Interface, its own or inherited, and the Interface that declares it.
#[derive(Debug, Clone)]
pub struct Member {
    pub content: Arc<Content>,
    pub defined_in: Dtmi,
}

impl Interface {
    pub fn id(&self) -> &Dtmi {
        &self.id
    }

    pub fn version(&self) -> DtdlVersion {
        self.version
    }

    /// By language; a plain string in the model is filed under `en`, as ADT's ModelData does.
    pub fn display_name(&self) -> &LanguageMap {
        &self.display_name
    }

    pub fn description(&self) -> &LanguageMap {
        &self.description
    }

    /// The direct parents, in the order written. Inline parents have generated identifiers.
    pub fn extends(&self) -> &[Dtmi] {
        &self.extends
    }

    /// This Interface's own contents, in the order written, schemas resolved.
    pub fn contents(&self) -> impl Iterator<Item = &Content> {
        self.contents.iter().map(|content| &**content)
    }

    /// The reusable schemas this Interface declares, resolved.
    pub fn schemas(&self) -> &BTreeMap<Dtmi, Schema> {
        &self.schemas
    }

    /// Every content, own and inherited, by name.
    pub fn members(&self) -> &BTreeMap<String, Member> {
        &self.members
    }

    pub fn member(&self, name: &str) -> Option<&Content> {
        self.members.get(name).map(|member| &*member.content)
    }

    pub fn property(&self, name: &str) -> Option<&Property> {
        match self.member(name)? {
            Content::Property(property) => Some(property),
            _ => None,
        }
    }

    pub fn telemetry(&self, name: &str) -> Option<&Telemetry> {
        match self.member(name)? {
            Content::Telemetry(telemetry) => Some(telemetry),
            _ => None,
        }
    }

    pub fn relationship(&self, name: &str) -> Option<&Relationship> {
        match self.member(name)? {
            Content::Relationship(relationship) => Some(relationship),
            _ => None,
        }
    }

    pub fn component(&self, name: &str) -> Option<&Component> {
        match self.member(name)? {
            Content::Component(component) => Some(component),
            _ => None,
        }
    }

    pub fn properties(&self) -> impl Iterator<Item = &Property> {
        self.members
            .values()
            .filter_map(|member| match &*member.content {
                Content::Property(property) => Some(property),
                _ => None,
            })
    }

    pub fn relationships(&self) -> impl Iterator<Item = &Relationship> {
        self.members
            .values()
            .filter_map(|member| match &*member.content {
                Content::Relationship(relationship) => Some(relationship),
                _ => None,
            })
    }

    pub fn components(&self) -> impl Iterator<Item = &Component> {
        self.members
            .values()
            .filter_map(|member| match &*member.content {
                Content::Component(component) => Some(component),
                _ => None,
            })
    }

    /// The resolved Interface of the component `name`, own or inherited.
    pub fn component_interface(&self, name: &str) -> Option<&Arc<Interface>> {
        self.component_interfaces.get(&self.component(name)?.schema)
    }

    /// Every Interface above this one in the `extends` hierarchy, transitively.
    pub fn bases(&self) -> &BTreeSet<Dtmi> {
        &self.bases
    }

    /// Whether this Interface is `model` or derives from it: the test for relationship
    /// targets and `IS_OF_MODEL`.
    pub fn is_a(&self, model: &Dtmi) -> bool {
        self.id == *model || self.bases.contains(model)
    }

    /// Levels of `extends` above this Interface; 0 when it extends nothing.
    pub fn extends_depth(&self) -> usize {
        self.extends_depth
    }

    /// The models this one refers to directly: its parents, component schemas, relationship
    /// targets and the owners of the reusable schemas it uses. Inline Interfaces are not
    /// models, so what they refer to is counted in their stead. ADT's `dependenciesFor`
    /// follows these transitively.
    pub fn dependencies(&self) -> &BTreeSet<Dtmi> {
        &self.dependencies
    }
}
