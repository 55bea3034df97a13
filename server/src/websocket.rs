//! axum's WebSocket messages, as the engine's shared WebSocket adapter takes them.

use axum::extract::ws::{CloseFrame, Message};
use volley_core::CloseReason;
use volley_core::transport::{Frame, Inbound, ws::WsMessages};

/// axum's `Message` type.
pub(crate) struct Axum;

impl WsMessages for Axum {
    type Message = Message;
    type Error = axum::Error;

    fn text(frame: Frame) -> Message {
        // A frame is valid UTF-8 by construction; the check costs a scan, never a copy.
        Message::Text(
            axum::extract::ws::Utf8Bytes::try_from(frame.into_bytes()).unwrap_or_default(),
        )
    }

    fn ping() -> Message {
        Message::Ping(Default::default())
    }

    fn close(frame: Option<(u16, String)>) -> Message {
        Message::Close(frame.map(|(code, reason)| CloseFrame {
            code,
            reason: reason.into(),
        }))
    }

    fn inbound(message: Message) -> Inbound {
        match message {
            Message::Text(t) => Inbound::Data(t.into()),
            Message::Binary(b) => Inbound::Data(b),
            Message::Close(f) => Inbound::Close(f.map(|f| CloseReason {
                code: f.code,
                reason: f.reason.to_string(),
            })),
            Message::Ping(_) | Message::Pong(_) => Inbound::Other,
        }
    }

    fn read_error_code(error: &axum::Error) -> u16 {
        let source = std::error::Error::source(error);
        match source.and_then(|e| e.downcast_ref::<tungstenite::Error>()) {
            Some(tungstenite::Error::Capacity(_)) => 1009,
            Some(tungstenite::Error::Utf8(_)) => 1007,
            // A TCP reset is a lost connection, not a protocol violation of the peer's.
            Some(tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            )) => 1006,
            Some(tungstenite::Error::Protocol(_)) => 1002,
            _ => 1006,
        }
    }
}
