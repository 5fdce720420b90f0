//! Readers of one window at different positions and paces, on real data-plane writes: each gets
//! exactly the events a feed of its own would give, in order, whether it reads from the window or,
//! having fallen behind it, from the log; and the window stays within its bound.

use serde_json::Value;

use super::{ProjectionWindow, WindowReader};
use crate::data_plane::tests::with_plane;
use crate::feed::tests::{busy_history, read_all, SOURCE};
use crate::feed::{ChangeFeed, CloudEvent};

/// Events per chunk: small, so that the history spans many chunks.
const CHUNK_EVENTS_MAX: usize = 4;
/// A few chunks of the history's events (each some 1 to 3 KiB as the window counts them).
const BYTES_MAX: usize = 16 * 1024;

/// One reader: where it started, how often it reads (every `pace` steps), what it got.
struct Paced {
    start: u64,
    pace: usize,
    reader: WindowReader,
    position: u64,
    events: Vec<CloudEvent>,
    ever_behind: bool,
}

impl Paced {
    fn new(start: u64, pace: usize) -> Paced {
        Paced {
            start,
            pace,
            reader: WindowReader::default(),
            position: start,
            events: Vec::new(),
            ever_behind: false,
        }
    }
}

/// Runs `check` on a busy history: with a new window, the log's head, and every event from the
/// start as a feed of its own reads them.
fn with_history(check: impl FnOnce(&ProjectionWindow, u64, &[CloudEvent])) {
    let dir = tempfile::tempdir().unwrap();
    with_plane(dir.path(), |plane| async move {
        busy_history(&plane).await;
        let head = plane.log().head().lsn;
        let whole = read_all(&mut ChangeFeed::new(plane.log(), 0, SOURCE), 1_000);
        let window = ProjectionWindow::new(plane.log(), SOURCE, CHUNK_EVENTS_MAX, BYTES_MAX);
        check(&window, head, &whole);
    });
}

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn readers_at_any_pace_get_every_event_after_their_position_once_in_order() {
    with_history(|window, head, whole| {
        // Two readers side by side at the head, one at a third of their pace, one that barely
        // moves, and one a few records ahead of them at half their pace.
        let mut readers = [
            Paced::new(0, 1),
            Paced::new(0, 1),
            Paced::new(0, 3),
            Paced::new(0, 40),
            Paced::new(3, 2),
        ];
        let mut step = 0;
        while readers.iter().any(|paced| paced.position < head) {
            for paced in readers.iter_mut().filter(|paced| step % paced.pace == 0) {
                let slice = paced.reader.read_after(window, paced.position).unwrap();
                assert!(slice.events().len() <= CHUNK_EVENTS_MAX);
                for shared in slice.events() {
                    assert_eq!(parsed(&shared.json), parsed(&shared.event.to_json_text()));
                    paced.events.push(shared.event.clone());
                }
                assert!(slice.position() >= paced.position);
                paced.position = slice.position();
                paced.ever_behind |= paced.reader.is_behind();
            }
            assert!(window.bytes() <= BYTES_MAX, "{} bytes", window.bytes());
            step += 1;
        }
        for paced in &readers {
            let expected: Vec<CloudEvent> = whole
                .iter()
                .filter(|event| event.lsn > paced.start)
                .cloned()
                .collect();
            assert_eq!(
                paced.events, expected,
                "the reader from LSN {}",
                paced.start
            );
        }
        let behind: Vec<bool> = readers.iter().map(|paced| paced.ever_behind).collect();
        assert_eq!(behind[..2], [false, false]);
        assert!(behind[3], "the slowest reader fell behind the window");
        // Caught up, each reader is told so, and none reads its own feed any longer.
        for paced in &mut readers {
            let slice = paced.reader.read_after(window, head).unwrap();
            assert!(slice.events().is_empty());
            assert_eq!((slice.position(), slice.first_record_ms()), (head, 0));
            assert!(!paced.reader.is_behind());
        }
    });
}

#[test]
fn the_first_reader_places_the_window_and_one_far_past_it_moves_it() {
    with_history(|window, head, whole| {
        let first_after = |lsn: u64| whole.iter().find(|event| event.lsn > lsn).unwrap();
        let middle = head / 2;
        let mut first = WindowReader::default();
        let slice = first.read_after(window, middle).unwrap();
        assert!(!first.is_behind());
        assert_eq!(&slice.events()[0].event, first_after(middle));
        assert!(slice.first_record_ms() > 0);
        // The window starts at `middle`: a reader from the start reads the log itself.
        let mut early = WindowReader::default();
        let slice = early.read_after(window, 0).unwrap();
        assert!(early.is_behind());
        assert_eq!(slice.events()[0].event, whole[0]);
        // Far past the window's head, a reader moves it, leaving the first one behind.
        let late = head - 10;
        let mut ahead = WindowReader::default();
        let slice = ahead.read_after(window, late).unwrap();
        assert!(!ahead.is_behind());
        assert_eq!(&slice.events()[0].event, first_after(late));
        let slice = first.read_after(window, middle).unwrap();
        assert!(first.is_behind());
        assert_eq!(&slice.events()[0].event, first_after(middle));
    });
}
