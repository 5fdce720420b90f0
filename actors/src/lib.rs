//! twinlog's moving parts: the event log writer today; twin actors, the region supervisor and the
//! replicator build on it.
//!
//! # Layout
//! - [`log`]: [`log::EventLog`], the durable, group-committed, append-only log that every change
//!   goes through, and its readers.
//!
//! The on-disk format itself (records, tables, versions) belongs to `twinlog_migrations`.

pub mod log;
