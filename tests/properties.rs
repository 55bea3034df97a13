//! A property over real sockets: whatever sequence of frames a peer sends (valid requests and
//! answers, batches, cancels, acknowledgements, garbage, binary frames), the server answers
//! only with well-formed JSON-RPC, stays usable, and every call it was making to that peer
//! resolves once the peer leaves.

mod common;

use common::services::{BrowserClient, Calc, Calculator};
use common::{raw_connect, t};
use futures_util::{SinkExt, StreamExt};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use volley::Server;

/// One frame from the peer.
#[derive(Debug, Clone)]
enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

fn id() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..6).prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::from),
        Just(Value::Null),
        Just(json!(1.5)),
        Just(json!(-7)),
        Just(json!(true)),
        Just(json!([1])),
    ]
}

fn params() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        (any::<i32>(), any::<i32>()).prop_map(|(a, b)| Some(json!([a, b]))),
        (any::<i32>(), any::<i32>()).prop_map(|(a, b)| Some(json!({"a": a, "b": b}))),
        "[ -~]{0,12}".prop_map(|s| Some(json!([s]))),
        Just(Some(json!("not a structure"))),
        Just(Some(json!({"id": 1}))),
    ]
}

fn message() -> impl Strategy<Value = Value> {
    let method = prop_oneof![
        Just("add"),
        Just("echo"),
        Just("ask"),
        Just("boom"),
        Just("log"),
        Just("nope"),
        Just("rpc.ping"),
        Just("rpc.discover"),
        Just("rpc.cancel"),
        Just("rpc.ack"),
        Just("rpc.session"),
    ];
    prop_oneof![
        // A request or a notification.
        (method, proptest::option::of(id()), params()).prop_map(|(m, id, p)| {
            let mut v = json!({"jsonrpc": "2.0", "method": m});
            if let Some(id) = id {
                v["id"] = id;
            }
            if let Some(p) = p {
                v["params"] = p;
            }
            v
        }),
        // An answer to one of the server's calls (or to none), well-formed or not.
        (0u64..6, any::<bool>())
            .prop_map(|(id, yes)| json!({"jsonrpc": "2.0", "id": id, "result": yes})),
        (0u64..6, any::<i32>()).prop_map(|(id, code)| {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": "no"}})
        }),
        (0u64..6).prop_map(|id| json!({"jsonrpc": "2.0", "id": id, "error": "malformed"})),
        (0u64..6).prop_map(|id| json!({"jsonrpc": "1.0", "id": id, "result": 1})),
        Just(json!({})),
        Just(json!(42)),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        4 => message().prop_map(|m| Frame::Text(m.to_string())),
        2 => proptest::collection::vec(message(), 0..5)
            .prop_map(|batch| Frame::Text(Value::from(batch).to_string())),
        1 => "[ -~]{0,24}".prop_map(Frame::Text),
        1 => proptest::collection::vec(any::<u8>(), 0..24).prop_map(Frame::Binary),
        1 => message().prop_map(|m| Frame::Binary(m.to_string().into_bytes())),
    ]
}

/// A frame the server wrote: JSON-RPC 2.0, a message or a batch of them.
fn well_formed(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let items = match &v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    for item in items {
        assert_eq!(item["jsonrpc"], "2.0", "{text}");
        let is_call = item.get("method").is_some_and(Value::is_string);
        let is_answer = item.get("id").is_some()
            && (item.get("result").is_some() ^ item.get("error").is_some());
        assert!(is_call || is_answer, "{text}");
        if let Some(error) = item.get("error") {
            assert!(
                error["code"].is_i64() && error["message"].is_string(),
                "{text}"
            );
        }
    }
    v
}

async fn one_case(frames: Vec<Frame>) {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .add_remote_service::<BrowserClient>()
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let mut events = running.server().peers().subscribe();
    let mut raw = raw_connect(&running.ws_url()).await;
    let volley::PeerEvent::Connected(peer) = t(events.recv()).await.expect("event") else {
        panic!("expected a connection")
    };
    // The server's own calls to this peer, waiting for answers the frames may or may not give.
    let browser = BrowserClient::new(&peer);
    let calls: Vec<_> = (0..3)
        .map(|i| {
            let browser = browser.clone();
            tokio::spawn(async move { browser.confirm(format!("q{i}")).await })
        })
        .collect();
    for f in &frames {
        let message = match f {
            Frame::Text(s) => Message::Text(s.clone().into()),
            Frame::Binary(b) => Message::Binary(b.clone().into()),
        };
        t(raw.ws.send(message)).await.expect("send");
    }
    t(raw.ws.send(Message::Text(
        r#"{"jsonrpc":"2.0","id":"probe","method":"rpc.ping"}"#.into(),
    )))
    .await
    .expect("send the probe");
    // Everything the server writes is well-formed, and the probe is answered: usable.
    t(async {
        loop {
            match raw.ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let v = well_formed(&text);
                    if v["id"] == "probe" {
                        assert_eq!(v["result"], "pong");
                        break;
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("the connection did not stay usable: {other:?}"),
            }
        }
    })
    .await;
    // The peer leaves: every call the server was making to it resolves.
    let goodbye = tokio_tungstenite::tungstenite::protocol::CloseFrame {
        code: 1000.into(),
        reason: "done".into(),
    };
    t(raw.ws.close(Some(goodbye))).await.ok();
    for call in calls {
        match t(call).await.expect("call task") {
            Ok(_) => {}
            Err(e) => assert!(
                e.is_disconnected()
                    || e.remote().is_some()
                    || matches!(e, volley::Error::InvalidResult(_)),
                "{e:?}"
            ),
        }
    }
    assert_eq!(t(peer.closed()).await.code, 1000);
    t(running.shutdown()).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_of_frames_leaves_the_connection_usable_and_every_call_resolved(
        frames in proptest::collection::vec(frame(), 1..16)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(one_case(frames));
    }
}
