//! The filter grammar (see the module above), as winnow parsers over the filter text, built from
//! [`crate::grammar`]'s tokens. `cut_err` after a committing token (`AND`, `(`, an operator)
//! keeps an enclosing alternative from backtracking over the real mistake.

use winnow::ascii::multispace0;
use winnow::combinator::{alt, cut_err, eof, preceded};
use winnow::prelude::*;

use super::{Attribute, Condition, FILTER_NESTING_MAX};
use crate::grammar::{described, identifier, keyword, string, symbol, Boolean, Input, Parsed};

/// Parses the whole text.
pub(super) fn filter(input: &mut Input<'_>) -> Parsed<Condition> {
    let condition = CONDITION.or_expr(input, 0)?;
    preceded(multispace0, eof)
        .context(described("`AND`, `OR` or the end of the filter"))
        .parse_next(input)?;
    Ok(condition)
}

/// The shared boolean skeleton over the filter's comparisons and functions.
const CONDITION: Boolean<Condition> = Boolean {
    depth_max: FILTER_NESTING_MAX,
    leaf,
    and: Condition::And,
    or: Condition::Or,
    not: Condition::Not,
};

fn leaf(input: &mut Input<'_>) -> Parsed<Condition> {
    alt((
        keyword("TRUE").value(Condition::Constant(true)),
        keyword("FALSE").value(Condition::Constant(false)),
        function,
        comparison,
    ))
    .parse_next(input)
}

/// `STARTS_WITH(attribute, 'text')` or `ENDS_WITH(attribute, 'text')`.
fn function(input: &mut Input<'_>) -> Parsed<Condition> {
    let starts = alt((
        keyword("STARTS_WITH").value(true),
        keyword("ENDS_WITH").value(false),
    ))
    .parse_next(input)?;
    let (_, attribute, _, text, _) =
        cut_err((symbol("("), attribute, symbol(","), string, symbol(")"))).parse_next(input)?;
    Ok(if starts {
        Condition::StartsWith {
            attribute,
            prefix: text,
        }
    } else {
        Condition::EndsWith {
            attribute,
            suffix: text,
        }
    })
}

/// `attribute = 'text'` or `attribute != 'text'`.
fn comparison(input: &mut Input<'_>) -> Parsed<Condition> {
    let attribute = attribute.parse_next(input)?;
    let negated =
        cut_err(alt((symbol("!=").value(true), symbol("=").value(false)))).parse_next(input)?;
    let value = cut_err(string).parse_next(input)?;
    Ok(Condition::Equals {
        attribute,
        value,
        negated,
    })
}

fn attribute(input: &mut Input<'_>) -> Parsed<Attribute> {
    preceded(
        multispace0,
        identifier.verify_map(|name: String| {
            Attribute::ALL
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(&name))
                .map(|(_, attribute)| *attribute)
        }),
    )
    .context(described(
        "an attribute: type, source, subject, id, dataschema, datacontenttype or specversion",
    ))
    .parse_next(input)
}
