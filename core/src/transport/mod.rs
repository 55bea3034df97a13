//! What the engine needs from a transport: a `Stream` of [`Inbound`] frames and a
//! [`Transport`] to write with. [`ws`] adapts any WebSocket library to both.

pub mod ws;

pub use crate::frame::Frame;

use crate::peer::CloseReason;

/// One frame from the transport.
#[derive(Debug)]
pub enum Inbound {
    /// A text or binary data frame; both are read as UTF-8 JSON. Bytes that are not UTF-8
    /// get a -32700 error answer.
    Data(bytes::Bytes),
    /// A text message whose bytes the transport has not checked: the engine checks them
    /// once, as it reads them, and fails the connection with close code 1007 when they are
    /// not UTF-8 (RFC 6455, section 8.1). A transport that checks text itself sends it as
    /// [`Inbound::Data`].
    Text(bytes::Bytes),
    /// The remote sent a close frame.
    Close(Option<CloseReason>),
    /// Ping, pong or anything else the transport handles itself.
    Other,
}

impl Inbound {
    /// A message's bytes, and whether they are text to check (`Text`): `None` for the rest.
    pub(crate) fn message(&self) -> Option<(&bytes::Bytes, bool)> {
        match self {
            Inbound::Data(bytes) => Some((bytes, false)),
            Inbound::Text(bytes) => Some((bytes, true)),
            Inbound::Close(_) | Inbound::Other => None,
        }
    }
}

/// Adapts a transport's sink to volley: text frames in, close at the end.
pub trait Transport: Send + 'static {
    /// Writes (buffers) one text frame.
    fn feed(&mut self, text: Frame) -> impl Future<Output = Result<(), BoxError>> + Send;
    /// Flushes buffered frames to the socket.
    fn flush(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send;
    /// Sends a close frame and shuts the write half.
    fn close(&mut self, reason: CloseReason) -> impl Future<Output = ()> + Send;
    /// Sends a WebSocket ping and flushes it (keepalive). The default sends nothing.
    fn ping(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send {
        async { Ok(()) }
    }
}

/// What to put in the close frame for `reason`: `None` (a close frame without a code) for
/// the codes RFC 6455 forbids on the wire (1005, 1006, 1015), and the reason cut to the 123
/// bytes a close frame can carry, at a character boundary.
pub fn close_frame(reason: &CloseReason) -> Option<(u16, String)> {
    if matches!(reason.code, 1005 | 1006 | 1015) || reason.code < 1000 {
        return None;
    }
    let mut end = reason.reason.len().min(123);
    while !reason.reason.is_char_boundary(end) {
        end -= 1;
    }
    Some((reason.code, reason.reason[..end].to_owned()))
}

/// A boxed transport error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
