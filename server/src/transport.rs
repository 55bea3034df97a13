//! The one module that touches axum's WebSocket.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, Stream, StreamExt};
use volley_core::CloseReason;
use volley_core::connection::{BoxError, Inbound, Transport, close_frame};

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

    async fn ping(&mut self) -> Result<(), BoxError> {
        self.0
            .send(Message::Ping(Default::default()))
            .await
            .map_err(Into::into)
    }

    async fn close(&mut self, reason: CloseReason) {
        let frame = close_frame(&reason).map(|(code, reason)| CloseFrame {
            code,
            reason: reason.into(),
        });
        let _ = self.0.send(Message::Close(frame)).await;
        let _ = self.0.close().await;
    }
}

pub(crate) fn inbound(
    stream: SplitStream<WebSocket>,
) -> impl Stream<Item = Result<Inbound, axum::Error>> + Send + Unpin + 'static {
    stream.map(|m| {
        let m = match m {
            Ok(m) => m,
            Err(e) => return Ok(Inbound::Close(Some(read_error(e)))),
        };
        Ok::<_, axum::Error>(match m {
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

/// The close code for a failed read: 1009 for an oversized message, 1007 for text that is
/// not UTF-8, 1002 for a protocol violation, 1006 (connection lost) otherwise.
fn read_error(e: axum::Error) -> CloseReason {
    let e = e.into_inner();
    let code = match e.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => 1009,
        Some(tungstenite::Error::Utf8(_)) => 1007,
        Some(tungstenite::Error::Protocol(_)) => 1002,
        _ => 1006,
    };
    CloseReason {
        code,
        reason: e.to_string(),
    }
}
