//! [`Frame`]: the text of one outgoing frame, cheap to clone, so a broadcast encodes its
//! message once and every recipient's writer shares the same bytes.

use std::fmt;

use bytes::Bytes;

/// The UTF-8 text of one outgoing WebSocket frame. Cloning it shares the bytes (a reference
/// count), so one encoded notification can be queued for ten thousand peers without a copy.
///
/// Made from a `String` without copying; [`Frame::into_bytes`] hands the bytes to a
/// WebSocket library (`Utf8Bytes::try_from(bytes)` in tungstenite and axum).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Frame(Bytes);

impl Frame {
    /// The frame's length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the frame is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The frame's bytes (always valid UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The frame's text.
    pub fn as_str(&self) -> &str {
        // Every constructor takes a `str`, so this never fails.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The shared bytes (always valid UTF-8).
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Frame {
    /// `bytes` as a frame, when they are UTF-8 text.
    pub fn from_utf8(bytes: Bytes) -> Option<Self> {
        std::str::from_utf8(&bytes).is_ok().then_some(Self(bytes))
    }
}

impl From<String> for Frame {
    fn from(text: String) -> Self {
        Self(Bytes::from(text))
    }
}

impl From<&'static str> for Frame {
    fn from(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }
}

impl From<Frame> for String {
    fn from(frame: Frame) -> Self {
        frame.as_str().to_owned()
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_bytes() {
        let frame = Frame::from(String::from(r#"{"jsonrpc":"2.0","method":"tick"}"#));
        let copy = frame.clone();
        assert_eq!(frame.as_bytes().as_ptr(), copy.as_bytes().as_ptr());
        assert_eq!(copy.as_str(), r#"{"jsonrpc":"2.0","method":"tick"}"#);
        assert_eq!(String::from(copy), frame.to_string());
    }

    #[test]
    fn a_string_becomes_a_frame_without_a_copy() {
        let text = String::from("héllo");
        let at = text.as_ptr();
        let frame = Frame::from(text);
        assert_eq!(frame.as_bytes().as_ptr(), at);
        assert_eq!(frame.len(), 6);
    }
}
