//! [`ChangeFeed`]: committed records after an LSN, read in order and projected into
//! [`CloudEvent`]s, with memory bounded whatever the size of the log.
//!
//! Projecting a record needs its twin's state just before it. The feed keeps the states of the
//! twins it met most recently (an LRU of [`ChangeFeed::with_twins_cached`] entries), each
//! advanced by the records that pass. A twin not in the cache is rebuilt from its own stream:
//! the record's `prev_twin_lsn` chain is walked back to the twin's last deletion (or its first
//! record), keeping only the LSNs of records that change the twin, and those are applied oldest
//! first. So an event never depends on where the feed started or what the cache held.

use std::num::NonZeroUsize;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use lru::LruCache;
use twinlog_migrations::reader::LogReader;
use twinlog_migrations::{Event, ReadError, RecordError};

use super::event::CloudEvent;
use super::project::{advance, Committed, Projection};
use super::time::TimeText;
use crate::log::EventLog;
use crate::models::MODELS_STREAM;
use crate::twin::TwinState;

/// How many twins' states a feed keeps by default. Each is one twin's document and outgoing
/// relationships, so the feed's memory is at most this many twins. A miss walks the twin's
/// stream back to its last deletion, telemetry included, so the cache is sized for a fleet of
/// devices sending telemetry round-robin rather than for a handful of twins.
pub const TWINS_CACHED_DEFAULT: usize = 16_384;

/// Why the feed could not go on. Every variant names the record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("LSN {lsn}: {source}")]
    Record {
        lsn: u64,
        #[source]
        source: RecordError,
    },
    #[error("LSN {lsn} (twin `{twin_id}`) does not project: {reason}")]
    Disagreement {
        lsn: u64,
        twin_id: String,
        reason: String,
    },
}

/// A twin's state after the record `lsn` of its stream.
struct Cached {
    state: TwinState,
    lsn: u64,
}

/// Reads committed records from the log after an LSN and turns them into CloudEvents, in LSN
/// order, one or none per record. Blocking (redb reads): run it on a dedicated thread or
/// `spawn_blocking`.
pub struct ChangeFeed {
    log: EventLog,
    source: String,
    position: u64,
    twins: LruCache<Arc<str>, Cached>,
    times: TimeText,
}

impl ChangeFeed {
    /// A feed of the records after `after_lsn` (0: from the start), whose events name `source`.
    pub fn new(log: &EventLog, after_lsn: u64, source: &str) -> ChangeFeed {
        ChangeFeed {
            log: log.clone(),
            source: source.to_owned(),
            position: after_lsn,
            twins: LruCache::new(NonZeroUsize::new(TWINS_CACHED_DEFAULT).expect("not zero")),
            times: TimeText::default(),
        }
    }

    /// Keeps at most `twins` twins' states (at least one).
    pub fn with_twins_cached(mut self, twins: usize) -> ChangeFeed {
        self.twins
            .resize(NonZeroUsize::new(twins).unwrap_or(NonZeroUsize::MIN));
        self
    }

    /// The LSN of the last record consumed, whether or not it yielded an event.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Goes on after `after_lsn` instead, keeping the cached twin states: a state is only used
    /// for the record right after the one it was advanced to, so any position is safe.
    pub fn seek(&mut self, after_lsn: u64) {
        self.position = after_lsn;
    }

    /// Up to `max` next events. Records that yield none (model changes) are passed over but
    /// still advance [`ChangeFeed::position`]. An empty `Vec` means the end of the committed log
    /// for now: wait on [`EventLog::subscribe`] for more.
    ///
    /// Each call reads in a snapshot of its own, dropped before it returns, so an idle or slow
    /// reader pins no old pages of the log.
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<CloudEvent>, FeedError> {
        let mut events = Vec::new();
        self.read(max, |event, _| events.push(event))?;
        Ok(events)
    }

    /// Reads like [`ChangeFeed::next_batch`], handing each event to `keep` with its record's
    /// commit time. Returns the commit time of the first record read (at least 1), or 0 if there
    /// was none. On `Err`, events already kept may be followed by a gap: start again from the
    /// last one kept.
    pub(super) fn read(
        &mut self,
        max: usize,
        mut keep: impl FnMut(CloudEvent, u64),
    ) -> Result<u64, FeedError> {
        let mut first_record_ms = 0;
        let mut kept = 0;
        if max == 0 {
            return Ok(first_record_ms);
        }
        for stored in self.log.replay_from(self.position + 1) {
            let stored = stored?;
            let lsn = stored.lsn;
            let record = stored
                .decode()
                .map_err(|source| FeedError::Record { lsn, source })?;
            let header = &record.header;
            if first_record_ms == 0 {
                first_record_ms = header.time_ms.max(1);
            }
            let event = record
                .event()
                .map_err(|source| FeedError::Record { lsn, source })?;
            let projected = if header.twin_id == MODELS_STREAM {
                None
            } else {
                let committed = Committed {
                    lsn,
                    twin_version: header.twin_version,
                    time_ms: header.time_ms,
                    event: &event,
                };
                Some(self.project(header.twin_id, header.prev_twin_lsn, &committed)?)
            };
            self.position = lsn;
            if let Some(projected) = projected {
                keep(projected, header.time_ms);
                kept += 1;
                if kept >= max {
                    break;
                }
            }
        }
        Ok(first_record_ms)
    }

    fn project(
        &mut self,
        twin_id: &str,
        prev_twin_lsn: u64,
        record: &Committed<'_>,
    ) -> Result<CloudEvent, FeedError> {
        let disagreement = |reason: String| FeedError::Disagreement {
            lsn: record.lsn,
            twin_id: twin_id.to_owned(),
            reason,
        };
        let stale = self
            .twins
            .peek(twin_id)
            .is_none_or(|cached| cached.lsn != prev_twin_lsn);
        if stale {
            let state = rebuild(self.log.reader(), twin_id, prev_twin_lsn)
                .map_err(|e| e.into_feed_error(disagreement))?;
            self.twins.put(
                Arc::from(twin_id),
                Cached {
                    state,
                    lsn: prev_twin_lsn,
                },
            );
        }
        let cached = self.twins.get_mut(twin_id).expect("just checked or put");
        // A record that does not apply panics inside the aggregate (the log and the code
        // disagree); the feed reports it instead of taking its thread down, and forgets the
        // state it may have left half changed.
        let projection = Projection {
            source: &self.source,
            times: &mut self.times,
        };
        let projected = std::panic::catch_unwind(AssertUnwindSafe(|| {
            advance(&mut cached.state, record, projection)
        }))
        .unwrap_or_else(|_| Err("applying it panicked".to_owned()));
        match projected {
            Ok(projected) => {
                cached.lsn = record.lsn;
                Ok(projected)
            }
            Err(reason) => {
                self.twins.pop(twin_id);
                Err(disagreement(reason))
            }
        }
    }
}

/// Why a twin's state could not be rebuilt; a disagreement is reported against the record
/// that needed the state.
enum Rebuild {
    Read(ReadError),
    Record(u64, RecordError),
    Disagreement(String),
}

impl Rebuild {
    fn into_feed_error(self, disagreement: impl FnOnce(String) -> FeedError) -> FeedError {
        match self {
            Rebuild::Read(e) => FeedError::Read(e),
            Rebuild::Record(lsn, source) => FeedError::Record { lsn, source },
            Rebuild::Disagreement(reason) => disagreement(reason),
        }
    }
}

/// The state of `twin_id`'s stream after its record `lsn` (0: before its first), from the log.
///
/// Memory: one LSN per record that changed the twin since its last deletion, and one record at
/// a time.
fn rebuild(reader: &LogReader, twin_id: &str, lsn: u64) -> Result<TwinState, Rebuild> {
    let mut changes = Vec::new();
    let mut next = lsn;
    while next != 0 {
        let (event, header_twin, prev) = read(reader, next, |record, event| {
            (
                event,
                record.header.twin_id.to_owned(),
                record.header.prev_twin_lsn,
            )
        })?;
        if header_twin != twin_id {
            return Err(Rebuild::Disagreement(format!(
                "LSN {next} belongs to twin `{header_twin}`, not to this twin's stream"
            )));
        }
        match event.untraced() {
            // The state after a deletion is the empty state: nothing before it matters.
            Event::TwinDeleted { .. } => break,
            Event::Telemetry { .. } => {}
            _ => changes.push(next),
        }
        next = prev;
    }
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut state = TwinState::new(twin_id);
        for &lsn in changes.iter().rev() {
            let (event, version) = read(reader, lsn, |record, event| {
                (event, record.header.twin_version)
            })?;
            state.apply_record(version, &event);
        }
        Ok(state)
    }))
    .unwrap_or_else(|_| {
        Err(Rebuild::Disagreement(
            "rebuilding the twin from its stream panicked".to_owned(),
        ))
    })
}

/// Reads and checks record `lsn`, and hands it with its event to `take`.
fn read<T>(
    reader: &LogReader,
    lsn: u64,
    take: impl FnOnce(&twinlog_migrations::Record<'_>, Event) -> T,
) -> Result<T, Rebuild> {
    let stored = reader.get(lsn).map_err(Rebuild::Read)?.ok_or_else(|| {
        Rebuild::Read(ReadError::Gap {
            path: reader.path().to_owned(),
            expected: lsn,
            found: None,
        })
    })?;
    let record = stored.decode().map_err(|e| Rebuild::Record(lsn, e))?;
    let event = record.event().map_err(|e| Rebuild::Record(lsn, e))?;
    Ok(take(&record, event))
}
