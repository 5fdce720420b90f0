//! The change feed: the committed log as CloudEvents 1.0 shaped like ADT's event notifications,
//! and ADT's event-route filter language that selects among them.
//!
//! - `event`: [`CloudEvent`], one event made from one committed record, and its JSON form.
//! - `filter`: [`Filter`], a parsed route filter, and [`FilterError`] with the position of a
//!   mistake.
//! - `change_feed`: [`ChangeFeed`], which reads committed records after an LSN and projects them
//!   (`project`, with `time` for the events' times) with a bounded cache of twin states.
//! - `window`: [`ProjectionWindow`], the feed projected and encoded once for many readers near
//!   the head, in a window bounded in bytes.
//!
//! A record yields at most one event, so an event's LSN identifies it: its `id` is derived from
//! the LSN, stable however often the feed is read again, and events come in LSN order.

mod change_feed;
mod event;
mod filter;
mod project;
#[cfg(test)]
mod tests;
mod time;
mod window;

pub use change_feed::{ChangeFeed, FeedError, TWINS_CACHED_DEFAULT};
pub use event::{event_type, CloudEvent, DATA_CONTENT_TYPE, SPEC_VERSION};
pub use filter::{Filter, FilterError, FILTER_CHARS_MAX, FILTER_NESTING_MAX};
pub use window::{ProjectionWindow, SharedEvent, Slice, WindowReader, WINDOW_BYTES_MAX_DEFAULT};
