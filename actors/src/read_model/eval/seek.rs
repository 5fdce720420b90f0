//! The FROM collection's candidates. Of the `AND` terms on the FROM alias alone, those an index
//! answers exactly (`$dtId` = or `IN`, `IS_OF_MODEL` on twins; `$sourceId` or `$targetId` = or
//! `IN` on relationships) are sized, and the smallest picks the candidates; without one, every
//! twin or relationship is a candidate. The term it answers need not be checked again.

use std::sync::Arc;

use imbl::OrdSet;

use super::condition::Condition;
use super::row::Entity;
use crate::query::ast::{Collection, CompareOp, Literal};
use crate::read_model::ReadModel;
use crate::twin::TwinState;

const DT_ID: &str = "$dtId";
const SOURCE_ID: &str = "$sourceId";
const TARGET_ID: &str = "$targetId";

/// Candidates in `$dtId` order (relationships by source, then id).
pub(super) type Candidates<'a> = Box<dyn Iterator<Item = Entity<'a>> + 'a>;

/// Where the candidates come from.
pub(super) enum Seek<'a> {
    /// Twins by `$dtId`.
    Twins(Vec<&'a str>),
    /// Twins by model: one set per model, of (`$dtId`, position) in `$dtId` order.
    Models(Vec<&'a OrdSet<(Arc<str>, usize)>>),
    /// The outgoing relationships of these twins.
    Sources(Vec<&'a str>),
    /// The relationships that point at these twins.
    Targets(Vec<&'a str>),
    AllRelationships,
}

/// The string values a term says the FROM alias's `key` equals, if it says so: `key = 'x'` or
/// `key IN [...]` (other literals in the list can never equal a string, so they are dropped).
fn equal_strings<'a>(term: &'a Condition<'a>, key: &str) -> Option<Vec<&'a str>> {
    let on_key = |slot: usize, segments: &[String]| slot == 0 && segments == [key];
    let string = |value: &'a Literal| match value {
        Literal::String(text) => Some(text.as_str()),
        _ => None,
    };
    match term {
        Condition::Compare {
            field,
            op: CompareOp::Eq,
            value,
        } if on_key(field.slot, field.segments) => Some(string(value).into_iter().collect()),
        Condition::In {
            field,
            values,
            negated: false,
        } if on_key(field.slot, field.segments) => Some(values.iter().filter_map(string).collect()),
        _ => None,
    }
}

/// `ids` in order, once each.
fn sorted(mut ids: Vec<&str>) -> Vec<&str> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn relationships_of(state: &TwinState) -> impl Iterator<Item = Entity<'_>> {
    state.twin().into_iter().flat_map(move |twin| {
        twin.relationships()
            .iter()
            .map(move |(id, relationship)| Entity::Relationship {
                source: state,
                id,
                relationship,
            })
    })
}

impl ReadModel {
    /// The twin of stream `at`, as a row binds it.
    pub(super) fn twin_at(&self, at: usize) -> Entity<'_> {
        let stream = &self.streams[at];
        Entity::Twin {
            state: &stream.state,
            top_level: &stream.top_level,
        }
    }

    /// The twin `twin_id`, as a row binds it, if it exists.
    pub(super) fn twin_entity(&self, twin_id: &str) -> Option<Entity<'_>> {
        let at = *self.positions.get(twin_id)?;
        self.streams[at].state.twin()?;
        Some(self.twin_at(at))
    }

    /// The index that answers one of `terms` with the fewest candidates, and that term's
    /// position; with none, every twin (by all model sets) or every relationship.
    pub(super) fn seek<'a>(
        &'a self,
        collection: Collection,
        terms: &'a [Condition<'a>],
    ) -> (Seek<'a>, Option<usize>) {
        let sized = terms.iter().enumerate().filter_map(|(at, term)| {
            let seek = match collection {
                Collection::DigitalTwins => match term {
                    Condition::OfModel {
                        slot: 0,
                        model,
                        exact,
                    } => Seek::Models(self.model_sets(model, *exact).collect()),
                    _ => Seek::Twins(sorted(equal_strings(term, DT_ID)?)),
                },
                Collection::Relationships => match equal_strings(term, SOURCE_ID) {
                    Some(ids) => Seek::Sources(sorted(ids)),
                    None => Seek::Targets(sorted(equal_strings(term, TARGET_ID)?)),
                },
            };
            Some((self.size(&seek), at, seek))
        });
        match sized.min_by_key(|(size, _, _)| *size) {
            Some((_, at, seek)) => (seek, Some(at)),
            None => match collection {
                Collection::DigitalTwins => (
                    Seek::Models(self.by_model.iter().map(|(_, twins)| twins).collect()),
                    None,
                ),
                Collection::Relationships => (Seek::AllRelationships, None),
            },
        }
    }

    /// How many candidates `seek` yields, exactly.
    pub(super) fn size(&self, seek: &Seek<'_>) -> usize {
        match seek {
            Seek::Twins(ids) => ids.iter().filter(|id| self.twin(id).is_some()).count(),
            Seek::Models(sets) => sets.iter().map(|twins| twins.len()).sum(),
            Seek::Sources(ids) => ids
                .iter()
                .filter_map(|id| self.twin(id)?.twin())
                .map(|twin| twin.relationships().len())
                .sum(),
            Seek::Targets(ids) => ids.iter().map(|id| self.incoming(id).count()).sum(),
            Seek::AllRelationships => self
                .twins()
                .filter_map(TwinState::twin)
                .map(|twin| twin.relationships().len())
                .sum(),
        }
    }

    /// The candidates of `seek` in runs, each in `$dtId` order (relationships by source, then
    /// id): one per model set for twins by model and for every relationship, one otherwise.
    pub(super) fn candidate_runs<'a>(&'a self, seek: Seek<'a>) -> Vec<Candidates<'a>> {
        // The model index holds only existing twins, with their positions.
        let state = |(_, at): &(Arc<str>, usize)| &*self.streams[*at].state;
        match seek {
            Seek::Twins(ids) => vec![Box::new(
                ids.into_iter().filter_map(|id| self.twin_entity(id)),
            )],
            Seek::Models(sets) => sets
                .into_iter()
                .map(|set| -> Candidates<'a> {
                    Box::new(set.iter().map(|(_, at)| self.twin_at(*at)))
                })
                .collect(),
            Seek::Sources(ids) => vec![Box::new(
                ids.into_iter()
                    .filter_map(|id| self.twin(id))
                    .flat_map(relationships_of),
            )],
            Seek::Targets(ids) => {
                let mut pairs: Vec<(&str, &str)> =
                    ids.into_iter().flat_map(|id| self.incoming(id)).collect();
                pairs.sort_unstable();
                vec![Box::new(pairs.into_iter().filter_map(
                    move |(source_id, id)| {
                        let source = self.twin(source_id)?;
                        let (id, relationship) =
                            source.twin()?.relationships().get_key_value(id)?;
                        Some(Entity::Relationship {
                            source,
                            id,
                            relationship,
                        })
                    },
                ))]
            }
            Seek::AllRelationships => self
                .by_model
                .iter()
                .map(|(_, set)| -> Candidates<'a> {
                    Box::new(set.iter().map(state).flat_map(relationships_of))
                })
                .collect(),
        }
    }

    /// The candidates of `seek`, in `$dtId` order (relationships by source, then id).
    pub(super) fn candidates<'a>(&'a self, seek: Seek<'a>) -> impl Iterator<Item = Entity<'a>> {
        itertools::kmerge_by(
            self.candidate_runs(seek),
            |a: &Entity<'_>, b: &Entity<'_>| a.key() < b.key(),
        )
    }
}
