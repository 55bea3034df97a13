//! The one module that touches axum's WebSocket.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, Stream, StreamExt};
use volley_core::CloseReason;
use volley_core::connection::{BoxError, Inbound, Transport};

pub(crate) struct AxumSink(pub(crate) SplitSink<WebSocket, Message>);

impl Transport for AxumSink {
    async fn feed(&mut self, text: String) -> Result<(), BoxError> {
        self.0
            .feed(Message::Text(text.into()))
            .await
            .map_err(Into::into)
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        self.0.flush().await.map_err(Into::into)
    }

    async fn close(&mut self, reason: CloseReason) {
        let frame = CloseFrame {
            code: reason.code,
            reason: reason.reason.into(),
        };
        let _ = self.0.send(Message::Close(Some(frame))).await;
        let _ = self.0.close().await;
    }
}

pub(crate) fn inbound(
    stream: SplitStream<WebSocket>,
) -> impl Stream<Item = Result<Inbound, axum::Error>> + Send + Unpin + 'static {
    stream.map(|m| {
        m.map(|m| match m {
            Message::Text(t) => Inbound::Data(t.into()),
            Message::Binary(b) => Inbound::Data(b),
            Message::Close(f) => Inbound::Close(f.map(|f| CloseReason {
                code: f.code,
                reason: f.reason.to_string(),
            })),
            Message::Ping(_) | Message::Pong(_) => Inbound::Other,
        })
    })
}
