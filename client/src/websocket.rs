//! tungstenite's WebSocket messages, as the engine's shared WebSocket adapter takes them.

use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use volley_core::CloseReason;
use volley_core::transport::{Frame, Inbound, ws::WsMessages};

/// tungstenite's `Message` type.
pub(crate) struct Tungstenite;

impl WsMessages for Tungstenite {
    type Message = Message;
    type Error = tungstenite::Error;

    fn text(frame: Frame) -> Message {
        // A frame is valid UTF-8 by construction; the check costs a scan, never a copy.
        Message::Text(tungstenite::Utf8Bytes::try_from(frame.into_bytes()).unwrap_or_default())
    }

    fn ping() -> Message {
        Message::Ping(Default::default())
    }

    fn close(frame: Option<(u16, String)>) -> Message {
        Message::Close(frame.map(|(code, reason)| CloseFrame {
            code: code.into(),
            reason: reason.into(),
        }))
    }

    fn inbound(message: Message) -> Inbound {
        match message {
            Message::Text(t) => Inbound::Data(t.into()),
            Message::Binary(b) => Inbound::Data(b),
            Message::Close(f) => Inbound::Close(f.map(|f| CloseReason {
                code: f.code.into(),
                reason: f.reason.to_string(),
            })),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Inbound::Other,
        }
    }

    fn read_error_code(error: &tungstenite::Error) -> u16 {
        match error {
            tungstenite::Error::Capacity(_) => 1009,
            tungstenite::Error::Utf8(_) => 1007,
            // A TCP reset is a lost connection, not a protocol violation of the peer's.
            tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            ) => 1006,
            tungstenite::Error::Protocol(_) => 1002,
            _ => 1006,
        }
    }
}
