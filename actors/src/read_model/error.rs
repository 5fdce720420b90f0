//! Why the read model could not take in a record, or run a query.

use twinlog_dtdl::DtmiError;
use twinlog_migrations::{ReadError, RecordError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadModelError {
    #[error("record LSN {lsn} arrived when the read model expected LSN {expected_lsn}")]
    OutOfOrder { expected_lsn: u64, lsn: u64 },
    #[error("reading the log failed: {0}")]
    Read(#[from] ReadError),
    #[error("a committed record is unreadable: {0}")]
    Record(#[from] RecordError),
    #[error("the read model's follower thread could not start: {0}")]
    Spawn(#[from] std::io::Error),
}

/// Why a parsed query could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// Only a query built by hand, not by [`crate::query::parse`], can name one.
    #[error("alias `{alias}` is not declared by the query's FROM or a JOIN before its use")]
    UnknownAlias { alias: String },
    #[error("IS_OF_MODEL names `{model}`, which is not a valid DTMI: {source}")]
    InvalidModel {
        model: String,
        #[source]
        source: DtmiError,
    },
}

/// Why a query could not run on the [`QueryPool`](super::QueryPool).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryRunError {
    /// Applying a record panicked: the log and the code disagree, and nothing follows the log
    /// any more. `lsn` is the last snapshot's.
    #[error("the query read model stopped following the log after a failure at LSN {lsn}")]
    Halted { lsn: u64 },
    #[error("the query's evaluation panicked")]
    Panicked,
}

/// Why the [`QueryPool`](super::QueryPool)'s threads could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryPoolError {
    #[error("the query threads could not start: {0}")]
    Spawn(#[from] rayon::ThreadPoolBuildError),
}
