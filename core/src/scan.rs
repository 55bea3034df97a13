//! A strict JSON scanner for the shape nearly every incoming message has: one object whose
//! keys need no unescaping. It validates the whole text as JSON and finds the members volley
//! reads, several times faster than deserializing an envelope of `RawValue`s with
//! serde_json.
//!
//! It answers only what it is sure of. Anything outside that shape (a key with an escape, a
//! key volley reads given twice, nesting deeper than [`MAX_DEPTH`]) or anything that is not
//! JSON makes it return `None`, and the caller parses the text with serde_json instead, which
//! then decides (and words the error). So the scanner never accepts what serde_json refuses,
//! and the tests hold it to that.
//!
//! Each step takes the text and a position and gives the position after what it read, so
//! the position stays in a register; a string's plain bytes are read eight at a time.

/// Nesting the scanner follows; deeper texts go to serde_json (whose own limit is 128).
const MAX_DEPTH: usize = 64;

/// The members of a message volley reads, each the raw JSON text of its value.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Members<'a> {
    pub(crate) jsonrpc: Option<&'a str>,
    pub(crate) id: Option<&'a str>,
    pub(crate) method: Option<&'a str>,
    pub(crate) params: Option<&'a str>,
    pub(crate) result: Option<&'a str>,
    pub(crate) error: Option<&'a str>,
    /// Where the elements of `params` are, when it is an array that fits a [`Split`].
    pub(crate) split: Split,
}

/// Where the elements of a positional params array are, found while the message was
/// scanned: each element's start and end as offsets into the params text. Known only for
/// an array of up to [`Split::MAX`] elements within the first 64 KiB of its text; otherwise
/// whoever reads the params scans them again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Split {
    /// How many elements, or `None` when the places are not known.
    len: Option<u8>,
    spans: [(u16, u16); Split::MAX],
}

impl Split {
    /// The most elements whose places are kept.
    pub(crate) const MAX: usize = 6;

    /// How many elements, when their places are known.
    pub(crate) fn len(&self) -> Option<usize> {
        self.len.map(usize::from)
    }

    /// Element `index` of `params` (the text this split was found in), when its place is
    /// known and there is one.
    #[inline]
    pub(crate) fn get<'a>(&self, params: &'a str, index: usize) -> Option<&'a str> {
        if index >= usize::from(self.len?) {
            return None;
        }
        let &(start, end) = self.spans.get(index)?;
        params.get(usize::from(start)..usize::from(end))
    }
}

/// How nearly every message begins: its first member taken by one comparison.
const HEAD: &[u8; 17] = br#"{"jsonrpc":"2.0","#;

/// The members of the JSON object `text` (surrounding whitespace allowed), or `None` when the
/// scanner cannot decide (see the module's documentation).
pub(crate) fn members(text: &str) -> Option<Members<'_>> {
    common(text).or_else(|| general(text))
}

/// The members of a message written the way nearly every peer writes one, read in the
/// order they are written with no key to look up: `{"jsonrpc":"2.0",`, an `"id":` (an
/// unsigned integer, or a string without escapes) unless it is a notification, then
/// `"method":"name"` (no escapes) with `,"params":` an array or an object, or after an id
/// `"result":` or `"error":` any value; or volley's own request, `"method":` and `"params":`
/// then `,"id":`; or volley's own answer, `"result":` any value then `,"id":`; and `}` ending
/// the text. No whitespace anywhere. `None` for any other text,
/// which [`general`] reads.
fn common(text: &str) -> Option<Members<'_>> {
    let b = text.as_bytes();
    if b.first_chunk() != Some(HEAD) {
        return None;
    }
    let mut m = Members {
        jsonrpc: text.get(11..16),
        ..Members::default()
    };
    let mut at = HEAD.len();
    if b.get(at..)?.starts_with(br#""result":"#) {
        let value = at + 9;
        at = value_at(b, value, 1)?;
        m.result = text.get(value..at);
        if !b.get(at..)?.starts_with(br#","id":"#) {
            return None;
        }
        let (id, end) = (at + 6, plain_id(b, at + 6)?);
        m.id = text.get(id..end);
        return (eat(b, end, b'}')? == b.len()).then_some(m);
    }
    if b.get(at..)?.starts_with(br#""id":"#) {
        let (id, end) = (at + 5, plain_id(b, at + 5)?);
        m.id = text.get(id..end);
        at = eat(b, end, b',')?;
    }
    let rest = b.get(at..)?;
    if rest.starts_with(br#""method":""#) {
        let name = at + 10;
        let end = name + plain_len(b.get(name..)?);
        at = eat(b, end, b'"')?;
        m.method = text.get(name - 1..at);
        if b.get(at..)?.starts_with(br#","params":"#) {
            let value = at + 10;
            at = match b.get(value)? {
                b'[' => {
                    let (end, split) = array_split(b, value)?;
                    m.split = split;
                    end
                }
                b'{' => value_at(b, value, 1)?,
                _ => return None,
            };
            m.params = text.get(value..at);
        }
        // volley's stubs write a request's id last (their params are encoded in place).
        if m.id.is_none() && b.get(at..)?.starts_with(br#","id":"#) {
            let (id, end) = (at + 6, plain_id(b, at + 6)?);
            m.id = text.get(id..end);
            at = end;
        }
    } else if m.id.is_some() && rest.starts_with(br#""result":"#) {
        let value = at + 9;
        at = value_at(b, value, 1)?;
        m.result = text.get(value..at);
    } else if m.id.is_some() && rest.starts_with(br#""error":"#) {
        let value = at + 8;
        at = value_at(b, value, 1)?;
        m.error = text.get(value..at);
    } else {
        return None;
    }
    (eat(b, at, b'}')? == b.len()).then_some(m)
}

/// The position after the id at `at` when it is an unsigned integer or a string without
/// escapes. (A fraction, an exponent or a digit after a leading zero is left to what
/// follows the id, which then does not match.)
fn plain_id(b: &[u8], at: usize) -> Option<usize> {
    match *b.get(at)? {
        b'"' => eat(b, at + 1 + plain_len(b.get(at + 1..)?), b'"'),
        b'0' => Some(at + 1),
        b'1'..=b'9' => Some(digits(b, at + 1).0),
        _ => None,
    }
}

/// The members of the JSON object `text`, key by key in any order and spacing.
fn general(text: &str) -> Option<Members<'_>> {
    let b = text.as_bytes();
    let mut m = Members::default();
    let mut at = if b.first_chunk() == Some(HEAD) {
        m.jsonrpc = text.get(11..16);
        // A member follows the comma.
        ws(b, HEAD.len())
    } else {
        let at = ws(b, eat(b, ws(b, 0), b'{')?);
        if b.get(at) == Some(&b'}') {
            return (ws(b, at + 1) == b.len()).then_some(m);
        }
        at
    };
    loop {
        let key = eat(b, at, b'"')?;
        let (slot, value) = match known_key(b, key) {
            Some((slot, after)) => (slot, ws(b, after)),
            None => {
                let end = key + plain_len(b.get(key..)?);
                // An escape or a control character in a key: serde_json decides.
                let after = colon(b, eat(b, end, b'"')?)?;
                (Slot::of(b.get(key..end)?), after)
            }
        };
        at = match (slot, b.get(value)) {
            (Slot::Params, Some(b'[')) => {
                let (end, split) = array_split(b, value)?;
                m.split = split;
                end
            }
            _ => value_at(b, value, 1)?,
        };
        let slot = match slot {
            Slot::Jsonrpc => &mut m.jsonrpc,
            Slot::Id => &mut m.id,
            Slot::Method => &mut m.method,
            Slot::Params => &mut m.params,
            Slot::Result => &mut m.result,
            Slot::Error => &mut m.error,
            Slot::Other => &mut None,
        };
        // Given twice: serde_json refuses it, with its own words.
        if slot.replace(text.get(value..at)?).is_some() {
            return None;
        }
        match after_item(b, at, b'}')? {
            (next, true) => at = next,
            (next, false) => {
                at = next;
                break;
            }
        }
    }
    (ws(b, at) == b.len()).then_some(m)
}

/// Which member a key names.
#[derive(Clone, Copy)]
enum Slot {
    Jsonrpc,
    Id,
    Method,
    Params,
    Result,
    Error,
    Other,
}

impl Slot {
    /// The member named by the key `key` (its bytes between the quotes).
    fn of(key: &[u8]) -> Self {
        match key {
            b"jsonrpc" => Self::Jsonrpc,
            b"id" => Self::Id,
            b"method" => Self::Method,
            b"params" => Self::Params,
            b"result" => Self::Result,
            b"error" => Self::Error,
            _ => Self::Other,
        }
    }
}

/// `text`'s first (up to eight) bytes as a little-endian word, the rest zero.
const fn word_of(text: &[u8]) -> u64 {
    let mut w = 0;
    let mut i = text.len();
    while i > 0 {
        i -= 1;
        w = w << 8 | text[i] as u64;
    }
    w
}

/// The member a key volley reads names and the position after the key's closing quote
/// and the colon right behind it, when the key starts at `at` (after its opening quote) and
/// is written that way: one word's comparisons instead of a scan. `None` leaves the key to
/// the scan.
fn known_key(b: &[u8], at: usize) -> Option<(Slot, usize)> {
    const METHOD: u64 = word_of(b"method\":");
    const PARAMS: u64 = word_of(b"params\":");
    const RESULT: u64 = word_of(b"result\":");
    const JSONRPC: u64 = word_of(b"jsonrpc\"");
    const ID: u64 = word_of(b"id\":");
    const ERROR: u64 = word_of(b"error\":");
    const LOW4: u64 = u32::MAX as u64;
    const LOW7: u64 = u64::MAX >> 8;
    let w = u64::from_le_bytes(*b.get(at..)?.first_chunk::<8>()?);
    let (slot, len) = match w {
        METHOD => (Slot::Method, 8),
        PARAMS => (Slot::Params, 8),
        RESULT => (Slot::Result, 8),
        JSONRPC if b.get(at + 8) == Some(&b':') => (Slot::Jsonrpc, 9),
        _ if w & LOW4 == ID => (Slot::Id, 4),
        _ if w & LOW7 == ERROR => (Slot::Error, 7),
        _ => return None,
    };
    Some((slot, at + len))
}

/// The raw JSON texts of the elements of the array `text`, in order, or `None` when the
/// scanner cannot decide.
pub(crate) fn elements<'a>(text: &'a str, mut each: impl FnMut(&'a str)) -> Option<()> {
    let b = text.as_bytes();
    let open = ws(b, 0);
    if b.get(open) != Some(&b'[') {
        return None;
    }
    let at = items(b, open, 1, |start, end| {
        each(text.get(start..end)?);
        Some(())
    })?;
    (ws(b, at) == b.len()).then_some(())
}

/// Walks the array whose `[` is at `open`, its elements at nesting `depth`, validating them
/// and handing each one's start and end to `each`; the position after its `]`.
fn items(
    b: &[u8],
    open: usize,
    depth: usize,
    mut each: impl FnMut(usize, usize) -> Option<()>,
) -> Option<usize> {
    let mut at = ws(b, open + 1);
    if b.get(at) == Some(&b']') {
        return Some(at + 1);
    }
    loop {
        let first = at;
        at = value_at(b, at, depth)?;
        each(first, at)?;
        match after_item(b, at, b']')? {
            (next, true) => at = next,
            (next, false) => return Some(next),
        }
    }
}

/// The position after the array whose `[` is at `at` (a member's value), validated, and
/// where its elements are when they fit a [`Split`].
fn array_split(b: &[u8], open: usize) -> Option<(usize, Split)> {
    let mut spans = [(0u16, 0u16); Split::MAX];
    let mut len = 0usize;
    // Whether every element so far lies within reach of a u16 offset.
    let mut near = true;
    // The array's elements sit one level below the member's value.
    let at = items(b, open, 2, |first, end| {
        if let Some(slot) = spans.get_mut(len) {
            match (u16::try_from(first - open), u16::try_from(end - open)) {
                (Ok(start), Ok(end)) => *slot = (start, end),
                _ => near = false,
            }
        }
        len += 1;
        Some(())
    })?;
    let len = u8::try_from(len)
        .ok()
        .filter(|&n| near && usize::from(n) <= Split::MAX);
    Some((at, Split { len, spans }))
}

/// A word with every byte 0x01.
const ONES: u64 = u64::from_le_bytes([1; 8]);
/// A word with every byte's high bit set.
const HIGHS: u64 = ONES * 0x80;

/// The high bit of each byte of `v` below `n` (`n` at most 0x80). Only the lowest marked byte
/// is sure to be one: a borrow may mark a byte above it that is not.
const fn below(v: u64, n: u8) -> u64 {
    v.wrapping_sub(ONES * n as u64) & !v & HIGHS
}

/// How many of `b`'s first bytes a string holds as they are: up to the first quote,
/// backslash or control character (or all of them). Eight bytes at a time.
fn plain_len(b: &[u8]) -> usize {
    let mut at = 0;
    while let Some(word) = b.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*word);
        // A byte equal to c is one that xor c brings below 1.
        let stops = below(w ^ (ONES * u64::from(b'"')), 1)
            | below(w ^ (ONES * u64::from(b'\\')), 1)
            | below(w, 0x20);
        if stops != 0 {
            return at + (stops.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = b.get(at..).unwrap_or_default();
    at + tail
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(tail.len())
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// The position after the whitespace at `at`.
fn ws(b: &[u8], mut at: usize) -> usize {
    while b.get(at).is_some_and(|&c| is_ws(c)) {
        at += 1;
    }
    at
}

/// The position after `c`, when `c` is at `at`.
fn eat(b: &[u8], at: usize, c: u8) -> Option<usize> {
    (*b.get(at)? == c).then_some(at + 1)
}

/// The position after `:` and the whitespace around it.
fn colon(b: &[u8], at: usize) -> Option<usize> {
    Some(ws(b, eat(b, ws(b, at), b':')?))
}

/// After a list's item: the position after a comma (and the whitespace after it) and
/// `true`, or the position after `close` and `false`; `None` for anything else.
fn after_item(b: &[u8], at: usize, close: u8) -> Option<(usize, bool)> {
    let mut at = at;
    let mut c = *b.get(at)?;
    if is_ws(c) {
        at = ws(b, at);
        c = *b.get(at)?;
    }
    if c == b',' {
        Some((ws(b, at + 1), true))
    } else {
        (c == close).then_some((at + 1, false))
    }
}

/// The position after the value at `at`, validated; `depth` is the nesting it sits at.
/// Strings and unsigned numbers, most values, are read here, in the caller's code.
#[inline(always)]
fn value_at(b: &[u8], at: usize, depth: usize) -> Option<usize> {
    match *b.get(at)? {
        b'"' => string_rest(b, at + 1),
        b'0'..=b'9' => number_rest(b, at),
        _ => other_value_at(b, at, depth),
    }
}

/// [`value_at`] for the rest: negative numbers, objects, arrays and literals.
fn other_value_at(b: &[u8], at: usize, depth: usize) -> Option<usize> {
    let next = at + 1;
    match *b.get(at)? {
        b'-' => match b.get(next)? {
            b'0'..=b'9' => number_rest(b, next),
            _ => None,
        },
        b'{' => object_rest(b, next, depth + 1),
        b'[' => array_rest(b, next, depth + 1),
        b't' => word(b, next, b"rue"),
        b'f' => word(b, next, b"alse"),
        b'n' => word(b, next, b"ull"),
        _ => None,
    }
}

fn word(b: &[u8], at: usize, rest: &[u8]) -> Option<usize> {
    b.get(at..)?.starts_with(rest).then_some(at + rest.len())
}

/// The position after a string whose opening quote is before `at`.
fn string_rest(b: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += plain_len(b.get(at..)?);
        match *b.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' => match *b.get(at + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at += 2,
                b'u' => {
                    let hex = b.get(at + 2..)?.first_chunk::<4>()?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    at += 6;
                }
                _ => return None,
            },
            // A control character.
            _ => return None,
        }
    }
}

/// The position after the digits at `at`, and whether there were any.
fn digits(b: &[u8], mut at: usize) -> (usize, bool) {
    let start = at;
    while b.get(at).is_some_and(u8::is_ascii_digit) {
        at += 1;
    }
    (at, at > start)
}

/// The position after the number whose first digit is at `first`:
/// `(0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
fn number_rest(b: &[u8], first: usize) -> Option<usize> {
    let (mut at, more) = digits(b, first + 1);
    // A leading zero stands alone.
    if more && b.get(first) == Some(&b'0') {
        return None;
    }
    if b.get(at) == Some(&b'.') {
        let (next, any) = digits(b, at + 1);
        if !any {
            return None;
        }
        at = next;
    }
    if let Some(b'e' | b'E') = b.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = b.get(at) {
            at += 1;
        }
        let (next, any) = digits(b, at);
        if !any {
            return None;
        }
        at = next;
    }
    Some(at)
}

/// The position after an array whose `[` is before `at`.
fn array_rest(b: &[u8], at: usize, depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    items(b, at - 1, depth, |_, _| Some(()))
}

/// The position after an object whose `{` is before `at`.
fn object_rest(b: &[u8], at: usize, depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut at = ws(b, at);
    if b.get(at) == Some(&b'}') {
        return Some(at + 1);
    }
    loop {
        at = colon(b, string_rest(b, eat(b, at, b'"')?)?)?;
        at = value_at(b, at, depth)?;
        match after_item(b, at, b'}')? {
            (next, true) => at = next,
            (next, false) => return Some(next),
        }
    }
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
