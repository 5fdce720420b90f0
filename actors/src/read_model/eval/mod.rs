//! A parsed [`Query`] run against the read model. Supported: `FROM DIGITALTWINS` without JOINs;
//! `WHERE` with comparisons, `IN` and `NIN` on property paths (`$dtId` and `$metadata.$model`
//! included), `IS_OF_MODEL`, `AND`, `OR` and `NOT`; `SELECT *`, projections, `COUNT()` and
//! `TOP(n)`. Anything else is refused as unsupported rather than answered wrongly.
//!
//! Conditions have three values, as in ADT, whose language is Cosmos DB's SQL: a comparison
//! with a property the twin does not have, or of values of different JSON types (`=` and `!=`
//! included), is undefined rather than false; `NOT` keeps it undefined; `AND` and `OR` follow
//! SQL's three-valued logic; and only twins whose condition is true are results.
//!
//! Of the top-level `AND` terms, those an index answers (`$dtId` equality or `IN`,
//! `IS_OF_MODEL`) pick the candidate twins, the smallest set winning; with none, every twin is
//! a candidate. Every candidate is then checked against the whole condition. Results come in
//! `$dtId` order, so that a later page can resume where one ended.
//!
//! `condition` compiles and evaluates the `WHERE` clause; this module picks candidates and
//! shapes results.

mod condition;
#[cfg(test)]
mod tests;

use serde_json::{json, Map, Value};

use super::{EvalError, ReadModel};
use crate::query::ast::{Collection, CompareOp, Literal, Path, Projection, Query, SelectItem};
use crate::twin::TwinState;
use condition::{lookup, Candidate, Condition};

const DT_ID: &str = "$dtId";

fn unsupported(construct: &'static str) -> EvalError {
    EvalError::Unsupported { construct }
}

fn is_dt_id(path: &Path) -> bool {
    path.segments == [DT_ID]
}

/// One projected result: each item under its `AS` name, else its last segment, else its alias.
/// An item the twin does not have is left out, as ADT leaves it out.
fn project(document: &Value, items: &[SelectItem]) -> Value {
    let mut result = Map::new();
    for item in items {
        let key = item
            .name
            .as_deref()
            .or(item.path.segments.last().map(String::as_str))
            .or(item.path.alias.as_deref());
        if let (Some(key), Some(value)) = (key, lookup(document, &item.path)) {
            result.insert(key.to_owned(), value.clone());
        }
    }
    Value::Object(result)
}

impl ReadModel {
    /// Runs `query` on the twins as of [`ReadModel::lsn`]: its results in `$dtId` order, shaped
    /// as ADT shapes them.
    pub fn query(&self, query: &Query) -> Result<Vec<Value>, EvalError> {
        if query.source.collection == Collection::Relationships {
            return Err(unsupported("FROM RELATIONSHIPS"));
        }
        if !query.joins.is_empty() {
            return Err(unsupported("JOIN"));
        }
        let condition = query.filter.as_ref().map(Condition::compile).transpose()?;
        let top = query
            .select
            .top
            .map_or(usize::MAX, |top| usize::try_from(top).unwrap_or(usize::MAX));
        let results = self
            .candidates(condition.as_ref())
            .into_iter()
            .filter_map(|state| {
                let candidate = Candidate {
                    document: state.twin_document().ok()?,
                    model: state.twin()?.model(),
                };
                let held = condition
                    .as_ref()
                    .map_or(Some(true), |condition| condition.holds(self, &candidate));
                (held == Some(true)).then_some(candidate.document)
            })
            .take(top);
        Ok(match &query.select.projection {
            Projection::All => results.collect(),
            Projection::Count => vec![json!({"COUNT": results.count()})],
            Projection::Items(items) => results.map(|document| project(&document, items)).collect(),
        })
    }

    /// The existing twins that may meet `condition`, in `$dtId` order, once each.
    fn candidates(&self, condition: Option<&Condition<'_>>) -> Vec<&TwinState> {
        let conjuncts = match condition {
            Some(Condition::All(terms)) => terms.as_slice(),
            Some(other) => std::slice::from_ref(other),
            None => &[],
        };
        let indexed: Option<Vec<&str>> = conjuncts
            .iter()
            .filter_map(|conjunct| self.indexed(conjunct))
            .min_by_key(Vec::len);
        let mut states: Vec<&TwinState> = match indexed {
            Some(ids) => ids.into_iter().filter_map(|id| self.twin(id)).collect(),
            None => self.twins().collect(),
        };
        states.sort_unstable_by(|a, b| a.twin_id().cmp(b.twin_id()));
        states.dedup_by(|a, b| a.twin_id() == b.twin_id());
        states
    }

    /// The ids of the twins that may meet `condition`, if an index answers it.
    fn indexed<'a>(&'a self, condition: &'a Condition<'a>) -> Option<Vec<&'a str>> {
        match condition {
            Condition::Compare {
                path,
                op: CompareOp::Eq,
                value: Literal::String(id),
            } if is_dt_id(path) => Some(vec![id.as_str()]),
            Condition::In {
                path,
                values,
                negated: false,
            } if is_dt_id(path) => Some(
                values
                    .iter()
                    .filter_map(|value| match value {
                        Literal::String(id) => Some(id.as_str()),
                        _ => None,
                    })
                    .collect(),
            ),
            Condition::OfModel { model, exact } => {
                Some(self.twins_of_model(model, *exact).collect())
            }
            _ => None,
        }
    }
}
