//! The `/docs` page: served with the server's OpenRPC document embedded, switched off by
//! `.docs_page(false)`, and driven in Chromium by `tests/browser/docs.test.mjs` (which calls
//! `add` and `ask` through the page's console and answers `confirm` by hand, starts, watches
//! and stops streams, and serves a stream the server consumes by hand).
//!
//! The browser test needs Node >= 20, `npm ci` in tests/browser and Chromium; without
//! them it prints `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::services::*;
use common::{method, t};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use volley::{Context, ItemStream, PeerEvent, RunningServer, Server, schemars};
use volley_testing::{browser, http};

/// Streams the page's server serves.
#[volley::rpc]
pub trait Feeds {
    /// `count` numbers from `from`, then the end.
    #[rpc(stream)]
    async fn subscribe_numbers(&self, from: u64, count: u64) -> volley::Result<ItemStream<u64>>;
    /// A tick every `every_ms` milliseconds (at least 10), until the caller stops it.
    #[rpc(stream)]
    async fn subscribe_ticks(&self, every_ms: u64) -> volley::Result<ItemStream<u64>>;
    /// Opens the caller's `clicks` stream and adds up `x + y` of every click, until it ends.
    async fn sum_clicks(&self, cx: &Context) -> volley::Result<i64>;
    /// Opens the caller's `clicks` stream, takes the first click and cancels the stream.
    async fn first_click(&self, cx: &Context) -> volley::Result<Click>;
}

/// A click on the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, volley::JsonSchema)]
pub struct Click {
    /// Pixels from the left.
    pub x: i32,
    /// Pixels from the top.
    pub y: i32,
}

/// A stream the page serves to the server (by hand, from the console).
#[volley::rpc]
pub trait Pointer {
    /// Clicks, until the page ends the stream or the server stops it.
    #[rpc(stream)]
    async fn subscribe_clicks(&self) -> volley::Result<ItemStream<Click>>;
}

/// The server of `Feeds`; tells `gone` when a `ticks` stream's consumer went away.
struct Feeder {
    gone: mpsc::UnboundedSender<()>,
}

impl Feeds for Feeder {
    async fn subscribe_numbers(&self, from: u64, count: u64) -> volley::Result<ItemStream<u64>> {
        Ok(ItemStream::iter(from..from + count))
    }

    async fn subscribe_ticks(&self, every_ms: u64) -> volley::Result<ItemStream<u64>> {
        let (tx, items) = ItemStream::channel(4);
        let gone = self.gone.clone();
        let mut every = tokio::time::interval(Duration::from_millis(every_ms.max(10)));
        tokio::spawn(async move {
            for n in 1.. {
                tokio::select! {
                    _ = tx.closed() => break,
                    _ = every.tick() => if tx.send(n).await.is_err() { break },
                }
            }
            let _ = gone.send(());
        });
        Ok(items)
    }

    async fn sum_clicks(&self, cx: &Context) -> volley::Result<i64> {
        let mut clicks = PointerClient::new(cx.peer()).subscribe_clicks().await?;
        let mut sum = 0;
        while let Some(click) = clicks.next().await {
            let click = click?;
            sum += i64::from(click.x) + i64::from(click.y);
        }
        Ok(sum)
    }

    async fn first_click(&self, cx: &Context) -> volley::Result<Click> {
        let mut clicks = PointerClient::new(cx.peer()).subscribe_clicks().await?;
        let first = clicks.next().await;
        // Dropping the subscription cancels the page's stream.
        drop(clicks);
        first.unwrap_or(Err(volley::Error::Disconnected))
    }
}

/// A server with the test services (`Calculator`, `Feeds`; its clients serve `Browser` and
/// `Pointer`), and what its `ticks` producers report when their consumer goes.
async fn start(docs_page: bool) -> (RunningServer, mpsc::UnboundedReceiver<()>) {
    let (gone, gone_rx) = mpsc::unbounded_channel();
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .add_service(Feeder { gone }.into_service())
        .add_remote_service::<BrowserClient>()
        .add_remote_service::<PointerClient>()
        .docs_page(docs_page)
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    (running, gone_rx)
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
    let (running, _) = start(true).await;
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
    // Streams both ways, with their unsubscribe methods described, not listed as unknown.
    let numbers = method(&doc, "subscribe_numbers");
    assert_eq!(numbers["x-stream"]["item"], "numbers");
    assert_eq!(numbers["x-stream"]["unsubscribe"], "unsubscribe_numbers");
    assert_eq!(numbers["x-stream"]["schema"]["type"], "integer");
    assert_eq!(
        method(&doc, "unsubscribe_numbers")["x-unsubscribes"],
        "subscribe_numbers"
    );
    let clicks = method(&doc, "subscribe_clicks");
    assert_eq!(clicks["x-implemented-by"], serde_json::json!(["client"]));
    assert_eq!(clicks["x-stream"]["item"], "clicks");

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
    let (running, _) = start(false).await;
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

    let (running, mut gone) = start(true).await;
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
    // The page's Stop unsubscribed: the `ticks` producer saw its consumer go.
    t(gone.recv()).await.expect("the ticks producer stopped");
    watcher.abort();
    t(running.shutdown()).await;
}
