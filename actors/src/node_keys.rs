//! The node's secret keys beside the log (`twinlog_migrations::node_keys`): read, or stored the
//! first time they are needed.

use std::path::Path;
use std::sync::Arc;

use redb::TableError;
use twinlog_migrations::node_keys::{decode_node_key, NODE_KEYS, NODE_KEY_BYTES};

use crate::log::{AppendError, EventLog, SideOp};

/// Why a node key could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeKeyError {
    #[error("{path}: reading table `node_keys`: {source}")]
    Storage {
        path: Arc<Path>,
        #[source]
        source: Box<redb::Error>,
    },
    #[error(
        "{path}: table `node_keys`, key `{name}`: the value is {bytes} bytes, not {NODE_KEY_BYTES}"
    )]
    Damaged {
        path: Arc<Path>,
        name: &'static str,
        bytes: usize,
    },
    #[error("{path}: table `node_keys`: key `{name}` is missing right after it was stored")]
    Vanished { path: Arc<Path>, name: &'static str },
    #[error("reading the node keys: the reading thread failed: {0}")]
    Thread(String),
    #[error("storing node key `{name}`: {source}")]
    Store {
        name: &'static str,
        #[source]
        source: AppendError,
    },
}

/// The node key `name`: the stored one if there is one, else `candidate`, stored first (durably,
/// through the log writer) so that every later start reads it back. Two callers racing for the
/// same name get the same key: only the first store takes. The redb reads run on the blocking
/// pool.
pub async fn load_or_create(
    log: &EventLog,
    name: &'static str,
    candidate: [u8; NODE_KEY_BYTES],
) -> Result<[u8; NODE_KEY_BYTES], NodeKeyError> {
    if let Some(key) = read_off_thread(log, name).await? {
        return Ok(key);
    }
    log.write_side(vec![SideOp::PutIfAbsent {
        table: NODE_KEYS,
        key: name.as_bytes().to_vec(),
        value: candidate.to_vec(),
    }])
    .await
    .map_err(|source| NodeKeyError::Store { name, source })?;
    read_off_thread(log, name)
        .await?
        .ok_or_else(|| NodeKeyError::Vanished {
            path: log.path().into(),
            name,
        })
}

async fn read_off_thread(
    log: &EventLog,
    name: &'static str,
) -> Result<Option<[u8; NODE_KEY_BYTES]>, NodeKeyError> {
    let log = log.clone();
    tokio::task::spawn_blocking(move || read(&log, name))
        .await
        .map_err(|e| NodeKeyError::Thread(e.to_string()))?
}

fn read(log: &EventLog, name: &'static str) -> Result<Option<[u8; NODE_KEY_BYTES]>, NodeKeyError> {
    let storage = |source: redb::Error| NodeKeyError::Storage {
        path: log.path().into(),
        source: Box::new(source),
    };
    let txn = log
        .reader()
        .database()
        .begin_read()
        .map_err(|e| storage(e.into()))?;
    let table = match txn.open_table(NODE_KEYS.definition()) {
        Ok(table) => table,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(storage(e.into())),
    };
    let Some(stored) = table.get(name.as_bytes()).map_err(|e| storage(e.into()))? else {
        return Ok(None);
    };
    let value = stored.value();
    decode_node_key(value)
        .map(Some)
        .ok_or_else(|| NodeKeyError::Damaged {
            path: log.path().into(),
            name,
            bytes: value.len(),
        })
}

#[cfg(test)]
mod tests;
