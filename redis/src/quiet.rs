//! [`Quiet`]: a publishing connection that Redis does not answer (`CLIENT REPLY OFF`).
//!
//! A `PUBLISH` answered by Redis wakes the node that sent it just to read a number it has no
//! use for; on a busy machine that wake lands between a message and the node that waits for
//! it. On this connection Redis sends nothing back, so the node is woken only by what it is
//! sent. Without answers a lost connection shows as a failed write or as the end of the
//! stream, checked before each batch; what was written into a connection Redis had already
//! dropped is lost, as pub/sub loses what a subscriber misses while it reconnects.
//!
//! Plain TCP only (`redis://`); for TLS and Unix sockets the node publishes through the
//! client library's connection instead.

use std::io;
use std::time::Duration;

use redis::{ConnectionAddr, ConnectionInfo};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The connection, dialed on first use and again after it is lost.
pub(crate) struct Quiet {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
    /// How long dialing and the handshake, or one write, may take.
    timeout: Duration,
    stream: Option<TcpStream>,
}

impl Quiet {
    /// A quiet publisher for the Redis `info` names, when it is reached over plain TCP.
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
            stream: None,
        })
    }

    /// Writes `commands` (RESP), dialing first when there is no connection or Redis has
    /// closed it. On an error the connection is dropped, to be dialed again next time.
    pub(crate) async fn send(&mut self, commands: &[u8]) -> io::Result<()> {
        if self.stream.as_ref().is_some_and(|s| !is_open(s)) {
            self.stream = None;
        }
        if self.stream.is_none() {
            let dialed = tokio::time::timeout(self.timeout, self.dial()).await;
            self.stream = Some(dialed.map_err(|_| io::ErrorKind::TimedOut)??);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        // Bounded: a Redis that stopped reading (or a network that stopped carrying) would
        // otherwise hold the publisher once the socket's buffer is full.
        let written = match tokio::time::timeout(self.timeout, stream.write_all(commands)).await {
            Ok(written) => written,
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        };
        if written.is_err() {
            self.stream = None;
        }
        written
    }

    /// Connects, authenticates when the URL says so, and turns Redis's answers off.
    async fn dial(&self) -> io::Result<TcpStream> {
        let mut stream = TcpStream::connect((self.host.as_str(), self.port)).await?;
        stream.set_nodelay(true)?;
        if let Some(password) = &self.password {
            let mut auth = vec!["AUTH".as_bytes()];
            if let Some(user) = &self.username {
                auth.push(user.as_bytes());
            }
            auth.push(password.as_bytes());
            let mut command = Vec::new();
            encode(&mut command, &auth);
            stream.write_all(&command).await?;
            let mut reply = BufReader::new(&mut stream);
            let mut first = [0u8; 1];
            reply.read_exact(&mut first).await?;
            let mut line = Vec::new();
            loop {
                let byte = reply.read_u8().await?;
                if byte == b'\n' {
                    break;
                }
                line.push(byte);
            }
            if first[0] != b'+' {
                let why = String::from_utf8_lossy(&line).trim().to_owned();
                return Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
            }
        }
        let mut off = Vec::new();
        encode(&mut off, &[b"CLIENT", b"REPLY", b"OFF"]);
        stream.write_all(&off).await?;
        Ok(stream)
    }
}

/// Whether Redis has not closed `stream`: with its answers off, anything to read is the end
/// (or an error).
fn is_open(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.try_read(&mut byte) {
        Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        Ok(_) => false,
    }
}

/// Appends one command, `args`, in RESP to `out` (no allocation but `out`'s growth).
pub(crate) fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "*{}\r\n", args.len());
    for arg in args {
        let _ = write!(out, "${}\r\n", arg.len());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn commands_are_written_in_resp() {
        let mut out = Vec::new();
        encode(&mut out, &[b"PUBLISH", b"volley:cluster", b"a\r\nb"]);
        assert_eq!(
            out,
            b"*3\r\n$7\r\nPUBLISH\r\n$14\r\nvolley:cluster\r\n$4\r\na\r\nb\r\n"
        );
    }
}
