//! How messages are delimited on the program's stdin and stdout: one a line, or the
//! `Content-Length` headers of the Language Server Protocol. [`Reader`] takes whole messages
//! out of a byte stream however its reads split it; [`write()`] frames one message.

use std::io;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How the program's messages are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Framing {
    /// One message a line, ended by `\n` (a `\r` before it is dropped)
    Lines,
    /// `Content-Length: N\r\n\r\n` then N bytes, as language servers frame them (other
    /// headers, such as Content-Type, are accepted and ignored)
    ContentLength,
}

/// The longest header block a content-length message may have, in bytes.
const MAX_HEADERS: usize = 8 * 1024;

/// How much room a read asks for.
const READ_SIZE: usize = 16 * 1024;

/// Why the program's output cannot be read as messages.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    /// A message longer than the limit (its headers announce it, or its line goes on).
    #[error("a message over {limit} bytes")]
    TooBig {
        /// The limit, `--max-message-size`.
        limit: usize,
    },
    /// Content-length headers without a usable `Content-Length`.
    #[error("{0}")]
    BadHeader(String),
    /// The output ended in the middle of a content-length message.
    #[error("the output ended inside a message")]
    Truncated,
    /// Reading failed.
    #[error("cannot read the output")]
    Io(#[source] io::Error),
}

/// Whole messages out of `input`, each at most `limit` bytes (not counting its framing).
#[derive(Debug)]
pub(crate) struct Reader<R> {
    input: R,
    framing: Framing,
    limit: usize,
    buffer: BytesMut,
    /// How much of `buffer` is known to hold no delimiter (a line's `\n`, the headers' end).
    scanned: usize,
    /// The length of the body whose headers were read, while it is awaited.
    body: Option<usize>,
    ended: bool,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// Reads messages framed as `framing` from `input`.
    pub(crate) fn new(input: R, framing: Framing, limit: usize) -> Self {
        Self {
            input,
            framing,
            limit,
            buffer: BytesMut::new(),
            scanned: 0,
            body: None,
            ended: false,
        }
    }

    /// The next message, or `None` when the input ends between messages. With lines
    /// framing, bytes after the last line break are one last message.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>, FrameError> {
        loop {
            let message = match self.framing {
                Framing::Lines => self.line()?,
                Framing::ContentLength => self.content()?,
            };
            if message.is_some() {
                return Ok(message);
            }
            if self.ended {
                return match self.framing {
                    _ if self.buffer.is_empty() && self.body.is_none() => Ok(None),
                    Framing::Lines if self.buffer.len() > self.limit => {
                        Err(FrameError::TooBig { limit: self.limit })
                    }
                    Framing::Lines => {
                        self.scanned = 0;
                        Ok(Some(self.buffer.split().freeze()))
                    }
                    Framing::ContentLength => Err(FrameError::Truncated),
                };
            }
            self.buffer.reserve(READ_SIZE);
            let read = self.input.read_buf(&mut self.buffer).await;
            if read.map_err(FrameError::Io)? == 0 {
                self.ended = true;
            }
        }
    }

    /// A whole line from the buffer, without its `\n` or `\r\n`.
    fn line(&mut self) -> Result<Option<Bytes>, FrameError> {
        let Some(at) = find(&self.buffer[self.scanned..], b"\n") else {
            self.scanned = self.buffer.len();
            // A line this long is too big even if `\r\n` comes next.
            return if self.buffer.len() > self.limit.saturating_add(1) {
                Err(FrameError::TooBig { limit: self.limit })
            } else {
                Ok(None)
            };
        };
        let end = self.scanned + at;
        self.scanned = 0;
        let mut line = self.buffer.split_to(end + 1).freeze();
        line.truncate(end);
        if line.ends_with(b"\r") {
            line.truncate(end - 1);
        }
        if line.len() > self.limit {
            return Err(FrameError::TooBig { limit: self.limit });
        }
        Ok(Some(line))
    }

    /// A whole content-length message from the buffer: its headers are read (and checked)
    /// as soon as they are complete, its body once all of it is there.
    fn content(&mut self) -> Result<Option<Bytes>, FrameError> {
        let length = match self.body {
            Some(length) => length,
            None => {
                // The end `\r\n\r\n` may straddle what was scanned and what came since.
                let from = self.scanned.saturating_sub(3);
                let Some(at) = find(&self.buffer[from..], b"\r\n\r\n") else {
                    self.scanned = self.buffer.len();
                    return if self.buffer.len() > MAX_HEADERS {
                        Err(FrameError::BadHeader(format!(
                            "no end of headers in {MAX_HEADERS} bytes"
                        )))
                    } else {
                        Ok(None)
                    };
                };
                self.scanned = 0;
                let headers = self.buffer.split_to(from + at + 4);
                let length = content_length(&headers[..from + at])?;
                if length > self.limit {
                    return Err(FrameError::TooBig { limit: self.limit });
                }
                self.body = Some(length);
                length
            }
        };
        if self.buffer.len() < length {
            self.buffer.reserve(length - self.buffer.len());
            return Ok(None);
        }
        self.body = None;
        Ok(Some(self.buffer.split_to(length).freeze()))
    }
}

/// The `Content-Length` of a header block (without its final blank line).
fn content_length(headers: &[u8]) -> Result<usize, FrameError> {
    let bad = |why: String| FrameError::BadHeader(why);
    let text = std::str::from_utf8(headers).map_err(|_| bad("headers that are not text".into()))?;
    let mut length = None;
    for line in text.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(format!("a header line without a colon: {line:?}")));
        };
        if !name.trim().eq_ignore_ascii_case("content-length") {
            continue;
        }
        if length.is_some() {
            return Err(bad("two Content-Length headers".into()));
        }
        let value = value.trim();
        let parsed = value.parse::<usize>();
        length = Some(parsed.map_err(|_| bad(format!("invalid Content-Length: {value:?}")))?);
    }
    length.ok_or_else(|| bad("no Content-Length header".into()))
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes `message` framed as `framing`, and flushes. With lines framing, `message` holds
/// no line break.
pub(crate) async fn write<W: AsyncWrite + Unpin>(
    output: &mut W,
    framing: Framing,
    message: &[u8],
) -> io::Result<()> {
    let mut frame = Vec::with_capacity(message.len() + 32);
    match framing {
        Framing::Lines => {
            debug_assert!(!message.contains(&b'\n'));
            frame.extend_from_slice(message);
            frame.push(b'\n');
        }
        Framing::ContentLength => {
            frame
                .extend_from_slice(format!("Content-Length: {}\r\n\r\n", message.len()).as_bytes());
            frame.extend_from_slice(message);
        }
    }
    output.write_all(&frame).await?;
    output.flush().await
}

#[cfg(test)]
mod tests;
