//! `WHERE` conditions: an [`Expr`] with its aliases resolved to row slots and its DTMIs parsed,
//! and its three-valued evaluation against one row.

use std::cmp::Ordering;

use serde_json::Value;
use twinlog_dtdl::Dtmi;

use super::row::{Entity, Field, Slots};
use crate::query::ast::{CompareOp, Expr, Literal, StringMatch, TypeCheck};
use crate::read_model::{EvalError, ReadModel};

/// A `WHERE` condition ready to run.
pub(super) enum Condition<'q> {
    All(Vec<Condition<'q>>),
    Any(Vec<Condition<'q>>),
    Not(Box<Condition<'q>>),
    Compare {
        field: Field<'q>,
        op: CompareOp,
        value: &'q Literal,
    },
    In {
        field: Field<'q>,
        values: &'q [Literal],
        negated: bool,
    },
    OfModel {
        slot: usize,
        model: Dtmi,
        exact: bool,
    },
    TypeCheck {
        check: TypeCheck,
        field: Field<'q>,
    },
    StringMatch {
        test: StringMatch,
        field: Field<'q>,
        pattern: &'q str,
    },
    ArrayContains {
        field: Field<'q>,
        value: &'q Literal,
    },
}

impl<'q> Condition<'q> {
    pub(super) fn compile(expr: &'q Expr, slots: &Slots<'q>) -> Result<Condition<'q>, EvalError> {
        let each = |terms: &'q [Expr]| {
            terms
                .iter()
                .map(|term| Condition::compile(term, slots))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match expr {
            Expr::And(terms) => Condition::All(each(terms)?),
            Expr::Or(terms) => Condition::Any(each(terms)?),
            Expr::Not(inner) => Condition::Not(Box::new(Condition::compile(inner, slots)?)),
            Expr::Compare { path, op, value } => Condition::Compare {
                field: slots.field(path)?,
                op: *op,
                value,
            },
            Expr::In {
                path,
                values,
                negated,
            } => Condition::In {
                field: slots.field(path)?,
                values,
                negated: *negated,
            },
            Expr::IsOfModel {
                alias,
                model,
                exact,
            } => Condition::OfModel {
                slot: slots.slot(alias.as_deref())?,
                model: model.parse().map_err(|source| EvalError::InvalidModel {
                    model: model.clone(),
                    source,
                })?,
                exact: *exact,
            },
            Expr::TypeCheck { check, path } => Condition::TypeCheck {
                check: *check,
                field: slots.field(path)?,
            },
            Expr::StringMatch {
                test,
                path,
                pattern,
            } => Condition::StringMatch {
                test: *test,
                field: slots.field(path)?,
                pattern,
            },
            Expr::ArrayContains { path, value } => Condition::ArrayContains {
                field: slots.field(path)?,
                value,
            },
        })
    }

    /// The highest row slot the condition reads: it can be checked once that slot is bound.
    pub(super) fn last_slot(&self) -> usize {
        match self {
            Condition::All(terms) | Condition::Any(terms) => {
                terms.iter().map(Condition::last_slot).max().unwrap_or(0)
            }
            Condition::Not(inner) => inner.last_slot(),
            Condition::OfModel { slot, .. } => *slot,
            Condition::Compare { field, .. }
            | Condition::In { field, .. }
            | Condition::TypeCheck { field, .. }
            | Condition::StringMatch { field, .. }
            | Condition::ArrayContains { field, .. } => field.slot,
        }
    }

    /// Whether `row` meets the condition: `None` when that is undefined.
    pub(super) fn holds(&self, read_model: &ReadModel, row: &[Entity<'_>]) -> Option<bool> {
        match self {
            Condition::All(terms) => all(terms.iter().map(|term| term.holds(read_model, row))),
            Condition::Any(terms) => any(terms.iter().map(|term| term.holds(read_model, row))),
            Condition::Not(inner) => inner.holds(read_model, row).map(|held| !held),
            Condition::Compare { field, op, value } => compare(&*field.find(row)?, *op, value),
            Condition::In {
                field,
                values,
                negated,
            } => {
                // `IN` is an `OR` of equalities, so a list of the wrong type is undefined.
                let found = field.find(row)?;
                let listed = any(values
                    .iter()
                    .map(|value| compare(&found, CompareOp::Eq, value)));
                listed.map(|listed| listed != *negated)
            }
            Condition::OfModel { slot, model, exact } => {
                let own = row.get(*slot)?.model()?;
                Some(read_model.is_of_model(own, model, *exact))
            }
            // A type check is never undefined: a missing value is of no type.
            Condition::TypeCheck { check, field } => {
                let found = field.find(row);
                Some(found.is_some_and(|found| is_of_type(&found, *check)))
            }
            Condition::StringMatch {
                test,
                field,
                pattern,
            } => {
                let found = field.find(row)?;
                let text = found.as_str()?;
                Some(match test {
                    StringMatch::StartsWith => text.starts_with(pattern),
                    StringMatch::EndsWith => text.ends_with(pattern),
                    StringMatch::Contains => text.contains(pattern),
                })
            }
            Condition::ArrayContains { field, value } => {
                let found = field.find(row)?;
                let items = found.as_array()?;
                Some(
                    items
                        .iter()
                        .any(|item| compare(item, CompareOp::Eq, value) == Some(true)),
                )
            }
        }
    }
}

fn is_of_type(value: &Value, check: TypeCheck) -> bool {
    match check {
        TypeCheck::Defined => true,
        TypeCheck::Bool => value.is_boolean(),
        TypeCheck::Number => value.is_number(),
        TypeCheck::String => value.is_string(),
        TypeCheck::Null => value.is_null(),
        TypeCheck::Primitive => !(value.is_object() || value.is_array()),
        TypeCheck::Object => value.is_object(),
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
