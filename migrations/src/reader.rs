//! Reading a log: streaming replay in constant memory, single records, and one twin's stream.
//!
//! Readers take redb read transactions, which are snapshots: they run while appends continue and
//! never see a half-written batch.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Builder, Database, OwnedAccessGuard, OwnedRange, ReadableDatabase};

use crate::format::{FormatError, LogMeta, EVENTS, LOG_FILE_NAME};
use crate::heads::TwinHead;
use crate::record::{Record, RecordError};

/// How many records one replay snapshot serves before it is dropped and a new one taken, so that a
/// long replay does not pin old pages that the writer could reuse.
const REPLAY_SNAPSHOT_RECORDS: u64 = 65_536;

/// A database handle that readers share: the writer's own [`Database`], or a read-only one.
pub type SharedDatabase = Arc<dyn ReadableDatabase + Send + Sync>;

/// Reads records from one log file. Cheap to clone.
#[derive(Clone)]
pub struct LogReader {
    db: SharedDatabase,
    path: Arc<Path>,
}

/// A stored record's bytes, kept alive without copying; [`StoredRecord::decode`] checks them.
pub struct StoredRecord {
    pub lsn: u64,
    bytes: OwnedAccessGuard<&'static [u8]>,
}

impl StoredRecord {
    /// Decodes the envelope, checking its version, checksum and LSN.
    pub fn decode(&self) -> Result<Record<'_>, RecordError> {
        Record::decode(self.lsn, self.bytes.value())
    }

    pub fn bytes(&self) -> &[u8] {
        self.bytes.value()
    }
}

impl LogReader {
    pub fn new(db: SharedDatabase, path: &Path) -> LogReader {
        LogReader {
            db,
            path: path.into(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn database(&self) -> &SharedDatabase {
        &self.db
    }

    /// Every record from `lsn` on, in LSN order, including records appended while it runs.
    /// Memory stays constant however long the log is.
    pub fn replay_from(&self, lsn: u64) -> Replay {
        Replay {
            reader: self.clone(),
            next_lsn: lsn.max(1),
            range: None,
            served_in_snapshot: 0,
        }
    }

    /// The record stored under `lsn`, if any.
    pub fn get(&self, lsn: u64) -> Result<Option<StoredRecord>, ReadError> {
        match self.events()? {
            Some(table) => self.get_in(&table, lsn),
            None => Ok(None),
        }
    }

    /// The `events` table in a fresh snapshot (`None`: the log has never had one).
    fn events(&self) -> Result<Option<redb::ReadOnlyTable<u64, &'static [u8]>>, ReadError> {
        let txn = self.db.begin_read().map_err(|e| self.storage(e))?;
        match txn.open_table(EVENTS) {
            Ok(table) => Ok(Some(table)),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(self.storage(e)),
        }
    }

    fn get_in(
        &self,
        table: &redb::ReadOnlyTable<u64, &'static [u8]>,
        lsn: u64,
    ) -> Result<Option<StoredRecord>, ReadError> {
        let bytes = table.get_owned(lsn).map_err(|e| self.storage(e))?;
        Ok(bytes.map(|bytes| StoredRecord { lsn, bytes }))
    }

    /// The highest LSN stored (0 for an empty log).
    pub fn last_lsn(&self) -> Result<u64, ReadError> {
        let txn = self.db.begin_read().map_err(|e| self.storage(e))?;
        let table = match txn.open_table(EVENTS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
            Err(e) => return Err(self.storage(e)),
        };
        let last = redb::ReadableTable::last(&table).map_err(|e| self.storage(e))?;
        Ok(last.map_or(0, |(key, _)| key.value()))
    }

    /// One twin's records with versions `from_version..=head.version`, oldest first, found by
    /// following each record's `prev_twin_lsn` back from the head.
    pub fn twin_stream(
        &self,
        twin_id: &str,
        head: TwinHead,
        from_version: u64,
    ) -> Result<Vec<StoredRecord>, ReadError> {
        let mut stream = Vec::new();
        let mut lsn = head.lsn;
        let mut version = head.version;
        // One snapshot for the whole walk: cheaper than one per record, and consistent.
        let table = self.events()?;
        while version >= from_version.max(1) && lsn != 0 {
            let stored = table
                .as_ref()
                .map(|t| self.get_in(t, lsn))
                .transpose()?
                .flatten();
            let stored = stored.ok_or(ReadError::Gap {
                path: self.path.to_path_buf(),
                expected: lsn,
                found: None,
            })?;
            let record = stored.decode().map_err(|e| self.record(e))?;
            if record.header.twin_id != twin_id || record.header.twin_version != version {
                return Err(ReadError::StreamBroken {
                    path: self.path.to_path_buf(),
                    lsn,
                    twin_id: twin_id.to_owned(),
                    version,
                });
            }
            lsn = record.header.prev_twin_lsn;
            version -= 1;
            stream.push(stored);
        }
        stream.reverse();
        Ok(stream)
    }

    fn storage(&self, source: impl Into<redb::Error>) -> ReadError {
        ReadError::Storage {
            path: self.path.to_path_buf(),
            source: source.into(),
        }
    }

    fn record(&self, source: RecordError) -> ReadError {
        ReadError::Record {
            path: self.path.to_path_buf(),
            source,
        }
    }
}

/// The iterator of [`LogReader::replay_from`]. It checks that LSNs are contiguous; each item's
/// envelope is checked when it is decoded.
pub struct Replay {
    reader: LogReader,
    next_lsn: u64,
    range: Option<OwnedRange<u64, &'static [u8]>>,
    served_in_snapshot: u64,
}

impl Replay {
    fn open_snapshot(&mut self) -> Result<Option<OwnedRange<u64, &'static [u8]>>, ReadError> {
        let txn = self
            .reader
            .db
            .begin_read()
            .map_err(|e| self.reader.storage(e))?;
        let table = match txn.open_table(EVENTS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.reader.storage(e)),
        };
        let range = table
            .range_owned(self.next_lsn..)
            .map_err(|e| self.reader.storage(e))?;
        Ok(Some(range))
    }

    fn next_stored(&mut self) -> Result<Option<StoredRecord>, ReadError> {
        loop {
            if self.range.is_none() {
                self.range = self.open_snapshot()?;
                self.served_in_snapshot = 0;
            }
            let Some(range) = self.range.as_mut() else {
                return Ok(None);
            };
            match range.next() {
                Some(Ok((key, bytes))) => {
                    let lsn = key.value();
                    if lsn != self.next_lsn {
                        return Err(ReadError::Gap {
                            path: self.reader.path.to_path_buf(),
                            expected: self.next_lsn,
                            found: Some(lsn),
                        });
                    }
                    self.next_lsn += 1;
                    self.served_in_snapshot += 1;
                    if self.served_in_snapshot >= REPLAY_SNAPSHOT_RECORDS {
                        self.range = None;
                    }
                    return Ok(Some(StoredRecord { lsn, bytes }));
                }
                Some(Err(e)) => return Err(self.reader.storage(e)),
                // The snapshot is exhausted. A fresh one may hold records appended since; if it
                // serves nothing either, the replay has reached the end of the log.
                None if self.served_in_snapshot > 0 => self.range = None,
                None => return Ok(None),
            }
        }
    }
}

impl Iterator for Replay {
    type Item = Result<StoredRecord, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_stored().transpose()
    }
}

/// A log file opened read-only, for audits and exports of a stopped node's data directory.
pub struct LogFile {
    pub reader: LogReader,
    pub meta: LogMeta,
    /// True when the file had not been closed cleanly and was repaired in a private copy; the file
    /// itself is never modified.
    pub repaired_copy: bool,
    _copy: Option<tempfile::TempDir>,
}

impl LogFile {
    /// Opens `path` (a data directory or the log file itself) without modifying it.
    pub fn open(path: &Path) -> Result<LogFile, FormatError> {
        let path = log_path(path);
        if !path.is_file() {
            return Err(FormatError::Missing { path });
        }
        match Builder::new().open_read_only(&path) {
            Ok(db) => LogFile::with_db(path, Arc::new(db) as SharedDatabase, None),
            Err(redb::DatabaseError::RepairAborted) => LogFile::open_repaired_copy(path),
            Err(e) => Err(open_error(&path, e)),
        }
    }

    // A file left by a crash needs redb's repair before it can be read, and repair writes. The
    // audit must not write to the evidence, so it repairs a private copy instead.
    fn open_repaired_copy(path: PathBuf) -> Result<LogFile, FormatError> {
        let dir = tempfile::tempdir().map_err(|e| FormatError::storage(&path, e))?;
        let copy = dir.path().join(LOG_FILE_NAME);
        std::fs::copy(&path, &copy).map_err(|e| FormatError::storage(&path, e))?;
        let db = Database::open(&copy).map_err(|e| open_error(&path, e))?;
        let mut file = LogFile::with_db(path, Arc::new(db) as SharedDatabase, Some(dir))?;
        file.repaired_copy = true;
        Ok(file)
    }

    fn with_db(
        path: PathBuf,
        db: SharedDatabase,
        copy: Option<tempfile::TempDir>,
    ) -> Result<LogFile, FormatError> {
        let txn = db
            .begin_read()
            .map_err(|e| FormatError::storage(&path, e))?;
        let meta = LogMeta::read(&txn, &path)?;
        drop(txn);
        Ok(LogFile {
            reader: LogReader::new(db, &path),
            meta,
            repaired_copy: false,
            _copy: copy,
        })
    }
}

/// The log file inside a data directory, or `path` itself when it names a file.
pub fn log_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(LOG_FILE_NAME)
    } else {
        path.to_owned()
    }
}

// redb reports a file that is not a redb database as corrupted storage; for a user that means the
// file is not a twinlog log at all.
fn open_error(path: &Path, error: redb::DatabaseError) -> FormatError {
    match error {
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(reason)) => {
            FormatError::NotTwinlog {
                path: path.to_owned(),
                reason: format!("not a readable redb database ({reason})"),
            }
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            FormatError::NotTwinlog {
                path: path.to_owned(),
                reason: io.to_string(),
            }
        }
        redb::DatabaseError::UpgradeRequired(version) => FormatError::NotTwinlog {
            path: path.to_owned(),
            reason: format!("written by an old redb file format {version}"),
        },
        other => FormatError::storage(path, other),
    }
}

/// Why a read failed. Every variant names the file; those about a record name its LSN.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("{path}: {source}")]
    Record {
        path: PathBuf,
        #[source]
        source: RecordError,
    },
    #[error("{path}: LSN {expected} is missing{}", found.map(|f| format!(" (the next stored record is LSN {f})")).unwrap_or_default())]
    Gap {
        path: PathBuf,
        expected: u64,
        found: Option<u64>,
    },
    #[error("{path}: LSN {lsn} should be version {version} of twin `{twin_id}` but is not")]
    StreamBroken {
        path: PathBuf,
        lsn: u64,
        twin_id: String,
        version: u64,
    },
    #[error("{path}: {source}")]
    Storage {
        path: PathBuf,
        #[source]
        source: redb::Error,
    },
}
