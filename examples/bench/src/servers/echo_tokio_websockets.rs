//! The ceiling on another WebSocket layer, for the `layers` scenario only: the same echo as
//! [`super::echo`] (every text or binary frame sent back with batched flushes, TCP_NODELAY,
//! a 16 KiB write threshold, 64 MiB messages at most) built on tokio-websockets 0.12 instead
//! of tokio-tungstenite. It answers nothing specially: no notification count, no
//! [`wire::COUNT_QUERY`].
//!
//! What the crate does differently:
//! - reading a frame first writes any answer already queued (tokio-websockets flushes its
//!   queue on every read), so the answers to the frames that are ready are kept aside and
//!   queued together once none is left, then flushed once: the same writes as the
//!   tungstenite echo, which queues each answer in its write buffer as it goes;
//! - its read buffer is tokio-util's (8 KiB to start, not settable), not 4 KiB;
//! - one limit covers a frame and a message (64 MiB here), where tungstenite has 16 MiB for
//!   a frame and 64 MiB for a message;
//! - answers are never split into several frames, as with tungstenite.

use std::task::Poll;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_websockets::{Config, Limits, Message, ServerBuilder, WebSocketStream};

use crate::{BoxError, wire};

/// The longest message (and frame) read: tungstenite's default message limit.
const MAX_MESSAGE: usize = 64 << 20;

/// Serves until stdin closes.
pub(crate) async fn serve() -> Result<(), BoxError> {
    super::serve_each(connection).await
}

/// One connection: the handshake, then echo until it ends.
async fn connection(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let builder = ServerBuilder::new()
        .config(
            Config::default()
                .frame_size(usize::MAX)
                .flush_threshold(wire::WRITE_BUFFER),
        )
        .limits(Limits::default().max_payload_len(Some(MAX_MESSAGE)));
    let handshake = builder.accept(stream);
    let Ok(Ok((_, mut ws))) = tokio::time::timeout(Duration::from_secs(10), handshake).await else {
        return;
    };
    let mut batch = Batch::default();
    while let Some(Ok(first)) = ws.next().await {
        batch.keep(first);
        while batch.bytes < wire::WRITE_BUFFER {
            match wire::ready(&mut ws).await {
                Poll::Ready(Some(Ok(message))) => batch.keep(message),
                Poll::Pending => break,
                Poll::Ready(_) => return,
            }
        }
        if batch.send(&mut ws).await.is_err() || ws.flush().await.is_err() {
            return;
        }
    }
}

/// The answers to the frames read since the last flush.
#[derive(Default)]
struct Batch {
    answers: Vec<Message>,
    /// Their payload bytes: past [`wire::WRITE_BUFFER`] they are written without waiting
    /// for the frames still ready, as tungstenite writes a full write buffer.
    bytes: usize,
}

impl Batch {
    /// Keeps the answer to `message`: itself, when it is text or binary (the crate answers
    /// pings and closes itself).
    fn keep(&mut self, message: Message) {
        if message.is_text() || message.is_binary() {
            self.bytes += message.as_payload().len();
            self.answers.push(message);
        }
    }

    /// Queues every answer kept (written at the next flush, or sooner when the queue passes
    /// the flush threshold).
    async fn send(
        &mut self,
        ws: &mut WebSocketStream<TcpStream>,
    ) -> Result<(), tokio_websockets::Error> {
        self.bytes = 0;
        for answer in self.answers.drain(..) {
            ws.feed(answer).await?;
        }
        Ok(())
    }
}
