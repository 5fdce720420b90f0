//! Schemas: the primitives of each DTDL version, the complex schemas (Array, Enum, Map,
//! Object), how they are read from a model, and how references to reusable ones are resolved.

use serde::Serialize;
use serde_json::Value;

use crate::context::DtdlVersion;
use crate::dtmi::Dtmi;

mod parse;
mod resolve;
#[cfg(test)]
mod tests;

pub(crate) use resolve::{find_array, Resolution, SchemaResolver};

/// The schema of a Property, Telemetry, Field, map value or array element.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Schema {
    Primitive(Primitive),
    Array(Box<ArraySchema>),
    Enum(Box<EnumSchema>),
    Map(Box<MapSchema>),
    Object(Box<ObjectSchema>),
    /// A reusable schema named by its `@id`. Only parsing produces it: resolution replaces
    /// every reference with the schema it names, so a resolved Interface holds none.
    Reference(Dtmi),
}

/// The primitive schemas, by their DTDL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Primitive {
    Boolean,
    Date,
    DateTime,
    Double,
    Duration,
    Float,
    Integer,
    Long,
    String,
    Time,
    // DTDL v3 only from here on.
    Byte,
    Bytes,
    Decimal,
    Short,
    UnsignedByte,
    UnsignedShort,
    UnsignedInteger,
    UnsignedLong,
    Uuid,
    Point,
    LineString,
    Polygon,
    MultiPoint,
    MultiLineString,
    MultiPolygon,
}

const V2_PRIMITIVES: [Primitive; 10] = [
    Primitive::Boolean,
    Primitive::Date,
    Primitive::DateTime,
    Primitive::Double,
    Primitive::Duration,
    Primitive::Float,
    Primitive::Integer,
    Primitive::Long,
    Primitive::String,
    Primitive::Time,
];

const V3_ADDED_PRIMITIVES: [Primitive; 15] = [
    Primitive::Byte,
    Primitive::Bytes,
    Primitive::Decimal,
    Primitive::Short,
    Primitive::UnsignedByte,
    Primitive::UnsignedShort,
    Primitive::UnsignedInteger,
    Primitive::UnsignedLong,
    Primitive::Uuid,
    Primitive::Point,
    Primitive::LineString,
    Primitive::Polygon,
    Primitive::MultiPoint,
    Primitive::MultiLineString,
    Primitive::MultiPolygon,
];

impl Primitive {
    /// The primitive `name` denotes in `version`, if any.
    pub fn from_name(name: &str, version: DtdlVersion) -> Option<Self> {
        let v3_added: &[Primitive] = match version {
            DtdlVersion::V2 => &[],
            DtdlVersion::V3 => &V3_ADDED_PRIMITIVES,
        };
        V2_PRIMITIVES
            .iter()
            .chain(v3_added)
            .copied()
            .find(|primitive| primitive.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::DateTime => "dateTime",
            Self::Double => "double",
            Self::Duration => "duration",
            Self::Float => "float",
            Self::Integer => "integer",
            Self::Long => "long",
            Self::String => "string",
            Self::Time => "time",
            Self::Byte => "byte",
            Self::Bytes => "bytes",
            Self::Decimal => "decimal",
            Self::Short => "short",
            Self::UnsignedByte => "unsignedByte",
            Self::UnsignedShort => "unsignedShort",
            Self::UnsignedInteger => "unsignedInteger",
            Self::UnsignedLong => "unsignedLong",
            Self::Uuid => "uuid",
            Self::Point => "point",
            Self::LineString => "lineString",
            Self::Polygon => "polygon",
            Self::MultiPoint => "multiPoint",
            Self::MultiLineString => "multiLineString",
            Self::MultiPolygon => "multiPolygon",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArraySchema {
    pub id: Option<Dtmi>,
    pub element: Schema,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnumSchema {
    pub id: Option<Dtmi>,
    pub value_schema: EnumValueSchema,
    pub values: Vec<EnumValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EnumValueSchema {
    Integer,
    String,
}

impl EnumValueSchema {
    pub fn name(self) -> &'static str {
        match self {
            Self::Integer => "integer",
            Self::String => "string",
        }
    }
}

/// One `enumValues` entry. `value` is a JSON integer or string, as `valueSchema` says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnumValue {
    pub name: String,
    pub value: Value,
}

/// Map keys are always strings; `key_name` and `value_name` only label them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapSchema {
    pub id: Option<Dtmi>,
    pub key_name: String,
    pub value_name: String,
    pub value: Schema,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectSchema {
    pub id: Option<Dtmi>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    pub schema: Schema,
}
