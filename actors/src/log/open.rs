//! Opening a data directory: creating a new log, or recovering an existing one's in-memory state
//! (heads, last LSN and hash) from its checkpoint plus the records after it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use redb::{Database, ReadableDatabase, ReadableTable};
use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, watch};
use twinlog_migrations::format::{EVENTS, LOG_FILE_NAME, TWIN_HEADS};
use twinlog_migrations::reader::{LogReader, SharedDatabase};
use twinlog_migrations::{FormatError, LogMeta, ReadError, TwinHead, GENESIS_HASH};

use super::writer::LogWriter;
use super::{EventLog, Inner, LogHead, LogOptions, LogStats};

/// Why a data directory could not be opened for writing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error(transparent)]
    Format(FormatError),
    #[error("{path}: cannot create the data directory: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the log belongs to region `{found}`, not `{expected}`")]
    RegionMismatch {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("recovery failed: {0}")]
    Recovery(#[from] ReadError),
    #[error("{path}: the heads checkpoint claims LSN {checkpoint_lsn} but the log ends at LSN {last_lsn}")]
    CheckpointBeyondLog {
        path: PathBuf,
        checkpoint_lsn: u64,
        last_lsn: u64,
    },
    #[error("cannot start the log writer thread: {0}")]
    Spawn(std::io::Error),
}

pub(super) fn open(dir: &Path, options: LogOptions) -> Result<EventLog, OpenError> {
    std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let path = dir.join(LOG_FILE_NAME);
    let db = if path.exists() {
        Database::open(&path).map_err(|e| FormatError::storage(&path, e))?
    } else {
        create(&path, &options.region)?
    };
    let db = Arc::new(db);
    let meta = {
        let txn = db
            .begin_read()
            .map_err(|e| FormatError::storage(&path, e))?;
        LogMeta::read(&txn, &path)?
    };
    if meta.region != options.region {
        return Err(OpenError::RegionMismatch {
            path,
            found: meta.region,
            expected: options.region,
        });
    }
    let reader = LogReader::new(db.clone() as SharedDatabase, &path);
    let recovered = recover(&db, &reader, &meta)?;
    let head = LogHead {
        lsn: recovered.last_lsn,
        epoch: meta.epoch,
        hash: recovered.last_hash,
        time_ms: recovered.last_time_ms,
    };
    let heads = Arc::new(RwLock::new(recovered.heads));
    let (head_tx, head_rx) = watch::channel(head);
    let (requests, queue) = mpsc::channel(options.queue_requests_max.max(1));
    let stats = Arc::new(LogStats::default());
    #[cfg(test)]
    let commit_gate = super::CommitGate::default();
    let writer = LogWriter {
        db,
        epoch: meta.epoch,
        head,
        heads: heads.clone(),
        dirty: Default::default(),
        events_since_checkpoint: recovered.events_after_checkpoint,
        options,
        published: head_tx,
        stats: stats.clone(),
        failed: None,
        #[cfg(test)]
        commit_gate: commit_gate.clone(),
    };
    let writer = std::thread::Builder::new()
        .name("twinlog-log-writer".into())
        .spawn(move || writer.run(queue))
        .map_err(OpenError::Spawn)?;
    Ok(EventLog {
        inner: Arc::new(Inner {
            requests: Some(requests),
            reader,
            heads,
            head: head_rx,
            meta,
            stats,
            writer: Some(writer),
            path,
            #[cfg(test)]
            commit_gate,
        }),
    })
}

fn create(path: &Path, region: &str) -> Result<Database, OpenError> {
    let storage = |e: redb::Error| OpenError::Format(FormatError::storage(path, e));
    let db = Database::create(path).map_err(|e| storage(e.into()))?;
    let txn = db.begin_write().map_err(|e| storage(e.into()))?;
    LogMeta::new(region).write(&txn).map_err(storage)?;
    txn.open_table(EVENTS).map_err(|e| storage(e.into()))?;
    txn.open_table(TWIN_HEADS).map_err(|e| storage(e.into()))?;
    txn.commit().map_err(|e| storage(e.into()))?;
    Ok(db)
}

struct Recovered {
    heads: FxHashMap<Arc<str>, TwinHead>,
    last_lsn: u64,
    last_hash: [u8; 32],
    last_time_ms: u64,
    events_after_checkpoint: u64,
}

// Invariant: see docs/design.md "Derived data". The checkpoint and `checkpoint_lsn` were committed
// in one transaction, so the heads equal the log's up to that LSN; replaying the tail after it
// brings them to the log's end.
fn recover(db: &Database, reader: &LogReader, meta: &LogMeta) -> Result<Recovered, OpenError> {
    let path = reader.path();
    let storage = |e: redb::Error| OpenError::Format(FormatError::storage(path, e));
    let mut heads = FxHashMap::default();
    {
        let txn = db.begin_read().map_err(|e| storage(e.into()))?;
        let table = txn.open_table(TWIN_HEADS).map_err(|e| storage(e.into()))?;
        for entry in table.iter().map_err(|e| storage(e.into()))? {
            let (twin, bytes) = entry.map_err(|e| storage(e.into()))?;
            let head = TwinHead::decode(bytes.value()).map_err(|e| {
                storage(
                    redb::StorageError::Corrupted(format!("head of twin `{}`: {e}", twin.value()))
                        .into(),
                )
            })?;
            heads.insert(Arc::from(twin.value()), head);
        }
    }
    let (mut last_lsn, mut last_hash, mut last_time_ms) = (0, GENESIS_HASH, 0);
    if meta.checkpoint_lsn > 0 {
        let stored =
            reader
                .get(meta.checkpoint_lsn)?
                .ok_or_else(|| OpenError::CheckpointBeyondLog {
                    path: path.to_owned(),
                    checkpoint_lsn: meta.checkpoint_lsn,
                    last_lsn: reader.last_lsn().unwrap_or(0),
                })?;
        let record = stored.decode().map_err(|source| ReadError::Record {
            path: path.to_owned(),
            source,
        })?;
        (last_lsn, last_hash, last_time_ms) =
            (record.header.lsn, record.hash, record.header.time_ms);
    }
    let mut events_after_checkpoint = 0;
    for stored in reader.replay_from(last_lsn + 1) {
        let stored = stored?;
        let record = stored
            .decode()
            .and_then(|record| record.check_chain(&last_hash).map(|()| record))
            .map_err(|source| ReadError::Record {
                path: path.to_owned(),
                source,
            })?;
        let h = &record.header;
        match heads.get_mut(h.twin_id) {
            Some(head) => *head = head.advance(h.lsn),
            None => {
                heads.insert(Arc::from(h.twin_id), TwinHead::default().advance(h.lsn));
            }
        }
        (last_lsn, last_hash, last_time_ms) = (h.lsn, record.hash, h.time_ms);
        events_after_checkpoint += 1;
    }
    Ok(Recovered {
        heads,
        last_lsn,
        last_hash,
        last_time_ms,
        events_after_checkpoint,
    })
}
