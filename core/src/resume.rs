//! The session-resumption extension's wire pieces (PROTOCOL.md, "Session resumption"): the
//! upgrade's query parameters, the `rpc.session` hello and the `rpc.ack` acknowledgement.
//! The engine numbers, keeps and replays frames; servers and clients use these to negotiate.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The notification a server sends first on a socket that asked for a session.
pub const SESSION: &str = "rpc.session";
/// The notification either end sends to acknowledge the frames it has received.
pub const ACK: &str = "rpc.ack";
/// Query parameter asking for a session: `new`, or the id of the session to resume.
pub const QUERY_SESSION: &str = "volley_session";
/// Query parameter with the resume token of the session named by [`QUERY_SESSION`].
pub const QUERY_TOKEN: &str = "volley_resume_token";
/// Query parameter with how many counted frames the client has received on that session.
pub const QUERY_RECEIVED: &str = "volley_received";
/// Response header a server adds to an upgrade that asked for a session: the session id. (A
/// browser cannot read it; it reads the `rpc.session` frame.)
pub const HEADER: &str = "volley-session";

/// Frames acknowledged at once when this many are unacknowledged.
pub const ACK_EVERY: u64 = 32;
/// Frames acknowledged at once when they add up to this many bytes unacknowledged, so that
/// large frames do not wait for [`ACK_DELAY`] while the peer's replay buffer is full.
pub const ACK_BYTES: usize = 64 * 1024;
/// Otherwise, the longest a received frame waits for its acknowledgement.
pub const ACK_DELAY: Duration = Duration::from_millis(100);

/// The `rpc.session` hello's params.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// The session id: what the client sends in [`QUERY_SESSION`] to resume.
    pub id: String,
    /// The secret that must come with the id ([`QUERY_TOKEN`]).
    pub token: String,
    /// Whether this socket continues the session the client asked for (false: a new session;
    /// every call of the old one that was not answered has failed).
    pub resumed: bool,
    /// Counted frames the server has received from the client on this session: the client
    /// writes again every frame after these.
    pub received: u64,
    /// How long the server keeps the session after losing its socket, in milliseconds.
    pub grace_ms: u64,
}

impl Hello {
    /// The hello as a notification frame.
    pub fn frame(&self) -> String {
        let params = serde_json::to_string(self).expect("a hello always encodes");
        format!(r#"{{"jsonrpc":"2.0","method":"{SESSION}","params":{params}}}"#)
    }

    /// Reads a frame as a hello; `None` when it is anything else.
    pub fn parse(frame: &str) -> Option<Hello> {
        #[derive(Deserialize)]
        struct Note {
            method: String,
            params: Hello,
        }
        let note: Note = serde_json::from_str(frame).ok()?;
        (note.method == SESSION).then_some(note.params)
    }
}

/// `{"jsonrpc":"2.0","method":"rpc.ack","params":{"received":n}}`.
pub(crate) fn ack_frame(received: u64) -> String {
    format!(r#"{{"jsonrpc":"2.0","method":"{ACK}","params":{{"received":{received}}}}}"#)
}

/// The count in an `rpc.ack`'s params.
pub(crate) fn ack_count(params: Option<&str>) -> Option<u64> {
    #[derive(Deserialize)]
    struct Ack {
        received: u64,
    }
    serde_json::from_str::<Ack>(params?)
        .ok()
        .map(|a| a.received)
}

/// Whether `method` names one of the extension's own notifications, which are not counted
/// and which a user cannot send.
pub fn is_control(method: &str) -> bool {
    method == ACK || method == SESSION
}

/// A fresh random token: 128 bits from the operating system, as 32 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system has a random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_reads_back_and_other_frames_are_not_hellos() {
        let hello = Hello {
            id: "s1".into(),
            token: random_token(),
            resumed: true,
            received: 7,
            grace_ms: 30_000,
        };
        assert_eq!(Hello::parse(&hello.frame()), Some(hello));
        assert_eq!(Hello::parse(&ack_frame(3)), None);
        assert_eq!(Hello::parse("not json"), None);
        let ack = ack_frame(41);
        let v: serde_json::Value = serde_json::from_str(&ack).unwrap();
        let params = serde_json::value::to_raw_value(&v["params"]).unwrap();
        assert_eq!(ack_count(Some(params.get())), Some(41));
        assert_eq!(random_token().len(), 32);
        assert_ne!(random_token(), random_token());
    }
}
