//! [`ProjectionWindow`]: the change feed projected once for many readers at different positions.
//! The most recently projected records are kept as a window of chunks, each event with its JSON
//! text, bounded in bytes; readers whose positions fall in it share them, the one at its head
//! grows it, and a [`WindowReader`] behind it reads the log through a [`ChangeFeed`] of its own
//! until it is back inside.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::change_feed::{ChangeFeed, FeedError};
use super::event::CloudEvent;
use crate::log::EventLog;

/// How many bytes of projected events a window keeps by default: at 300-byte events, some
/// 28,000 events, a fraction of a second of ingestion at full speed, which readers that keep up
/// stay within.
pub const WINDOW_BYTES_MAX_DEFAULT: usize = 16 * 1024 * 1024;

/// One projected event, with what readers of the window take from it.
#[derive(Debug)]
pub struct SharedEvent {
    pub event: CloudEvent,
    /// The event's structured-mode JSON text, encoded once for every reader.
    pub json: Arc<str>,
    /// When its record was committed, in ms since the Unix epoch.
    pub committed_ms: u64,
}

/// The events of consecutive records, read in one go.
#[derive(Debug)]
struct Chunk {
    /// The LSN before its first record.
    after: u64,
    /// The LSN of its last record; `after` if it has none.
    position: u64,
    /// The commit time of its first record; 0 if it has none.
    first_record_ms: u64,
    events: Vec<SharedEvent>,
    /// The events' size, counted as twice their JSON text: the event's own strings are each in
    /// the text once.
    bytes: usize,
}

impl Chunk {
    /// The next records of `feed`, up to `events_max` events.
    fn read(feed: &mut ChangeFeed, events_max: usize) -> Result<Chunk, FeedError> {
        let after = feed.position();
        let mut events = Vec::new();
        let mut bytes = 0;
        let first_record_ms = feed.read(events_max, |event, committed_ms| {
            let json: Arc<str> = event.to_json_text().into();
            bytes += 2 * json.len() + size_of::<SharedEvent>();
            events.push(SharedEvent {
                event,
                json,
                committed_ms,
            });
        })?;
        Ok(Chunk {
            after,
            position: feed.position(),
            first_record_ms,
            events,
            bytes,
        })
    }
}

/// A reader's next events: the rest of one chunk after its position, or nothing new.
#[derive(Debug)]
pub struct Slice {
    chunk: Option<Arc<Chunk>>,
    range: Range<usize>,
    position: u64,
    first_record_ms: u64,
}

impl Slice {
    /// The events of `chunk` after `after_lsn`, up to `events_max`.
    fn after(chunk: Arc<Chunk>, after_lsn: u64, events_max: usize) -> Slice {
        let from = chunk
            .events
            .partition_point(|shared| shared.event.lsn <= after_lsn);
        let to = chunk.events.len().min(from + events_max.max(1));
        let position = match to < chunk.events.len() {
            true => chunk.events[to - 1].event.lsn,
            false => chunk.position,
        };
        let first_record_ms = match chunk.events.get(from) {
            Some(next) if after_lsn != chunk.after => next.committed_ms,
            _ => chunk.first_record_ms,
        };
        Slice {
            range: from..to,
            position,
            first_record_ms,
            chunk: Some(chunk),
        }
    }

    fn whole(chunk: Chunk) -> Slice {
        let after = chunk.after;
        Slice::after(Arc::new(chunk), after, usize::MAX)
    }

    /// Nothing after `after_lsn` is committed yet.
    fn caught_up(after_lsn: u64) -> Slice {
        Slice {
            chunk: None,
            range: 0..0,
            position: after_lsn,
            first_record_ms: 0,
        }
    }

    /// The events, in LSN order.
    pub fn events(&self) -> &[SharedEvent] {
        self.chunk
            .as_ref()
            .map_or(&[], |chunk| &chunk.events[self.range.clone()])
    }

    /// The LSN of the last record the slice covers, whether or not it yielded an event: the
    /// reader's position once it has dealt with the events.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The commit time of the first record after the reader's position, at least 1; 0 if there
    /// was none: the reader is caught up with the committed log.
    pub fn first_record_ms(&self) -> u64 {
        self.first_record_ms
    }
}

/// What the window holds: consecutive chunks, from the records after `start` to `head`.
struct Chunks {
    start: u64,
    head: u64,
    list: VecDeque<Arc<Chunk>>,
    bytes: usize,
}

/// Committed records projected once, shared by readers at positions near the head. Blocking
/// (redb reads): call it from a dedicated or blocking thread.
///
/// Memory: the chunks, at most `bytes_max` of them (and always the newest chunk), plus the
/// projecting feed's bounded cache of twin states. A reader that falls behind the window pins
/// nothing: it reads the log itself, with a feed whose memory is bounded too.
pub struct ProjectionWindow {
    log: EventLog,
    source: String,
    chunk_events_max: usize,
    bytes_max: usize,
    /// Held while the window grows, so that the readers that want the same records wait for one
    /// of them to project them instead of projecting them too.
    feed: Mutex<ChangeFeed>,
    chunks: RwLock<Chunks>,
}

impl ProjectionWindow {
    /// An empty window, whose events name `source`, grown `chunk_events_max` events at a time,
    /// keeping at most `bytes_max` of them. Its first reader places it.
    pub fn new(
        log: &EventLog,
        source: &str,
        chunk_events_max: usize,
        bytes_max: usize,
    ) -> ProjectionWindow {
        ProjectionWindow {
            log: log.clone(),
            source: source.to_owned(),
            chunk_events_max: chunk_events_max.max(1),
            bytes_max,
            feed: Mutex::new(ChangeFeed::new(log, 0, source)),
            chunks: RwLock::new(Chunks {
                start: 0,
                head: 0,
                list: VecDeque::new(),
                bytes: 0,
            }),
        }
    }

    /// The next events after `after_lsn`, up to a chunk's, from the window; a reader at the
    /// window's head (or up to a chunk past it) grows it, and the first reader of an empty window
    /// places it. `None` if `after_lsn` is before the window.
    fn read_after(&self, after_lsn: u64) -> Result<Option<Slice>, FeedError> {
        if let Some(kept) = self.kept(after_lsn) {
            return Ok(kept);
        }
        let mut feed = self.feed.lock();
        // Another reader may have grown the window while this one waited.
        if let Some(kept) = self.kept(after_lsn) {
            return Ok(kept);
        }
        {
            let mut chunks = self.chunks.write();
            let far_ahead = after_lsn > chunks.head.saturating_add(self.chunk_events_max as u64);
            if chunks.list.is_empty() || far_ahead {
                // Start the window where it is read rather than project records that no reader
                // may want; readers left behind read the log themselves.
                feed.seek(after_lsn);
                chunks.list.clear();
                (chunks.start, chunks.head, chunks.bytes) = (after_lsn, after_lsn, 0);
            }
        }
        loop {
            let chunk = match Chunk::read(&mut feed, self.chunk_events_max) {
                Ok(chunk) => chunk,
                Err(error) => {
                    // The feed may have moved past events of the chunk it dropped.
                    feed.seek(self.chunks.read().head);
                    return Err(error);
                }
            };
            if chunk.first_record_ms == 0 {
                return Ok(Some(Slice::caught_up(after_lsn)));
            }
            let chunk = Arc::new(chunk);
            self.push(chunk.clone());
            if chunk.position > after_lsn {
                return Ok(Some(Slice::after(chunk, after_lsn, self.chunk_events_max)));
            }
        }
    }

    /// Whether a reader behind the window, now at `after_lsn`, can read from it again: it is no
    /// longer before it (past its head, its next read grows or moves the window).
    fn takes_back(&self, after_lsn: u64) -> bool {
        let chunks = self.chunks.read();
        chunks.list.is_empty() || after_lsn >= chunks.start
    }

    /// What the window holds, in bytes as its bound counts them.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.chunks.read().bytes
    }

    /// `Some` if the window decides `after_lsn` without projecting: its slice, or `None` (before
    /// the window).
    fn kept(&self, after_lsn: u64) -> Option<Option<Slice>> {
        let chunks = self.chunks.read();
        if chunks.list.is_empty() || after_lsn >= chunks.head {
            return None;
        }
        if after_lsn < chunks.start {
            return Some(None);
        }
        let index = chunks
            .list
            .partition_point(|chunk| chunk.position <= after_lsn);
        let chunk = chunks.list[index].clone();
        Some(Some(Slice::after(chunk, after_lsn, self.chunk_events_max)))
    }

    /// Adds the newest chunk, dropping the oldest beyond `bytes_max`.
    fn push(&self, chunk: Arc<Chunk>) {
        let mut chunks = self.chunks.write();
        chunks.head = chunk.position;
        chunks.bytes += chunk.bytes;
        chunks.list.push_back(chunk);
        while chunks.bytes > self.bytes_max && chunks.list.len() > 1 {
            if let Some(oldest) = chunks.list.pop_front() {
                chunks.bytes -= oldest.bytes;
                chunks.start = oldest.position;
            }
        }
    }
}

/// One reader of a [`ProjectionWindow`], such as a route: from the window while its position is
/// inside it, else through a [`ChangeFeed`] of its own, which it leaves as soon as it is back
/// inside.
#[derive(Default)]
pub struct WindowReader {
    /// `Some` while the reader is behind the window.
    feed: Option<ChangeFeed>,
}

impl WindowReader {
    /// The next events after `after_lsn`, up to a chunk's. Blocking (redb reads).
    pub fn read_after(
        &mut self,
        window: &ProjectionWindow,
        after_lsn: u64,
    ) -> Result<Slice, FeedError> {
        // A feed left elsewhere (the reader went back, or an earlier read failed half way) is
        // dropped: only a feed at `after_lsn` reads the right records.
        self.feed.take_if(|feed| feed.position() != after_lsn);
        let slice = match &mut self.feed {
            Some(feed) => Chunk::read(feed, window.chunk_events_max).map(Slice::whole),
            None => match window.read_after(after_lsn)? {
                Some(slice) => return Ok(slice),
                None => {
                    // Debug: a reader at the window's edge may pass in and out of it often.
                    tracing::debug!(
                        after_lsn,
                        "reader is behind the shared window: it reads the log itself"
                    );
                    let feed =
                        self.feed
                            .insert(ChangeFeed::new(&window.log, after_lsn, &window.source));
                    Chunk::read(feed, window.chunk_events_max).map(Slice::whole)
                }
            },
        };
        let slice = slice.inspect_err(|_| self.feed = None)?;
        if window.takes_back(slice.position()) {
            tracing::debug!(
                position = slice.position(),
                "reader is back inside the shared window"
            );
            self.feed = None;
        }
        Ok(slice)
    }

    /// Whether the reader reads the log itself, being behind the window.
    pub fn is_behind(&self) -> bool {
        self.feed.is_some()
    }
}

#[cfg(test)]
mod tests;
