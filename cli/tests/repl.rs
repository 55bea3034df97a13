//! `volley repl` against example-callbacks' server run in this process: at a terminal (a
//! pseudo-terminal, driven key by key) with completion, history and the server's calls
//! answered at the prompt; and from a pipe, one line at a time.
//!
//! Every read from the terminal waits at most [`PTY_TIMEOUT_MS`]; the blocking terminal work
//! runs on a blocking thread under the usual 30 s await.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::{VOLLEY, t};
use rexpect::session::{PtySession, spawn_command};
use serde_json::value::RawValue;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use volley_core::{Peer, PeerEvent};

/// How long one read from the terminal may wait.
const PTY_TIMEOUT_MS: u64 = 20_000;

/// `volley repl URL` at a terminal of its own, in `home`, keeping its history in `history`.
fn repl_at_terminal(url: &str, home: &Path, history: &Path) -> PtySession {
    let mut command = std::process::Command::new(VOLLEY);
    command
        .args(["repl", url, "--history"])
        .arg(history)
        .env("TERM", "xterm")
        .env("HOME", home);
    let mut repl = spawn_command(command, Some(PTY_TIMEOUT_MS)).expect("start volley repl");
    repl.exp_string("2 methods to call (Tab completes them)")
        .expect("the banner");
    repl
}

/// Types `keys` at the terminal.
fn keys(repl: &mut PtySession, keys: &str) {
    repl.send(keys).expect("type");
    repl.flush().expect("type");
}

async fn next_peer(events: &mut tokio::sync::broadcast::Receiver<PeerEvent>) -> Peer {
    loop {
        if let PeerEvent::Connected(peer) = t(events.recv()).await.expect("an event") {
            return peer;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_a_terminal_calls_complete_and_the_server_is_answered_at_the_prompt() {
    let server = example_callbacks::server();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let url = running.ws_url();
    let home = common::scratch("repl-terminal");
    let history = home.join("history");
    let _ = std::fs::remove_file(&history);
    let runtime = tokio::runtime::Handle::current();

    let (url2, home2, history2) = (url.clone(), home.clone(), history.clone());
    let session = tokio::task::spawn_blocking(move || {
        let mut repl = repl_at_terminal(&url2, &home2, &history2);
        let peer = runtime.block_on(next_peer(&mut events));

        // Tab completes the method (`ad` -> `add `) and each param name (`a` -> `a=`).
        keys(&mut repl, "ad\ta\t20 b\t22\r");
        repl.exp_string("42").expect("add a=20 b=22 answered 42");
        repl.send_line(".help add").expect("type");
        repl.exp_string("add(a: int64, b: int64) -> int64")
            .expect("add's params");

        // What the server sends is shown as it comes.
        let tick = RawValue::from_string("[7]".into()).expect("json");
        runtime
            .block_on(t(peer.notify_raw("tick", Some(tick))))
            .expect("sent");
        repl.exp_string("<- tick [7]").expect("the notification");

        // The server calls `confirm` back during `ask`, and waits for the prompt's answer.
        repl.send_line("ask question=hi").expect("type");
        repl.exp_string("<- #1 confirm [\"hi\"]: the server waits")
            .expect("the server's request");
        repl.send_line(".answer true").expect("type");
        repl.exp_string("-> #1 confirm answered").expect("answered");
        repl.exp_string("true").expect("ask's result");
        // ...or gets an error typed at the prompt, which `ask` passes on.
        repl.send_line("ask question=no").expect("type");
        repl.exp_string("<- #2 confirm [\"no\"]")
            .expect("the request");
        repl.send_line(".error #2 4001 not now").expect("type");
        repl.exp_string("error 4001: not now").expect("ask's error");

        // Ctrl-C cancels the call in flight; the server cancels its own call in turn.
        repl.send_line("ask question=wait").expect("type");
        repl.exp_string("<- #3 confirm [\"wait\"]")
            .expect("the request");
        repl.send_control('c').expect("Ctrl-C");
        repl.exp_string("cancelled 1 call").expect("cancelled");
        repl.exp_string("<- #3 confirm: the server no longer waits for it")
            .expect("the server gave up");
        repl.send_line(".answer #3 true").expect("type");
        repl.exp_string("#3 confirm: the server no longer waits for it")
            .expect("too late");

        // A line that cannot be read says why, and the prompt goes on.
        repl.send_line("add a=1 [2").expect("type");
        repl.exp_string("`[` is not closed").expect("why");
        repl.send_line("add 1 2 3").expect("type");
        repl.exp_string("add takes 2 params (a, b), got 3 values")
            .expect("why");

        repl.send_line(".quit").expect("type");
        repl.exp_eof().expect("the end");
        let status = repl.process().wait().expect("exit status");
        assert!(
            matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
            "{status:?}"
        );

        // The history is kept: the next session's Up arrow brings back `.quit`.
        let mut again = repl_at_terminal(&url2, &home2, &history2);
        keys(&mut again, "\x1b[A\r");
        again.exp_eof().expect("the end, by the .quit recalled");
    });
    t(session).await.expect("the terminal session");
    let kept = std::fs::read_to_string(&history).expect("the history file");
    assert!(kept.lines().any(|l| l == "add a=20 b=22"), "{kept}");
    t(running.shutdown()).await;
}

#[tokio::test]
async fn from_a_pipe_lines_are_handled_one_at_a_time() {
    let server = example_callbacks::server();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let mut child = Command::new(VOLLEY)
        .args(["repl", &running.ws_url(), "--no-history"])
        .args(["--answer", "confirm=true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start volley repl");
    let script = "add 1 2\nadd a=40 b=2\n\nask question=x\nnope 1\n.raw add [5, 6]\n";
    let mut stdin = child.stdin.take().expect("stdin");
    t(stdin.write_all(script.as_bytes())).await.expect("write");
    drop(stdin);
    let out = t(child.wait_with_output()).await.expect("the output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Results alone on stdout, in the order of the lines; the rest on stderr.
    assert_eq!(stdout, "3\n42\ntrue\n11\n", "{stderr}");
    assert!(
        stderr.contains("<- confirm [\"x\"]: answered true"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error -32601: Method not found"),
        "{stderr}"
    );
    t(running.shutdown()).await;
}
