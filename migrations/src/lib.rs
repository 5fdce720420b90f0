//! twinlog's on-disk format: everything needed to read, check and write a data directory's files,
//! and nothing about how twins behave.
//!
//! # Layout
//! - [`format`]: the redb tables, the metadata keys and the format version; opening a file and
//!   refusing one that is not twinlog's or is newer than this build.
//! - [`record`]: the record envelope (LSN, epoch, twin, version, time, payload) with its checksum
//!   and hash chain.
//! - [`event`]: the events that records carry, encoded with postcard.
//! - [`heads`]: the per-twin heads, derived data checkpointed beside the log.
//! - [`reader`]: streaming reads of a log in constant memory.
//! - [`routes`]: the event routes' node-local side tables: definitions, cursors, dead letters.
//! - [`node_keys`]: the node's secret keys, a side table drawn once and kept with the data.
//! - [`verify`]: the audit that proves a log whole, untouched and in agreement with its derived data.
//!
//! Every released format has a frozen fixture under `fixtures/`, and `tests/` proves that today's
//! code still reads each of them. docs/design.md describes the layout and its invariants.

pub mod event;
pub mod format;
pub mod heads;
pub mod node_keys;
pub mod reader;
pub mod record;
pub mod routes;
pub mod verify;

pub use event::{Event, EventDecodeError};
pub use format::{FormatError, LogMeta, Role, SideTable, FORMAT_VERSION};
pub use heads::TwinHead;
pub use reader::{LogFile, ReadError, Replay};
pub use record::{Record, RecordError, RecordHeader, GENESIS_HASH};
pub use verify::{verify, VerifyError, VerifyReport};
