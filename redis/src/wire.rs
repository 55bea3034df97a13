//! What the nodes say to each other over Redis pub/sub: one [`Message`] per publish, as a
//! JSON header, a line break, and a body of raw bytes (a notification's frame, carried as
//! written so that no node encodes it again).

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use volley_core::fanout::Recipients;
use volley_core::{Error, ErrorObject, NodeId, PeerId};

/// One message between nodes. `from` is the sender's node. Externally tagged
/// (`{"call": {..}}`): params and results are kept as written (`RawValue`), which an
/// internally tagged enum cannot hold.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Message {
    /// "I am alive" (on the cluster channel, every heartbeat).
    Heartbeat { from: NodeId },
    /// "I am leaving": the others forget this node at once.
    Leaving { from: NodeId },
    /// A notification for `to` less `except` on every other node; the frame is the body.
    Notify {
        from: NodeId,
        to: Recipients,
        except: Vec<PeerId>,
    },
    /// Call `peer` (on the node this is sent to) and send the [`Message::Reply`] back.
    Call { peer: PeerId, request: Request },
    /// The caller gave up on its call `call` (or its call to many).
    Cancel { from: NodeId, call: u64 },
    /// The outcome of call `call`.
    Reply { call: u64, outcome: Outcome },
    /// Call `to` less `except` on every other node; each answers with [`Message::EachReply`]s
    /// and one [`Message::EachDone`].
    CallEach {
        to: Recipients,
        except: Vec<PeerId>,
        request: Request,
    },
    /// Node `from` calls these recipients of call-to-many `call` (sent before their
    /// outcomes, so that a node that dies meanwhile leaves none of them unresolved).
    EachRecipients {
        from: NodeId,
        call: u64,
        peers: Vec<PeerId>,
    },
    /// One recipient's outcome of call-to-many `call`.
    EachReply {
        from: NodeId,
        call: u64,
        peer: PeerId,
        outcome: Outcome,
    },
    /// Node `from` has answered for all its recipients of call-to-many `call`.
    EachDone { from: NodeId, call: u64 },
    /// Which of `to` are on your node? Answer with [`Message::Found`].
    Find {
        from: NodeId,
        query: u64,
        to: Recipients,
    },
    /// The answer to query `query`.
    Found {
        from: NodeId,
        query: u64,
        ids: Vec<PeerId>,
    },
    /// Add `peer` (on the node this is sent to) to `group`, or remove it from `group`.
    Membership {
        peer: PeerId,
        group: String,
        join: bool,
    },
}

/// A call forwarded to another node: who asks, its number there, the method, its params as
/// written, and how long the caller waits.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub(crate) from: NodeId,
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

impl Message {
    /// The message as published: its header, and the body after a line break when there is
    /// one. (A JSON header written by serde_json holds no raw line break.)
    pub(crate) fn encode(&self, body: Option<&[u8]>) -> Vec<u8> {
        let mut out = serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec());
        if let Some(body) = body {
            out.reserve(body.len() + 1);
            out.push(b'\n');
            out.extend_from_slice(body);
        }
        out
    }

    /// A published message and its body (empty when it has none), or `None` for what no node
    /// of this version wrote.
    pub(crate) fn decode(payload: Bytes) -> Option<(Message, Bytes)> {
        let split = payload.iter().position(|b| *b == b'\n');
        let (header, body) = match split {
            Some(at) => (payload.slice(..at), payload.slice(at + 1..)),
            None => (payload.clone(), Bytes::new()),
        };
        let message = serde_json::from_slice(&header).ok()?;
        Some((message, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u16) -> NodeId {
        NodeId::new(n).expect("a node")
    }

    #[test]
    fn a_notification_carries_its_frame_as_written() {
        let frame = br#"{"jsonrpc":"2.0","method":"said","params":["a\nb"]}"#;
        let message = Message::Notify {
            from: node(3),
            to: Recipients::Group("red".into()),
            except: vec![PeerId(7)],
        };
        let payload = Bytes::from(message.encode(Some(frame)));
        let (decoded, body) = Message::decode(payload).expect("decoded");
        assert_eq!(&body[..], &frame[..]);
        match decoded {
            Message::Notify { from, to, except } => {
                assert_eq!(
                    (from, to, except),
                    (node(3), Recipients::Group("red".into()), vec![PeerId(7)])
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(Message::decode(Bytes::from_static(b"not json")).is_none());
    }

    #[test]
    fn calls_and_replies_keep_their_params_and_results_as_written() {
        let raw = |t: &str| RawValue::from_string(t.to_owned()).expect("json");
        let call = Message::Call {
            peer: PeerId(5),
            request: Request {
                from: node(1),
                call: 9,
                method: "add".into(),
                params: Some(raw("[1, 2]")),
                timeout_ms: 500,
            },
        };
        let (decoded, body) = Message::decode(Bytes::from(call.encode(None))).expect("decoded");
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
        match Message::decode(Bytes::from(reply.encode(None))) {
            Some((
                Message::Reply {
                    outcome: Outcome::Ok { result },
                    ..
                },
                _,
            )) => {
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
