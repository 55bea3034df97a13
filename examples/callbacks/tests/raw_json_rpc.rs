//! Any JSON-RPC 2.0 client can use the callbacks server: hand-written frames over a plain
//! WebSocket call `add` and `ask`, answer the server's `confirm` request, and get ticks.

mod common;

use std::time::Duration;

use common::{Raw, TestServer};
use serde_json::{Value, json};

/// Ticks arrive between every other frame, so each test also proves they do not get in the way.
const FAST: Duration = Duration::from_millis(10);

#[tokio::test]
async fn add_takes_params_by_position_and_by_name() {
    let server = TestServer::start(FAST).await;
    let mut raw = Raw::connect(&server.url()).await;

    raw.send(r#"{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}"#)
        .await;
    assert_eq!(
        raw.recv_skipping_ticks().await,
        json!({"jsonrpc": "2.0", "id": 1, "result": 3})
    );
    raw.send(r#"{"jsonrpc":"2.0","id":2,"method":"add","params":{"a":1,"b":2}}"#)
        .await;
    assert_eq!(
        raw.recv_skipping_ticks().await,
        json!({"jsonrpc": "2.0", "id": 2, "result": 3})
    );

    raw.close().await;
    server.stop().await;
}

#[tokio::test]
async fn ask_sends_confirm_to_the_caller_and_returns_its_answer() {
    let server = TestServer::start(FAST).await;
    let mut raw = Raw::connect(&server.url()).await;

    let rounds = [
        ("ask-1", r#"{"question":"coffee?"}"#, "coffee?", true),
        ("ask-2", r#"["tea?"]"#, "tea?", false),
    ];
    for (ask_id, params, question, answer) in rounds {
        raw.send(&format!(
            r#"{{"jsonrpc":"2.0","id":"{ask_id}","method":"ask","params":{params}}}"#
        ))
        .await;

        let confirm = raw.recv_skipping_ticks().await;
        assert_eq!(confirm["jsonrpc"], "2.0", "{confirm}");
        assert_eq!(confirm["method"], "confirm", "{confirm}");
        assert_eq!(
            confirm["params"],
            json!({"question": question}),
            "{confirm}"
        );
        let confirm_id = confirm.get("id").expect("confirm is a request, with an id");
        assert!(
            confirm_id.is_number() || confirm_id.is_string(),
            "{confirm}"
        );

        raw.send(&json!({"jsonrpc": "2.0", "id": confirm_id, "result": answer}).to_string())
            .await;
        assert_eq!(
            raw.recv_skipping_ticks().await,
            json!({"jsonrpc": "2.0", "id": ask_id, "result": answer})
        );
    }

    raw.close().await;
    server.stop().await;
}

#[tokio::test]
async fn every_connected_client_gets_tick_notifications_counting_up() {
    let server = TestServer::start(FAST).await;
    let mut first = Raw::connect(&server.url()).await;
    let mut second = Raw::connect(&server.url()).await;

    for raw in [&mut first, &mut second] {
        let tick = raw.recv().await;
        assert_eq!(tick["jsonrpc"], "2.0", "{tick}");
        assert_eq!(tick["method"], "tick", "{tick}");
        assert!(tick.get("id").is_none(), "a tick is a notification: {tick}");
        let n = tick["params"]["n"].as_u64().expect("params {n}");
        assert!(n >= 1, "{tick}");
        let next = raw.recv().await;
        assert_eq!(
            next,
            json!({"jsonrpc": "2.0", "method": "tick", "params": {"n": n + 1}})
        );
    }

    first.close().await;
    second.close().await;
    server.stop().await;
}

#[tokio::test]
async fn an_error_answer_to_confirm_comes_back_from_ask() {
    let server = TestServer::start(FAST).await;
    let mut raw = Raw::connect(&server.url()).await;

    raw.send(r#"{"jsonrpc":"2.0","id":7,"method":"ask","params":{"question":"?"}}"#)
        .await;
    let confirm = raw.recv_skipping_ticks().await;
    assert_eq!(confirm["method"], "confirm", "{confirm}");
    let error = json!({"code": 4001, "message": "the user closed the dialog"});
    raw.send(&json!({"jsonrpc": "2.0", "id": confirm["id"], "error": error}).to_string())
        .await;
    let reply: Value = raw.recv_skipping_ticks().await;
    assert_eq!(reply, json!({"jsonrpc": "2.0", "id": 7, "error": error}));

    raw.close().await;
    server.stop().await;
}
