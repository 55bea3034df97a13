//! volley.js: its own node test suite, and the hand-written Node client scripts against a real
//! volley server: `against-volley.mjs` (calls `add`, calls `ask` and answers the server's
//! `confirm`, gets a `tick`) and `resume-against-volley.mjs` (session resumption: the hello,
//! acknowledgements, and a call that outlives a dropped socket), and
//! `streams-against-volley.mjs` (streams both ways: `for await` until the server ends one,
//! `break` cancelling one, and the server consuming a stream volley.js serves).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::services::{BrowserClient, Calc, Calculator};
use common::t;
use tokio::io::AsyncReadExt;
use volley::{PeerEvent, Server};
use volley_testing::tools;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn js_dir() -> PathBuf {
    root().join("server/js")
}

/// Whether node and server/js/node_modules are there; prints SKIPPED (or fails under
/// `VOLLEY_REQUIRE_ALL=1`) when they are not.
fn node_ready() -> bool {
    tools::require(&[
        tools::node_available(),
        tools::npm_packages(root(), "server/js"),
        tools::has_dir(
            root(),
            "server/js/node_modules/ws",
            "cd server/js && npm ci",
        ),
    ])
}

/// Runs `test/<script> <url>` with node (within 30 s), prints its output, and checks it
/// succeeded and printed `expected`.
async fn run_script(script: &str, url: &str, expected: &str) {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("node")
            .arg(format!("test/{script}"))
            .arg(url)
            .current_dir(js_dir())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{script} finished within 30 s"))
    .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "{script} failed: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(expected),
        "{script} did not report its checks:\n{stdout}"
    );
}

/// The number after `# <name> ` in node's test summary.
fn summary_count(stdout: &str, name: &str) -> Option<u64> {
    let prefix = format!("# {name} ");
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&prefix)?.trim().parse().ok())
}

#[tokio::test]
async fn volley_js_node_test_suite_passes() {
    if !node_ready() {
        return;
    }
    // The test files by name: `node --test <dir>` means different things across Node versions.
    let mut files: Vec<String> = std::fs::read_dir(js_dir().join("test"))
        .expect("server/js/test")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.js"))
        .map(|name| format!("test/{name}"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no server/js/test/*.test.js files");
    // A whole suite (80 tests on a loaded 2-core machine), so a bound of its own.
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg("--test")
            .args(&files)
            .current_dir(js_dir())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("node --test finished within 120 s")
    .expect("run node --test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |name| {
        summary_count(&stdout, name)
            .unwrap_or_else(|| panic!("no `# {name} N` in node's summary:\n{stdout}"))
    };
    assert!(count("pass") > 0, "no test ran:\n{stdout}");
    assert_eq!(count("fail"), 0, "{stdout}");
    assert_eq!(count("cancelled"), 0, "{stdout}");
}

#[tokio::test]
async fn a_node_client_calls_the_server_and_answers_its_callbacks() {
    if !node_ready() {
        return;
    }
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .add_remote_service::<BrowserClient>()
        .build();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut child = tokio::process::Command::new("node")
        .arg("test/against-volley.mjs")
        .arg(running.ws_url())
        .current_dir(js_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn node");
    let mut stdout = child.stdout.take().expect("stdout");
    let output = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text).await;
        text
    });
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
    let output = t(output).await.expect("the script's output");
    print!("{output}");
    assert!(status.success(), "against-volley.mjs failed: {status}");
    assert!(
        output.contains("against-volley: ok (add = 3, ask = true via confirm, tick"),
        "against-volley.mjs did not report its checks:\n{output}"
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn a_node_client_resumes_its_session_after_a_dropped_socket() {
    if !node_ready() {
        return;
    }
    // Resumption is on by default on both ends.
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .add_remote_service::<BrowserClient>()
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    run_script(
        "resume-against-volley.mjs",
        &running.ws_url(),
        "resume-against-volley: ok (session",
    )
    .await;
    t(running.shutdown()).await;
}

/// What the streams script talks to.
#[volley::rpc]
pub trait Streams {
    /// `count` numbers from `from`.
    #[rpc(stream)]
    async fn subscribe_numbers(
        &self,
        from: u64,
        count: u64,
    ) -> volley::Result<volley::ItemStream<u64>>;
    /// Numbers until the consumer cancels.
    #[rpc(stream)]
    async fn subscribe_forever(&self) -> volley::Result<volley::ItemStream<u64>>;
    /// Whether a `forever` producer saw its consumer cancel (waits up to 5 s).
    async fn forever_stopped(&self) -> volley::Result<bool>;
    /// Opens the caller's `subscribe_squares` stream and adds up what comes.
    async fn sum_squares(&self, cx: &volley::Context, count: u64) -> volley::Result<u64>;
}

/// The stream volley.js serves.
#[volley::rpc]
pub trait Squares {
    /// The squares of 1 to `count`.
    #[rpc(stream)]
    async fn subscribe_squares(&self, count: u64) -> volley::Result<volley::ItemStream<u64>>;
}

struct StreamsImpl {
    stopped: std::sync::Arc<tokio::sync::Notify>,
}

impl Streams for StreamsImpl {
    async fn subscribe_numbers(
        &self,
        from: u64,
        count: u64,
    ) -> volley::Result<volley::ItemStream<u64>> {
        Ok(volley::ItemStream::iter(from..from + count))
    }

    async fn subscribe_forever(&self) -> volley::Result<volley::ItemStream<u64>> {
        let (tx, items) = volley::ItemStream::channel(4);
        let stopped = self.stopped.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while tx.send(n).await.is_ok() {
                n += 1;
            }
            stopped.notify_one();
        });
        Ok(items)
    }

    async fn forever_stopped(&self) -> volley::Result<bool> {
        let stopped = self.stopped.notified();
        Ok(tokio::time::timeout(Duration::from_secs(5), stopped)
            .await
            .is_ok())
    }

    async fn sum_squares(&self, cx: &volley::Context, count: u64) -> volley::Result<u64> {
        use futures_util::StreamExt;
        let mut squares = SquaresClient::new(cx.peer())
            .subscribe_squares(count)
            .await?;
        let mut sum = 0;
        while let Some(n) = squares.next().await {
            sum += n?;
        }
        Ok(sum)
    }
}

#[tokio::test]
async fn a_node_client_consumes_and_serves_streams() {
    if !node_ready() {
        return;
    }
    let stopped = std::sync::Arc::new(tokio::sync::Notify::new());
    let server = Server::builder()
        .add_service(StreamsImpl { stopped }.into_service())
        .add_remote_service::<SquaresClient>()
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    run_script(
        "streams-against-volley.mjs",
        &running.ws_url(),
        "streams-against-volley: ok (numbers [1,2,3,4,5], forever cancelled after [0,1,2], sum of squares 385)",
    )
    .await;
    t(running.shutdown()).await;
}

#[tokio::test]
async fn every_server_serves_volley_js() {
    let server = Server::builder()
        .add_service(Calc::new().into_service())
        .build();
    let running = t(server.listen("127.0.0.1:0")).await.unwrap();
    let mut tcp = t(tokio::net::TcpStream::connect(running.local_addr()))
        .await
        .unwrap();
    use tokio::io::AsyncWriteExt;
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
    t(running.shutdown()).await;
}
