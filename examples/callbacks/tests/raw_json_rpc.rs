//! Any JSON-RPC 2.0 client can use the callbacks server: hand-written frames over a plain
//! WebSocket call `add` and `ask`, answer the server's `confirm` request, and get ticks. The
//! server sends `confirm` and `tick` params by position (`Browser` declares
//! `params = "positional"`), so a peer that refuses named params can answer it.

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
        assert_eq!(confirm["params"], json!([question]), "{confirm}");
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
        let n = tick["params"][0].as_u64().expect("params [n]");
        assert!(n >= 1, "{tick}");
        let next = raw.recv().await;
        assert_eq!(
            next,
            json!({"jsonrpc": "2.0", "method": "tick", "params": [n + 1]})
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

/// A peer that takes params by position only, as some JSON-RPC servers do (npm's
/// `jsonrpc-bidirectional` answers "Named params are not supported by this server"): it
/// refuses any request with named params, and answers `confirm` with whether the question
/// ends with `?`.
fn positional_only_answer(request: &Value) -> Value {
    let id = &request["id"];
    match (&request["method"], &request["params"]) {
        (_, Value::Object(_)) => json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32602, "message": "Named params are not supported by this server"}
        }),
        (method, Value::Array(params)) if method == "confirm" && params.len() == 1 => {
            let yes = params[0].as_str().is_some_and(|q| q.ends_with('?'));
            json!({"jsonrpc": "2.0", "id": id, "result": yes})
        }
        _ => json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32601, "message": "Method not found"}
        }),
    }
}

#[tokio::test]
async fn a_peer_that_takes_no_named_params_answers_confirm_inside_ask() {
    let server = TestServer::start(FAST).await;
    let mut raw = Raw::connect(&server.url()).await;
    for (id, question, answer) in [(1, "coffee?", true), (2, "tea", false)] {
        raw.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": "ask", "params": [question]}).to_string(),
        )
        .await;
        let confirm = raw.recv_skipping_ticks().await;
        assert_eq!(confirm["method"], "confirm", "{confirm}");
        raw.send(&positional_only_answer(&confirm).to_string())
            .await;
        assert_eq!(
            raw.recv_skipping_ticks().await,
            json!({"jsonrpc": "2.0", "id": id, "result": answer})
        );
    }
    // The same peer refuses a call by name: what a server with named params would get.
    let named =
        json!({"jsonrpc": "2.0", "id": 9, "method": "confirm", "params": {"question": "?"}});
    assert_eq!(positional_only_answer(&named)["error"]["code"], -32602);

    raw.close().await;
    server.stop().await;
}
