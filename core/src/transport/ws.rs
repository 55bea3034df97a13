//! One WebSocket adapter for every WebSocket library: a library names its message type and
//! how to build and read messages ([`WsMessages`], about twenty lines), and
//! [`spawn_websocket`](crate::connection::spawn_websocket) does the rest.

use std::marker::PhantomData;

use futures_util::{Sink, SinkExt, Stream, StreamExt};

use super::{BoxError, Frame, Inbound, Transport, close_frame};
use crate::peer::CloseReason;

/// A WebSocket library's message type, as the engine uses it. Implement it on a marker type
/// of your own (`struct Tungstenite;`).
pub trait WsMessages: Send + 'static {
    /// The library's message.
    type Message: Send + 'static;
    /// The error its stream yields.
    type Error: std::fmt::Display + Send + 'static;
    /// A text message. The frame's bytes are valid UTF-8 and may be shared with other
    /// connections (a broadcast): `Utf8Bytes::try_from(frame.into_bytes())` takes them
    /// without a copy.
    fn text(frame: Frame) -> Self::Message;
    /// An empty ping.
    fn ping() -> Self::Message;
    /// A close message: code and reason, or none for a close frame without a code.
    fn close(frame: Option<(u16, String)>) -> Self::Message;
    /// What the engine makes of a received message.
    fn inbound(message: Self::Message) -> Inbound;
    /// The close code for a failed read: 1009 for an oversized message, 1007 for text that is
    /// not UTF-8, 1002 for a protocol violation, 1006 (connection lost) otherwise.
    fn read_error_code(error: &Self::Error) -> u16;
}

/// The read half of a WebSocket as the engine's frames; a failed read becomes a close with
/// [`WsMessages::read_error_code`] (so the stream yields no error).
pub(crate) fn inbound<W: WsMessages>(
    stream: impl Stream<Item = Result<W::Message, W::Error>> + Send + Unpin + 'static,
) -> impl Stream<Item = Result<Inbound, BoxError>> + Send + Unpin + 'static {
    stream.map(|m| {
        Ok(match m {
            Ok(m) => W::inbound(m),
            Err(e) => Inbound::Close(Some(CloseReason {
                code: W::read_error_code(&e),
                reason: e.to_string(),
            })),
        })
    })
}

/// The write half of a WebSocket as a [`Transport`] (see
/// [`WsTransport`](crate::connection::WsTransport)).
pub struct WsSink<S, W> {
    sink: S,
    messages: PhantomData<fn() -> W>,
}

impl<S, W> WsSink<S, W> {
    pub(crate) fn new(sink: S) -> Self {
        Self {
            sink,
            messages: PhantomData,
        }
    }
}

impl<S, W> Transport for WsSink<S, W>
where
    W: WsMessages,
    S: Sink<W::Message> + Send + Unpin + 'static,
    S::Error: Into<BoxError>,
{
    async fn feed(&mut self, text: Frame) -> Result<(), BoxError> {
        self.sink.feed(W::text(text)).await.map_err(Into::into)
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        self.sink.flush().await.map_err(Into::into)
    }

    async fn ping(&mut self) -> Result<(), BoxError> {
        self.sink.send(W::ping()).await.map_err(Into::into)
    }

    async fn close(&mut self, reason: CloseReason) {
        let _ = self.sink.send(W::close(close_frame(&reason))).await;
        let _ = self.sink.close().await;
    }
}
