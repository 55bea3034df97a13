//! What the nodes say to each other over Redis pub/sub: one [`Message`] per publish, as an
//! envelope line, a JSON header, and after a line break a body of raw bytes (a
//! notification's frame, carried as written so that no node encodes it again).
//!
//! The envelope, `v<version> <node>\n`, is the one part that every version of volley will
//! read alike: the format's version ([`WIRE_VERSION`](crate::WIRE_VERSION)) and the sending
//! node's number. A node reads the rest only when the version is its own; from a node of
//! another version it learns that much and no more ([`Decoded::Foreign`]).

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use volley_core::fanout::Recipients;
use volley_core::{Error, ErrorObject, NodeId, PeerId};

/// One message between nodes; its sender is named in the envelope before it (`from` in
/// what follows). Externally tagged (`{"call": {..}}`): params and results are kept as
/// written (`RawValue`), which an internally tagged enum cannot hold.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Message {
    /// "I am alive" (on the cluster channel, every heartbeat).
    Heartbeat,
    /// "I am leaving": the others forget this node at once.
    Leaving,
    /// A notification for `to` less `except` on every other node; the frame is the body.
    Notify { to: Recipients, except: Vec<PeerId> },
    /// Call `peer` (on the node this is sent to) and send the [`Message::Reply`] back.
    Call { peer: PeerId, request: Request },
    /// The caller gave up on its call `call` (or its call to many).
    Cancel { call: u64 },
    /// The outcome of call `call`.
    Reply { call: u64, outcome: Outcome },
    /// Call `to` less `except` on every other node; each answers with [`Message::EachReply`]s
    /// and one [`Message::EachDone`].
    CallEach {
        to: Recipients,
        except: Vec<PeerId>,
        request: Request,
    },
    /// `from` calls these recipients of call-to-many `call` (sent before their outcomes, so
    /// that a node that dies meanwhile leaves none of them unresolved).
    EachRecipients { call: u64, peers: Vec<PeerId> },
    /// One recipient's outcome of call-to-many `call`.
    EachReply {
        call: u64,
        peer: PeerId,
        outcome: Outcome,
    },
    /// `from` has answered for all its recipients of call-to-many `call`.
    EachDone { call: u64 },
    /// Which of `to` are on your node? Answer with [`Message::Found`].
    Find { query: u64, to: Recipients },
    /// The answer to query `query`.
    Found { query: u64, ids: Vec<PeerId> },
    /// Add `peer` (on the node this is sent to) to `group`, or remove it from `group`.
    Membership {
        peer: PeerId,
        group: String,
        join: bool,
    },
}

/// A call forwarded to another node: its number on the caller's node, the method, its
/// params as written, and how long the caller waits.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub(crate) call: u64,
    pub(crate) method: String,
    pub(crate) params: Option<Box<RawValue>>,
    pub(crate) timeout_ms: u64,
}

impl Request {
    /// How long the caller waits.
    pub(crate) fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.timeout_ms)
    }
}

/// A call's outcome as it crosses: the result, the peer's error, or why there is neither.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The result.
    Ok { result: Box<RawValue> },
    /// The peer answered with an error.
    Remote {
        code: i32,
        message: String,
        data: Option<Box<RawValue>>,
    },
    /// The call timed out on the peer's node.
    Timeout { ms: u64 },
    /// The peer is not connected (any more).
    Disconnected,
    /// Anything else, in words.
    Failed { reason: String },
}

impl Outcome {
    /// The outcome of a call made on this node.
    pub(crate) fn of(result: volley_core::Result<Box<RawValue>>) -> Self {
        match result {
            Ok(result) => Outcome::Ok { result },
            Err(Error::Remote(e)) => Outcome::Remote {
                code: e.code(),
                message: e.message().to_owned(),
                data: e.data().map(ToOwned::to_owned),
            },
            Err(Error::Timeout(after)) => Outcome::Timeout {
                ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
            },
            Err(e) if e.is_disconnected() => Outcome::Disconnected,
            Err(e) => Outcome::Failed {
                reason: e.to_string(),
            },
        }
    }

    /// The outcome as the caller's node gives it to the caller.
    pub(crate) fn into_result(self, node: NodeId) -> volley_core::Result<Box<RawValue>> {
        match self {
            Outcome::Ok { result } => Ok(result),
            Outcome::Remote {
                code,
                message,
                data,
            } => Err(Error::Remote(ErrorObject::owned(code, message, data))),
            Outcome::Timeout { ms } => Err(Error::Timeout(std::time::Duration::from_millis(ms))),
            Outcome::Disconnected => Err(Error::Disconnected),
            Outcome::Failed { reason } => Err(Error::Unreachable { node, reason }),
        }
    }
}

/// The room made for a message's envelope and header before its body (most headers are
/// shorter; a longer one grows the buffer).
const HEADER_ROOM: usize = 192;

/// What a published payload holds.
#[derive(Debug)]
pub(crate) enum Decoded {
    /// A message of this node's version, from node `from`, and its body (empty when it has
    /// none).
    Ours {
        from: NodeId,
        message: Message,
        body: Bytes,
    },
    /// A message from node `from`, which speaks another `version` of this format.
    Foreign { from: NodeId, version: u32 },
    /// Nothing a node of any version wrote (or a header this version cannot read).
    Unreadable,
}

impl Message {
    /// The message as node `from` publishes it: the envelope line, its header, and the body
    /// after a line break when there is one. (A JSON header written by serde_json holds no
    /// raw line break.)
    pub(crate) fn encode(&self, from: NodeId, body: Option<&[u8]>) -> Vec<u8> {
        use std::io::Write;
        // Room for the envelope, a header and the body, so that it is not grown piecewise.
        let mut out = Vec::with_capacity(HEADER_ROOM + body.map_or(0, |b| b.len() + 1));
        let _infallible = writeln!(out, "v{} {from}", crate::WIRE_VERSION);
        if serde_json::to_writer(&mut out, self).is_err() {
            // Every message serializes (no map with keys other than strings, no failing
            // `Serialize`): this is never reached.
            out.extend_from_slice(b"{}");
        }
        if let Some(body) = body {
            out.push(b'\n');
            out.extend_from_slice(body);
        }
        out
    }

    /// What a published payload holds.
    pub(crate) fn decode(payload: Bytes) -> Decoded {
        let Some((version, from, rest)) = envelope(&payload) else {
            return Decoded::Unreadable;
        };
        if version != crate::WIRE_VERSION {
            return Decoded::Foreign { from, version };
        }
        let payload = payload.slice(rest..);
        let split = payload.iter().position(|b| *b == b'\n');
        let (header, body) = match split {
            Some(at) => (payload.slice(..at), payload.slice(at + 1..)),
            None => (payload, Bytes::new()),
        };
        match serde_json::from_slice(&header) {
            Ok(message) => Decoded::Ours {
                from,
                message,
                body,
            },
            Err(_) => Decoded::Unreadable,
        }
    }
}

/// The envelope `v<version> <node>\n` at the start of `payload`: the version, the node, and
/// where the rest begins.
fn envelope(payload: &[u8]) -> Option<(u32, NodeId, usize)> {
    let line = payload.strip_prefix(b"v")?;
    let end = line.iter().take(24).position(|b| *b == b'\n')?;
    let (version, node) = std::str::from_utf8(&line[..end]).ok()?.split_once(' ')?;
    // Decimal, without leading zeros: one way to write each number.
    let digits = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    if !digits(version) || !digits(node) {
        return None;
    }
    let node = NodeId::new(node.parse().ok()?)?;
    Some((version.parse().ok()?, node, 1 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u16) -> NodeId {
        NodeId::new(n).expect("a node")
    }

    /// A payload of this version: its sender, message and body.
    fn ours(payload: Vec<u8>) -> (NodeId, Message, Bytes) {
        match Message::decode(Bytes::from(payload)) {
            Decoded::Ours {
                from,
                message,
                body,
            } => (from, message, body),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_notification_carries_its_frame_as_written() {
        let frame = br#"{"jsonrpc":"2.0","method":"said","params":["a\nb"]}"#;
        let message = Message::Notify {
            to: Recipients::Group("red".into()),
            except: vec![PeerId(7)],
        };
        let (sender, decoded, body) = ours(message.encode(node(3), Some(frame)));
        assert_eq!(sender, node(3));
        assert_eq!(&body[..], &frame[..]);
        match decoded {
            Message::Notify { to, except } => {
                assert_eq!(
                    (to, except),
                    (Recipients::Group("red".into()), vec![PeerId(7)])
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Message::decode(Bytes::from_static(b"not json")),
            Decoded::Unreadable
        ));
    }

    #[test]
    fn every_payload_names_its_version_and_sender_first() {
        let payload = Message::Heartbeat.encode(node(12), None);
        let text = String::from_utf8(payload).expect("text");
        assert_eq!(text, format!("v{} 12\n\"heartbeat\"", crate::WIRE_VERSION));
    }

    #[test]
    fn a_payload_of_another_version_gives_its_version_and_sender_only() {
        // What follows the envelope is not read: another version may write anything there.
        let other = crate::WIRE_VERSION + 1;
        for rest in ["", "{\"heartbeat\":{\"from\":9}}", "\u{1}not json\nbody"] {
            let payload = format!("v{other} 9\n{rest}");
            match Message::decode(Bytes::from(payload)) {
                Decoded::Foreign { from, version } => assert_eq!((from, version), (node(9), other)),
                decoded => panic!("{rest:?}: {decoded:?}"),
            }
        }
        assert!(matches!(
            Message::decode(Bytes::from_static(b"v0 9\n{}")),
            Decoded::Foreign { version: 0, .. }
        ));
    }

    #[test]
    fn a_payload_without_a_whole_envelope_is_unreadable() {
        let max = NodeId::MAX;
        let cases = [
            String::new(),
            "{\"heartbeat\":{\"from\":1}}".to_owned(),
            "v1 2".to_owned(),               // no line break
            "v1\n{}".to_owned(),             // no node
            "v 2\n{}".to_owned(),            // no version
            "v1  2\n{}".to_owned(),          // two spaces
            "v1 -2\n{}".to_owned(),          // not digits
            "v+1 2\n{}".to_owned(),          // not digits
            "v01 2\n{}".to_owned(),          // a leading zero
            "v1 02\n{}".to_owned(),          // a leading zero
            format!("v1 {}\n{{}}", max + 1), // past the largest node
            format!("v1 {}\n{{}}", u64::MAX),
            format!("v{} 2\n{{}}", u64::MAX), // past a u32
            format!("v{} 2\n{{}}", "1".repeat(30)),
        ];
        for payload in cases {
            assert!(
                matches!(
                    Message::decode(Bytes::from(payload.clone())),
                    Decoded::Unreadable
                ),
                "{payload:?}"
            );
        }
        // The largest node, and a header this version cannot read behind a good envelope.
        let last = Message::Leaving.encode(node(max), None);
        assert_eq!(ours(last).0, node(max));
        let garbled = format!("v{} 2\n{{\"no such message\":{{}}}}", crate::WIRE_VERSION);
        assert!(matches!(
            Message::decode(Bytes::from(garbled)),
            Decoded::Unreadable
        ));
    }

    #[test]
    fn calls_and_replies_keep_their_params_and_results_as_written() {
        let raw = |t: &str| RawValue::from_string(t.to_owned()).expect("json");
        let call = Message::Call {
            peer: PeerId(5),
            request: Request {
                call: 9,
                method: "add".into(),
                params: Some(raw("[1, 2]")),
                timeout_ms: 500,
            },
        };
        let (_, decoded, body) = ours(call.encode(node(1), None));
        assert!(body.is_empty());
        match decoded {
            Message::Call { request, .. } => {
                let params = request.params.map(|p| p.get().to_owned());
                assert_eq!((request.call, params), (9, Some("[1, 2]".into())));
            }
            other => panic!("{other:?}"),
        }
        let reply = Message::Reply {
            call: 9,
            outcome: Outcome::Ok {
                result: raw("{\"sum\": 3}"),
            },
        };
        match ours(reply.encode(node(2), None)) {
            (
                _,
                Message::Reply {
                    outcome: Outcome::Ok { result },
                    ..
                },
                _,
            ) => {
                assert_eq!(result.get(), "{\"sum\": 3}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn outcomes_cross_as_they_were() {
        let raw = |t: &str| RawValue::from_string(t.to_owned()).expect("json");
        let node = node(2);
        let back = |r| Outcome::of(r).into_result(node);
        assert_eq!(back(Ok(raw("[1, 2]"))).unwrap().get(), "[1, 2]");
        let remote = ErrorObject::owned(4001, "nope", Some(raw("{\"x\":1}")));
        match back(Err(Error::Remote(remote))) {
            Err(Error::Remote(e)) => {
                assert_eq!((e.code(), e.message()), (4001, "nope"));
                assert_eq!(e.data().map(|d| d.get()), Some("{\"x\":1}"));
            }
            other => panic!("{other:?}"),
        }
        let timeout = back(Err(Error::Timeout(std::time::Duration::from_millis(250))));
        assert!(matches!(timeout, Err(Error::Timeout(d)) if d.as_millis() == 250));
        assert!(matches!(
            back(Err(Error::Disconnected)),
            Err(Error::Disconnected)
        ));
        match back(Err(Error::Cancelled)) {
            Err(Error::Unreachable { node: n, reason }) => {
                assert_eq!((n, reason.as_str()), (node, "call cancelled"));
            }
            other => panic!("{other:?}"),
        }
    }
}
