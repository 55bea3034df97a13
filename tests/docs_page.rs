//! The `/docs` page: served with the server's OpenRPC document embedded, switched off by
//! `.docs_page(false)`, and driven in Chromium by `tests/browser/docs.test.mjs` (which calls
//! `add` and `ask` through the page's console and answers `confirm` by hand).
//!
//! The browser test needs Node >= 20, `npm ci` in tests/browser and Chromium; without
//! them it prints `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::services::*;
use common::{method, t};
use serde_json::Value;
use tokio::sync::mpsc;
use volley::{PeerEvent, RunningServer, Server};
use volley_testing::{browser, http};

async fn start(docs_page: bool) -> RunningServer {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .add_remote_service::<BrowserClient>()
        .docs_page(docs_page)
        .build();
    t(server.listen("127.0.0.1:0")).await.expect("listen")
}

/// A plain HTTP/1.1 GET: the status code and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    get_as(addr, &addr.to_string(), path).await
}

/// A plain HTTP/1.1 GET sent with `Host: {host}`.
async fn get_as(addr: SocketAddr, host: &str, path: &str) -> (u16, String) {
    let response = http::send(addr, &http::request(path, host)).await;
    (response.status, response.body)
}

/// The JSON inside `<script type="application/json" id="{id}">`.
fn embedded(page: &str, id: &str) -> Value {
    let open = format!(r#"<script type="application/json" id="{id}">"#);
    let start = page.find(&open).unwrap_or_else(|| panic!("no {id} script")) + open.len();
    let end = start + page[start..].find("</script>").expect("script end");
    serde_json::from_str(&page[start..end]).unwrap_or_else(|e| panic!("{id} is not JSON: {e}"))
}

#[tokio::test]
async fn docs_page_embeds_the_document_of_both_directions_and_the_endpoint() {
    let running = start(true).await;
    let (status, page) = get(running.local_addr(), "/docs").await;
    assert_eq!(status, 200);
    assert!(page.starts_with("<!doctype html>"));

    let doc = embedded(&page, "openrpc");
    assert_eq!(doc["openrpc"], "1.3.2");
    for name in ["add", "ask"] {
        assert_eq!(
            method(&doc, name)["x-implemented-by"],
            serde_json::json!(["server"])
        );
    }
    assert_eq!(
        method(&doc, "confirm")["x-implemented-by"],
        serde_json::json!(["client"])
    );
    assert!(
        method(&doc, "tick").get("result").is_none(),
        "a notification has no result"
    );
    assert_eq!(
        method(&doc, "add")["result"]["schema"]["type"],
        "integer",
        "add returns an integer"
    );

    let config = embedded(&page, "volley-config");
    assert_eq!(config["wsPath"], "/ws");
    assert_eq!(config["docsPath"], "/docs");

    // The embedded document names the WebSocket URL the page was reached at.
    assert_eq!(
        doc["servers"][0]["url"],
        format!("ws://{}/ws", running.local_addr())
    );
    let (status, page) = get_as(running.local_addr(), "docs.example.com:9000", "/docs").await;
    assert_eq!(status, 200);
    assert_eq!(
        embedded(&page, "openrpc")["servers"][0]["url"],
        "ws://docs.example.com:9000/ws"
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn docs_page_can_be_switched_off() {
    let running = start(false).await;
    let (status, _) = get(running.local_addr(), "/docs").await;
    assert_eq!(status, 404);
    // Only the page is gone: the same server still answers its other routes.
    let (status, body) = get(running.local_addr(), "/openrpc.json").await;
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).expect("the OpenRPC document");
    assert_eq!(
        method(&doc, "add")["x-implemented-by"],
        serde_json::json!(["server"])
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn docs_page_works_in_chromium() {
    if !browser::ready() {
        return;
    }

    let running = start(true).await;
    let server = running.server().clone();
    // The server checks the page from its side too: it pings every page that connects
    // (the page answers rpc.ping itself) and sends it a `tick` notification.
    let mut events = server.peers().subscribe();
    let (pongs_tx, mut pongs) = mpsc::unbounded_channel();
    let watcher = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if let PeerEvent::Connected(peer) = event {
                let pongs = pongs_tx.clone();
                tokio::spawn(async move {
                    let pong = peer
                        .request_raw("rpc.ping", None, Some(Duration::from_secs(10)))
                        .await
                        .map(|raw| raw.get().to_owned());
                    let _ = pongs.send(pong);
                    let _ = t(BrowserClient::new(&peer).tick(7)).await;
                });
            }
        }
    });

    let base = format!("http://{}", running.local_addr());
    browser::run_script("docs.test.mjs", &base, Duration::from_secs(90), None).await;

    let pong = t(pongs.recv()).await.expect("the page connected");
    assert_eq!(pong.expect("the page answered rpc.ping"), r#""pong""#);
    watcher.abort();
    t(running.shutdown()).await;
}
