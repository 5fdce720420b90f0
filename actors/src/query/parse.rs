//! The grammar, as winnow parsers over the query text. It yields an unresolved [`Query`]: every
//! path's segments are as written, and [`super::check`] then resolves aliases and applies ADT's
//! semantic rules.
//!
//! Tokens and errors are [`crate::grammar`]'s; `cut_err` after a committing token (`WHERE`, `AND`, `(`, an operator) keeps a
//! later `opt` or `repeat` from backtracking over the real mistake.

use winnow::ascii::{digit1, multispace0};
use winnow::combinator::{
    alt, cut_err, delimited, eof, opt, preceded, repeat, separated, terminated,
};
use winnow::error::{StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::token::one_of;

use super::ast::{
    Collection, CompareOp, Expr, Join, Literal, Path, Projection, Query, Select, SelectItem,
    Source, StringMatch, TypeCheck,
};
use super::limits::NESTING_DEPTH_MAX;
use crate::grammar::{
    described, identifier, keyword, string, symbol, Boolean, Failure, Input, Parsed,
};

/// Words that end a clause, so they can never be taken for an alias.
const RESERVED: [&str; 18] = [
    "SELECT",
    "TOP",
    "COUNT",
    "FROM",
    "DIGITALTWINS",
    "RELATIONSHIPS",
    "AS",
    "JOIN",
    "RELATED",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "NIN",
    "TRUE",
    "FALSE",
    "NULL",
];

const TYPE_CHECKS: [(&str, TypeCheck); 7] = [
    ("IS_DEFINED", TypeCheck::Defined),
    ("IS_BOOL", TypeCheck::Bool),
    ("IS_NUMBER", TypeCheck::Number),
    ("IS_STRING", TypeCheck::String),
    ("IS_NULL", TypeCheck::Null),
    ("IS_PRIMITIVE", TypeCheck::Primitive),
    ("IS_OBJECT", TypeCheck::Object),
];

const STRING_MATCHES: [(&str, StringMatch); 3] = [
    ("STARTSWITH", StringMatch::StartsWith),
    ("ENDSWITH", StringMatch::EndsWith),
    ("CONTAINS", StringMatch::Contains),
];

/// Parses the whole text. The paths in the result are not yet resolved.
pub(super) fn query(input: &mut Input<'_>) -> Parsed<Query> {
    let select = select.parse_next(input)?;
    let source = source.parse_next(input)?;
    let joins: Vec<Join> = repeat(0.., join).parse_next(input)?;
    let filter = opt(preceded(
        keyword("WHERE"),
        cut_err(|i: &mut Input<'_>| CONDITION.or_expr(i, 0)),
    ))
    .parse_next(input)?;
    let end = if filter.is_some() {
        "`AND`, `OR` or the end of the query"
    } else {
        "`JOIN`, `WHERE` or the end of the query"
    };
    preceded(multispace0, eof)
        .context(StrContext::Expected(StrContextValue::Description(end)))
        .parse_next(input)?;
    Ok(Query {
        select,
        source,
        joins,
        filter,
    })
}

fn select(input: &mut Input<'_>) -> Parsed<Select> {
    keyword("SELECT").parse_next(input)?;
    let top = opt(preceded(
        keyword("TOP"),
        cut_err(delimited(
            symbol("("),
            preceded(multispace0, digit1.parse_to::<u64>())
                .context(described("a count of results")),
            symbol(")"),
        )),
    ))
    .parse_next(input)?;
    let projection = alt((
        symbol("*").value(Projection::All),
        (keyword("COUNT"), symbol("("), cut_err(symbol(")"))).value(Projection::Count),
        separated(1.., select_item, symbol(",")).map(Projection::Items),
    ))
    .parse_next(input)?;
    Ok(Select { top, projection })
}

fn select_item(input: &mut Input<'_>) -> Parsed<SelectItem> {
    let path = path.parse_next(input)?;
    let name = opt(preceded(
        keyword("AS"),
        cut_err(preceded(multispace0, identifier).context(described("a name"))),
    ))
    .parse_next(input)?;
    Ok(SelectItem { path, name })
}

fn source(input: &mut Input<'_>) -> Parsed<Source> {
    keyword("FROM").parse_next(input)?;
    let collection = alt((
        keyword("DIGITALTWINS").value(Collection::DigitalTwins),
        keyword("RELATIONSHIPS").value(Collection::Relationships),
    ))
    .parse_next(input)?;
    let alias = alt((
        preceded(keyword("AS"), cut_err(alias)).map(Some),
        opt(alias),
    ))
    .parse_next(input)?;
    Ok(Source { collection, alias })
}

fn join(input: &mut Input<'_>) -> Parsed<Join> {
    keyword("JOIN").parse_next(input)?;
    let (target, _, source, _, relationship, relationship_alias) = cut_err((
        alias,
        keyword("RELATED"),
        alias,
        symbol("."),
        identifier.context(described("a relationship name")),
        opt(alias),
    ))
    .parse_next(input)?;
    Ok(Join {
        target,
        source,
        relationship,
        relationship_alias,
    })
}

/// A WHERE condition: the shared boolean skeleton over ADT's predicates and functions.
const CONDITION: Boolean<Expr> = Boolean {
    depth_max: NESTING_DEPTH_MAX,
    leaf: condition_leaf,
    and: Expr::And,
    or: Expr::Or,
    not: Expr::Not,
};

fn condition_leaf(input: &mut Input<'_>) -> Parsed<Expr> {
    alt((function, predicate)).parse_next(input)
}

fn function(input: &mut Input<'_>) -> Parsed<Expr> {
    let start = *input;
    let name = preceded(multispace0, identifier).parse_next(input)?;
    let name = name.to_ascii_uppercase();
    let type_check = TYPE_CHECKS.iter().find(|(n, _)| *n == name);
    let string_match = STRING_MATCHES.iter().find(|(n, _)| *n == name);
    let known = type_check.is_some()
        || string_match.is_some()
        || name == "IS_OF_MODEL"
        || name == "ARRAY_CONTAINS";
    if !known {
        return Err(Failure::expected(start.trim_start(), "a function"));
    }
    // Without `(` this may still be a property that shares a function's name.
    symbol("(").parse_next(input)?;
    let expr = if let Some((_, check)) = type_check {
        let path = cut_err(path).parse_next(input)?;
        Expr::TypeCheck {
            check: *check,
            path,
        }
    } else if let Some((_, test)) = string_match {
        let (path, _, pattern) = cut_err((path, symbol(","), string)).parse_next(input)?;
        Expr::StringMatch {
            test: *test,
            path,
            pattern,
        }
    } else if name == "ARRAY_CONTAINS" {
        let (path, _, value) = cut_err((path, symbol(","), literal)).parse_next(input)?;
        Expr::ArrayContains { path, value }
    } else {
        cut_err(is_of_model_args).parse_next(input)?
    };
    cut_err(symbol(")")).parse_next(input)?;
    Ok(expr)
}

fn is_of_model_args(input: &mut Input<'_>) -> Parsed<Expr> {
    let alias =
        opt(terminated(preceded(multispace0, identifier), symbol(","))).parse_next(input)?;
    let model = string.parse_next(input)?;
    let exact = opt((symbol(","), cut_err(keyword("EXACT"))))
        .parse_next(input)?
        .is_some();
    Ok(Expr::IsOfModel {
        alias,
        model,
        exact,
    })
}

/// What follows a path in a condition.
enum Test {
    Compare(CompareOp, Literal),
    In(Vec<Literal>, bool),
}

fn predicate(input: &mut Input<'_>) -> Parsed<Expr> {
    let path = path.parse_next(input)?;
    let test = alt((
        (compare_op, cut_err(literal)).map(|(op, value)| Test::Compare(op, value)),
        preceded(keyword("IN"), cut_err(list)).map(|values| Test::In(values, false)),
        preceded(keyword("NIN"), cut_err(list)).map(|values| Test::In(values, true)),
    ))
    .parse_next(input)?;
    Ok(match test {
        Test::Compare(op, value) => Expr::Compare { path, op, value },
        Test::In(values, negated) => Expr::In {
            path,
            values,
            negated,
        },
    })
}

fn compare_op(input: &mut Input<'_>) -> Parsed<CompareOp> {
    // Two-character operators first, so `<=` is not read as `<` then `=`.
    alt((
        symbol(">=").value(CompareOp::Ge),
        symbol("<=").value(CompareOp::Le),
        symbol("!=").value(CompareOp::Ne),
        symbol("=").value(CompareOp::Eq),
        symbol("<").value(CompareOp::Lt),
        symbol(">").value(CompareOp::Gt),
    ))
    .parse_next(input)
}

fn list(input: &mut Input<'_>) -> Parsed<Vec<Literal>> {
    delimited(
        symbol("["),
        cut_err(separated(1.., literal, symbol(","))),
        cut_err(symbol("]")),
    )
    .parse_next(input)
}

fn literal(input: &mut Input<'_>) -> Parsed<Literal> {
    alt((
        string.map(Literal::String),
        number.map(Literal::Number),
        keyword("TRUE").value(Literal::Bool(true)),
        keyword("FALSE").value(Literal::Bool(false)),
        keyword("NULL").value(Literal::Null),
    ))
    .parse_next(input)
}

fn number(input: &mut Input<'_>) -> Parsed<f64> {
    preceded(
        multispace0,
        (
            opt("-"),
            digit1,
            opt((".", digit1)),
            opt((one_of(['e', 'E']), opt(one_of(['+', '-'])), digit1)),
        )
            .take()
            // `1e999` is syntactically a number but not one JSON can hold.
            .verify_map(|text: &str| text.parse::<f64>().ok().filter(|n| n.is_finite())),
    )
    .context(described("a number"))
    .parse_next(input)
}

/// Segments separated by dots, with no space between: `T.comp.prop`, `$metadata.$model`.
/// The first is never a reserved word, so `SELECT FROM` does not read `FROM` as a property.
fn path(input: &mut Input<'_>) -> Parsed<Path> {
    let first = preceded(
        multispace0,
        identifier.verify(|name: &String| !is_reserved(name)),
    )
    .context(described("a property path"))
    .parse_next(input)?;
    let rest: Vec<String> = repeat(0.., preceded(".", identifier)).parse_next(input)?;
    let mut segments = vec![first];
    segments.extend(rest);
    Ok(Path {
        alias: None,
        segments,
    })
}

/// A name that is not a reserved word, so `FROM DIGITALTWINS WHERE` has no alias `WHERE`.
fn alias(input: &mut Input<'_>) -> Parsed<String> {
    preceded(multispace0, identifier)
        .verify(|name: &String| {
            !name.starts_with('$') && !RESERVED.iter().any(|word| word.eq_ignore_ascii_case(name))
        })
        .context(described("an alias"))
        .parse_next(input)
}

fn is_reserved(name: &str) -> bool {
    RESERVED.iter().any(|word| word.eq_ignore_ascii_case(name))
}
