//! The routes' side tables in the log file: reads (on a blocking thread: they are redb reads), and
//! the side writes that change them, which the log writer commits with its next batch.

use std::path::Path;
use std::sync::Arc;

use redb::{ReadableTable, TableError};
use twinlog_migrations::reader::SharedDatabase;
use twinlog_migrations::routes::{
    dead_letter_key, dead_letter_lsn, dead_letter_range, decode_cursor, encode_cursor,
    StoredDeadLetter, StoredRoute, EVENT_ROUTES, ROUTE_CURSORS, ROUTE_DEAD_LETTERS,
};
use twinlog_migrations::SideTable;

use crate::log::{EventLog, SideOp};

/// Why the routes' tables could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{path}: reading table `{table}`: {source}")]
    Storage {
        path: Arc<Path>,
        table: &'static str,
        #[source]
        source: Box<redb::Error>,
    },
    #[error("{path}: table `{table}`, key `{key}`: {reason}")]
    Damaged {
        path: Arc<Path>,
        table: &'static str,
        key: String,
        reason: String,
    },
}

type ReadOnlySideTable = redb::ReadOnlyTable<&'static [u8], &'static [u8]>;
type SideEntry = redb::Result<(
    redb::AccessGuard<'static, &'static [u8]>,
    redb::AccessGuard<'static, &'static [u8]>,
)>;

/// A route as stored, with its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedRoute {
    pub id: String,
    pub route: StoredRoute,
    /// The last LSN the route is done with.
    pub cursor: u64,
}

/// A dead letter as stored, with the LSN of its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub lsn: u64,
    pub letter: StoredDeadLetter,
}

/// Reads the routes' tables through the log's own database handle. Every method is a redb read:
/// call it from a blocking thread, never from an async worker.
#[derive(Clone)]
pub struct RouteStore {
    db: SharedDatabase,
    path: Arc<Path>,
}

impl RouteStore {
    pub fn new(log: &EventLog) -> RouteStore {
        RouteStore {
            db: log.reader().database().clone(),
            path: log.path().into(),
        }
    }

    /// Every route, by id, with its cursor.
    pub fn load(&self) -> Result<Vec<LoadedRoute>, StoreError> {
        let Some(routes) = self.open(EVENT_ROUTES)? else {
            return Ok(Vec::new());
        };
        let cursors = self.open(ROUTE_CURSORS)?;
        let mut loaded = Vec::new();
        for entry in routes.iter().map_err(|e| self.storage(EVENT_ROUTES, e))? {
            let (key, value) = entry.map_err(|e| self.storage(EVENT_ROUTES, e))?;
            let id = String::from_utf8(key.value().to_vec())
                .map_err(|_| self.damaged(EVENT_ROUTES, key.value(), "the id is not UTF-8"))?;
            let route = StoredRoute::decode(value.value())
                .map_err(|e| self.damaged(EVENT_ROUTES, key.value(), &e.to_string()))?;
            let cursor = match &cursors {
                Some(cursors) => self.cursor_in(cursors, key.value())?,
                None => 0,
            };
            loaded.push(LoadedRoute { id, route, cursor });
        }
        Ok(loaded)
    }

    /// The route's cursor; 0 if it has none.
    pub fn cursor(&self, route_id: &str) -> Result<u64, StoreError> {
        match self.open(ROUTE_CURSORS)? {
            Some(cursors) => self.cursor_in(&cursors, route_id.as_bytes()),
            None => Ok(0),
        }
    }

    /// Up to `max` of the route's dead letters with LSN `from_lsn` or above, in LSN order.
    pub fn dead_letters(
        &self,
        route_id: &str,
        from_lsn: u64,
        max: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let mut letters = Vec::new();
        for entry in self.dead_letter_range(route_id, from_lsn)?.take(max) {
            let (key, value) = entry.map_err(|e| self.storage(ROUTE_DEAD_LETTERS, e))?;
            let damaged = |reason: &str| self.damaged(ROUTE_DEAD_LETTERS, key.value(), reason);
            let lsn =
                dead_letter_lsn(key.value()).ok_or_else(|| damaged("the key is too short"))?;
            let letter =
                StoredDeadLetter::decode(value.value()).map_err(|e| damaged(&e.to_string()))?;
            letters.push(DeadLetter { lsn, letter });
        }
        Ok(letters)
    }

    /// How many dead letters the route holds.
    pub fn dead_letter_count(&self, route_id: &str) -> Result<u64, StoreError> {
        Ok(self.dead_letter_range(route_id, 0)?.count() as u64)
    }

    /// The route's dead letters from `from_lsn` on, in a snapshot of their own (none if the
    /// table was never written).
    fn dead_letter_range(
        &self,
        route_id: &str,
        from_lsn: u64,
    ) -> Result<impl Iterator<Item = SideEntry>, StoreError> {
        let Some(table) = self.open(ROUTE_DEAD_LETTERS)? else {
            return Ok(None.into_iter().flatten());
        };
        let (start, end) = dead_letter_range(route_id, from_lsn);
        let range = table
            .range(start.as_slice()..end.as_slice())
            .map_err(|e| self.storage(ROUTE_DEAD_LETTERS, e))?;
        Ok(Some(range).into_iter().flatten())
    }

    fn cursor_in(&self, cursors: &ReadOnlySideTable, key: &[u8]) -> Result<u64, StoreError> {
        let stored = cursors
            .get(key)
            .map_err(|e| self.storage(ROUTE_CURSORS, e))?;
        match stored {
            Some(bytes) => decode_cursor(bytes.value())
                .ok_or_else(|| self.damaged(ROUTE_CURSORS, key, "the cursor is not 8 bytes")),
            None => Ok(0),
        }
    }

    /// The table in a fresh snapshot, or `None` if nothing was ever written to it.
    fn open(&self, table: SideTable) -> Result<Option<ReadOnlySideTable>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.storage(table, e))?;
        match txn.open_table(table.definition()) {
            Ok(opened) => Ok(Some(opened)),
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(self.storage(table, e)),
        }
    }

    fn storage(&self, table: SideTable, source: impl Into<redb::Error>) -> StoreError {
        StoreError::Storage {
            path: self.path.clone(),
            table: table.name(),
            source: Box::new(source.into()),
        }
    }

    fn damaged(&self, table: SideTable, key: &[u8], reason: &str) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            table: table.name(),
            key: String::from_utf8_lossy(key).into_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// Creates or replaces a route. A new route's cursor starts at `cursor`; a replaced one keeps
/// its own, so that changing a filter neither skips nor repeats events.
pub fn put_route(route_id: &str, route: &StoredRoute, cursor: u64) -> Vec<SideOp> {
    vec![
        SideOp::Put {
            table: EVENT_ROUTES,
            key: route_id.as_bytes().to_vec(),
            value: route.encode(),
        },
        SideOp::PutIfAbsent {
            table: ROUTE_CURSORS,
            key: route_id.as_bytes().to_vec(),
            value: encode_cursor(cursor).to_vec(),
        },
    ]
}

/// Deletes a route with its cursor and dead letters.
pub fn delete_route(route_id: &str) -> Vec<SideOp> {
    let (start, end) = dead_letter_range(route_id, 0);
    vec![
        SideOp::Remove {
            table: EVENT_ROUTES,
            key: route_id.as_bytes().to_vec(),
        },
        SideOp::Remove {
            table: ROUTE_CURSORS,
            key: route_id.as_bytes().to_vec(),
        },
        SideOp::RemoveRange {
            table: ROUTE_DEAD_LETTERS,
            start,
            end,
        },
    ]
}

// Invariant: see docs/design.md "Event routes". The dead letters go in the same transaction as
// the cursor that passes them, so no crash can leave the cursor past an event that is neither
// delivered nor a dead letter.
/// Moves the route's cursor to `cursor`, storing `dead_letters` first.
pub fn advance(route_id: &str, cursor: u64, dead_letters: &[DeadLetter]) -> Vec<SideOp> {
    let mut ops: Vec<SideOp> = dead_letters
        .iter()
        .map(|dead| SideOp::Put {
            table: ROUTE_DEAD_LETTERS,
            key: dead_letter_key(route_id, dead.lsn),
            value: dead.letter.encode(),
        })
        .collect();
    ops.push(SideOp::Put {
        table: ROUTE_CURSORS,
        key: route_id.as_bytes().to_vec(),
        value: encode_cursor(cursor).to_vec(),
    });
    ops
}

/// Removes the route's dead letters of the records at `lsns`.
pub fn remove_dead_letters(route_id: &str, lsns: impl IntoIterator<Item = u64>) -> Vec<SideOp> {
    lsns.into_iter()
        .map(|lsn| SideOp::Remove {
            table: ROUTE_DEAD_LETTERS,
            key: dead_letter_key(route_id, lsn),
        })
        .collect()
}
