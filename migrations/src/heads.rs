//! Per-twin heads: each twin's latest version and the LSN of its latest record.
//!
//! Heads are derived data. The writer keeps them in memory and checkpoints them into the
//! `twin_heads` table inside an ordinary append transaction, together with `checkpoint_lsn`; on
//! open, the checkpoint plus a replay of the records after it rebuilds them exactly.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TwinHead {
    /// The twin's latest version: the count of records in its stream.
    pub version: u64,
    /// The LSN of the twin's latest record.
    pub lsn: u64,
}

impl TwinHead {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("postcard encodes TwinHead into a Vec")
    }

    pub fn decode(bytes: &[u8]) -> Result<TwinHead, postcard::Error> {
        postcard::from_bytes(bytes)
    }

    /// The head after one more record at `lsn`.
    pub fn advance(self, lsn: u64) -> TwinHead {
        TwinHead {
            version: self.version + 1,
            lsn,
        }
    }
}
