//! Redis's protocol (RESP2) as the node's own connections speak it: commands written as
//! arrays of bulk strings, the few replies they read, and dialing with `AUTH`.
//!
//! Used for plain TCP (`redis://`) only, where the node publishes ([`Quiet`](crate::quiet))
//! and listens ([`listen`](crate::listen)) on connections of its own; for TLS and Unix
//! sockets it goes through the client library instead.

use std::io;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use redis::{ConnectionAddr, ConnectionInfo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest bulk string read: Redis's own default limit (`proto-max-bulk-len`, 512 MB).
pub(crate) const MAX_BULK: usize = 512 * 1024 * 1024;
/// The deepest nesting of arrays read (a pub/sub message is one array of bulk strings).
const MAX_DEPTH: usize = 8;

/// Where Redis is and who the node is there.
#[derive(Debug, Clone)]
pub(crate) struct Dialer {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
    /// How long dialing and the handshake may take.
    pub(crate) timeout: Duration,
}

impl Dialer {
    /// A dialer for the Redis `info` names, when it is reached over plain TCP.
    pub(crate) fn for_redis(info: &ConnectionInfo, timeout: Duration) -> Option<Self> {
        let ConnectionAddr::Tcp(host, port) = info.addr() else {
            return None;
        };
        let settings = info.redis_settings();
        Some(Self {
            host: host.clone(),
            port: *port,
            username: settings.username().map(str::to_owned),
            password: settings.password().map(str::to_owned),
            timeout,
        })
    }

    /// Connects and authenticates when the URL says so, within the timeout.
    pub(crate) async fn dial(&self) -> io::Result<(TcpStream, BytesMut)> {
        match tokio::time::timeout(self.timeout, self.dial_now()).await {
            Ok(dialed) => dialed,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("Redis did not answer within {:?}", self.timeout),
            )),
        }
    }

    async fn dial_now(&self) -> io::Result<(TcpStream, BytesMut)> {
        let mut stream = TcpStream::connect((self.host.as_str(), self.port)).await?;
        stream.set_nodelay(true)?;
        let mut buf = BytesMut::with_capacity(4096);
        if let Some(password) = &self.password {
            let mut auth = vec!["AUTH".as_bytes()];
            if let Some(user) = &self.username {
                auth.push(user.as_bytes());
            }
            auth.push(password.as_bytes());
            let mut command = Vec::new();
            encode(&mut command, &auth);
            stream.write_all(&command).await?;
            match read_reply(&mut stream, &mut buf).await? {
                Reply::Simple(_) => {}
                Reply::Error(why) => {
                    return Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
                }
                other => return Err(unexpected(&other)),
            }
        }
        Ok((stream, buf))
    }
}

/// Appends one command, `args`, to `out` (no allocation but `out`'s growth).
pub(crate) fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.push(b'*');
    decimal(out, args.len());
    out.extend_from_slice(b"\r\n");
    for arg in args {
        out.push(b'$');
        decimal(out, arg.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `n` in decimal.
fn decimal(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// One reply or push, as far as the node reads them.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// `+OK` and the like.
    Simple(String),
    /// `-ERR ...`: Redis refused a command.
    Error(String),
    /// `:n`.
    Integer(i64),
    /// `$n`: bytes (`None` for the null bulk string).
    Bulk(Option<Bytes>),
    /// `*n`: the elements (`None` for the null array).
    Array(Option<Vec<Reply>>),
}

/// The error for a reply the node did not expect.
pub(crate) fn unexpected(reply: &Reply) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("an unexpected reply from Redis: {reply:?}"),
    )
}

/// The next reply in `buf`, taken out of it, or `None` while it is incomplete. Anything that
/// is not RESP2 is an error.
pub(crate) fn parse(buf: &mut BytesMut) -> io::Result<Option<Reply>> {
    match reply_at(buf, 0, 0)? {
        Some(end) => {
            let mut frame = buf.split_to(end).freeze();
            Ok(Some(take(&mut frame)?))
        }
        None => Ok(None),
    }
}

/// Reads from `stream` into `buf` until one reply is complete, and returns it.
pub(crate) async fn read_reply(stream: &mut TcpStream, buf: &mut BytesMut) -> io::Result<Reply> {
    loop {
        if let Some(reply) = parse(buf)? {
            return Ok(reply);
        }
        if stream.read_buf(buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("not Redis's protocol: {what}"),
    )
}

/// The position after the line that starts at `at` (after its `\r\n`), and the line without
/// it; `None` while the line is incomplete.
fn line(b: &[u8], at: usize) -> Option<(usize, &[u8])> {
    let rest = b.get(at..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((at + end + 2, &rest[..end]))
}

/// A length or an integer as written in a header line.
fn number(digits: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("a bad number"))
}

/// A length of `-1` (null) or up to `max`.
fn length(digits: &[u8], max: usize) -> io::Result<Option<usize>> {
    match number(digits)? {
        -1 => Ok(None),
        n => usize::try_from(n)
            .ok()
            .filter(|&n| n <= max)
            .map(Some)
            .ok_or_else(|| invalid("a length out of range")),
    }
}

/// The position after the complete reply at `at`, or `None` while it is incomplete.
fn reply_at(b: &[u8], at: usize, depth: usize) -> io::Result<Option<usize>> {
    let Some((after, head)) = line(b, at) else {
        return Ok(None);
    };
    let Some((&kind, rest)) = head.split_first() else {
        return Err(invalid("an empty line"));
    };
    match kind {
        b'+' | b'-' => Ok(Some(after)),
        b':' => number(rest).map(|_| Some(after)),
        b'$' => match length(rest, MAX_BULK)? {
            None => Ok(Some(after)),
            Some(len) => {
                let end = after + len + 2;
                if b.len() < end {
                    return Ok(None);
                }
                if &b[end - 2..end] != b"\r\n" {
                    return Err(invalid("a bulk string without its line end"));
                }
                Ok(Some(end))
            }
        },
        b'*' => {
            if depth >= MAX_DEPTH {
                return Err(invalid("arrays nested too deep"));
            }
            let Some(n) = length(rest, MAX_BULK)? else {
                return Ok(Some(after));
            };
            let mut at = after;
            for _ in 0..n {
                match reply_at(b, at, depth + 1)? {
                    Some(next) => at = next,
                    None => return Ok(None),
                }
            }
            Ok(Some(at))
        }
        _ => Err(invalid("an unknown reply type")),
    }
}

/// Takes the complete reply at the start of `frame` (checked by [`reply_at`]).
fn take(frame: &mut Bytes) -> io::Result<Reply> {
    let (after, head) = line(frame, 0).ok_or_else(|| invalid("a cut reply"))?;
    let kind = head.first().copied();
    let text = || String::from_utf8_lossy(&head[1..]).into_owned();
    let reply = match kind {
        Some(b'+') => Reply::Simple(text()),
        Some(b'-') => Reply::Error(text()),
        Some(b':') => Reply::Integer(number(&head[1..])?),
        Some(b'$') => match length(&head[1..], MAX_BULK)? {
            None => {
                frame.advance(after);
                return Ok(Reply::Bulk(None));
            }
            Some(len) => {
                frame.advance(after);
                let bytes = frame.split_to(len);
                frame.advance(2);
                return Ok(Reply::Bulk(Some(bytes)));
            }
        },
        Some(b'*') => match length(&head[1..], MAX_BULK)? {
            None => {
                frame.advance(after);
                return Ok(Reply::Array(None));
            }
            Some(n) => {
                frame.advance(after);
                let mut items = Vec::with_capacity(n.min(16));
                for _ in 0..n {
                    items.push(take(frame)?);
                }
                return Ok(Reply::Array(Some(items)));
            }
        },
        _ => return Err(invalid("an unknown reply type")),
    };
    frame.advance(after);
    Ok(reply)
}

#[cfg(test)]
#[path = "resp_tests.rs"]
mod tests;
