//! `volley bridge` on a stdio JSON-RPC program, `tests/fixtures/stdio_server.py` (its methods
//! are listed at its top), in both framings, with tokio-tungstenite as the browser: calls go
//! both ways, what is not JSON is answered or skipped, each end's end ends the other, and the
//! limits hold at their edges.
//!
//! The fixture needs python3: without it the tests that use it print `SKIPPED: ...` and
//! pass, unless `VOLLEY_REQUIRE_ALL=1`.

mod common;

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use common::{VOLLEY, t, volley};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use volley_testing::tools;

const FRAMINGS: [&str; 2] = ["lines", "content-length"];

/// Whether python3 runs; if not, says the test is skipped (or fails it under
/// `VOLLEY_REQUIRE_ALL=1`).
fn python3() -> bool {
    let found = std::process::Command::new("python3")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    found || tools::missing("python3 not found, install with apt-get install -y python3")
}

/// A running `volley bridge --listen 127.0.0.1:0`, killed when dropped.
struct Bridge {
    process: Child,
    url: String,
    /// Its stderr so far (its own log and its programs' stderr).
    log: watch::Receiver<String>,
}

impl Bridge {
    /// `volley bridge --listen 127.0.0.1:0 OPTIONS -- PROGRAM`, once it listens.
    async fn start(options: &[&str], program: &[&str]) -> Self {
        let mut args = vec!["bridge", "--listen", "127.0.0.1:0"];
        args.extend(options);
        args.push("--");
        args.extend(program);
        let mut process = Command::new(VOLLEY)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start volley bridge");
        let (write_log, log) = watch::channel(String::new());
        let mut stderr = BufReader::new(process.stderr.take().expect("stderr")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                write_log.send_modify(|log| {
                    log.push_str(&line);
                    log.push('\n');
                });
            }
        });
        let mut stdout = BufReader::new(process.stdout.take().expect("stdout")).lines();
        let line = t(stdout.next_line()).await.expect("read stdout");
        let line = line.unwrap_or_else(|| panic!("no `listening on` line: {}", *log.borrow()));
        let url = line.strip_prefix("listening on ").expect(&line).to_owned();
        assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        Self { process, url, log }
    }

    /// The bridge on the fixture, both framed as `framing`.
    async fn fixture(options: &[&str], framing: &str) -> Self {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stdio_server.py");
        let mut all = vec!["--framing", framing];
        all.extend(options);
        Self::start(
            &all,
            &["python3", fixture.to_str().expect("UTF-8"), framing],
        )
        .await
    }

    async fn connect(&self) -> Browser {
        let (ws, _) = t(tokio_tungstenite::connect_async(self.url.as_str()))
            .await
            .expect("connect");
        Browser { ws, next_id: 0 }
    }

    /// The HTTP status of a connection the bridge refuses.
    async fn refused(&self, url: &str) -> u16 {
        match t(tokio_tungstenite::connect_async(url)).await {
            Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
            other => panic!("not refused: {other:?}"),
        }
    }

    /// Waits until the bridge's stderr has `text`.
    async fn logged(&mut self, text: &str) -> String {
        let log = t(self.log.wait_for(|log| log.contains(text))).await;
        log.expect("the bridge's stderr").clone()
    }

    fn pid(&self) -> u32 {
        self.process.id().expect("running")
    }

    /// Ctrl-C (SIGINT), and its exit.
    async fn interrupt(mut self) -> ExitStatus {
        let pid = self.pid().to_string();
        let kill = Command::new("kill").args(["-INT", &pid]).status();
        assert!(t(kill).await.expect("run kill").success());
        t(self.process.wait()).await.expect("the bridge's exit")
    }
}

/// A browser's end of a connection.
struct Browser {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Browser {
    async fn send(&mut self, message: Message) {
        t(self.ws.send(message)).await.expect("send");
    }

    /// The next text frame.
    async fn text(&mut self) -> String {
        loop {
            match t(self.ws.next()).await {
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("not a text frame: {other:?}"),
            }
        }
    }

    /// The next message.
    async fn recv(&mut self) -> Value {
        let text = self.text().await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// Calls `method` and returns its answer.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send(Message::text(request.to_string())).await;
        let answer = self.recv().await;
        assert_eq!(answer["id"], id, "{answer}");
        answer
    }

    /// Calls `method` and returns its result.
    async fn result(&mut self, method: &str, params: Value) -> Value {
        let answer = self.call(method, params).await;
        assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
        answer
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("no result: {answer}"))
    }

    /// The program's pid.
    async fn pid(&mut self) -> u32 {
        let pid = self.result("pid", json!([])).await;
        let pid = pid.as_u64().expect("a pid");
        u32::try_from(pid).expect("a pid")
    }

    /// The close frame the bridge sends next: its code and reason.
    async fn closed(mut self) -> (u16, String) {
        loop {
            match t(self.ws.next()).await {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (frame.code.into(), frame.reason.to_string());
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("not a close frame: {other:?}"),
            }
        }
    }

    /// Closes the connection, and waits for the bridge's answering close.
    async fn close(mut self) {
        t(self.ws.close(None)).await.expect("close");
        while let Some(Ok(_)) = t(self.ws.next()).await {}
    }
}

/// Whether process `pid` exists (a zombie, not yet reaped, still does).
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits until process `pid` is gone: exited and reaped.
async fn gone(pid: u32) {
    t(async {
        while exists(pid) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// The processes whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").expect("/proc");
    let pids = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    pids.filter(|pid| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        after.split_whitespace().nth(1) == Some(&parent.to_string())
    })
    .collect()
}

#[tokio::test]
async fn calls_go_both_ways_in_both_framings() {
    if !python3() {
        return;
    }
    for framing in FRAMINGS {
        let bridge = Bridge::fixture(&[], framing).await;
        let mut browser = bridge.connect().await;
        assert_eq!(browser.result("add", json!({"a": 1, "b": 2})).await, 3);
        assert_eq!(browser.result("add", json!([40, 2])).await, 42);
        // The program calls the browser during `ask`, and answers with the browser's answer.
        let request = json!({"jsonrpc": "2.0", "id": "q", "method": "ask",
            "params": {"question": "ship it?"}});
        browser.send(Message::text(request.to_string())).await;
        let confirm = browser.recv().await;
        assert_eq!(confirm["method"], "confirm", "{confirm}");
        assert_eq!(confirm["params"], json!({"question": "ship it?"}));
        let yes = json!({"jsonrpc": "2.0", "id": confirm["id"], "result": true});
        browser.send(Message::text(yes.to_string())).await;
        assert_eq!(
            browser.recv().await,
            json!({"jsonrpc": "2.0", "id": "q", "result": true})
        );
        // Line breaks between tokens, and a binary frame.
        let pretty = "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 7,\n  \"method\": \"add\",\n  \"params\": [1, 1]\n}";
        browser.send(Message::text(pretty)).await;
        assert_eq!(browser.recv().await["result"], 2, "{framing}");
        let request = json!({"jsonrpc": "2.0", "id": 8, "method": "add", "params": [2, 2]});
        browser
            .send(Message::binary(request.to_string().into_bytes()))
            .await;
        assert_eq!(browser.recv().await["result"], 4);
        browser.close().await;
        assert!(bridge.interrupt().await.success());
    }
}

#[tokio::test]
async fn what_is_not_json_is_answered_or_skipped_and_the_bridge_keeps_working() {
    if !python3() {
        return;
    }
    for framing in FRAMINGS {
        let mut bridge = Bridge::fixture(&[], framing).await;
        let mut browser = bridge.connect().await;
        browser.send(Message::text("this is not JSON")).await;
        let answer = browser.recv().await;
        assert_eq!(answer["id"], Value::Null, "{answer}");
        assert_eq!(answer["error"]["code"], -32700, "{answer}");
        assert_eq!(answer["error"]["message"], "Parse error", "{answer}");
        browser.send(Message::binary(vec![0xff, 0xfe])).await;
        assert_eq!(browser.recv().await["error"]["code"], -32700);
        assert_eq!(browser.result("add", json!([1, 2])).await, 3);
        // The program's line that is not JSON is logged and skipped; its answer comes.
        assert_eq!(browser.result("noise", json!([])).await, "ok");
        let log = bridge.logged("this is not JSON").await;
        assert!(log.contains("skipped output that is not JSON"), "{log}");
        assert_eq!(browser.result("add", json!([2, 3])).await, 5);
        browser.close().await;
        assert!(bridge.interrupt().await.success());
    }
}

#[tokio::test]
async fn the_programs_exit_closes_the_socket_with_its_status() {
    if !python3() {
        return;
    }
    let bridge = Bridge::fixture(&[], "lines").await;
    let mut browser = bridge.connect().await;
    let pid = browser.pid().await;
    let exit = json!({"jsonrpc": "2.0", "method": "exit", "params": {"code": 3}});
    browser.send(Message::text(exit.to_string())).await;
    let (code, reason) = browser.closed().await;
    assert_eq!(code, 1011);
    assert_eq!(reason, "the program exited with status 3");
    gone(pid).await;
    let mut browser = bridge.connect().await;
    let exit = json!({"jsonrpc": "2.0", "method": "exit", "params": {"code": 0}});
    browser.send(Message::text(exit.to_string())).await;
    assert_eq!(
        browser.closed().await,
        (1000, "the program exited".to_owned())
    );
    assert!(bridge.interrupt().await.success());
}

#[tokio::test]
async fn the_browsers_close_ends_the_program() {
    if !python3() {
        return;
    }
    let mut bridge = Bridge::fixture(&[], "lines").await;
    // It exits when its stdin is closed.
    let mut browser = bridge.connect().await;
    let pid = browser.pid().await;
    assert!(exists(pid));
    browser.close().await;
    gone(pid).await;
    // It does not: killed after the grace period.
    let mut browser = bridge.connect().await;
    let pid = browser.pid().await;
    assert_eq!(browser.result("stay", json!([])).await, "ok");
    browser.close().await;
    gone(pid).await;
    bridge.logged("(killed after 2 s)").await;
    assert!(bridge.interrupt().await.success());
}

#[tokio::test]
async fn a_browser_that_answers_pings_stays_and_a_silent_one_is_taken_as_lost() {
    if !python3() {
        return;
    }
    let mut bridge = Bridge::fixture(&["--ping-interval", "1"], "lines").await;
    let mut silent = bridge.connect().await;
    let silent_pid = silent.pid().await;
    let mut awake = bridge.connect().await;
    let awake_pid = awake.pid().await;
    // From here on `silent` reads nothing, so it answers no ping; `awake` reads (and so
    // answers the pings) until the silent one's program is gone, two intervals on.
    let pings = async {
        loop {
            match awake.ws.next().await {
                Some(Ok(Message::Ping(_))) => {}
                other => panic!("not a ping: {other:?}"),
            }
        }
    };
    t(async {
        tokio::select! {
            () = gone(silent_pid) => {}
            () = pings => {}
        }
    })
    .await;
    bridge
        .logged("not even a pong: the connection is lost")
        .await;
    assert!(exists(awake_pid));
    assert_eq!(awake.result("add", json!([1, 2])).await, 3);
    drop(silent);
    awake.close().await;
    gone(awake_pid).await;
    assert!(bridge.interrupt().await.success());
}

#[tokio::test]
async fn each_connection_gets_its_own_program() {
    if !python3() {
        return;
    }
    let bridge = Bridge::fixture(&[], "lines").await;
    let mut first = bridge.connect().await;
    let mut second = bridge.connect().await;
    let (one, two) = (first.pid().await, second.pid().await);
    assert_ne!(one, two);
    let mut running = children(bridge.pid());
    running.sort_unstable();
    let mut expected = vec![one, two];
    expected.sort_unstable();
    assert_eq!(running, expected);
    first.close().await;
    gone(one).await;
    assert!(exists(two));
    assert_eq!(second.result("add", json!([1, 1])).await, 2);
    second.close().await;
    gone(two).await;
    assert!(bridge.interrupt().await.success());
}

#[tokio::test]
async fn connections_past_the_limit_get_503_and_no_program() {
    if !python3() {
        return;
    }
    for max in [1, 2] {
        let limit = max.to_string();
        let bridge = Bridge::fixture(&["--max-connections", &limit], "lines").await;
        // One below the limit, then at it.
        let mut open = Vec::new();
        for _ in 0..max {
            let mut browser = bridge.connect().await;
            let pid = browser.pid().await;
            open.push((browser, pid));
        }
        // One above.
        assert_eq!(bridge.refused(&bridge.url).await, 503);
        assert_eq!(
            children(bridge.pid()).len(),
            max,
            "a refused connection starts nothing"
        );
        let (first, pid) = open.remove(0);
        first.close().await;
        gone(pid).await;
        let mut again = bridge.connect().await;
        assert_eq!(again.result("add", json!([1, 2])).await, 3);
        again.close().await;
        for (browser, _) in open {
            browser.close().await;
        }
        assert!(bridge.interrupt().await.success());
    }
}

/// An `add` request of exactly `size` bytes.
fn add_of_size(size: usize) -> String {
    let request = |pad: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"add","params":{{"a":1,"b":2,"pad":"{pad}"}}}}"#
        )
    };
    let pad = "x".repeat(size - request("").len());
    request(&pad)
}

#[tokio::test]
async fn a_frame_may_be_as_big_as_the_limit_and_no_bigger() {
    if !python3() {
        return;
    }
    let bridge = Bridge::fixture(&["--max-message-size", "1000"], "lines").await;
    let mut browser = bridge.connect().await;
    let pid = browser.pid().await;
    for size in [999, 1000] {
        let request = add_of_size(size);
        assert_eq!(request.len(), size);
        browser.send(Message::text(request)).await;
        assert_eq!(browser.recv().await["result"], 3, "{size} bytes");
    }
    browser.send(Message::text(add_of_size(1001))).await;
    let (code, reason) = browser.closed().await;
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains("1000"), "{reason}");
    gone(pid).await;
    assert!(bridge.interrupt().await.success());
}

#[tokio::test]
async fn a_programs_message_may_be_as_big_as_the_limit_and_no_bigger() {
    if !python3() {
        return;
    }
    for framing in FRAMINGS {
        let bridge = Bridge::fixture(&["--max-message-size", "1000"], framing).await;
        let mut browser = bridge.connect().await;
        let pid = browser.pid().await;
        for size in [999, 1000] {
            let emit =
                json!({"jsonrpc": "2.0", "id": 1, "method": "emit", "params": {"size": size}});
            browser.send(Message::text(emit.to_string())).await;
            let blob = browser.text().await;
            assert_eq!(blob.len(), size, "{framing}");
            assert!(
                blob.starts_with(r#"{"jsonrpc":"2.0","method":"blob""#),
                "{blob}"
            );
            assert_eq!(browser.recv().await["result"], "ok");
        }
        let emit = json!({"jsonrpc": "2.0", "id": 1, "method": "emit", "params": {"size": 1001}});
        browser.send(Message::text(emit.to_string())).await;
        assert_eq!(
            browser.closed().await,
            (
                1009,
                "the program sent a message over 1000 bytes".to_owned()
            ),
            "{framing}"
        );
        gone(pid).await;
        assert!(bridge.interrupt().await.success());
    }
}

#[tokio::test]
async fn a_program_that_cannot_start_closes_with_1011_and_why() {
    let program = "/nonexistent/volley-no-such-program";
    let bridge = Bridge::start(&[], &[program]).await;
    for _ in 0..2 {
        let (code, reason) = bridge.connect().await.closed().await;
        assert_eq!(code, 1011);
        assert!(
            reason.starts_with(&format!("cannot start {program}: ")),
            "{reason}"
        );
        assert!(reason.contains("No such file"), "{reason}");
    }
    assert!(bridge.interrupt().await.success());
}

#[tokio::test]
async fn ctrl_c_closes_every_connection_with_1001_and_ends_the_programs() {
    if !python3() {
        return;
    }
    let bridge = Bridge::fixture(&[], "content-length").await;
    let mut first = bridge.connect().await;
    let mut second = bridge.connect().await;
    let pids = [first.pid().await, second.pid().await];
    let stopped = tokio::spawn(bridge.interrupt());
    for browser in [first, second] {
        let (code, reason) = browser.closed().await;
        assert_eq!(
            (code, reason.as_str()),
            (1001, "the bridge is shutting down")
        );
    }
    for pid in pids {
        gone(pid).await;
    }
    let status = t(stopped).await.expect("the bridge's exit");
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn other_paths_get_404_and_the_path_can_be_chosen() {
    let bridge = Bridge::start(&["--path", "/lsp"], &["/nonexistent/program"]).await;
    assert!(bridge.url.ends_with("/lsp"), "{}", bridge.url);
    let elsewhere = bridge.url.replace("/lsp", "/ws");
    assert_eq!(bridge.refused(&elsewhere).await, 404);
    assert!(bridge.interrupt().await.success());
}

#[tokio::test]
async fn with_allowed_origins_other_pages_get_403() {
    if !python3() {
        return;
    }
    let options = ["--allow-origin", "http://localhost:5173"];
    let bridge = Bridge::fixture(&options, "lines").await;
    let from = |origin: &str| with_origin(&bridge.url, origin);
    refused_with_403(&bridge, "https://evil.example").await;
    for allowed in [
        Some("http://localhost:5173"),
        Some("HTTP://localhost:5173/"),
        None,
    ] {
        let (ws, _) = match allowed {
            Some(origin) => t(tokio_tungstenite::connect_async(from(origin))).await,
            None => t(tokio_tungstenite::connect_async(bridge.url.as_str())).await,
        }
        .expect("let in");
        let mut browser = Browser { ws, next_id: 0 };
        assert_eq!(browser.result("add", json!([1, 2])).await, 3, "{allowed:?}");
        browser.close().await;
    }
    assert!(bridge.interrupt().await.success());
}

/// A page of `origin` is refused with 403, and starts no program.
async fn refused_with_403(bridge: &Bridge, origin: &str) {
    match t(tokio_tungstenite::connect_async(with_origin(
        &bridge.url,
        origin,
    )))
    .await
    {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("not refused: {other:?}"),
    }
    assert!(
        children(bridge.pid()).is_empty(),
        "a refused page starts nothing"
    );
}

/// An upgrade request to `url` from a page of `origin`.
fn with_origin(url: &str, origin: &str) -> tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().expect("a request");
    let origin = origin.parse().expect("a header value");
    request.headers_mut().insert("origin", origin);
    request
}

#[tokio::test]
async fn without_allowed_origins_only_the_bridges_own_origin_gets_in() {
    if !python3() {
        return;
    }
    let bridge = Bridge::fixture(&[], "lines").await;
    let from = |origin: &str| with_origin(&bridge.url, origin);
    refused_with_403(&bridge, "https://evil.example").await;
    let own = bridge.url.replace("ws://", "http://");
    let own = own.trim_end_matches("/ws");
    for origin in [Some(own), None] {
        let (ws, _) = match origin {
            Some(origin) => t(tokio_tungstenite::connect_async(from(origin))).await,
            None => t(tokio_tungstenite::connect_async(bridge.url.as_str())).await,
        }
        .expect("let in");
        let mut browser = Browser { ws, next_id: 0 };
        assert_eq!(browser.result("add", json!([1, 2])).await, 3, "{origin:?}");
        browser.close().await;
    }
    assert!(bridge.interrupt().await.success());
}

#[tokio::test]
async fn a_command_line_it_cannot_use_is_refused() {
    let out = volley(&["bridge", "--listen", "127.0.0.1:0"]).await;
    assert_eq!(out.code(), Some(64), "{out:?}");
    let out = volley(&[
        "bridge",
        "--listen",
        "127.0.0.1:0",
        "--max-connections",
        "0",
        "--",
        "cat",
    ])
    .await;
    assert_eq!(out.code(), Some(64), "{out:?}");
    let out = volley(&[
        "bridge",
        "--listen",
        "127.0.0.1:0",
        "--path",
        "ws",
        "--",
        "cat",
    ])
    .await;
    assert_eq!(out.code(), Some(64), "{out:?}");
    // An address that is taken.
    let taken = t(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await
        .expect("bind");
    let addr = taken.local_addr().expect("an address").to_string();
    let out = volley(&["bridge", "--listen", &addr, "--", "cat"]).await;
    assert_eq!(out.code(), Some(2), "{out:?}");
    assert!(
        out.stderr()
            .starts_with(&format!("volley: cannot listen on {addr}: ")),
        "{out:?}"
    );
}
