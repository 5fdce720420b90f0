//! Queries that visit every candidate twin: the candidates are visited in the order of the
//! stream list, not in `$dtId` order, and only the results are then put in `$dtId` order.
//!
//! Why: in `$dtId` order each candidate is a random index into the stream list and then a
//! random load of its property layout, one cache miss after another. In stream order the walk
//! goes through the list's leaves front to back, and it asks for the layouts of the next leaf's
//! candidates while it checks the current leaf's, so that their misses overlap.

use std::sync::Arc;

use fixedbitset::FixedBitSet;
use imbl::OrdSet;

use super::row::Entity;
use crate::read_model::{ReadModel, Stream};

/// One model's twins, as the model index holds them: (`$dtId`, position in the stream list).
pub(super) type ModelSet = OrdSet<(Arc<str>, usize)>;

impl ReadModel {
    /// The positions of the twins in `sets`, marked.
    pub(super) fn positions(&self, sets: &[&ModelSet]) -> FixedBitSet {
        let mut marks = FixedBitSet::with_capacity(self.streams.len());
        for (_, at) in sets.iter().flat_map(|set| set.iter()) {
            marks.insert(*at);
        }
        marks
    }

    /// The twins marked in `candidates` for which `keep` is true, marked. `keep` sees the
    /// candidates in stream order.
    pub(super) fn sweep<'a>(
        &'a self,
        candidates: &FixedBitSet,
        mut keep: impl FnMut(Entity<'a>) -> bool,
    ) -> FixedBitSet {
        let mut kept = FixedBitSet::with_capacity(self.streams.len());
        // Each leaf with its first position, skipping those that hold no candidate.
        let mut leaves = self
            .streams
            .leaves()
            .scan(0, |start, leaf| {
                let at = *start;
                *start += leaf.len();
                Some((at, leaf))
            })
            .filter(|(at, leaf)| candidates.count_ones(*at..*at + leaf.len()) > 0)
            .peekable();
        let candidates_in = |(start, leaf): (usize, &'a [Stream])| {
            (start..)
                .zip(leaf)
                .filter(|(at, _)| candidates.contains(*at))
        };
        if let Some(&first) = leaves.peek() {
            candidates_in(first).for_each(|(_, stream)| stream.top_level.fetch());
        }
        while let Some(leaf) = leaves.next() {
            // The next leaf's layouts are on their way while this one's are checked.
            if let Some(&next) = leaves.peek() {
                candidates_in(next).for_each(|(_, stream)| stream.top_level.fetch());
            }
            for (at, stream) in candidates_in(leaf) {
                let twin = Entity::Twin {
                    state: &stream.state,
                    top_level: &stream.top_level,
                };
                if keep(twin) {
                    kept.insert(at);
                }
            }
        }
        kept
    }

    /// The twins of `sets` marked in `marks`, in `$dtId` order.
    pub(super) fn in_id_order<'a: 'm, 'm>(
        &'a self,
        sets: &'m [&'a ModelSet],
        marks: &'m FixedBitSet,
    ) -> impl Iterator<Item = Entity<'a>> + 'm {
        let runs = sets.iter().map(|set| {
            set.iter()
                .filter(|(_, at)| marks.contains(*at))
                .map(|(id, at)| (&**id, *at))
        });
        itertools::kmerge_by(runs, |a: &(&str, usize), b: &(&str, usize)| a.0 < b.0)
            .map(|(_, at)| self.twin_at(at))
    }
}
