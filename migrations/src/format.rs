//! The redb tables of a log file, its metadata and its format version.
//!
//! Layout (docs/design.md, "Key layout"):
//! - `events`: LSN (`u64`) -> record envelope bytes. LSNs are sequential, so appends always land
//!   on the B-tree's right edge: that is what makes group commit cheap.
//! - `meta`: `&str` -> bytes. Magic, format version, region, epoch, role and the LSN up to which
//!   the `twin_heads` checkpoint reflects the log.
//! - `twin_heads`: twin id -> [`crate::TwinHead`], a checkpoint of derived data.
//! - Side tables ([`SideTable`]): node-local state kept beside the log, not in it: the event
//!   routes' definitions (`event_routes`), delivery cursors (`route_cursors`) and dead letters
//!   (`route_dead_letters`), whose keys and values [`crate::routes`] describes, and the node's
//!   secret keys (`node_keys`, [`crate::node_keys`]). They are not
//!   records, so the hash chain, `audit verify` and `export` do not cover them; old builds ignore
//!   them, so adding one does not change the format version.

use std::fmt;
use std::path::{Path, PathBuf};

use redb::{ReadTransaction, TableDefinition, WriteTransaction};

/// The format this build writes. Files of this version or older (through their upcasters) are read.
pub const FORMAT_VERSION: u32 = 1;

/// The name of the log file inside a data directory.
pub const LOG_FILE_NAME: &str = "events.redb";

pub const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub const TWIN_HEADS: TableDefinition<&str, &[u8]> = TableDefinition::new("twin_heads");

/// A table of node-local state beside the log, with byte keys and values. Only the tables named
/// in this crate exist, so a side write can never reach the log's own tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SideTable {
    name: &'static str,
}

impl SideTable {
    pub(crate) const fn new(name: &'static str) -> SideTable {
        SideTable { name }
    }

    pub fn definition(self) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
        TableDefinition::new(self.name)
    }

    pub fn name(self) -> &'static str {
        self.name
    }
}

const MAGIC: &[u8] = b"twinlog";

mod key {
    pub const MAGIC: &str = "magic";
    pub const FORMAT_VERSION: &str = "format_version";
    pub const REGION: &str = "region";
    pub const EPOCH: &str = "epoch";
    pub const ROLE: &str = "role";
    pub const CHECKPOINT_LSN: &str = "checkpoint_lsn";
}

/// Whether this node accepts writes (primary) or follows another region's log (secondary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Secondary,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `meta` table, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMeta {
    pub format_version: u32,
    pub region: String,
    pub epoch: u64,
    pub role: Role,
    /// The `twin_heads` table reflects exactly the records with LSN <= this (0: none).
    pub checkpoint_lsn: u64,
}

impl LogMeta {
    /// The metadata of a brand-new log.
    pub fn new(region: &str) -> LogMeta {
        LogMeta {
            format_version: FORMAT_VERSION,
            region: region.to_owned(),
            epoch: 1,
            role: Role::Primary,
            checkpoint_lsn: 0,
        }
    }

    /// Reads and checks the metadata: the file must be twinlog's and of a version this build reads.
    pub fn read(txn: &ReadTransaction, path: &Path) -> Result<LogMeta, FormatError> {
        let table = match txn.open_table(META) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Err(FormatError::NotTwinlog {
                    path: path.to_owned(),
                    reason: "it has no `meta` table".into(),
                })
            }
            Err(source) => return Err(FormatError::storage(path, source)),
        };
        let get = |name: &'static str| -> Result<Vec<u8>, FormatError> {
            match table.get(name) {
                Ok(Some(value)) => Ok(value.value().to_vec()),
                Ok(None) => Err(FormatError::BadMeta {
                    path: path.to_owned(),
                    key: name,
                    reason: "missing".into(),
                }),
                Err(source) => Err(FormatError::storage(path, source)),
            }
        };
        if get(key::MAGIC)? != MAGIC {
            return Err(FormatError::NotTwinlog {
                path: path.to_owned(),
                reason: "its magic is not `twinlog`".into(),
            });
        }
        let format_version =
            u32::from_le_bytes(fixed(path, key::FORMAT_VERSION, get(key::FORMAT_VERSION)?)?);
        if format_version > FORMAT_VERSION {
            return Err(FormatError::NewerVersion {
                path: path.to_owned(),
                found: format_version,
                supported: FORMAT_VERSION,
            });
        }
        let text = |name: &'static str| -> Result<String, FormatError> {
            String::from_utf8(get(name)?).map_err(|_| FormatError::BadMeta {
                path: path.to_owned(),
                key: name,
                reason: "not UTF-8".into(),
            })
        };
        let role = match text(key::ROLE)?.as_str() {
            "primary" => Role::Primary,
            "secondary" => Role::Secondary,
            other => {
                return Err(FormatError::BadMeta {
                    path: path.to_owned(),
                    key: key::ROLE,
                    reason: format!("unknown role `{other}`"),
                })
            }
        };
        Ok(LogMeta {
            format_version,
            region: text(key::REGION)?,
            epoch: u64::from_le_bytes(fixed(path, key::EPOCH, get(key::EPOCH)?)?),
            role,
            checkpoint_lsn: u64::from_le_bytes(fixed(
                path,
                key::CHECKPOINT_LSN,
                get(key::CHECKPOINT_LSN)?,
            )?),
        })
    }

    /// Writes every metadata key in `txn`.
    pub fn write(&self, txn: &WriteTransaction) -> Result<(), redb::Error> {
        let mut table = txn.open_table(META)?;
        table.insert(key::MAGIC, MAGIC)?;
        table.insert(key::FORMAT_VERSION, &self.format_version.to_le_bytes()[..])?;
        table.insert(key::REGION, self.region.as_bytes())?;
        table.insert(key::EPOCH, &self.epoch.to_le_bytes()[..])?;
        table.insert(key::ROLE, self.role.as_str().as_bytes())?;
        table.insert(key::CHECKPOINT_LSN, &self.checkpoint_lsn.to_le_bytes()[..])?;
        Ok(())
    }

    /// Records in `txn` that the heads checkpoint now reflects the log up to `lsn`.
    pub fn write_checkpoint_lsn(txn: &WriteTransaction, lsn: u64) -> Result<(), redb::Error> {
        let mut table = txn.open_table(META)?;
        table.insert(key::CHECKPOINT_LSN, &lsn.to_le_bytes()[..])?;
        Ok(())
    }
}

fn fixed<const N: usize>(
    path: &Path,
    name: &'static str,
    bytes: Vec<u8>,
) -> Result<[u8; N], FormatError> {
    let len = bytes.len();
    bytes.try_into().map_err(|_| FormatError::BadMeta {
        path: path.to_owned(),
        key: name,
        reason: format!("{len} bytes where {N} were expected"),
    })
}

/// Why a file could not be opened as a twinlog log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    #[error("{path}: no such log file")]
    Missing { path: PathBuf },
    #[error("{path}: not a twinlog log: {reason}")]
    NotTwinlog { path: PathBuf, reason: String },
    #[error("{path}: format version {found} is newer than this build reads (up to {supported}); upgrade twinlog")]
    NewerVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path}: metadata key `{key}` is damaged: {reason}")]
    BadMeta {
        path: PathBuf,
        key: &'static str,
        reason: String,
    },
    #[error("{path}: the log is in use by a running twinlog process (the file is locked)")]
    Locked { path: PathBuf },
    #[error("{path}: {source}")]
    Storage {
        path: PathBuf,
        #[source]
        source: redb::Error,
    },
}

impl FormatError {
    pub fn storage(path: &Path, source: impl Into<redb::Error>) -> FormatError {
        match source.into() {
            redb::Error::DatabaseAlreadyOpen => FormatError::Locked {
                path: path.to_owned(),
            },
            source => FormatError::Storage {
                path: path.to_owned(),
                source,
            },
        }
    }
}
