//! A parsed [`Query`] run against the read model: ADT's query subset, `FROM DIGITALTWINS` or
//! `FROM RELATIONSHIPS`, up to five chained `JOIN ... RELATED`, `WHERE` with comparisons,
//! `IN`/`NIN`, `AND`/`OR`/`NOT`, `IS_OF_MODEL`, the type checks and the string and array
//! functions, and `SELECT *`, aliases, projections, `COUNT()` and `TOP(n)`.
//!
//! Conditions have three values, as in ADT, whose language is Cosmos DB's SQL: a comparison
//! with a property the twin does not have, or of values of different JSON types (`=` and `!=`
//! included), is undefined rather than false; `NOT` keeps it undefined; `AND` and `OR` follow
//! SQL's three-valued logic; and only rows whose condition is true are results. The type checks
//! (`IS_DEFINED`, `IS_STRING`, ...) are never undefined: a missing value is of no type.
//! `STARTSWITH`, `ENDSWITH` and `CONTAINS` of a non-string, and `ARRAY_CONTAINS` of a
//! non-array, are undefined.
//!
//! How a query runs (`plan`, `seek`, `sweep`, `row`):
//! - The FROM collection's candidates come from an index when a top-level `AND` term allows
//!   (see `seek`), so a query by `$dtId` or by model never visits other twins.
//! - A row binds the FROM alias, then each JOIN's target twin (and relationship, if aliased)
//!   by walking the source twin's outgoing relationships of that name, in relationship-id
//!   order. Each top-level `AND` term is checked as soon as the aliases it reads are bound, so
//!   a row stops at the first JOIN level where it fails.
//! - Terms read single values straight from the twin's state: no document is built for a row
//!   that fails, nor for `COUNT()`. Documents are built only for the results returned.
//! - Results come in `$dtId` order (relationships by source, then id; JOIN rows by each bound
//!   id in turn), so that a later page can resume where one ended. `TOP(n)` stops the run at
//!   the n-th result; `COUNT()` counts every row, and `TOP` then limits its single result.
//! - A query that visits every candidate anyway (no JOIN, no `TOP`, or a `COUNT()`) visits the
//!   model index's candidates in the stream list's order, and only then puts the results in
//!   `$dtId` order (see `sweep`).
//! - A page ([`ReadModel::query_page`]) finds and counts every result but builds only its own.

mod condition;
mod plan;
mod row;
mod seek;
mod sweep;
#[cfg(test)]
mod tests;

use std::ops::ControlFlow;

use serde_json::{json, Value};

use super::{EvalError, ReadModel};
use crate::query::Query;
use plan::{Output, Plan};
use row::{project, Entity};
use seek::Seek;

/// One page of a query's results.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage {
    /// The results from the page's offset on, at most its limit of them, in the query's order.
    pub results: Vec<Value>,
    /// How many results the whole query has (one for `COUNT()`), the page's included.
    pub total: usize,
}

impl ReadModel {
    /// Runs `query` as of [`ReadModel::lsn`]: its results in order, shaped as ADT shapes them.
    pub fn query(&self, query: &Query) -> Result<Vec<Value>, EvalError> {
        Ok(self.query_page(query, 0, usize::MAX)?.results)
    }

    /// Runs `query` as of [`ReadModel::lsn`] and builds only the results from position
    /// `offset` on, `limit` at most: every result is found and counted, but only the page's
    /// documents are built. The order is [`ReadModel::query`]'s, so pages cut from one state
    /// neither skip nor repeat a result.
    pub fn query_page(
        &self,
        query: &Query,
        offset: usize,
        limit: usize,
    ) -> Result<QueryPage, EvalError> {
        let plan = Plan::compile(query, &self.property_names)?;
        if plan.top == 0 {
            return Ok(QueryPage {
                results: Vec::new(),
                total: 0,
            });
        }
        let page = offset..offset.saturating_add(limit);
        let (seek, answered) = self.seek(plan.collection, &plan.levels[0]);
        let run = Run {
            read_model: self,
            plan: &plan,
            answered,
        };
        let shape = |row: &[Entity<'_>]| match &plan.output {
            Output::Items(items) => project(row, items),
            _ => row[0].document(),
        };
        if matches!(plan.output, Output::Count) {
            let count = json!({ "COUNT": run.count(seek) });
            return Ok(QueryPage {
                results: page.contains(&0).then_some(count).into_iter().collect(),
                total: 1,
            });
        }
        let mut results = Vec::new();
        let mut total = 0;
        if plan.steps.is_empty() && plan.top == usize::MAX {
            // Every candidate is visited anyway, so they are visited in the cheapest order and
            // only their results are put in order.
            let roots: Vec<Entity<'_>> = match seek {
                Seek::Models(sets) => {
                    let kept = self.sweep(&self.positions(&sets), |twin| run.passes(0, &[twin]));
                    total = kept.count_ones(..);
                    self.in_id_order(&sets, &kept)
                        .skip(page.start)
                        .take(limit)
                        .collect()
                }
                seek => {
                    // Each run of candidates is in order: visiting each run and merging only
                    // their results into order beats merging the candidates.
                    let runs: Vec<Vec<Entity<'_>>> = self
                        .candidate_runs(seek)
                        .into_iter()
                        .map(|candidates| {
                            let mut roots = Vec::new();
                            run.rows(candidates, &mut |row| {
                                roots.push(row[0]);
                                ControlFlow::Continue(())
                            });
                            roots
                        })
                        .collect();
                    total = runs.iter().map(Vec::len).sum();
                    itertools::kmerge_by(runs, |a: &Entity<'_>, b: &Entity<'_>| a.key() < b.key())
                        .skip(page.start)
                        .take(limit)
                        .collect()
                }
            };
            results.extend(roots.iter().map(|root| shape(std::slice::from_ref(root))));
        } else {
            run.rows(self.candidates(seek), &mut |row| {
                if page.contains(&total) {
                    results.push(shape(row));
                }
                total += 1;
                run.go_on(total)
            });
        }
        Ok(QueryPage { results, total })
    }
}

/// One query's run over the read model.
struct Run<'a> {
    read_model: &'a ReadModel,
    plan: &'a Plan<'a>,
    /// The root term that the candidates' index already answers.
    answered: Option<usize>,
}

impl<'a> Run<'a> {
    /// Whether to go on after `results` results.
    fn go_on(&self, results: usize) -> ControlFlow<()> {
        if results < self.plan.top {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    }

    /// How many rows there are. When the index answers the whole condition and there is no
    /// JOIN, its size is the count, and no candidate is visited.
    fn count(&self, seek: Seek<'a>) -> usize {
        let unanswered = self.plan.levels[0].len() - usize::from(self.answered.is_some());
        if unanswered == 0 && self.plan.steps.is_empty() {
            return self.read_model.size(&seek);
        }
        match &seek {
            // Without JOIN a row is its root: count the roots in the cheapest order.
            Seek::Models(sets) if self.plan.steps.is_empty() => {
                let candidates = self.read_model.positions(sets);
                return self
                    .read_model
                    .sweep(&candidates, |twin| self.passes(0, &[twin]))
                    .count_ones(..);
            }
            _ => {}
        }
        let mut count = 0;
        let candidates = self.read_model.candidate_runs(seek).into_iter().flatten();
        self.rows(candidates, &mut |_| {
            count += 1;
            ControlFlow::Continue(())
        });
        count
    }

    /// Hands each row that meets the condition to `emit`, until it says stop.
    fn rows(
        &self,
        roots: impl Iterator<Item = Entity<'a>>,
        emit: &mut dyn FnMut(&[Entity<'a>]) -> ControlFlow<()>,
    ) {
        let mut row = Vec::with_capacity(1 + 2 * self.plan.steps.len());
        for root in roots {
            row.clear();
            row.push(root);
            if self.passes(0, &row) && self.expand(&mut row, 0, emit).is_break() {
                return;
            }
        }
    }

    /// Whether `row` meets the terms of `level`, which its slots now all bind.
    fn passes(&self, level: usize, row: &[Entity<'a>]) -> bool {
        self.plan.levels[level]
            .iter()
            .enumerate()
            .filter(|(at, _)| level > 0 || Some(*at) != self.answered)
            .all(|(_, term)| term.holds(self.read_model, row) == Some(true))
    }

    /// Binds JOIN `step` and the ones after it in every way the graph allows, emitting each
    /// whole row.
    fn expand(
        &self,
        row: &mut Vec<Entity<'a>>,
        step: usize,
        emit: &mut dyn FnMut(&[Entity<'a>]) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let Some(join) = self.plan.steps.get(step) else {
            return emit(row);
        };
        let Some(Entity::Twin { state: source, .. }) = row.get(join.source).copied() else {
            return ControlFlow::Continue(());
        };
        let Some(twin) = source.twin() else {
            return ControlFlow::Continue(());
        };
        let bound = row.len();
        for (id, relationship) in twin.relationships() {
            if relationship.name() != join.relationship {
                continue;
            }
            let Some(target) = self.read_model.twin_entity(relationship.target_id()) else {
                continue;
            };
            row.push(target);
            if join.binds_relationship {
                row.push(Entity::Relationship {
                    source,
                    id,
                    relationship,
                });
            }
            if self.passes(step + 1, row) {
                self.expand(row, step + 1, emit)?;
            }
            row.truncate(bound);
        }
        ControlFlow::Continue(())
    }
}
