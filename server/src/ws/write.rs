//! The sending half of a socket: frames are encoded into one buffer and written out in one
//! go when the engine flushes (or when the buffer passes the write buffer size). The buffer
//! is shared with the receiving half, which adds the answers to pings; it is released once
//! written, so an idle connection keeps none.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;
use volley_core::CloseReason;
use volley_core::transport::{BoxError, Frame, Transport, close_frame};

use super::frame::{Opcode, write_head};
use super::io::WriteIo;

/// A written-out buffer larger than this is released rather than kept for the next batch.
const KEEP: usize = 1024;
/// The most a new buffer is made room for at first, in bytes (the size of the last batch
/// written, up to this).
const FIRST_ROOM: usize = 64 * 1024;

/// What both halves write through. Only ever locked for one poll, never across an await.
pub(crate) struct Out {
    io: WriteIo,
    buf: Vec<u8>,
    /// How much of `buf` is on the wire already.
    written: usize,
    /// The size of the last batch written out: a new buffer is made that large at once,
    /// rather than grown (and copied) step by step to it again.
    last: usize,
    /// The sender began a flush that has not finished: it will write everything in `buf`
    /// and was promised a wake-up, so the receiving half must not poll the socket (only the
    /// last task to poll a write is woken).
    sender_flushing: bool,
}

impl Out {
    pub(crate) fn new(io: WriteIo) -> Self {
        Self {
            io,
            buf: Vec::new(),
            written: 0,
            last: 0,
            sender_flushing: false,
        }
    }

    /// Appends one final frame.
    pub(crate) fn push(&mut self, opcode: Opcode, payload: &[u8]) {
        // Only for a message: a control frame (a pong the reader adds) starts no batch.
        if self.buf.capacity() == 0 && matches!(opcode, Opcode::Text | Opcode::Binary) {
            self.buf.reserve(self.last.min(FIRST_ROOM));
        }
        write_head(&mut self.buf, opcode, payload.len());
        self.buf.extend_from_slice(payload);
    }

    /// Bytes appended and not yet written.
    pub(crate) fn backlog(&self) -> usize {
        self.buf.len() - self.written
    }

    pub(crate) fn sender_flushing(&self) -> bool {
        self.sender_flushing
    }

    /// Writes everything appended, then flushes the socket.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.buf[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.written = 0;
        if !self.buf.is_empty() {
            self.last = self.buf.len();
        }
        if self.buf.capacity() > KEEP {
            self.buf = Vec::new();
        } else {
            self.buf.clear();
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }
}

/// Locks `out`; a panic elsewhere while it was held leaves nothing half-done that matters
/// here (at worst a frame cut short, and the connection fails on its next write).
pub(crate) fn lock(out: &Mutex<Out>) -> MutexGuard<'_, Out> {
    out.lock().unwrap_or_else(|e| e.into_inner())
}

/// The engine's [`Transport`] on a socket.
pub(crate) struct Sender {
    out: Arc<Mutex<Out>>,
    /// Appended bytes past which a feed writes them out at once.
    limit: usize,
}

impl Sender {
    pub(crate) fn new(out: Arc<Mutex<Out>>, limit: usize) -> Self {
        Self { out, limit }
    }

    fn push(&self, opcode: Opcode, payload: &[u8]) -> bool {
        let mut out = lock(&self.out);
        out.push(opcode, payload);
        out.backlog() >= self.limit
    }

    async fn write_out(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| {
            let mut out = lock(&self.out);
            let done = out.poll_flush(cx);
            out.sender_flushing = done.is_pending();
            done
        })
        .await
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        lock(&self.out).sender_flushing = false;
    }
}

impl Transport for Sender {
    async fn feed(&mut self, text: Frame) -> Result<(), BoxError> {
        if self.push(Opcode::Text, text.as_bytes()) {
            self.write_out().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        Ok(self.write_out().await?)
    }

    async fn ping(&mut self) -> Result<(), BoxError> {
        self.push(Opcode::Ping, b"");
        Ok(self.write_out().await?)
    }

    async fn close(&mut self, reason: CloseReason) {
        let mut payload = Vec::new();
        if let Some((code, reason)) = close_frame(&reason) {
            payload.extend_from_slice(&code.to_be_bytes());
            payload.extend_from_slice(reason.as_bytes());
        }
        self.push(Opcode::Close, &payload);
        if self.write_out().await.is_ok() {
            let _ = std::future::poll_fn(|cx| Pin::new(&mut lock(&self.out).io).poll_shutdown(cx))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::{FIRST_ROOM, Out};
    use crate::ws::frame::Opcode;
    use crate::ws::io::WriteIo;

    /// Writes a batch of `frames` frames of `payload` bytes each out.
    async fn batch(out: &mut Out, frames: usize, payload: usize) {
        for _ in 0..frames {
            out.push(Opcode::Text, &vec![b'x'; payload]);
        }
        poll_fn(|cx| out.poll_flush(cx)).await.expect("flushed");
    }

    /// The buffer's room once the next batch's first (small) frame is in it.
    fn room_for_next(out: &mut Out) -> usize {
        out.push(Opcode::Text, b"1");
        out.buf.capacity()
    }

    #[tokio::test]
    async fn a_new_buffer_is_made_as_large_as_the_last_batch_at_once() {
        let (_peer, io) = tokio::io::duplex(1 << 20);
        let mut out = Out::new(WriteIo::Other(Box::new(io)));
        // A batch of 64 frames of 42 bytes (2,688, above what is kept) is released once
        // written, and the next buffer is made that large.
        batch(&mut out, 64, 40).await;
        assert!(out.buf.capacity() == 0, "released");
        assert!(room_for_next(&mut out) >= 64 * 42);
        // A flush with nothing to write leaves the last batch's size as it was.
        batch(&mut out, 64, 40).await;
        batch(&mut out, 0, 0).await;
        assert!(room_for_next(&mut out) >= 64 * 42);
        // Never more than FIRST_ROOM at first, whatever the last batch was.
        batch(&mut out, 4, 40_000).await;
        let room = room_for_next(&mut out);
        assert!((FIRST_ROOM..FIRST_ROOM + 64).contains(&room), "{room}");
        // A control frame (a pong) is not given the last batch's room.
        batch(&mut out, 64, 40).await;
        out.push(Opcode::Pong, b"");
        assert!(out.buf.capacity() < 64, "{}", out.buf.capacity());
        batch(&mut out, 0, 0).await;
        // A small batch makes the next buffer small again.
        batch(&mut out, 0, 0).await;
        assert!(room_for_next(&mut out) < 64);
    }
}
