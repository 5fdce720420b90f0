//! [`QueryError`]: why a query was refused, in ADT's terms.

use thiserror::Error;

/// A query that cannot run. Every variant is ADT's `SqlQueryError`, a 400.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The text does not follow the grammar. `position` counts characters from 1.
    #[error("position {position}: expected {expected}")]
    Syntax { position: usize, expected: String },
    #[error("query is {chars} characters long; the limit is {chars_max}")]
    TooLong { chars: usize, chars_max: usize },
    #[error("query has {count} AND/OR operators; the limit is {and_or_max}")]
    TooManyAndOr { count: usize, and_or_max: usize },
    #[error("query has {count} JOINs; the limit is {joins_max}")]
    TooManyJoins { count: usize, joins_max: usize },
    #[error("position {position}: parentheses and NOT nest deeper than {depth_max}")]
    NestingTooDeep { position: usize, depth_max: usize },
    #[error("unknown alias `{alias}`; declared aliases: {declared}")]
    UnknownAlias { alias: String, declared: String },
    #[error("alias `{alias}` is declared twice")]
    DuplicateAlias { alias: String },
    #[error("JOIN RELATED {alias}.{relationship}: `{alias}` must be a twin alias declared before this JOIN (the FROM DIGITALTWINS alias or an earlier JOIN's target)")]
    InvalidJoinSource { alias: String, relationship: String },
    #[error("`{name}` is selected twice; give one of them another name with AS")]
    DuplicateOutputName { name: String },
    #[error("IS_OF_MODEL applies to twins, and `{alias}` stands for relationships")]
    IsOfModelOnRelationship { alias: String },
    #[error("SELECT * is not allowed with JOIN; name the aliases to return")]
    SelectAllWithJoin,
    #[error("JOIN is only allowed FROM DIGITALTWINS")]
    JoinFromRelationships,
    #[error("a JOIN needs a filter on {root}.$dtId (= or IN) in WHERE")]
    JoinWithoutDtIdFilter { root: String },
}

impl QueryError {
    /// ADT's error code, for the body and `x-ms-error-code`.
    pub fn code(&self) -> &'static str {
        "SqlQueryError"
    }

    /// The HTTP status ADT answers with.
    pub fn status(&self) -> u16 {
        400
    }
}
