//! The numeric limits of DTDL v2, v3 and ADT, and the measurement of a model against the size ones.

use serde_json::Value;

/// A DTMI, wherever it appears.
pub const DTMI_CHARS_MAX: usize = 2048;
/// The `@id` of an Interface, which is stricter than other DTMIs.
pub const INTERFACE_ID_CHARS_MAX: usize = 128;
/// `name` of every named element.
pub const NAME_CHARS_MAX: usize = 64;
/// `displayName`, per language.
pub const DISPLAY_NAME_CHARS_MAX: usize = 64;
/// `description` and `comment`, per language.
pub const DESCRIPTION_CHARS_MAX: usize = 512;
/// Complex schemas (Array, Enum, Map, Object) inside one another, references followed.
pub const SCHEMA_DEPTH_MAX: usize = 5;
/// Direct `extends` entries of a v2 Interface.
pub const V2_EXTENDS_DIRECT_MAX: usize = 2;
/// Direct `contents` of a v2 Interface.
pub const V2_CONTENTS_MAX: usize = 300;
/// Levels of `extends` above an Interface.
pub const EXTENDS_DEPTH_MAX: usize = 10;
/// Interfaces above a v3 Interface in its `extends` hierarchy.
pub const V3_EXTENDS_HIERARCHY_INTERFACES_MAX: usize = 1024;
/// JSON objects (elements) in one v3 Interface document.
pub const V3_ELEMENTS_MAX: usize = 100_000;
/// Serialised size of one Interface document. ADT holds every model to it, whatever its version.
pub const INTERFACE_BYTES_MAX: usize = 1024 * 1024;
/// JSON nesting of one model document. Not a DTDL rule: it bounds the parser's recursion, and
/// matches the nesting serde_json itself accepts when it reads text.
pub const MODEL_JSON_DEPTH_MAX: usize = 128;

/// What the size limits look at in one model document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Measure {
    pub depth: usize,
    pub elements: usize,
    pub bytes: usize,
}

/// Measures without recursion, so a hostile document cannot exhaust the stack here.
pub(crate) fn measure(model: &Value) -> Measure {
    let mut depth = 0;
    let mut elements = 0;
    let mut stack = vec![(model, 1usize)];
    while let Some((value, level)) = stack.pop() {
        depth = depth.max(level);
        match value {
            Value::Object(map) => {
                elements += 1;
                stack.extend(map.values().map(|child| (child, level + 1)));
            }
            Value::Array(items) => stack.extend(items.iter().map(|child| (child, level + 1))),
            _ => {}
        }
    }
    let bytes = if depth > MODEL_JSON_DEPTH_MAX {
        0
    } else {
        let mut counter = ByteCounter(0);
        // Writing into a counter cannot fail, and the depth check above keeps serde_json's
        // recursion bounded.
        let _ = serde_json::to_writer(&mut counter, model);
        counter.0
    };
    Measure {
        depth,
        elements,
        bytes,
    }
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
