//! The receiving half of a socket, as the engine's stream of [`Inbound`] frames. Reads go
//! into a buffer that exists only while bytes wait to become a frame: an idle connection
//! reads into the stack, and keeps nothing. Each complete frame is unmasked in place and
//! handed over without a copy; a ping is answered through the sending half's buffer.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use futures_util::Stream;
use tokio::io::{AsyncRead, ReadBuf};
use volley_core::CloseReason;
use volley_core::transport::{BoxError, Inbound};

use super::frame::{Head, MAX_HEAD, Opcode, Violation, parse_close, unmask};
use super::io::ReadIo;
use super::write::{Out, lock};

/// The most one read of an idle connection takes, on the stack.
const STACK_READ: usize = 8 * 1024;

/// How the receiving half reads: sizes from the server's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadLimits {
    /// The most one read takes in.
    pub(crate) chunk: usize,
    /// The largest message (all its fragments) accepted; larger closes with 1009.
    pub(crate) max_message: usize,
    /// Unwritten bytes past which a ping goes unanswered (RFC 6455 lets an endpoint answer
    /// only the latest): a peer that pings and never reads cannot grow the buffer.
    pub(crate) pong_backlog: usize,
}

const TOO_BIG: Violation = Violation {
    code: 1009,
    reason: "message too big",
};

/// A message whose later fragments are still to come.
struct Fragments {
    text: bool,
    bytes: BytesMut,
}

/// The engine's incoming frames from one socket.
pub(crate) struct Receiver {
    io: ReadIo,
    /// Bytes read and not yet made into a frame: empty, without an allocation, when idle.
    buf: BytesMut,
    /// Bytes the frame at the head of `buf` still needs, when known.
    need: usize,
    fragments: Option<Fragments>,
    out: Arc<Mutex<Out>>,
    /// A pong this half must write itself (the sender was not writing).
    pong_unwritten: bool,
    limits: ReadLimits,
    ended: bool,
}

impl Receiver {
    /// `early` holds bytes read before the upgrade completed (a client that sent frames
    /// right behind its request).
    pub(crate) fn new(io: ReadIo, early: &[u8], out: Arc<Mutex<Out>>, limits: ReadLimits) -> Self {
        Self {
            io,
            buf: BytesMut::from(early),
            need: 0,
            fragments: None,
            out,
            pong_unwritten: false,
            limits,
            ended: false,
        }
    }

    /// The next complete frame in `buf`, if one has arrived; `Ok(None)` when more bytes are
    /// needed (and `need` says how many, at least).
    fn next_frame(&mut self) -> Result<Option<Inbound>, Violation> {
        loop {
            let Some(head) = Head::parse(&self.buf, self.limits.max_message)? else {
                self.need = MAX_HEAD.saturating_sub(self.buf.len()).max(1);
                return Ok(None);
            };
            if head.opcode == Opcode::Continuation
                && let Some(fragments) = &self.fragments
                && fragments.bytes.len() + head.payload > self.limits.max_message
            {
                return Err(TOO_BIG);
            }
            let total = head.len + head.payload;
            if self.buf.len() < total {
                self.need = total - self.buf.len();
                return Ok(None);
            }
            let mut payload = if total == self.buf.len() {
                // The usual case, one frame per read: take the whole buffer, no split.
                let mut all = std::mem::take(&mut self.buf);
                all.advance(head.len);
                all
            } else {
                self.buf.advance(head.len);
                self.buf.split_to(head.payload)
            };
            unmask(&mut payload, head.mask);
            if let Some(inbound) = self.on_frame(head, payload)? {
                return Ok(Some(inbound));
            }
        }
    }

    /// What one frame means; `None` for a fragment that does not end its message.
    fn on_frame(&mut self, head: Head, payload: BytesMut) -> Result<Option<Inbound>, Violation> {
        let (text, message) = match head.opcode {
            Opcode::Text | Opcode::Binary => {
                if self.fragments.is_some() {
                    return Err(Violation::protocol(
                        "a new message began before the last one ended",
                    ));
                }
                let text = head.opcode == Opcode::Text;
                if !head.fin {
                    self.fragments = Some(Fragments {
                        text,
                        bytes: payload,
                    });
                    return Ok(None);
                }
                (text, payload)
            }
            Opcode::Continuation => {
                let Some(fragments) = &mut self.fragments else {
                    return Err(Violation::protocol(
                        "a continuation frame without a message",
                    ));
                };
                fragments.bytes.extend_from_slice(&payload);
                if !head.fin {
                    return Ok(None);
                }
                let Fragments { text, bytes } = self.fragments.take().expect("checked above");
                (text, bytes)
            }
            Opcode::Close => {
                let close = parse_close(&payload)?;
                self.ended = true;
                return Ok(Some(Inbound::Close(
                    close.map(|(code, reason)| CloseReason { code, reason }),
                )));
            }
            Opcode::Ping => {
                self.answer_ping(&payload);
                return Ok(Some(Inbound::Other));
            }
            Opcode::Pong => return Ok(Some(Inbound::Other)),
        };
        // Text is checked for UTF-8 by the engine, once, as it reads it (it fails the
        // connection with 1007 when it is not).
        Ok(Some(if text {
            Inbound::Text(message.freeze())
        } else {
            Inbound::Data(message.freeze())
        }))
    }

    fn answer_ping(&mut self, payload: &[u8]) {
        let mut out = lock(&self.out);
        if out.backlog() >= self.limits.pong_backlog {
            return;
        }
        let sender_writes = out.backlog() > 0 || out.sender_flushing();
        out.push(Opcode::Pong, payload);
        // Bytes already waiting are the sender's to write (it flushes after every feed), and
        // the pong goes with them; otherwise this half writes it. Only `write_pong` clears
        // the flag: the bytes waiting may be an earlier pong of this half's, not yet written.
        if !sender_writes {
            self.pong_unwritten = true;
        }
    }

    /// Writes a pong nobody else will, as far as the socket takes it now; the rest goes with
    /// the next poll (this half is woken when the socket can take more) or the sender's
    /// next flush.
    #[inline]
    fn write_pong(&mut self, cx: &mut Context<'_>) {
        if self.pong_unwritten {
            self.flush_pong(cx);
        }
    }

    #[cold]
    fn flush_pong(&mut self, cx: &mut Context<'_>) {
        let mut out = lock(&self.out);
        if out.sender_flushing() {
            self.pong_unwritten = false;
            return;
        }
        match out.poll_flush(cx) {
            Poll::Pending => {}
            // A failed write shows up on the next read too.
            Poll::Ready(_) => self.pong_unwritten = false,
        }
    }

    /// Reads more bytes: `Ok(0)` at the end of the stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buf.is_empty() {
            let mut stack = [MaybeUninit::<u8>::uninit(); STACK_READ];
            let take = self.limits.chunk.clamp(1, STACK_READ);
            let mut read = ReadBuf::uninit(&mut stack[..take]);
            ready!(Pin::new(&mut self.io).poll_read(cx, &mut read))?;
            self.buf = BytesMut::from(read.filled());
            return Poll::Ready(Ok(read.filled().len()));
        }
        // A frame has begun: read what it still needs in place, a chunk at a time at most
        // (a head that announces megabytes reserves them only as they arrive).
        let want = self.need.clamp(1, self.limits.chunk.max(64 * 1024));
        self.buf.reserve(want.max(self.limits.chunk));
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.buf)
    }
}

impl Stream for Receiver {
    /// A read's error comes boxed, as the engine takes it ([`Link::from_frames`]).
    ///
    /// [`Link::from_frames`]: volley_core::connection::Link::from_frames
    type Item = Result<Inbound, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.write_pong(cx);
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            match this.next_frame() {
                Ok(Some(inbound)) => {
                    this.write_pong(cx);
                    return Poll::Ready(Some(Ok(inbound)));
                }
                Ok(None) => {}
                Err(violation) => {
                    this.ended = true;
                    return Poll::Ready(Some(Ok(Inbound::Close(Some(CloseReason {
                        code: violation.code,
                        reason: violation.reason.to_owned(),
                    })))));
                }
            }
            match ready!(this.poll_fill(cx)) {
                Ok(0) => this.ended = true,
                Ok(_) => {}
                Err(e) => {
                    this.ended = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};

    use futures_util::StreamExt;
    use tokio::io::{AsyncWrite, AsyncWriteExt};

    use super::{ReadLimits, Receiver};
    use crate::ws::io::{ReadIo, WriteIo};
    use crate::ws::write::{Out, lock};

    /// A peer that never reads: every write waits for ever.
    struct Stuck;

    impl AsyncWrite for Stuck {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Poll::Pending
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Pending
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Pending
        }
    }

    fn ping(payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x89, 0x80 | payload.len() as u8, 0, 0, 0, 0];
        frame.extend_from_slice(payload);
        frame
    }

    /// The unwritten bytes after each of 12 pings: the first of `first` payload bytes, the
    /// rest of 98 (a 100-byte pong), to a peer that never reads.
    async fn backlogs(first: usize, limit: usize) -> Vec<usize> {
        let (mut peer, io) = tokio::io::duplex(1 << 16);
        let out = Arc::new(Mutex::new(Out::new(WriteIo::Other(Box::new(Stuck)))));
        let limits = ReadLimits {
            chunk: 4096,
            max_message: 1 << 20,
            pong_backlog: limit,
        };
        let mut receiver = Receiver::new(ReadIo::Other(Box::new(io)), b"", out.clone(), limits);
        let timeout = std::time::Duration::from_secs(10);
        let mut seen = Vec::new();
        for i in 0..12 {
            let payload = vec![7; if i == 0 { first } else { 98 }];
            tokio::time::timeout(timeout, peer.write_all(&ping(&payload)))
                .await
                .unwrap()
                .unwrap();
            let next = tokio::time::timeout(timeout, receiver.next())
                .await
                .unwrap();
            assert!(matches!(
                next,
                Some(Ok(volley_core::transport::Inbound::Other))
            ));
            seen.push(lock(&out).backlog());
        }
        seen
    }

    #[tokio::test]
    async fn pings_stop_being_answered_at_the_pong_backlog() {
        // 999 bytes waiting (one below the limit): the ping is answered; then no more.
        let below: Vec<usize> = (0..10).map(|k| 99 + k * 100).chain([1099, 1099]).collect();
        assert_eq!(backlogs(97, 1000).await, below);
        // 1,000 (at the limit) and above: not answered.
        let at: Vec<usize> = (1..=10).map(|k| k * 100).chain([1000, 1000]).collect();
        assert_eq!(backlogs(98, 1000).await, at);
    }
}

#[cfg(test)]
mod arbitrary_bytes {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    use volley_core::transport::Inbound;

    use super::{ReadLimits, Receiver};
    use crate::ws::io::{ReadIo, WriteIo};
    use crate::ws::write::Out;

    /// xorshift64*: reproducible without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Random bytes, with now and then a well-formed head (so that the reader gets past the
    /// first byte and into lengths, masks, fragments and control frames).
    fn input(rng: &mut Rng) -> Vec<u8> {
        let mut bytes = Vec::new();
        for _ in 0..rng.below(8) {
            if rng.below(2) == 0 {
                let opcode = [0x0, 0x1, 0x2, 0x8, 0x9, 0xA, 0x3][rng.below(7) as usize];
                let fin = if rng.below(3) == 0 { 0 } else { 0x80 };
                let len = rng.below(140) as u8;
                bytes.push(fin | opcode);
                bytes.push(0x80 | len.min(127));
                if len >= 126 {
                    bytes.extend((0..if len == 126 { 2 } else { 8 }).map(|_| rng.below(4) as u8));
                }
                bytes.extend((0..4).map(|_| rng.next() as u8));
            }
            bytes.extend((0..rng.below(64)).map(|_| rng.next() as u8));
        }
        bytes
    }

    #[tokio::test]
    async fn arbitrary_bytes_end_in_a_close_or_the_end_of_the_stream_never_a_panic() {
        let mut rng = Rng(0x005E_ED0F_BADB_17E5);
        for case in 0..3000 {
            let bytes = input(&mut rng);
            let (mut peer, io) = tokio::io::duplex(1 << 16);
            let (_sink, sink_io) = tokio::io::duplex(1 << 16);
            let out = Arc::new(Mutex::new(Out::new(WriteIo::Other(Box::new(sink_io)))));
            let limits = ReadLimits {
                chunk: 1 + rng.below(64) as usize,
                max_message: 200,
                pong_backlog: 1000,
            };
            let mut receiver = Receiver::new(ReadIo::Other(Box::new(io)), b"", out, limits);
            // Written in pieces, then the end of the stream.
            let writer = tokio::spawn({
                let cuts: Vec<usize> = (0..3)
                    .map(|_| rng.below(bytes.len() as u64 + 1) as usize)
                    .collect();
                async move {
                    let mut at = 0;
                    for cut in cuts {
                        let cut = cut.max(at);
                        let _ = peer.write_all(&bytes[at..cut]).await;
                        at = cut;
                    }
                    let _ = peer.write_all(&bytes[at..]).await;
                }
            });
            let ended = tokio::time::timeout(Duration::from_secs(10), async {
                let mut items = 0;
                loop {
                    match receiver.next().await {
                        None => return items,
                        Some(Ok(Inbound::Close(_))) => {
                            assert!(receiver.next().await.is_none(), "nothing after a close");
                            return items;
                        }
                        Some(Ok(Inbound::Data(data) | Inbound::Text(data))) => {
                            assert!(data.len() <= 200)
                        }
                        Some(Ok(Inbound::Other)) => {}
                        Some(Err(e)) => panic!("case {case}: {e}"),
                    }
                    items += 1;
                }
            })
            .await;
            assert!(ended.is_ok(), "case {case} hung");
            tokio::time::timeout(Duration::from_secs(10), writer)
                .await
                .expect("the writer finished")
                .unwrap();
        }
    }
}
