//! ADT's event-route filter language: which [`CloudEvent`]s a route (or a feed reader) wants.
//!
//! ```text
//! filter     := or
//! or         := and (OR and)*
//! and        := unary (AND unary)*
//! unary      := NOT unary | '(' or ')' | TRUE | FALSE
//!             | STARTS_WITH '(' attribute ',' string ')'
//!             | ENDS_WITH '(' attribute ',' string ')'
//!             | attribute ('=' | '!=') string
//! attribute  := type | source | subject | id | dataschema | datacontenttype | specversion
//! ```
//!
//! Keywords, functions and attribute names are case-insensitive; strings are quoted with `'`
//! or `"`, with JSON's escapes, and compare case-sensitively. An attribute the event does not
//! carry (`dataschema` outside telemetry) equals nothing: `=` and the functions are false on it,
//! `!=` is true.

mod parse;
#[cfg(test)]
mod tests;

use thiserror::Error;
use winnow::Parser;

use super::event::{CloudEvent, SPEC_VERSION};
use crate::grammar::{any_of, locate, Reason};

/// The longest filter accepted, in characters. ADT documents no figure; this one is ours, the
/// same as the query language's.
pub const FILTER_CHARS_MAX: usize = 8_000;

/// How deep parentheses and `NOT`s may nest: the parser and [`Filter::matches`] recurse once
/// per level, so the bound keeps their stacks small whatever the text.
pub const FILTER_NESTING_MAX: usize = 32;

/// A parsed route filter. Parse once, then test each event with [`Filter::matches`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    condition: Condition,
}

/// A CloudEvents attribute that a filter may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attribute {
    Type,
    Source,
    Subject,
    Id,
    DataSchema,
    DataContentType,
    SpecVersion,
}

impl Attribute {
    pub(crate) const ALL: [(&'static str, Attribute); 7] = [
        ("type", Attribute::Type),
        ("source", Attribute::Source),
        ("subject", Attribute::Subject),
        ("id", Attribute::Id),
        ("dataschema", Attribute::DataSchema),
        ("datacontenttype", Attribute::DataContentType),
        ("specversion", Attribute::SpecVersion),
    ];

    fn of(self, event: &CloudEvent) -> Option<&str> {
        match self {
            Attribute::Type => Some(event.event_type),
            Attribute::Source => Some(&event.source),
            Attribute::Subject => Some(&event.subject),
            Attribute::Id => Some(&event.id),
            Attribute::DataSchema => event.dataschema.as_deref(),
            Attribute::DataContentType => Some(event.datacontenttype),
            Attribute::SpecVersion => Some(SPEC_VERSION),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    Constant(bool),
    Equals {
        attribute: Attribute,
        value: String,
        negated: bool,
    },
    StartsWith {
        attribute: Attribute,
        prefix: String,
    },
    EndsWith {
        attribute: Attribute,
        suffix: String,
    },
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    fn matches(&self, event: &CloudEvent) -> bool {
        match self {
            Condition::Constant(value) => *value,
            Condition::Equals {
                attribute,
                value,
                negated,
            } => (attribute.of(event) == Some(value.as_str())) != *negated,
            Condition::StartsWith { attribute, prefix } => attribute
                .of(event)
                .is_some_and(|text| text.starts_with(prefix.as_str())),
            Condition::EndsWith { attribute, suffix } => attribute
                .of(event)
                .is_some_and(|text| text.ends_with(suffix.as_str())),
            Condition::And(all) => all.iter().all(|condition| condition.matches(event)),
            Condition::Or(any) => any.iter().any(|condition| condition.matches(event)),
            Condition::Not(inner) => !inner.matches(event),
        }
    }
}

/// A filter that cannot be used; the HTTP layer answers `EventRouteFilterInvalid` (400).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The text does not follow the grammar. `position` counts characters from 1.
    #[error("position {position}: expected {expected}")]
    Syntax { position: usize, expected: String },
    #[error("position {position}: parentheses and NOT nest deeper than {depth_max}")]
    NestingTooDeep { position: usize, depth_max: usize },
    #[error("filter is {chars} characters long; the limit is {chars_max}")]
    TooLong { chars: usize, chars_max: usize },
}

impl FilterError {
    /// ADT's error code, for the body and `x-ms-error-code`.
    pub fn code(&self) -> &'static str {
        "EventRouteFilterInvalid"
    }
}

impl Filter {
    /// Parses a filter. Any text, however malformed, gets an error, never a panic.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let chars = text.chars().count();
        if chars > FILTER_CHARS_MAX {
            return Err(FilterError::TooLong {
                chars,
                chars_max: FILTER_CHARS_MAX,
            });
        }
        let mut rest = text;
        let condition =
            parse::filter
                .parse_next(&mut rest)
                .map_err(|error| match locate(text, error) {
                    (position, Reason::TooDeep) => FilterError::NestingTooDeep {
                        position,
                        depth_max: FILTER_NESTING_MAX,
                    },
                    (position, Reason::Expected(values)) => FilterError::Syntax {
                        position,
                        expected: any_of(&values, "a valid filter"),
                    },
                })?;
        Ok(Filter { condition })
    }

    /// The filter `true`: every event.
    pub fn everything() -> Filter {
        Filter {
            condition: Condition::Constant(true),
        }
    }

    pub fn matches(&self, event: &CloudEvent) -> bool {
        self.condition.matches(event)
    }
}
