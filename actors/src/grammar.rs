//! The winnow building blocks that ADT's two small languages share, the query language
//! ([`crate::query`]) and the event-route filter language ([`crate::feed::Filter`]): keywords,
//! punctuation, identifiers and quoted strings, each after optional whitespace, and a failure
//! that remembers how far the text was read so that errors name a position.
//!
//! Errors report the furthest point any alternative reached, with what each alternative
//! expected there.

use winnow::ascii::multispace0;
use winnow::combinator::{alt, cut_err, opt, preceded};
use winnow::error::{AddContext, ErrMode, ParserError, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::stream::Stream;
use winnow::token::{any, one_of, take, take_while};

pub(crate) type Input<'a> = &'a str;
pub(crate) type Parsed<O> = ModalResult<O, Failure>;

/// Why a grammar failed, and where: `rest_bytes` is how much text was left unread.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) rest_bytes: usize,
    pub(crate) reason: Reason,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Reason {
    /// What the alternatives that got furthest would have accepted.
    Expected(Vec<StrContextValue>),
    /// Parentheses and `NOT`s nest deeper than the language allows.
    TooDeep,
}

impl Failure {
    pub(crate) fn expected(rest: &str, what: &'static str) -> ErrMode<Self> {
        ErrMode::Backtrack(Self {
            rest_bytes: rest.len(),
            reason: Reason::Expected(vec![StrContextValue::Description(what)]),
        })
    }

    /// Nesting too deep at `rest`: final, since no other reading of the text nests less.
    pub(crate) fn too_deep(rest: &str) -> ErrMode<Self> {
        ErrMode::Cut(Self {
            rest_bytes: rest.len(),
            reason: Reason::TooDeep,
        })
    }
}

impl<'a> ParserError<Input<'a>> for Failure {
    type Inner = Self;

    fn from_input(input: &Input<'a>) -> Self {
        Self {
            rest_bytes: input.len(),
            reason: Reason::Expected(Vec::new()),
        }
    }

    /// The alternative that read further explains the mistake better; at a tie, list both.
    fn or(self, other: Self) -> Self {
        match self.rest_bytes.cmp(&other.rest_bytes) {
            std::cmp::Ordering::Less => self,
            std::cmp::Ordering::Greater => other,
            std::cmp::Ordering::Equal => match (self.reason, other.reason) {
                (Reason::Expected(mut ours), Reason::Expected(theirs)) => {
                    for value in theirs {
                        if !ours.contains(&value) {
                            ours.push(value);
                        }
                    }
                    Self {
                        rest_bytes: self.rest_bytes,
                        reason: Reason::Expected(ours),
                    }
                }
                (reason, _) => Self {
                    rest_bytes: self.rest_bytes,
                    reason,
                },
            },
        }
    }

    fn into_inner(self) -> Result<Self::Inner, Self> {
        Ok(self)
    }
}

impl<'a> AddContext<Input<'a>, StrContext> for Failure {
    /// The innermost expectation is the precise one; outer labels only fill a gap.
    fn add_context(
        mut self,
        _input: &Input<'a>,
        _token_start: &<Input<'a> as Stream>::Checkpoint,
        context: StrContext,
    ) -> Self {
        if let (Reason::Expected(expected), StrContext::Expected(value)) =
            (&mut self.reason, context)
        {
            if expected.is_empty() {
                expected.push(value);
            }
        }
        self
    }
}

/// Where in `text` a failed parse stopped, in characters from 1, and why.
pub(crate) fn locate(text: &str, error: ErrMode<Failure>) -> (usize, Reason) {
    let failure = match error {
        ErrMode::Backtrack(failure) | ErrMode::Cut(failure) => failure,
        // Only partial input can be incomplete, and the whole text is always given.
        ErrMode::Incomplete(_) => Failure {
            rest_bytes: 0,
            reason: Reason::Expected(Vec::new()),
        },
    };
    let read_bytes = text.len().saturating_sub(failure.rest_bytes);
    let position = text
        .get(..read_bytes)
        .map_or(0, |read| read.chars().count())
        + 1;
    (position, failure.reason)
}

/// `a`, `a or b`, `a, b or c`; `nothing_in_particular` when no alternative said what it wanted.
pub(crate) fn any_of(values: &[StrContextValue], nothing_in_particular: &str) -> String {
    let mut items: Vec<String> = values.iter().map(ToString::to_string).collect();
    match items.pop() {
        None => nothing_in_particular.to_owned(),
        Some(last) if items.is_empty() => last,
        Some(last) => format!("{} or {last}", items.join(", ")),
    }
}

/// The boolean skeleton that both languages share, over their own conditions `E`:
///
/// ```text
/// or    := and (OR and)*
/// and   := unary (AND unary)*
/// unary := NOT unary | '(' or ')' | leaf
/// ```
///
/// `AND` and `OR` chains are flat (`a AND b AND c` is one `and(vec![a, b, c])`), and nesting
/// deeper than `depth_max` fails with [`Reason::TooDeep`], which keeps the recursion, and so the
/// stack, small whatever the text.
pub(crate) struct Boolean<E> {
    pub(crate) depth_max: usize,
    pub(crate) leaf: fn(&mut Input<'_>) -> Parsed<E>,
    pub(crate) and: fn(Vec<E>) -> E,
    pub(crate) or: fn(Vec<E>) -> E,
    pub(crate) not: fn(Box<E>) -> E,
}

impl<E> Boolean<E> {
    pub(crate) fn or_expr(&self, input: &mut Input<'_>, depth: usize) -> Parsed<E> {
        self.chain(input, depth, "OR", Self::and_expr, self.or)
    }

    fn and_expr(&self, input: &mut Input<'_>, depth: usize) -> Parsed<E> {
        self.chain(input, depth, "AND", Self::unary, self.and)
    }

    /// `operand (word operand)*`: a single operand stands alone, more become `build(all)`.
    fn chain(
        &self,
        input: &mut Input<'_>,
        depth: usize,
        word: &'static str,
        operand: fn(&Self, &mut Input<'_>, usize) -> Parsed<E>,
        build: fn(Vec<E>) -> E,
    ) -> Parsed<E> {
        let first = operand(self, input, depth)?;
        let mut rest = Vec::new();
        while opt(keyword(word)).parse_next(input)?.is_some() {
            rest.push(cut_err(|i: &mut Input<'_>| operand(self, i, depth)).parse_next(input)?);
        }
        if rest.is_empty() {
            return Ok(first);
        }
        rest.insert(0, first);
        Ok(build(rest))
    }

    fn unary(&self, input: &mut Input<'_>, depth: usize) -> Parsed<E> {
        if depth > self.depth_max {
            return Err(Failure::too_deep(input.trim_start()));
        }
        alt((
            preceded(
                keyword("NOT"),
                cut_err(|i: &mut Input<'_>| self.unary(i, depth + 1)),
            )
            .map(|inner| (self.not)(Box::new(inner))),
            preceded(
                symbol("("),
                cut_err(|i: &mut Input<'_>| {
                    let inner = self.or_expr(i, depth + 1)?;
                    symbol(")").parse_next(i)?;
                    Ok(inner)
                }),
            ),
            self.leaf,
        ))
        .parse_next(input)
    }
}

/// A string in single or double quotes, with JSON's backslash escapes.
pub(crate) fn string(input: &mut Input<'_>) -> Parsed<String> {
    let quote = preceded(multispace0, one_of(['\'', '"']))
        .context(described("a quoted string"))
        .parse_next(input)?;
    cut_err(move |i: &mut Input<'_>| {
        let mut text = String::new();
        loop {
            match any.context(described("a closing quote")).parse_next(i)? {
                c if c == quote => return Ok(text),
                '\\' => text.push(escape(i)?),
                c => text.push(c),
            }
        }
    })
    .parse_next(input)
}

fn escape(input: &mut Input<'_>) -> Parsed<char> {
    let rest = *input;
    let escaped = match any.parse_next(input)? {
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'u' => take::<_, _, ErrMode<Failure>>(4usize)
            .parse_next(input)
            .ok()
            .and_then(|hex: &str| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32),
        c @ ('\\' | '/' | '\'' | '"') => Some(c),
        _ => None,
    };
    escaped.ok_or_else(|| Failure::expected(rest, "an escape: \\n, \\t, \\uXXXX, ..."))
}

/// A name: a letter or `_`, then letters, digits and `_`; `$` may start it, for ADT's system
/// properties such as `$dtId`.
pub(crate) fn identifier(input: &mut Input<'_>) -> Parsed<String> {
    (
        opt("$"),
        one_of(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(0.., is_identifier_char),
    )
        .take()
        .map(str::to_owned)
        .parse_next(input)
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A case-insensitive keyword that is a whole word: `FROMX` is not `FROM`, and the mistake is
/// reported where the word starts.
pub(crate) fn keyword<'a>(word: &'static str) -> impl Parser<Input<'a>, &'a str, ErrMode<Failure>> {
    preceded(
        multispace0,
        take_while(1.., is_identifier_char)
            .verify(move |found: &str| found.eq_ignore_ascii_case(word)),
    )
    .context(StrContext::Expected(StrContextValue::StringLiteral(word)))
}

/// Punctuation, after optional whitespace.
pub(crate) fn symbol<'a>(text: &'static str) -> impl Parser<Input<'a>, &'a str, ErrMode<Failure>> {
    preceded(multispace0, text).context(StrContext::Expected(StrContextValue::StringLiteral(text)))
}

pub(crate) fn described(what: &'static str) -> StrContext {
    StrContext::Expected(StrContextValue::Description(what))
}
