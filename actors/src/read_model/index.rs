//! A many-to-many index: each key's set of values, with no key left holding an empty set, so that
//! the keys alone say what is indexed. Persistent, as the rest of the model: a clone shares every
//! set, and a change copies only the nodes on its path.

use std::borrow::Borrow;

use imbl::{OrdMap, OrdSet};

#[derive(Debug, Clone)]
pub(super) struct SetIndex<K: Ord, V: Ord> {
    sets: OrdMap<K, OrdSet<V>>,
}

impl<K: Ord, V: Ord> Default for SetIndex<K, V> {
    fn default() -> SetIndex<K, V> {
        SetIndex {
            sets: OrdMap::new(),
        }
    }
}

impl<K: Ord + Clone, V: Ord + Clone> SetIndex<K, V> {
    pub(super) fn insert(&mut self, key: K, value: V) {
        self.sets.entry(key).or_default().insert(value);
    }

    pub(super) fn remove<Q>(&mut self, key: &Q, value: &V)
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        if let Some(set) = self.sets.get_mut(key) {
            set.remove(value);
            if set.is_empty() {
                self.sets.remove(key);
            }
        }
    }

    /// The values under `key`, in order; none if it holds none.
    pub(super) fn get<Q>(&self, key: &Q) -> impl Iterator<Item = &V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.sets.get(key).into_iter().flatten()
    }

    /// Every key with its values.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&K, &OrdSet<V>)> {
        self.sets.iter()
    }
}
