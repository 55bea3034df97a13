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

use bytes::{Bytes, BytesMut};
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
        // A zero heartbeat would make every read time out at once.
        let heartbeat = heartbeat.max(Duration::from_millis(1));
        Self {
            dialer,
            channels,
            heartbeat,
            silence: silence.max(heartbeat),
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
                    match tokio::time::timeout(self.silence, stream.write_all(&ping)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return e,
                        Err(_) => return io::ErrorKind::TimedOut.into(),
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
                // A copy of its own: a notification's bytes may wait in slow peers' queues,
                // and a slice would keep the whole read buffer alive with them.
                on(Received::Payload(Bytes::copy_from_slice(&payload)));
            }
            Kind::Message
        }
        Some(Reply::Bulk(Some(kind))) if kind.as_ref() == b"subscribe" => Kind::Subscribed,
        _ => Kind::Other,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::BytesMut;
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::mpsc;

    use super::{Subscriber, resp};
    use crate::link::Received;
    use crate::resp::{Dialer, Reply};

    const WAIT: Duration = Duration::from_secs(10);

    async fn t<F: std::future::Future>(f: F) -> F::Output {
        tokio::time::timeout(WAIT, f)
            .await
            .expect("within the test's timeout")
    }

    /// Accepts one connection and reads its next command's arguments.
    async fn command(stream: &mut TcpStream, buf: &mut BytesMut) -> Vec<String> {
        match t(resp::read_reply(stream, buf)).await.expect("a command") {
            Reply::Array(Some(args)) => args
                .into_iter()
                .map(|a| match a {
                    Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
                    other => panic!("{other:?}"),
                })
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    /// Accepts a subscriber and confirms its channels, as Redis does.
    async fn accept_subscriber(listener: &TcpListener) -> (TcpStream, BytesMut) {
        let (mut stream, _) = t(listener.accept()).await.expect("accept");
        let mut buf = BytesMut::new();
        let args = command(&mut stream, &mut buf).await;
        assert_eq!(args, ["SUBSCRIBE", "a", "b"]);
        for (n, channel) in ["a", "b"].iter().enumerate() {
            let mut out = Vec::new();
            out.extend_from_slice(b"*3\r\n");
            for part in [&b"subscribe"[..], channel.as_bytes()] {
                out.extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
                out.extend_from_slice(part);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!(":{}\r\n", n + 1).as_bytes());
            t(stream.write_all(&out)).await.expect("confirm");
        }
        (stream, buf)
    }

    #[tokio::test]
    async fn a_silent_redis_is_pinged_then_left_and_dialed_again() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("url");
        let dialer = Dialer::for_redis(client.get_connection_info(), WAIT).expect("tcp");
        let (heartbeat, silence) = (Duration::from_millis(50), Duration::from_millis(300));
        let subscriber = Subscriber::new(dialer, vec!["a".into(), "b".into()], heartbeat, silence);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut on = move |r: Received| {
            let _ = tx.send(r);
        };
        let (subscribed, server) = tokio::join!(
            async { t(subscriber.subscribe(&mut on)).await.expect("subscribed") },
            accept_subscriber(&listener)
        );
        let (mut first, mut buf) = server;
        let task = tokio::spawn(subscriber.run(subscribed, on));
        // A message is handed over.
        t(first.write_all(b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"))
            .await
            .expect("publish");
        match t(rx.recv()).await {
            Some(Received::Payload(p)) => assert_eq!(&p[..], b"hi"),
            other => panic!("{other:?}"),
        }
        // Silent for a heartbeat: a PING; unanswered, the connection is left after the
        // silence, and reported lost.
        let started = tokio::time::Instant::now();
        assert_eq!(command(&mut first, &mut buf).await, ["PING"]);
        assert!(started.elapsed() >= heartbeat / 2);
        match t(rx.recv()).await {
            Some(Received::Lost) => {}
            other => panic!("{other:?}"),
        }
        assert!(
            started.elapsed() >= silence - heartbeat,
            "{:?}",
            started.elapsed()
        );
        // Dialed again and subscribed again; messages flow on the new connection.
        let (mut second, _) = accept_subscriber(&listener).await;
        t(second.write_all(b"*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$5\r\nagain\r\n"))
            .await
            .expect("publish");
        match t(rx.recv()).await {
            Some(Received::Payload(p)) => assert_eq!(&p[..], b"again"),
            other => panic!("{other:?}"),
        }
        // Answered PINGs keep the connection, for longer than the silence: nothing is lost
        // while Redis answers.
        let mut buf = BytesMut::new();
        for _ in 0..10 {
            assert_eq!(command(&mut second, &mut buf).await, ["PING"]);
            t(second.write_all(b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"))
                .await
                .expect("pong");
        }
        assert!(rx.try_recv().is_err(), "nothing more was reported");
        // A connection Redis closes is lost at once.
        drop(second);
        match t(rx.recv()).await {
            Some(Received::Lost) => {}
            other => panic!("{other:?}"),
        }
        drop(first);
        task.abort();
    }
}
