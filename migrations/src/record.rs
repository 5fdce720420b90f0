//! The record envelope: one event with its place in the log, a checksum and a hash chain link.
//!
//! Bytes of a v1 envelope (docs/design.md, "Record envelope"):
//! ```text
//! [0]       envelope version (1)
//! [1..5]    CRC-32 (little endian) of bytes 5..
//! [5..37]   BLAKE3(previous record's hash || body)
//! [37..]    body: postcard(RecordBody)
//! ```
//! The checksum tells damage from tampering: a record whose checksum holds but whose hash does not
//! follow from its predecessor was rewritten, or its predecessor was.

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventDecodeError};

pub type Hash = [u8; 32];

/// The hash that the record with LSN 1 chains from.
pub const GENESIS_HASH: Hash = [0; 32];

const ENVELOPE_V1: u8 = 1;
const CRC_AT: usize = 1;
const HASH_AT: usize = 5;
const BODY_AT: usize = 37;

/// What a record says about its event. Borrowed from the stored bytes when decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordHeader<'a> {
    /// Global log sequence number, contiguous from 1.
    pub lsn: u64,
    /// The epoch the record was written in; never decreases along the log.
    pub epoch: u64,
    pub twin_id: &'a str,
    /// The twin's own version: 1, 2, 3 … within its stream.
    pub twin_version: u64,
    /// The LSN of the twin's previous record (0 for its first), so one twin's stream can be read
    /// without scanning the log.
    pub prev_twin_lsn: u64,
    /// Wall-clock milliseconds since the Unix epoch; never decreases along the log.
    pub time_ms: u64,
    /// The postcard-encoded [`Event`].
    pub payload: &'a [u8],
}

impl RecordHeader<'_> {
    /// Encodes the envelope chained from `prev_hash`, returning its bytes and its own hash.
    pub fn encode(&self, prev_hash: &Hash) -> (Vec<u8>, Hash) {
        let mut out = Vec::new();
        let hash = self.encode_into(prev_hash, &mut out);
        (out, hash)
    }

    /// Like [`RecordHeader::encode`], into a buffer the caller reuses across records.
    pub fn encode_into(&self, prev_hash: &Hash, out: &mut Vec<u8>) -> Hash {
        out.clear();
        out.push(ENVELOPE_V1);
        out.extend_from_slice(&[0; BODY_AT - 1]);
        let body = postcard::to_extend(self, std::mem::take(out))
            .expect("postcard encodes a header into a Vec");
        *out = body;
        // The hash's own slot holds `prev_hash` while the hash is taken, so that the chain's input
        // (previous hash || body) lies in one piece: one call, no incremental hasher.
        out[HASH_AT..BODY_AT].copy_from_slice(prev_hash);
        let hash = *blake3::hash(&out[HASH_AT..]).as_bytes();
        out[HASH_AT..BODY_AT].copy_from_slice(&hash);
        let crc = crc32fast::hash(&out[HASH_AT..]);
        out[CRC_AT..HASH_AT].copy_from_slice(&crc.to_le_bytes());
        hash
    }
}

fn chain(prev_hash: &Hash, body: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(prev_hash);
    hasher.update(body);
    *hasher.finalize().as_bytes()
}

/// A decoded record, borrowed from its stored bytes, whose checksum and LSN have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub header: RecordHeader<'a>,
    pub hash: Hash,
    body: &'a [u8],
}

impl<'a> Record<'a> {
    /// Decodes the envelope stored under key `lsn`, checking its version, checksum and LSN.
    pub fn decode(lsn: u64, bytes: &'a [u8]) -> Result<Record<'a>, RecordError> {
        if bytes.len() < BODY_AT {
            return Err(RecordError::Truncated {
                lsn,
                len: bytes.len(),
            });
        }
        if bytes[0] != ENVELOPE_V1 {
            return Err(RecordError::UnknownEnvelope {
                lsn,
                version: bytes[0],
            });
        }
        let stored = u32::from_le_bytes(bytes[CRC_AT..HASH_AT].try_into().expect("4 bytes"));
        let computed = crc32fast::hash(&bytes[HASH_AT..]);
        if stored != computed {
            return Err(RecordError::Checksum {
                lsn,
                stored,
                computed,
            });
        }
        let body = &bytes[BODY_AT..];
        let header: RecordHeader<'a> =
            postcard::from_bytes(body).map_err(|source| RecordError::Malformed { lsn, source })?;
        if header.lsn != lsn {
            return Err(RecordError::LsnMismatch {
                lsn,
                body_lsn: header.lsn,
            });
        }
        let hash = bytes[HASH_AT..BODY_AT].try_into().expect("32 bytes");
        Ok(Record { header, hash, body })
    }

    /// Whether this record's hash follows from its predecessor's.
    pub fn follows(&self, prev_hash: &Hash) -> bool {
        chain(prev_hash, self.body) == self.hash
    }

    /// Like [`Record::follows`], as an error naming the LSN.
    pub fn check_chain(&self, prev_hash: &Hash) -> Result<(), RecordError> {
        if self.follows(prev_hash) {
            Ok(())
        } else {
            Err(RecordError::ChainBroken {
                lsn: self.header.lsn,
            })
        }
    }

    pub fn event(&self) -> Result<Event, RecordError> {
        Event::decode(self.header.payload).map_err(|source| RecordError::Event {
            lsn: self.header.lsn,
            source,
        })
    }
}

/// Why a stored record cannot be trusted. Every variant names the record's LSN.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error("LSN {lsn}: record of {len} bytes is shorter than its envelope")]
    Truncated { lsn: u64, len: usize },
    #[error("LSN {lsn}: unknown envelope version {version}")]
    UnknownEnvelope { lsn: u64, version: u8 },
    #[error("LSN {lsn}: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum {
        lsn: u64,
        stored: u32,
        computed: u32,
    },
    #[error("LSN {lsn}: record body does not decode: {source}")]
    Malformed {
        lsn: u64,
        #[source]
        source: postcard::Error,
    },
    #[error("LSN {lsn}: stored under LSN {lsn} but its body says LSN {body_lsn}")]
    LsnMismatch { lsn: u64, body_lsn: u64 },
    #[error("LSN {lsn}: hash chain broken (the record does not follow from its predecessor)")]
    ChainBroken { lsn: u64 },
    #[error("LSN {lsn}: {source}")]
    Event {
        lsn: u64,
        #[source]
        source: EventDecodeError,
    },
}

impl RecordError {
    pub fn lsn(&self) -> u64 {
        match self {
            RecordError::Truncated { lsn, .. }
            | RecordError::UnknownEnvelope { lsn, .. }
            | RecordError::Checksum { lsn, .. }
            | RecordError::Malformed { lsn, .. }
            | RecordError::LsnMismatch { lsn, .. }
            | RecordError::ChainBroken { lsn }
            | RecordError::Event { lsn, .. } => *lsn,
        }
    }
}

#[cfg(test)]
mod tests;
