//! `WHERE` conditions: the supported subset of [`Expr`] made ready to run, and their
//! three-valued evaluation against one twin.

use std::cmp::Ordering;

use serde_json::Value;
use twinlog_dtdl::Dtmi;

use super::unsupported;
use crate::query::ast::{CompareOp, Expr, Literal, Path};
use crate::read_model::{EvalError, ReadModel};

/// A `WHERE` condition ready to run: the supported subset, with its DTMIs parsed.
pub(super) enum Condition<'q> {
    All(Vec<Condition<'q>>),
    Any(Vec<Condition<'q>>),
    Not(Box<Condition<'q>>),
    Compare {
        path: &'q Path,
        op: CompareOp,
        value: &'q Literal,
    },
    In {
        path: &'q Path,
        values: &'q [Literal],
        negated: bool,
    },
    OfModel {
        model: Dtmi,
        exact: bool,
    },
}

/// A twin being checked: its document, and its own model.
pub(super) struct Candidate<'a> {
    pub(super) document: Value,
    pub(super) model: &'a Dtmi,
}

impl<'q> Condition<'q> {
    pub(super) fn compile(expr: &'q Expr) -> Result<Condition<'q>, EvalError> {
        let each = |terms: &'q [Expr]| {
            terms
                .iter()
                .map(Condition::compile)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match expr {
            Expr::And(terms) => Condition::All(each(terms)?),
            Expr::Or(terms) => Condition::Any(each(terms)?),
            Expr::Not(inner) => Condition::Not(Box::new(Condition::compile(inner)?)),
            Expr::Compare { path, op, value } => Condition::Compare {
                path,
                op: *op,
                value,
            },
            Expr::In {
                path,
                values,
                negated,
            } => Condition::In {
                path,
                values,
                negated: *negated,
            },
            Expr::IsOfModel { model, exact, .. } => Condition::OfModel {
                model: model.parse().map_err(|source| EvalError::InvalidModel {
                    model: model.clone(),
                    source,
                })?,
                exact: *exact,
            },
            Expr::TypeCheck { .. } => return Err(unsupported("IS_DEFINED and the type checks")),
            Expr::StringMatch { .. } => {
                return Err(unsupported("STARTSWITH, ENDSWITH and CONTAINS"))
            }
            Expr::ArrayContains { .. } => return Err(unsupported("ARRAY_CONTAINS")),
        })
    }

    /// Whether `candidate` meets the condition: `None` when that is undefined.
    pub(super) fn holds(&self, read_model: &ReadModel, candidate: &Candidate<'_>) -> Option<bool> {
        match self {
            Condition::All(terms) => {
                all(terms.iter().map(|term| term.holds(read_model, candidate)))
            }
            Condition::Any(terms) => {
                any(terms.iter().map(|term| term.holds(read_model, candidate)))
            }
            Condition::Not(inner) => inner.holds(read_model, candidate).map(|held| !held),
            Condition::Compare { path, op, value } => {
                compare(lookup(&candidate.document, path)?, *op, value)
            }
            Condition::In {
                path,
                values,
                negated,
            } => {
                // `IN` is an `OR` of equalities, so a list of the wrong type is undefined.
                let found = lookup(&candidate.document, path)?;
                let listed = any(values
                    .iter()
                    .map(|value| compare(found, CompareOp::Eq, value)));
                listed.map(|listed| listed != *negated)
            }
            Condition::OfModel { model, exact } => {
                Some(read_model.is_of_model(candidate.model, model, *exact))
            }
        }
    }
}

/// Three-valued `AND`: one false term decides; otherwise an undefined term makes it undefined.
fn all(terms: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    combine(terms, false)
}

/// Three-valued `OR`: one true term decides; otherwise an undefined term makes it undefined.
fn any(terms: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    combine(terms, true)
}

fn combine(terms: impl Iterator<Item = Option<bool>>, decisive: bool) -> Option<bool> {
    let mut combined = Some(!decisive);
    for term in terms {
        match term {
            Some(held) if held == decisive => return Some(decisive),
            Some(_) => {}
            None => combined = None,
        }
    }
    combined
}

/// The value at `path` in `document`; the document itself for an empty path.
pub(super) fn lookup<'d>(document: &'d Value, path: &Path) -> Option<&'d Value> {
    path.segments
        .iter()
        .try_fold(document, |value, segment| value.get(segment.as_str()))
}

/// `found op value`: `None` (undefined) for values of different types.
fn compare(found: &Value, op: CompareOp, value: &Literal) -> Option<bool> {
    let ordering = match (found, value) {
        (Value::Number(found), Literal::Number(value)) => {
            found.as_f64().and_then(|found| found.partial_cmp(value))
        }
        (Value::String(found), Literal::String(value)) => Some(found.as_str().cmp(value)),
        (Value::Bool(found), Literal::Bool(value)) => Some(found.cmp(value)),
        (Value::Null, Literal::Null) => Some(Ordering::Equal),
        _ => None,
    }?;
    Some(match op {
        CompareOp::Eq => ordering.is_eq(),
        CompareOp::Ne => ordering.is_ne(),
        CompareOp::Lt => ordering.is_lt(),
        CompareOp::Gt => ordering.is_gt(),
        CompareOp::Le => ordering.is_le(),
        CompareOp::Ge => ordering.is_ge(),
    })
}
