//! The node's subscription on a connection of its own, when Redis is reached over plain TCP:
//! the task that reads the socket hands each published message to the node at once (no
//! client library, no channel between tasks on the way).
//!
//! It checks the connection itself: with nothing from Redis for a heartbeat it sends a
//! `PING` (allowed while subscribed), and a connection silent for the node timeout counts as
//! lost. A lost connection is reported ([`Received::Lost`]), then dialed again, with a delay
//! that doubles from 10 ms up to the heartbeat, and subscribed again.

use std::io;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::link::Received;
use crate::resp::{self, Dialer, Reply};

/// The first delay before dialing again.
const FIRST_RETRY: Duration = Duration::from_millis(10);
/// The most of the read buffer kept while nothing is buffered, in bytes.
const KEPT_BUFFER: usize = 64 * 1024;

/// A subscription to `channels`, and how to keep it.
pub(crate) struct Subscriber {
    dialer: Dialer,
    channels: Vec<String>,
    /// How long without a word from Redis before a `PING`, and the longest delay between
    /// dials.
    heartbeat: Duration,
    /// How long without a word from Redis (a `PING` unanswered) before the connection
    /// counts as lost.
    silence: Duration,
}

/// A subscribed connection and what was read from it.
pub(crate) struct Subscribed {
    stream: TcpStream,
    buf: BytesMut,
}

impl Subscriber {
    pub(crate) fn new(
        dialer: Dialer,
        channels: Vec<String>,
        heartbeat: Duration,
        silence: Duration,
    ) -> Self {
        Self {
            dialer,
            channels,
            heartbeat,
            silence,
        }
    }

    /// Dials, subscribes, and returns once Redis has confirmed every channel (messages that
    /// arrive meanwhile go to `on`).
    pub(crate) async fn subscribe(&self, on: &mut impl FnMut(Received)) -> io::Result<Subscribed> {
        let (mut stream, mut buf) = self.dialer.dial().await?;
        let mut command = Vec::new();
        let mut args: Vec<&[u8]> = vec![b"SUBSCRIBE"];
        args.extend(self.channels.iter().map(String::as_bytes));
        resp::encode(&mut command, &args);
        let confirmed = async {
            stream.write_all(&command).await?;
            let mut confirmed = 0;
            while confirmed < self.channels.len() {
                match resp::read_reply(&mut stream, &mut buf).await? {
                    Reply::Error(why) => return Err(io::Error::other(why)),
                    reply => confirmed += usize::from(deliver(reply, on) == Kind::Subscribed),
                }
            }
            Ok(())
        };
        match tokio::time::timeout(self.dialer.timeout, confirmed).await {
            Ok(done) => done?,
            Err(_) => return Err(io::ErrorKind::TimedOut.into()),
        }
        Ok(Subscribed { stream, buf })
    }

    /// Reads `subscribed` for ever, handing each message to `on`; when the connection is
    /// lost, says so to `on` and subscribes again.
    pub(crate) async fn run(self, subscribed: Subscribed, mut on: impl FnMut(Received)) {
        let mut subscribed = subscribed;
        loop {
            let lost = self.read(&mut subscribed, &mut on).await;
            tracing::error!("lost the Redis subscription ({lost}); dialing again");
            on(Received::Lost);
            let mut delay = FIRST_RETRY;
            subscribed = loop {
                tokio::time::sleep(delay).await;
                match self.subscribe(&mut on).await {
                    Ok(again) => break again,
                    Err(e) => {
                        tracing::debug!("could not subscribe again: {e}");
                        delay = (delay * 2).min(self.heartbeat);
                    }
                }
            };
            tracing::info!("subscribed to Redis again");
        }
    }

    /// Reads until the connection is lost, and says why.
    async fn read(&self, subscribed: &mut Subscribed, on: &mut impl FnMut(Received)) -> io::Error {
        let Subscribed { stream, buf } = subscribed;
        let mut heard = Instant::now();
        let mut pinged = false;
        loop {
            loop {
                match resp::parse(buf) {
                    Ok(Some(reply)) => {
                        deliver(reply, on);
                    }
                    Ok(None) => break,
                    Err(e) => return e,
                }
            }
            if buf.is_empty() && buf.capacity() > KEPT_BUFFER {
                *buf = BytesMut::with_capacity(4096);
            }
            if buf.capacity() - buf.len() < 1024 {
                buf.reserve(4096);
            }
            let read = tokio::time::timeout(self.heartbeat, stream.read_buf(buf)).await;
            match read {
                Ok(Ok(0)) => return io::ErrorKind::UnexpectedEof.into(),
                Ok(Ok(_)) => {
                    heard = Instant::now();
                    pinged = false;
                }
                Ok(Err(e)) => return e,
                Err(_) if heard.elapsed() >= self.silence => {
                    return io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("nothing from Redis for {:?}", self.silence),
                    );
                }
                Err(_) if !pinged => {
                    let mut ping = Vec::new();
                    resp::encode(&mut ping, &[b"PING"]);
                    if let Err(e) = stream.write_all(&ping).await {
                        return e;
                    }
                    pinged = true;
                }
                Err(_) => {}
            }
        }
    }
}

/// What a push was.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Message,
    Subscribed,
    Other,
}

/// Hands a published message to `on`; says what `reply` was.
fn deliver(reply: Reply, on: &mut impl FnMut(Received)) -> Kind {
    let Reply::Array(Some(mut items)) = reply else {
        return Kind::Other;
    };
    match items.first() {
        Some(Reply::Bulk(Some(kind))) if kind.as_ref() == b"message" && items.len() == 3 => {
            if let Some(Reply::Bulk(Some(payload))) = items.pop() {
                on(Received::Payload(payload));
            }
            Kind::Message
        }
        Some(Reply::Bulk(Some(kind))) if kind.as_ref() == b"subscribe" => Kind::Subscribed,
        _ => Kind::Other,
    }
}
