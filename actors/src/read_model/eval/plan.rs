//! A [`Query`] made ready to run: its aliases as row slots, its JOINs as steps, its `WHERE`
//! split into top-level `AND` terms each placed at the first step where all its aliases are
//! bound, and its `SELECT` as an output shape.

use super::condition::Condition;
use super::row::{Field, Slots};
use crate::query::ast::{Collection, Expr, Projection, Query};
use crate::read_model::top_level::PropertyNames;
use crate::read_model::EvalError;

pub(super) struct Plan<'q> {
    pub(super) collection: Collection,
    pub(super) steps: Vec<Step<'q>>,
    /// `levels[0]`: the terms that read the FROM alias only; `levels[j + 1]`: those that also
    /// read what JOIN `j` binds. A row goes on only while every term so far is true.
    pub(super) levels: Vec<Vec<Condition<'q>>>,
    pub(super) output: Output<'q>,
    /// `TOP(n)`: how many results at most.
    pub(super) top: usize,
}

/// `JOIN target RELATED source.relationship [alias]`: from the twin in slot `source`, each
/// outgoing relationship named `relationship` binds its target twin and, with an alias, itself.
pub(super) struct Step<'q> {
    pub(super) source: usize,
    pub(super) relationship: &'q str,
    pub(super) binds_relationship: bool,
}

pub(super) enum Output<'q> {
    /// `SELECT *`: the FROM collection's documents.
    Documents,
    Count,
    /// Each item's output name and where its value is.
    Items(Vec<(&'q str, Field<'q>)>),
}

impl<'q> Plan<'q> {
    /// The plan of `query` over twins whose top-level names are among `properties`.
    pub(super) fn compile(
        query: &'q Query,
        properties: &'q PropertyNames,
    ) -> Result<Plan<'q>, EvalError> {
        let mut slots = Slots::new(query.source.alias.as_deref(), properties);
        // The level of each slot: 0 for the FROM alias, j + 1 for what JOIN j binds.
        let mut slot_levels = vec![0];
        let mut steps = Vec::with_capacity(query.joins.len());
        for (at, join) in query.joins.iter().enumerate() {
            let source = slots.slot(Some(&join.source))?;
            slots.declare(&join.target);
            slot_levels.push(at + 1);
            if let Some(alias) = &join.relationship_alias {
                slots.declare(alias);
                slot_levels.push(at + 1);
            }
            steps.push(Step {
                source,
                relationship: &join.relationship,
                binds_relationship: join.relationship_alias.is_some(),
            });
        }
        let mut levels: Vec<Vec<Condition<'q>>> = (0..=steps.len()).map(|_| Vec::new()).collect();
        let terms = match &query.filter {
            Some(Expr::And(terms)) => terms.as_slice(),
            Some(filter) => std::slice::from_ref(filter),
            None => &[],
        };
        for term in terms {
            let condition = Condition::compile(term, &slots)?;
            levels[slot_levels[condition.last_slot()]].push(condition);
        }
        let output = match &query.select.projection {
            Projection::All => Output::Documents,
            Projection::Count => Output::Count,
            Projection::Items(items) => Output::Items(
                items
                    .iter()
                    .map(|item| Ok((item.output_name(), slots.field(&item.path)?)))
                    .collect::<Result<_, EvalError>>()?,
            ),
        };
        Ok(Plan {
            collection: query.source.collection,
            steps,
            levels,
            output,
            top: query
                .select
                .top
                .map_or(usize::MAX, |top| usize::try_from(top).unwrap_or(usize::MAX)),
        })
    }
}
