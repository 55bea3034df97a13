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
}

/// The members of the JSON object `text` (surrounding whitespace allowed), or `None` when the
/// scanner cannot decide (see the module's documentation).
pub(crate) fn members(text: &str) -> Option<Members<'_>> {
    let mut s = Scanner {
        b: text.as_bytes(),
        at: 0,
    };
    let mut m = Members::default();
    s.ws();
    s.list(b'{', b'}', |s| {
        let key = s.key()?;
        s.ws();
        s.eat(b':')?;
        s.ws();
        let start = s.at;
        s.value(1)?;
        let value = text.get(start..s.at)?;
        let slot = match key {
            b"jsonrpc" => &mut m.jsonrpc,
            b"id" => &mut m.id,
            b"method" => &mut m.method,
            b"params" => &mut m.params,
            b"result" => &mut m.result,
            b"error" => &mut m.error,
            _ => return Some(()),
        };
        // Given twice: serde_json refuses it, with its own words.
        slot.replace(value).is_none().then_some(())
    })?;
    s.ws();
    (s.at == s.b.len()).then_some(m)
}

/// The raw JSON texts of the elements of the array `text`, in order, or `None` when the
/// scanner cannot decide.
pub(crate) fn elements<'a>(text: &'a str, mut each: impl FnMut(&'a str)) -> Option<()> {
    let mut s = Scanner {
        b: text.as_bytes(),
        at: 0,
    };
    s.ws();
    s.list(b'[', b']', |s| {
        let start = s.at;
        s.value(1)?;
        each(text.get(start..s.at)?);
        Some(())
    })?;
    s.ws();
    (s.at == s.b.len()).then_some(())
}

struct Scanner<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Skips the bytes a string holds as they are (not a quote, a backslash or a control
    /// character), in one pass over the slice.
    fn plain(&mut self) {
        let rest = self.b.get(self.at..).unwrap_or_default();
        self.at += rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
            .unwrap_or(rest.len());
    }

    /// A key without escapes; its bytes between the quotes.
    fn key(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.at;
        self.plain();
        let key = self.b.get(start..self.at)?;
        self.eat(b'"')?;
        Some(key)
    }

    /// Skips one value, validating it; `depth` is the nesting it sits at.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.at += 1;
                self.string_rest()
            }
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.b.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// The rest of a string after its opening quote.
    fn string_rest(&mut self) -> Option<()> {
        loop {
            self.plain();
            match self.next()? {
                b'"' => return Some(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        for _ in 0..4 {
                            if !self.next()?.is_ascii_hexdigit() {
                                return None;
                            }
                        }
                    }
                    _ => return None,
                },
                c if c < 0x20 => return None,
                _ => {}
            }
        }
    }

    fn digits(&mut self) -> Option<()> {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        (self.at > start).then_some(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {
                if let Some(b'0'..=b'9') = self.peek() {
                    return None;
                }
            }
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.at += 1;
                }
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.digits()?;
        }
        Some(())
    }

    /// `open`, then items separated by commas (none at all, or each read by `item` with the
    /// whitespace around it), then `close`.
    fn list(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        self.ws();
        if self.peek() == Some(close) {
            self.at += 1;
            return Some(());
        }
        loop {
            item(self)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                c if c == close => return Some(()),
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.list(b'[', b']', |s| s.value(depth))
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.list(b'{', b'}', |s| {
            s.eat(b'"')?;
            s.string_rest()?;
            s.ws();
            s.eat(b':')?;
            s.ws();
            s.value(depth)
        })
    }
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
