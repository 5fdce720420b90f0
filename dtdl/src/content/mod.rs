//! The contents of an Interface: Properties, Telemetry, Relationships, Components and
//! Commands, and how they are read from a model.

use serde::Serialize;

use crate::dtmi::Dtmi;
use crate::schema::Schema;
use crate::text::LanguageMap;

pub(crate) mod parse;

/// One entry of an Interface's `contents`. Names are unique across all kinds, inherited ones
/// included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Content {
    Property(Property),
    Telemetry(Telemetry),
    Relationship(Relationship),
    Component(Component),
    /// ADT accepts Commands in models but never invokes them.
    Command(Command),
}

impl Content {
    pub fn name(&self) -> &str {
        match self {
            Self::Property(property) => &property.name,
            Self::Telemetry(telemetry) => &telemetry.name,
            Self::Relationship(relationship) => &relationship.name,
            Self::Component(component) => &component.name,
            Self::Command(command) => &command.name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Property(_) => "Property",
            Self::Telemetry(_) => "Telemetry",
            Self::Relationship(_) => "Relationship",
            Self::Component(_) => "Component",
            Self::Command(_) => "Command",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Property {
    pub name: String,
    pub id: Option<Dtmi>,
    pub schema: Schema,
    /// Defaults to false. ADT does not enforce it: services may write any Property.
    pub writable: bool,
    /// Semantic and extension types beside `Property`, such as `Temperature` or `Historized`.
    pub co_types: Vec<String>,
    pub unit: Option<String>,
    pub display_name: LanguageMap,
    pub description: LanguageMap,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Telemetry {
    pub name: String,
    pub id: Option<Dtmi>,
    pub schema: Schema,
    pub co_types: Vec<String>,
    pub unit: Option<String>,
    pub display_name: LanguageMap,
    pub description: LanguageMap,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relationship {
    pub name: String,
    pub id: Option<Dtmi>,
    /// The Interface a target twin must be (or derive from); any twin when absent.
    pub target: Option<Dtmi>,
    pub properties: Vec<Property>,
    /// Always 0 when given: DTDL allows nothing else.
    pub min_multiplicity: Option<u64>,
    pub max_multiplicity: Option<u64>,
    pub writable: bool,
    pub display_name: LanguageMap,
    pub description: LanguageMap,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    pub name: String,
    pub id: Option<Dtmi>,
    /// The Interface of the component; an inline one gets an identifier made from its parent's.
    pub schema: Dtmi,
    pub display_name: LanguageMap,
    pub description: LanguageMap,
}

/// Kept so names stay unique and schemas are checked; ADT serves no Command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Command {
    pub name: String,
    pub id: Option<Dtmi>,
    pub request: Option<Schema>,
    pub response: Option<Schema>,
    pub display_name: LanguageMap,
    pub description: LanguageMap,
}
