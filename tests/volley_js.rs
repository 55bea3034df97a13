//! volley.js: its own node test suite, and the hand-written Node client script against a real
//! volley server (calls `add`, calls `ask` and answers the server's `confirm`, gets a `tick`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::services::{BrowserClient, Calc, Calculator};
use common::t;
use volley::{PeerEvent, Server};

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("client/js")
}

/// Whether node and the npm packages are there; prints SKIPPED or fails under
/// `VOLLEY_REQUIRE_ALL=1` when they are not.
fn node_ready() -> bool {
    let required = std::env::var("VOLLEY_REQUIRE_ALL").is_ok_and(|v| v == "1");
    let why = if std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        Some("node not found, install with apt-get install -y nodejs npm")
    } else if !js_dir().join("node_modules/ws").exists() {
        Some("client/js/node_modules missing, install with (cd client/js && npm ci)")
    } else {
        None
    };
    match why {
        None => true,
        Some(why) if required => panic!("VOLLEY_REQUIRE_ALL=1 but {why}"),
        Some(why) => {
            eprintln!("SKIPPED: {why}");
            false
        }
    }
}

#[tokio::test]
async fn volley_js_node_test_suite_passes() {
    if !node_ready() {
        return;
    }
    // The test files by name: `node --test <dir>` means different things across Node versions.
    let mut files: Vec<String> = std::fs::read_dir(js_dir().join("test"))
        .expect("client/js/test")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.js"))
        .map(|name| format!("test/{name}"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no client/js/test/*.test.js files");
    let out = t(tokio::process::Command::new("node")
        .arg("--test")
        .args(&files)
        .current_dir(js_dir())
        .kill_on_drop(true)
        .output())
    .await
    .expect("run node --test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("# fail 0"), "{stdout}");
}

#[tokio::test]
async fn a_node_client_calls_the_server_and_answers_its_callbacks() {
    if !node_ready() {
        return;
    }
    let server = Server::builder()
        .serve(Calc::new().into_service())
        .client_serves::<BrowserClient>()
        .build();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut child = tokio::process::Command::new("node")
        .arg("test/against-volley.mjs")
        .arg(running.ws_url())
        .current_dir(js_dir())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn node");
    let PeerEvent::Connected(peer) = t(events.recv()).await.unwrap() else {
        panic!("expected the node client to connect")
    };
    // Tick the client, as example-callbacks does, until the script is done.
    let status = t(async {
        let mut n = 0;
        loop {
            n += 1;
            let _ = BrowserClient::new(&peer).tick(n).await;
            tokio::select! {
                status = child.wait() => break status,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    })
    .await
    .expect("node exited");
    assert!(status.success(), "against-volley.mjs failed: {status}");
    running.shutdown().await;
}

#[tokio::test]
async fn every_server_serves_volley_js() {
    let server = Server::builder().serve(Calc::new().into_service()).build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut tcp = t(tokio::net::TcpStream::connect(running.local_addr()))
        .await
        .unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    t(tcp.write_all(b"GET /volley.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        .await
        .unwrap();
    let mut body = String::new();
    t(tcp.read_to_string(&mut body)).await.unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body:.200}");
    assert!(body.contains("text/javascript"), "{body:.400}");
    assert!(
        body.contains("export async function connect") || body.contains("export function connect")
    );
    running.shutdown().await;
}
