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

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::resp::{self, Dialer};

/// The connection, dialed on first use and again after it is lost.
pub(crate) struct Quiet {
    /// Where Redis is; its timeout bounds dialing and the handshake, and each write.
    dialer: Dialer,
    stream: Option<TcpStream>,
}

impl Quiet {
    pub(crate) fn new(dialer: Dialer) -> Self {
        Self {
            dialer,
            stream: None,
        }
    }

    /// Writes `commands` (RESP), dialing first when there is no connection or Redis has
    /// closed it. On an error the connection is dropped, to be dialed again next time.
    pub(crate) async fn send(&mut self, commands: &[u8]) -> io::Result<()> {
        if self.stream.as_ref().is_some_and(|s| !is_open(s)) {
            self.stream = None;
        }
        if self.stream.is_none() {
            let (mut stream, _) = self.dialer.dial().await?;
            // Redis's answers off: from here on it sends nothing on this connection.
            let mut off = Vec::new();
            resp::encode(&mut off, &[b"CLIENT", b"REPLY", b"OFF"]);
            stream.write_all(&off).await?;
            self.stream = Some(stream);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        // Bounded: a Redis that stopped reading (or a network that stopped carrying) would
        // otherwise hold the publisher once the socket's buffer is full.
        let timeout = self.dialer.timeout;
        let written = match tokio::time::timeout(timeout, stream.write_all(commands)).await {
            Ok(written) => written,
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        };
        if written.is_err() {
            self.stream = None;
        }
        written
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
