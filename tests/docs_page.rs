//! The `/docs` page: served with the server's OpenRPC document embedded, switched off by
//! `.docs_page(false)`, and driven in Chromium by `tests/browser/docs.test.mjs` (which calls
//! `add` and `ask` through the page's console and answers `confirm` by hand).
//!
//! The browser test needs Node >= 20, `npm ci` in tests/browser and /usr/bin/chromium; without
//! them it prints `SKIPPED: ...` and passes, unless `VOLLEY_REQUIRE_ALL=1`.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::services::*;
use common::t;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use volley::{PeerEvent, RunningServer, Server};

const CHROMIUM: &str = "/usr/bin/chromium";

async fn start(docs_page: bool) -> RunningServer {
    let server = Server::builder()
        .serve(Calc::new().into_service())
        .client_serves::<BrowserClient>()
        .docs_page(docs_page)
        .build();
    t(server.listen("127.0.0.1:0")).await.expect("listen")
}

/// A plain HTTP/1.1 GET: the status code and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut tcp = t(TcpStream::connect(addr)).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    t(tcp.write_all(request.as_bytes())).await.expect("write");
    let mut raw = Vec::new();
    t(tcp.read_to_end(&mut raw)).await.expect("read");
    let text = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, body.to_owned())
}

/// The JSON inside `<script type="application/json" id="{id}">`.
fn embedded(page: &str, id: &str) -> Value {
    let open = format!(r#"<script type="application/json" id="{id}">"#);
    let start = page.find(&open).unwrap_or_else(|| panic!("no {id} script")) + open.len();
    let end = start + page[start..].find("</script>").expect("script end");
    serde_json::from_str(&page[start..end]).unwrap_or_else(|e| panic!("{id} is not JSON: {e}"))
}

fn method<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the document"))
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
    assert!(method(&doc, "add").get("result").is_some());

    let config = embedded(&page, "volley-config");
    assert_eq!(config["wsPath"], "/ws");
    assert_eq!(config["docsPath"], "/docs");
    running.shutdown().await;
}

#[tokio::test]
async fn docs_page_can_be_switched_off() {
    let running = start(false).await;
    let (status, _) = get(running.local_addr(), "/docs").await;
    assert_eq!(status, 404);
    running.shutdown().await;
}

/// Why the browser test cannot run here, with the command that fixes it.
fn missing_tools(root: &Path) -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    let version = match node {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => {
            return Some(
                "node is not installed, install with `apt-get install -y nodejs npm`".into(),
            );
        }
    };
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Some(format!(
            "node {version} is too old (playwright-core needs 20 or newer), install with `apt-get install -y nodejs`"
        ));
    }
    if !root
        .join("tests/browser/node_modules/playwright-core")
        .is_dir()
    {
        return Some(
            "tests/browser/node_modules is missing, install with `cd tests/browser && npm ci`"
                .into(),
        );
    }
    if !Path::new(CHROMIUM).exists() {
        return Some(format!(
            "{CHROMIUM} is missing, install with `apt-get install -y chromium`"
        ));
    }
    None
}

#[tokio::test]
async fn docs_page_works_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(why) = missing_tools(root) {
        if std::env::var("VOLLEY_REQUIRE_ALL").as_deref() == Ok("1") {
            panic!("VOLLEY_REQUIRE_ALL=1 but {why}");
        }
        println!("SKIPPED: {why}");
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
                    let _ = BrowserClient::new(&peer).tick(7).await;
                });
            }
        }
    });

    let base = format!("http://{}", running.local_addr());
    let child = tokio::process::Command::new("node")
        .arg(root.join("tests/browser/docs.test.mjs"))
        .arg(&base)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the browser test ran longer than 90 s")
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "docs.test.mjs failed ({}); its output is above",
        out.status
    );

    let pong = t(pongs.recv()).await.expect("the page connected");
    assert_eq!(pong.expect("the page answered rpc.ping"), r#""pong""#);
    watcher.abort();
    running.shutdown().await;
}
