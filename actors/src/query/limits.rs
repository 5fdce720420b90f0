//! ADT's documented query limits, plus the nesting bound that keeps the parser's recursion
//! (and so its stack) small whatever the input.

/// ADT rejects query text longer than this, counted in characters, not bytes.
pub const QUERY_CHARS_MAX: usize = 8_000;

/// ADT allows at most this many `AND`/`OR` operators in one query.
pub const AND_OR_MAX: usize = 50;

/// ADT allows at most this many chained `JOIN`s.
pub const JOINS_MAX: usize = 5;

/// How deep parentheses and `NOT`s may nest. ADT documents no figure; this one is ours. The
/// parser recurses once per level, so without a bound 8,000 `(` would overflow the stack.
pub const NESTING_DEPTH_MAX: usize = 32;
