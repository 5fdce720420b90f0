//! The parsed query. Paths are resolved: after [`super::parse`], a [`Path`]'s alias is one the
//! query declares, or `None` when `FROM` declares none and paths are relative to each document.

/// `SELECT ... FROM ... [JOIN ...]* [WHERE ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Select,
    pub source: Source,
    pub joins: Vec<Join>,
    pub filter: Option<Expr>,
}

/// What each result holds, and how many results at most.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// `TOP(n)`.
    pub top: Option<u64>,
    pub projection: Projection,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// `*`: whole documents.
    All,
    /// `COUNT()`: one `{"COUNT": n}`.
    Count,
    /// `T, T.name AS n, R`: one object per result, keyed by alias, property or `AS` name.
    Items(Vec<SelectItem>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    pub path: Path,
    /// `AS name`.
    pub name: Option<String>,
}

impl SelectItem {
    /// The key of the item in each result: its `AS` name, else the path's last segment, else
    /// its alias (`SELECT T` gives `{"T": ...}`).
    pub fn output_name(&self) -> &str {
        self.name
            .as_deref()
            .or(self.path.segments.last().map(String::as_str))
            .or(self.path.alias.as_deref())
            .unwrap_or_default()
    }
}

/// `FROM DIGITALTWINS [AS] [alias]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub collection: Collection,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    DigitalTwins,
    Relationships,
}

/// `JOIN target RELATED source.relationship [relationship_alias]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub target: String,
    pub source: String,
    pub relationship: String,
    pub relationship_alias: Option<String>,
}

/// `T.comp.prop`, `T.$dtId`, `T.$metadata.$model`, or a bare `name` when `FROM` has no alias.
/// An empty `segments` is the aliased document itself (`SELECT T`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub alias: Option<String>,
    pub segments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    Number(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// `IS_DEFINED`, `IS_BOOL`, ...: one-argument type tests on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeCheck {
    Defined,
    Bool,
    Number,
    String,
    Null,
    Primitive,
    Object,
}

/// `STARTSWITH`, `ENDSWITH`, `CONTAINS`: string tests of a path against a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMatch {
    StartsWith,
    EndsWith,
    Contains,
}

/// A `WHERE` condition. `AND` and `OR` chains are flat, so a long chain costs no recursion.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        path: Path,
        op: CompareOp,
        value: Literal,
    },
    /// `IN [..]`, or `NIN [..]` when `negated`.
    In {
        path: Path,
        values: Vec<Literal>,
        negated: bool,
    },
    /// `IS_OF_MODEL([alias,] 'dtmi' [, exact])`: follows `extends` unless `exact`.
    IsOfModel {
        alias: Option<String>,
        model: String,
        exact: bool,
    },
    TypeCheck {
        check: TypeCheck,
        path: Path,
    },
    StringMatch {
        test: StringMatch,
        path: Path,
        pattern: String,
    },
    ArrayContains {
        path: Path,
        value: Literal,
    },
}
