//! The event routes' node-local tables beside the log: route definitions, delivery cursors and
//! dead letters, and how their keys and values are encoded.
//!
//! - `event_routes`: route id (UTF-8) -> postcard [`StoredRoute`].
//! - `route_cursors`: route id (UTF-8) -> the LSN of the last record the route is done with
//!   (delivered, dead-lettered, or not matching its filter), u64 little endian.
//! - `route_dead_letters`: route id (UTF-8), a 0 byte, then the LSN (u64 big endian) ->
//!   postcard [`StoredDeadLetter`]. Route ids never hold a 0 byte, so the 0 byte ends the id, and
//!   big endian LSNs make one route's dead letters one contiguous range in LSN order.
//!
//! docs/design.md, "Event routes", says why these are node-local state and not log records.

use serde::{Deserialize, Serialize};

use crate::format::SideTable;

pub const EVENT_ROUTES: SideTable = SideTable::new("event_routes");
pub const ROUTE_CURSORS: SideTable = SideTable::new("route_cursors");
pub const ROUTE_DEAD_LETTERS: SideTable = SideTable::new("route_dead_letters");

/// An event route: where its events go, and which ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRoute {
    /// The name of an endpoint in the node's endpoints file.
    pub endpoint_name: String,
    /// The route's filter, as the client wrote it.
    pub filter: String,
}

/// An event that a route gave up delivering, kept until a replay delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDeadLetter {
    /// When delivery gave up (wall clock, milliseconds since the Unix epoch).
    pub dead_lettered_ms: u64,
    /// The delivery attempts made.
    pub attempts: u32,
    /// The last attempt's failure.
    pub reason: String,
    /// The CloudEvent, as its JSON (structured mode) text.
    pub event: String,
}

impl StoredRoute {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("postcard encodes StoredRoute into a Vec")
    }

    pub fn decode(bytes: &[u8]) -> Result<StoredRoute, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

impl StoredDeadLetter {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("postcard encodes StoredDeadLetter into a Vec")
    }

    pub fn decode(bytes: &[u8]) -> Result<StoredDeadLetter, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

pub fn encode_cursor(lsn: u64) -> [u8; 8] {
    lsn.to_le_bytes()
}

/// The cursor's LSN; `None` if the value is not 8 bytes.
pub fn decode_cursor(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_le_bytes)
}

/// The key of `route_id`'s dead letter for the record at `lsn`.
pub fn dead_letter_key(route_id: &str, lsn: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(route_id.len() + 9);
    key.extend_from_slice(route_id.as_bytes());
    key.push(0);
    key.extend_from_slice(&lsn.to_be_bytes());
    key
}

/// The keys of `route_id`'s dead letters with LSN `from_lsn` or above: `start..end`.
pub fn dead_letter_range(route_id: &str, from_lsn: u64) -> (Vec<u8>, Vec<u8>) {
    let mut end = route_id.as_bytes().to_vec();
    end.push(1);
    (dead_letter_key(route_id, from_lsn), end)
}

/// The LSN of a dead letter's key; `None` if the key is too short to be one.
pub fn dead_letter_lsn(key: &[u8]) -> Option<u64> {
    let lsn = key.len().checked_sub(8).map(|at| &key[at..])?;
    <[u8; 8]>::try_from(lsn).ok().map(u64::from_be_bytes)
}

#[cfg(test)]
mod tests;
