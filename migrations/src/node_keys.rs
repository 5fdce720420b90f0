//! The node's secret keys, kept in a side table beside the log so that they live exactly as long
//! as its data: `node_keys`: key name (UTF-8) -> the key's [`NODE_KEY_BYTES`] bytes.
//!
//! A key is drawn once, the first time a node needs it, and never changes after; a backup of the
//! log file carries it. docs/design.md, "Queries over HTTP", says what each key seals.

use crate::format::SideTable;

pub const NODE_KEYS: SideTable = SideTable::new("node_keys");

/// The bytes of every node key.
pub const NODE_KEY_BYTES: usize = 32;

/// The key that seals `POST /query`'s continuation tokens.
pub const QUERY_TOKEN_KEY: &str = "query_token";

/// A stored key's bytes, or `None` if the value is not [`NODE_KEY_BYTES`] long.
pub fn decode_node_key(value: &[u8]) -> Option<[u8; NODE_KEY_BYTES]> {
    value.try_into().ok()
}
