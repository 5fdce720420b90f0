//! The audit of a whole log: checksums, hash chain, contiguous LSNs, non-decreasing epochs and
//! times, per-twin streams, and agreement of the derived `twin_heads` checkpoint with the log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use redb::ReadableTable;

use crate::format::{FormatError, TWIN_HEADS};
use crate::heads::TwinHead;
use crate::reader::{LogFile, ReadError};
use crate::record::{Hash, RecordError, GENESIS_HASH};

/// What a successful verification saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub path: PathBuf,
    pub records: u64,
    pub last_lsn: u64,
    pub last_epoch: u64,
    pub twins: usize,
    /// The hash of the last record: publishing it pins the whole log's content.
    pub head_hash: Hash,
    pub checkpoint_lsn: u64,
    pub repaired_copy: bool,
}

/// Why a log failed verification: the first problem found, with its LSN where one applies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error(transparent)]
    Open(#[from] FormatError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{path}: LSN {lsn}: {reason}")]
    Invalid {
        path: PathBuf,
        lsn: u64,
        reason: String,
    },
    #[error(
        "{path}: derived data disagrees with the log at checkpoint LSN {checkpoint_lsn}: {reason}"
    )]
    DerivedDisagrees {
        path: PathBuf,
        checkpoint_lsn: u64,
        reason: String,
    },
}

impl VerifyError {
    /// The LSN of the first bad record, when the problem is in one.
    pub fn lsn(&self) -> Option<u64> {
        match self {
            VerifyError::Read(ReadError::Record { source, .. }) => Some(source.lsn()),
            VerifyError::Read(ReadError::Gap { expected, .. }) => Some(*expected),
            VerifyError::Read(ReadError::StreamBroken { lsn, .. }) => Some(*lsn),
            VerifyError::Invalid { lsn, .. } => Some(*lsn),
            _ => None,
        }
    }
}

/// Verifies the log in `path` (a data directory or a log file) without modifying it.
pub fn verify(path: &Path) -> Result<VerifyReport, VerifyError> {
    let file = LogFile::open(path)?;
    let path = file.reader.path().to_path_buf();
    let invalid = |lsn: u64, reason: String| VerifyError::Invalid {
        path: path.clone(),
        lsn,
        reason,
    };
    let record_error = |source: RecordError| {
        VerifyError::Read(ReadError::Record {
            path: path.clone(),
            source,
        })
    };

    let mut heads: HashMap<String, TwinHead> = HashMap::new();
    let mut prev_hash = GENESIS_HASH;
    let (mut last_lsn, mut last_epoch, mut last_time_ms) = (0, 0, 0);
    if file.meta.checkpoint_lsn == 0 {
        check_heads_checkpoint(&file, &heads)?;
    }
    for stored in file.reader.replay_from(1) {
        let stored = stored?;
        let record = stored.decode().map_err(record_error)?;
        record.check_chain(&prev_hash).map_err(record_error)?;
        record.event().map_err(record_error)?;
        let h = &record.header;
        if h.epoch < last_epoch {
            return Err(invalid(
                h.lsn,
                format!(
                    "epoch {} is lower than the previous record's {last_epoch}",
                    h.epoch
                ),
            ));
        }
        if h.epoch > file.meta.epoch {
            return Err(invalid(
                h.lsn,
                format!(
                    "epoch {} is above the log's current epoch {}",
                    h.epoch, file.meta.epoch
                ),
            ));
        }
        if h.time_ms < last_time_ms {
            return Err(invalid(
                h.lsn,
                format!(
                    "time {} ms is before the previous record's {last_time_ms} ms",
                    h.time_ms
                ),
            ));
        }
        let head = heads.entry(h.twin_id.to_owned()).or_default();
        if h.twin_version != head.version + 1 || h.prev_twin_lsn != head.lsn {
            return Err(invalid(
                h.lsn,
                format!(
                    "twin `{}` version {} with previous LSN {} does not follow its version {} at LSN {}",
                    h.twin_id, h.twin_version, h.prev_twin_lsn, head.version, head.lsn
                ),
            ));
        }
        *head = head.advance(h.lsn);
        (prev_hash, last_lsn, last_epoch, last_time_ms) = (record.hash, h.lsn, h.epoch, h.time_ms);
        if h.lsn == file.meta.checkpoint_lsn {
            check_heads_checkpoint(&file, &heads)?;
        }
    }
    if file.meta.checkpoint_lsn > last_lsn {
        return Err(VerifyError::DerivedDisagrees {
            path,
            checkpoint_lsn: file.meta.checkpoint_lsn,
            reason: format!(
                "the checkpoint claims LSN {} but the log ends at LSN {last_lsn}",
                file.meta.checkpoint_lsn
            ),
        });
    }
    Ok(VerifyReport {
        path,
        records: last_lsn,
        last_lsn,
        last_epoch,
        twins: heads.len(),
        head_hash: prev_hash,
        checkpoint_lsn: file.meta.checkpoint_lsn,
        repaired_copy: file.repaired_copy,
    })
}

/// Compares the stored `twin_heads` checkpoint with the heads computed from the log up to the
/// checkpoint LSN: every stored head must be exactly right, and none may be missing.
fn check_heads_checkpoint(
    file: &LogFile,
    computed: &HashMap<String, TwinHead>,
) -> Result<(), VerifyError> {
    let path = file.reader.path().to_path_buf();
    let checkpoint_lsn = file.meta.checkpoint_lsn;
    let disagree = |reason: String| VerifyError::DerivedDisagrees {
        path: path.clone(),
        checkpoint_lsn,
        reason,
    };
    let storage = |source: redb::Error| {
        VerifyError::Read(ReadError::Storage {
            path: path.clone(),
            source,
        })
    };
    let db = file.reader.database();
    let txn = db.begin_read().map_err(|e| storage(e.into()))?;
    let table = match txn.open_table(TWIN_HEADS) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) if computed.is_empty() => return Ok(()),
        Err(redb::TableError::TableDoesNotExist(_)) => {
            return Err(disagree(format!(
                "no `twin_heads` table, but {} twins are in the log",
                computed.len()
            )))
        }
        Err(e) => return Err(storage(e.into())),
    };
    let mut stored_twins = 0usize;
    for entry in table.iter().map_err(|e| storage(e.into()))? {
        let (twin, bytes) = entry.map_err(|e| storage(e.into()))?;
        let twin = twin.value();
        let stored = TwinHead::decode(bytes.value())
            .map_err(|e| disagree(format!("the head of twin `{twin}` does not decode: {e}")))?;
        let expected = computed.get(twin).copied().unwrap_or_default();
        if stored != expected {
            return Err(disagree(format!(
                "twin `{twin}` is checkpointed at version {} (LSN {}) but the log has version {} (LSN {})",
                stored.version, stored.lsn, expected.version, expected.lsn
            )));
        }
        stored_twins += 1;
    }
    if stored_twins != computed.len() {
        return Err(disagree(format!(
            "{stored_twins} twins are checkpointed but the log has {} up to the checkpoint",
            computed.len()
        )));
    }
    Ok(())
}
