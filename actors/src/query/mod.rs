//! ADT's query language: the text of `POST /query`, parsed and checked into a [`Query`].
//!
//! This module owns the grammar ([`parse`]), the AST ([`ast`]), ADT's limits ([`limits`]) and
//! the `SqlQueryError`s a query can earn ([`QueryError`]). It does not run queries: the read
//! model evaluates a [`Query`] against its indexes.
//!
//! [`parse`] runs in three steps: the length limit, then the grammar (winnow, `parse.rs`), then
//! ADT's semantic rules and alias resolution (`check.rs`).

pub mod ast;
mod check;
mod error;
pub mod limits;
mod parse;
#[cfg(test)]
mod tests;

pub use ast::Query;
pub use error::QueryError;

use winnow::error::ErrMode;
use winnow::Parser;

use crate::grammar::{any_of, locate, Failure, Reason};
use limits::{NESTING_DEPTH_MAX, QUERY_CHARS_MAX};

/// Parses and checks one query. Any input, however malformed, gets an error, never a panic.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let chars = text.chars().count();
    if chars > QUERY_CHARS_MAX {
        return Err(QueryError::TooLong {
            chars,
            chars_max: QUERY_CHARS_MAX,
        });
    }
    let mut rest = text;
    let mut query = parse::query
        .parse_next(&mut rest)
        .map_err(|error| syntax_error(text, error))?;
    check::check(&mut query)?;
    Ok(query)
}

fn syntax_error(text: &str, error: ErrMode<Failure>) -> QueryError {
    match locate(text, error) {
        (position, Reason::TooDeep) => QueryError::NestingTooDeep {
            position,
            depth_max: NESTING_DEPTH_MAX,
        },
        (position, Reason::Expected(values)) => QueryError::Syntax {
            position,
            expected: any_of(&values, "a valid query"),
        },
    }
}
