//! Each twin's top-level properties laid out for conditions to probe cheaply: a small sorted
//! slice of (interned name, value), so that a scan over many twins compares name pointers in
//! one short allocation per twin instead of walking each document's map of owned key strings.
//!
//! The layout is a cache of the twin's stored content, rebuilt from it whenever a record
//! changes the twin: it agrees with [`TwinState::document_field`](crate::twin::TwinState) for
//! every path whose first segment is a property or component name (see docs/design.md "Query
//! evaluation", "Values, not documents").

use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde_json::{Map, Value};

/// Every top-level property and component name any twin has had, once each. Names are never
/// dropped, so a name missing here is a name no twin has. Snapshots share the set until a name
/// new to every twin comes, which is rare once the twins of each model exist.
#[derive(Debug, Clone, Default)]
pub(super) struct PropertyNames {
    names: Arc<FxHashSet<Arc<str>>>,
}

impl PropertyNames {
    fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(interned) = self.names.get(name) {
            return interned.clone();
        }
        let interned: Arc<str> = Arc::from(name);
        Arc::make_mut(&mut self.names).insert(interned.clone());
        interned
    }

    /// The interned `name`, or none if no twin has ever had it.
    pub(super) fn get(&self, name: &str) -> Option<&Arc<str>> {
        self.names.get(name)
    }
}

/// A top-level value as the layout holds it.
#[derive(Debug, Clone)]
enum Held {
    /// A string, number, boolean or null, copied from the content.
    Scalar(Value),
    /// An object or array (a component, a map, an array property): read from the content.
    Nested,
}

/// What a probe for one name found.
pub(super) enum Probed<'a> {
    Absent,
    Scalar(&'a Value),
    /// The value is an object or array; the twin's content has it.
    Nested,
}

/// One twin's top-level names (all but `$metadata`), sorted by the address of their interned
/// name, each with its scalar value or the mark of a nested one. Empty for a deleted twin.
/// Shared: a record that changes the twin builds a new layout, so a copy of its stream (for a
/// record that does not, such as telemetry) need not copy this one.
#[derive(Debug, Clone, Default)]
pub(super) struct TopLevel {
    entries: Arc<[(Arc<str>, Held)]>,
}

/// The sort key of an interned name: its address, which is unique among interned names.
fn address(name: &Arc<str>) -> usize {
    Arc::as_ptr(name).cast::<u8>() as usize
}

impl TopLevel {
    /// The layout of `content`, a twin's stored content, interning its names in `names`.
    pub(super) fn of(content: &Map<String, Value>, names: &mut PropertyNames) -> TopLevel {
        let mut entries: Vec<(Arc<str>, Held)> = content
            .iter()
            .filter(|(name, _)| !name.starts_with('$'))
            .map(|(name, value)| {
                let held = match value {
                    Value::Object(_) | Value::Array(_) => Held::Nested,
                    scalar => Held::Scalar(scalar.clone()),
                };
                (names.intern(name), held)
            })
            .collect();
        entries.sort_unstable_by_key(|(name, _)| address(name));
        TopLevel {
            entries: entries.into(),
        }
    }

    /// The value named `name`, which must come from the same [`PropertyNames`].
    pub(super) fn probe(&self, name: &Arc<str>) -> Probed<'_> {
        match self
            .entries
            .binary_search_by_key(&address(name), |(own, _)| address(own))
        {
            Ok(at) => match &self.entries[at].1 {
                Held::Scalar(value) => Probed::Scalar(value),
                Held::Nested => Probed::Nested,
            },
            Err(_) => Probed::Absent,
        }
    }

    /// Asks the CPU to bring the layout's entries into its cache, without waiting for them: a
    /// scan asks for many twins' layouts at once, so that their cache misses overlap instead of
    /// following one another. A probe's binary search may read any entry, so every cache line
    /// of the entries is asked for, up to `FETCH_LINES_MAX`. Elsewhere than on x86_64, nothing.
    pub(super) fn fetch(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            const LINE_BYTES: usize = 64;
            const FETCH_LINES_MAX: usize = 8;
            let entries = self.entries.as_ptr_range();
            let start = entries.start.cast::<i8>();
            // From the start of the line that holds the first entry to the end of the last.
            let lead_bytes = start as usize % LINE_BYTES;
            let end = lead_bytes + (entries.end as usize - entries.start as usize);
            for offset in (0..end).step_by(LINE_BYTES).take(FETCH_LINES_MAX) {
                // SAFETY: SSE, which the prefetch instruction needs, is part of every x86_64
                // CPU; and a prefetch is only a hint, which reads nothing and faults on no
                // address.
                unsafe {
                    core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                        start.wrapping_sub(lead_bytes).wrapping_add(offset),
                    );
                }
            }
        }
    }
}
