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

use limits::{NESTING_DEPTH_MAX, QUERY_CHARS_MAX};
use parse::{Failure, Reason};

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
    let failure = match error {
        ErrMode::Backtrack(failure) | ErrMode::Cut(failure) => failure,
        // Only partial input can be incomplete, and the whole text is always given.
        ErrMode::Incomplete(_) => Failure {
            rest_bytes: 0,
            reason: Reason::Expected(Vec::new()),
        },
    };
    let read_bytes = text.len().saturating_sub(failure.rest_bytes);
    let position = text
        .get(..read_bytes)
        .map_or(0, |read| read.chars().count())
        + 1;
    match failure.reason {
        Reason::TooDeep => QueryError::NestingTooDeep {
            position,
            depth_max: NESTING_DEPTH_MAX,
        },
        Reason::Expected(values) => QueryError::Syntax {
            position,
            expected: one_of(values.iter().map(ToString::to_string).collect()),
        },
    }
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(mut items: Vec<String>) -> String {
    match items.pop() {
        None => "a valid query".to_owned(),
        Some(last) if items.is_empty() => last,
        Some(last) => format!("{} or {last}", items.join(", ")),
    }
}
