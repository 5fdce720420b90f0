//! `POST /query`'s continuation tokens: where the next page of a query starts, sealed so that the
//! server accepts only tokens it issued, unchanged.
//!
//! A token is base64url (no padding) of `payload || tag`: the payload is the JSON of a
//! [`Continuation`], and the tag is the keyed BLAKE3 hash (a MAC) of the payload under a key
//! kept beside the log (node key `query_token`, drawn at the node's first start). The tag is
//! checked, in constant time, before anything in the payload is read, so a changed byte anywhere
//! is refused as a whole. Since the key lives as long as the data, a client may go on paging
//! across a restart of the server; a token of another node is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The bytes of a tag, and of the key.
const TAG_BYTES: usize = blake3::OUT_LEN;

/// What a token carries: the query, and where and how long its next page is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    /// The query's text, parsed again for each page.
    #[serde(rename = "q")]
    pub query: String,
    /// How many results the earlier pages held.
    #[serde(rename = "o")]
    pub offset: usize,
    /// The page size, for clients that send `max-items-per-page` only with the first page.
    #[serde(rename = "n")]
    pub page_items: usize,
}

/// Why a token was refused. Every variant is ADT's `BadRequest`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("continuationToken is not base64url: {0}")]
    Encoding(#[from] base64::DecodeError),
    #[error("continuationToken was not issued by this node, or was changed ({bytes} bytes)")]
    NotIssued { bytes: usize },
    #[error("continuationToken's content is unreadable: {0}")]
    Content(#[from] serde_json::Error),
}

/// The key that seals this server's tokens.
pub struct TokenKey([u8; TAG_BYTES]);

impl TokenKey {
    pub fn new(key: [u8; TAG_BYTES]) -> TokenKey {
        TokenKey(key)
    }

    pub fn seal(&self, continuation: &Continuation) -> String {
        let mut bytes =
            serde_json::to_vec(continuation).expect("a Continuation always serializes to JSON");
        let tag = blake3::keyed_hash(&self.0, &bytes);
        bytes.extend_from_slice(tag.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn open(&self, token: &str) -> Result<Continuation, TokenError> {
        let bytes = URL_SAFE_NO_PAD.decode(token)?;
        let not_issued = || TokenError::NotIssued { bytes: bytes.len() };
        let payload_bytes = bytes.len().checked_sub(TAG_BYTES).ok_or_else(not_issued)?;
        let (payload, tag) = bytes.split_at(payload_bytes);
        let tag = <[u8; TAG_BYTES]>::try_from(tag).map_err(|_| not_issued())?;
        // `blake3::Hash` compares in constant time.
        if blake3::keyed_hash(&self.0, payload) != blake3::Hash::from_bytes(tag) {
            return Err(not_issued());
        }
        Ok(serde_json::from_slice(payload)?)
    }
}
