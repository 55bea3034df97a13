//! PROTOCOL.md's "Spec behaviour", sent as raw frames, on the server side and on the client
//! side (the engine is the same; both are checked).

mod common;

use common::services::{Calc, Calculator};
use common::{Raw, raw_connect, raw_server, t};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::Message;

fn err_code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {v}"))
}

fn by_id(items: &[Value], id: Value) -> &Value {
    items
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no entry with id {id}"))
}

async fn one<S: AsyncRead + AsyncWrite + Unpin>(raw: &mut Raw<S>, frame: &str) -> Value {
    let mut got = raw.send_and_collect(frame).await;
    assert_eq!(got.len(), 1, "expected one frame for {frame}, got {got:?}");
    got.remove(0)
}

async fn spec_cases<S: AsyncRead + AsyncWrite + Unpin>(raw: &mut Raw<S>) {
    // parse error
    let v = one(
        raw,
        r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
    )
    .await;
    assert_eq!(err_code(&v), -32700);
    assert_eq!(v["error"]["message"], "Parse error");
    assert_eq!(v["id"], Value::Null);
    assert_eq!(v["jsonrpc"], "2.0");

    // invalid request objects
    for frame in [
        r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
        r#"{"foo": "boo"}"#,
        r#"{"jsonrpc":"2.0","id":true,"method":"add"}"#,
        r#"{"jsonrpc":"2.0","id":{},"method":"add"}"#,
        r#"{"jsonrpc":"2.0","id":[1],"method":"add"}"#,
        r#"{"jsonrpc":"2.0","method":"add","params":5}"#,
        r#"7"#,
    ] {
        let v = one(raw, frame).await;
        assert_eq!(err_code(&v), -32600, "{frame}");
        assert_eq!(v["error"]["message"], "Invalid Request");
        assert_eq!(v["id"], Value::Null, "{frame}");
    }
    // an invalid request whose id can be read gets it back
    let v = one(raw, r#"{"jsonrpc":"1.0","id":4,"method":"add"}"#).await;
    assert_eq!((err_code(&v), v["id"].clone()), (-32600, json!(4)));

    // a malformed response is refused with id null: its id is from the other side's own
    // id space, and echoing it would answer one of the other side's calls
    for frame in [
        r#"{"id":1,"result":2}"#,
        r#"{"jsonrpc":"2.0","id":7,"result":1,"error":{"code":1,"message":"x"}}"#,
    ] {
        let v = one(raw, frame).await;
        assert_eq!(
            (err_code(&v), v["id"].clone()),
            (-32600, Value::Null),
            "{frame}"
        );
    }

    // rpc.cancel sent as a request is answered (with null)
    let v = one(
        raw,
        r#"{"jsonrpc":"2.0","id":5,"method":"rpc.cancel","params":{"id":99}}"#,
    )
    .await;
    assert_eq!(v, json!({"jsonrpc":"2.0","id":5,"result":null}));

    // unknown method
    let v = one(raw, r#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#).await;
    assert_eq!(err_code(&v), -32601);
    assert_eq!(v["error"]["message"], "Method not found");

    // params by position and by name, for every method
    let v = one(
        raw,
        r#"{"jsonrpc":"2.0","id":2,"method":"add","params":[1,2]}"#,
    )
    .await;
    assert_eq!(v, json!({"jsonrpc":"2.0","id":2,"result":3}));
    let v = one(
        raw,
        r#"{"jsonrpc":"2.0","id":3,"method":"add","params":{"b":2,"a":1}}"#,
    )
    .await;
    assert_eq!(v["result"], 3);
    let v = one(
        raw,
        r#"{"jsonrpc":"2.0","id":3,"method":"find","params":["x"]}"#,
    )
    .await;
    assert_eq!(v["result"], "found x");
    let v = one(
        raw,
        r#"{"jsonrpc":"2.0","id":3,"method":"find","params":{"name":"y"}}"#,
    )
    .await;
    assert_eq!(v["result"], "maybe y");

    // invalid params
    for params in [
        r#"["x",2]"#,
        r#"{"a":1}"#,
        "[1,2,3]",
        r#"{"a":1,"b":2,"c":3}"#,
        "[1]",
    ] {
        let frame = format!(r#"{{"jsonrpc":"2.0","id":5,"method":"add","params":{params}}}"#);
        let v = one(raw, &frame).await;
        assert_eq!(err_code(&v), -32602, "{params}");
        assert_eq!(v["error"]["message"], "Invalid params");
        assert!(v["error"]["data"].is_string(), "details go in data: {v}");
    }

    // a handler panic is -32603 and the connection survives
    let v = one(raw, r#"{"jsonrpc":"2.0","id":6,"method":"boom"}"#).await;
    assert_eq!(err_code(&v), -32603);
    assert_eq!(v["error"]["message"], "Internal error");
    let v = one(
        raw,
        r#"{"jsonrpc":"2.0","id":7,"method":"add","params":[2,2]}"#,
    )
    .await;
    assert_eq!(v["result"], 4);

    // notifications are never answered: known, unknown, bad params, panicking
    for frame in [
        r#"{"jsonrpc":"2.0","method":"log","params":["hi"]}"#,
        r#"{"jsonrpc":"2.0","method":"nope"}"#,
        r#"{"jsonrpc":"2.0","method":"add","params":["x"]}"#,
        r#"{"jsonrpc":"2.0","method":"boom"}"#,
    ] {
        let got = raw.send_and_collect(frame).await;
        assert!(got.is_empty(), "{frame} was answered: {got:?}");
    }

    // ids of every allowed shape are echoed exactly as written
    for id in [
        "-1",
        "0",
        "1.5",
        "-2.5e-3",
        "1e400",
        "18446744073709551616000",
        r#""abc""#,
        r#""""#,
        "null",
    ] {
        raw.send(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"add","params":[1,1]}}"#
        ))
        .await;
        let text = raw.recv_text().await;
        assert!(
            text.contains(&format!(r#""id":{id}"#)),
            "id {id} came back as {text}"
        );
        assert!(text.contains(r#""result":2"#), "{text}");
    }

    // batches: empty
    let v = one(raw, "[]").await;
    assert!(v.is_object(), "an empty batch gets one error object: {v}");
    assert_eq!((err_code(&v), v["id"].clone()), (-32600, Value::Null));
    // invalid elements each get an entry
    let v = one(raw, "[1]").await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert_eq!(err_code(&v[0]), -32600);
    let v = one(raw, "[1,2,3]").await;
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|e| err_code(e) == -32600 && e["id"].is_null())
    );
    // mixed
    let v = one(
        raw,
        r#"[
            {"jsonrpc":"2.0","method":"add","params":[1,2],"id":"1"},
            {"jsonrpc":"2.0","method":"log","params":["batched"]},
            {"jsonrpc":"2.0","method":"add","params":{"a":42,"b":23},"id":"2"},
            {"foo":"boo"},
            {"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},
            {"jsonrpc":"2.0","method":"echo","params":[7],"id":"9"}
        ]"#,
    )
    .await;
    let items = v.as_array().expect("an array");
    assert_eq!(items.len(), 5, "{v}");
    assert_eq!(by_id(items, json!("1"))["result"], 3);
    assert_eq!(by_id(items, json!("2"))["result"], 65);
    assert_eq!(err_code(by_id(items, Value::Null)), -32600);
    assert_eq!(err_code(by_id(items, json!("5"))), -32601);
    assert_eq!(by_id(items, json!("9"))["result"], 7);
    // all notifications: no frame at all
    let got = raw
        .send_and_collect(
            r#"[{"jsonrpc":"2.0","method":"log","params":["a"]},{"jsonrpc":"2.0","method":"log","params":["b"]}]"#,
        )
        .await;
    assert!(got.is_empty(), "{got:?}");

    // a binary frame is read as JSON too, and answered with text
    t(futures_util::SinkExt::send(
        &mut raw.ws,
        Message::Binary(br#"{"jsonrpc":"2.0","id":8,"method":"rpc.ping"}"#.to_vec().into()),
    ))
    .await
    .unwrap();
    let text = raw.recv_text().await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        json!({"jsonrpc":"2.0","id":8,"result":"pong"}),
        "{text}"
    );

    // rpc.discover lists what this side serves
    let v = one(raw, r#"{"jsonrpc":"2.0","id":9,"method":"rpc.discover"}"#).await;
    let names: Vec<&str> = v["result"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(
        names.contains(&"add") && names.contains(&"log"),
        "{names:?}"
    );
}

#[tokio::test]
async fn server_side_follows_the_spec() {
    let server = volley::Server::builder()
        .add_service(Calc::new().into_service())
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut raw = raw_connect(&running.ws_url()).await;
    t(spec_cases(&mut raw)).await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn client_side_follows_the_spec() {
    let (url, accept) = raw_server().await;
    let (client, mut raw) = t(async {
        tokio::join!(
            volley::Client::builder()
                .add_service(Calc::new().into_service())
                .connect(&url),
            accept
        )
    })
    .await;
    let client = client.unwrap();
    t(spec_cases(&mut raw)).await;
    client.close();
    raw.closed().await;
}

#[tokio::test]
async fn server_shutdown_closes_connections_with_1001() {
    let server = volley::Server::builder()
        .add_service(Calc::new().into_service())
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut raw = raw_connect(&running.ws_url()).await;
    let v = one(
        &mut raw,
        r#"{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}"#,
    )
    .await;
    assert_eq!(v["result"], 3);
    t(running.shutdown()).await;
    match t(futures_util::StreamExt::next(&mut raw.ws)).await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
}
