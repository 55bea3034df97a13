//! The ping example over real sockets: a raw WebSocket gets `"pong"`, and `/` serves the page.

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use volley::RunningServer;

/// Every await goes through this, so a hang fails the test instead of wedging it.
async fn t<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s")
}

async fn start() -> RunningServer {
    let server = example_ping::server();
    t(server.listen_with("127.0.0.1:0", example_ping::app(&server)))
        .await
        .expect("listen")
}

#[tokio::test]
async fn ping_answers_pong_to_a_raw_websocket() {
    let running = start().await;
    let (mut ws, _) = t(tokio_tungstenite::connect_async(running.ws_url()))
        .await
        .expect("connect");
    for id in [json!(1), json!("two")] {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "ping"});
        t(ws.send(Message::Text(request.to_string().into())))
            .await
            .expect("send");
        let reply = match t(ws.next()).await {
            Some(Ok(Message::Text(text))) => serde_json::from_str::<Value>(&text).expect("json"),
            other => panic!("expected a text frame, got {other:?}"),
        };
        assert_eq!(reply, json!({"jsonrpc": "2.0", "id": id, "result": "pong"}));
    }
    t(ws.close(None)).await.expect("close");
    t(running.shutdown()).await;
}

#[tokio::test]
async fn the_generated_stub_gets_pong() {
    let running = start().await;
    let client = t(volley::Client::connect(&running.ws_url()))
        .await
        .expect("connect");
    let pong = t(example_ping::PingClient::new(client.peer()).ping()).await;
    assert_eq!(pong.expect("ping"), "pong");
    client.close();
    t(client.closed()).await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn root_serves_the_page_with_its_websocket_code() {
    let running = start().await;
    let mut tcp = t(TcpStream::connect(running.local_addr()))
        .await
        .expect("connect");
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        running.local_addr()
    );
    t(tcp.write_all(request.as_bytes())).await.expect("write");
    let mut response = String::new();
    t(tcp.read_to_string(&mut response)).await.expect("read");

    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert_eq!(body, example_ping::INDEX_HTML);
    for needle in [
        r#"import { connect } from "/volley.js""#,
        r#"connect("/ws")"#,
        r#"peer.call("ping")"#,
        "5000",
        "CONNECTED",
        "SENT: ping",
        "RECEIVED: ",
        "DISCONNECTED",
    ] {
        assert!(body.contains(needle), "the page lacks `{needle}`");
    }
    t(running.shutdown()).await;
}
