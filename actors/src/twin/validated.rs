//! What `handle` remembers between commands so that a patch is validated only where it changes
//! the twin: which Interface the current document is known to satisfy.
//!
//! A patch that only sets existing properties leaves the rest of the document as it was, so
//! checking the values it sets gives the same answer as checking the whole document, provided
//! the rest was valid against the very same Interface. A model may be deleted and uploaded again
//! under the same id with other contents; so the knowledge is tied to the `Arc<Interface>` it
//! was checked against, and the registry's current one must be that same allocation.
//!
//! The cache sits behind a lock only so that a state can be shared between threads (the query
//! read model shares its snapshots): the twin's actor is its only user, so the lock is never
//! contended and costs an uncontended atomic exchange per use.

use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;
use twinlog_dtdl::Interface;

/// The twin's document as of its change at version `.0` (its ETag version) satisfies the
/// Interface `.1`.
///
/// A cache, not state: `handle` fills it, at the version its event will get, once the command's
/// result has been validated; it holds only while the shell applies exactly the events `handle`
/// decided (see [`crate::aggregate::Aggregate`]). Replay starts without it, a clone forgets it,
/// and equality ignores it, so replayed and decided states still compare equal.
#[derive(Default)]
pub(super) struct Validated(Mutex<Option<(u64, Arc<Interface>)>>);

impl Validated {
    pub(super) fn remember(&self, version: u64, interface: &Arc<Interface>) {
        *self.0.lock() = Some((version, interface.clone()));
    }

    /// Whether the document as of `version` is known to satisfy `interface`.
    pub(super) fn holds(&self, version: u64, interface: &Arc<Interface>) -> bool {
        self.0
            .lock()
            .as_ref()
            .is_some_and(|(at, checked)| *at == version && Arc::ptr_eq(checked, interface))
    }
}

impl Clone for Validated {
    fn clone(&self) -> Validated {
        Validated::default()
    }
}

impl PartialEq for Validated {
    fn eq(&self, _other: &Validated) -> bool {
        true
    }
}

impl fmt::Debug for Validated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Validated")
    }
}
