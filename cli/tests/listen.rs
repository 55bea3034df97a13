//! `volley listen` against example-callbacks' server run in this process: every request and
//! notification the server sends is one JSON line on stdout; requests are answered from
//! `--answer`, others refused with -32601 (stdin is not a terminal here); the program ends
//! with the connection.

mod common;

use std::process::Stdio;

use common::{VOLLEY, t};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn listen_prints_each_message_and_answers_from_its_answers() {
    let server = example_callbacks::server();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let url = running.ws_url();
    let mut child = Command::new(VOLLEY)
        .args(["listen", &url, "--answer", "confirm=true"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start volley listen");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next_line = async || -> Value {
        let line = t(lines.next_line()).await.expect("read").expect("a line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
    };
    let peer = match t(events.recv()).await.expect("an event") {
        volley_core::PeerEvent::Connected(peer) => peer,
        other => panic!("expected a connection, got {other:?}"),
    };
    let raw = |text: &str| Some(RawValue::from_string(text.to_owned()).expect("json"));

    // A request with an answer: answered, and printed.
    let answer = t(peer.request_raw("confirm", raw(r#"["ready?"]"#), None)).await;
    assert_eq!(answer.expect("answered").get(), "true");
    assert_eq!(
        next_line().await,
        json!({"kind": "request", "method": "confirm", "params": ["ready?"]})
    );
    // A request without one: refused with -32601, and printed.
    let refused = t(peer.request_raw("pick", raw(r#"{"from":[1,2]}"#), None)).await;
    match refused {
        Err(volley_core::Error::Remote(e)) => {
            assert_eq!(e.code(), -32601);
            let data = e.data().map(|d| d.get().to_owned()).unwrap_or_default();
            assert!(data.contains("--answer pick=JSON"), "{data}");
        }
        other => panic!("expected -32601, got {other:?}"),
    }
    assert_eq!(
        next_line().await,
        json!({"kind": "request", "method": "pick", "params": {"from": [1, 2]}})
    );
    // A notification, without params.
    t(peer.notify_raw("tick", None)).await.expect("sent");
    assert_eq!(
        next_line().await,
        json!({"kind": "notification", "method": "tick"})
    );
    // The server goes away (1001): the program ends, successfully.
    t(running.shutdown()).await;
    let status = t(child.wait()).await.expect("exit status");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn sigterm_closes_the_connection_cleanly_and_exits_0() {
    let server = example_callbacks::server();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let mut child = Command::new(VOLLEY)
        .args(["listen", &running.ws_url()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start volley listen");
    let peer = match t(events.recv()).await.expect("an event") {
        volley_core::PeerEvent::Connected(peer) => peer,
        other => panic!("expected a connection, got {other:?}"),
    };
    let pid = child.id().expect("a pid").to_string();
    let kill = t(Command::new("kill").args(["-TERM", &pid]).status()).await;
    assert!(kill.expect("run kill").success());
    let reason = t(peer.closed()).await;
    assert_eq!(reason.code, 1000, "{reason:?}");
    let status = t(child.wait()).await.expect("exit status");
    assert!(status.success(), "{status:?}");
    t(running.shutdown()).await;
}

#[tokio::test]
async fn listen_exits_2_when_it_cannot_connect() {
    let url = common::refusing_url().await;
    let out = common::volley(&["listen", &url, "--timeout", "5"]).await;
    assert_eq!(out.code(), Some(2), "{}", out.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_a_terminal_a_request_without_an_answer_is_asked_at_the_prompt() {
    let server = example_callbacks::server();
    let mut events = server.peers().subscribe();
    let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
    let url = running.ws_url();
    let runtime = tokio::runtime::Handle::current();
    let session = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(VOLLEY);
        command.args(["listen", &url]).env("TERM", "xterm");
        let mut listen =
            rexpect::session::spawn_command(command, Some(20_000)).expect("start volley listen");
        let peer = runtime.block_on(async {
            match t(events.recv()).await.expect("an event") {
                volley_core::PeerEvent::Connected(peer) => peer,
                other => panic!("expected a connection, got {other:?}"),
            }
        });
        let ask = |method: &'static str, params: &str| {
            let peer = peer.clone();
            let params = RawValue::from_string(params.to_owned()).expect("json");
            runtime.spawn(async move { t(peer.request_raw(method, Some(params), None)).await })
        };
        // A JSON line typed at the prompt is the answer.
        let pick = ask("pick", r#"{"from":[1,2]}"#);
        listen
            .exp_string(
                r#"answer {"kind":"request","method":"pick","params":{"from":[1,2]}} with JSON"#,
            )
            .expect("the question");
        listen.send_line("2").expect("type");
        let answer = runtime.block_on(t(pick)).expect("the call's task");
        assert_eq!(answer.expect("answered").get(), "2");
        // A word that is not JSON is a string; an empty line refuses the request.
        let name = ask("name", "[]");
        listen.exp_string("with JSON").expect("the question");
        listen.send_line("Ada").expect("type");
        let answer = runtime.block_on(t(name)).expect("the call's task");
        assert_eq!(answer.expect("answered").get(), "\"Ada\"");
        let refused = ask("pick", "[]");
        listen.exp_string("with JSON").expect("the question");
        listen.send_line("").expect("type");
        match runtime.block_on(t(refused)).expect("the call's task") {
            Err(volley_core::Error::Remote(e)) => assert_eq!(e.code(), -32601),
            other => panic!("expected -32601, got {other:?}"),
        }
        listen.send_control('c').expect("Ctrl-C");
        listen.exp_eof().expect("the end");
    });
    t(session).await.expect("the terminal session");
    t(running.shutdown()).await;
}
