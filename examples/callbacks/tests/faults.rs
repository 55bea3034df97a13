//! Faults with real processes: a server killed (SIGKILL) in the middle of a burst of calls
//! from several clients and restarted on the same port, and a client killed while the
//! server's calls to it are in flight. Every call resolves, with a result or an error that
//! names the cause, within a bounded time.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::t;
use example_callbacks::{BrowserClient, Calc, Calculator};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use volley::{PeerEvent, Resumption, Server};
use volley_testing::process;

const SERVER: &str = env!("CARGO_BIN_EXE_example-callbacks");
const CLIENT: &str = env!("CARGO_BIN_EXE_client");

/// Starts the server binary on `addr` (retrying while a killed one's port is being freed);
/// returns it and its WebSocket URL.
async fn start_server(addr: &str) -> (Child, String) {
    let (child, line) = process::spawn_until(SERVER, &["--addr", addr], "connect to ").await;
    let url = line.strip_prefix("connect to ").expect("a URL").to_owned();
    (child, url)
}

/// A `--repeat` client, its output lines as they come, and its exit status at the end.
struct Repeat {
    child: Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    all: Vec<String>,
}

impl Repeat {
    fn start(url: &str, args: &[&str]) -> Repeat {
        let mut child = Command::new(CLIENT)
            .args(["--url", url])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the client");
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Repeat {
            child,
            lines,
            all: Vec::new(),
        }
    }

    /// Waits until `n` calls have an outcome line.
    async fn outcomes(&mut self, n: usize) {
        while self.all.iter().filter(|l| l.starts_with("add(")).count() < n {
            let line = t(self.lines.recv()).await.expect("the client ended early");
            self.all.push(line);
        }
    }

    /// Waits for the end: the summary's numbers and whether it exited 0.
    async fn finish(mut self) -> (Summary, bool, Vec<String>) {
        while let Some(line) = t(self.lines.recv()).await {
            self.all.push(line);
        }
        let status = t(self.child.wait()).await.expect("wait");
        let line = self
            .all
            .iter()
            .find(|l| l.starts_with("summary: "))
            .unwrap_or_else(|| panic!("no summary in {:#?}", self.all))
            .clone();
        (Summary::parse(&line), status.success(), self.all)
    }
}

#[derive(Debug, PartialEq)]
struct Summary {
    total: u64,
    ok: u64,
    failed: u64,
    unresolved: u64,
    reconnects: u64,
}

impl Summary {
    fn parse(line: &str) -> Summary {
        let value = |key: &str| -> u64 {
            line.split(' ')
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("no {key} in {line}"))
                .parse()
                .unwrap()
        };
        Summary {
            total: value("total"),
            ok: value("ok"),
            failed: value("failed"),
            unresolved: value("unresolved"),
            reconnects: value("reconnects"),
        }
    }
}

/// Kills the server mid-burst of three `--repeat` clients run with `args`, restarts it on
/// the same port, and returns each client's summary, exit and output.
async fn kill_and_restart(args: &[&str]) -> Vec<(Summary, bool, Vec<String>)> {
    let (mut server, url) = start_server("127.0.0.1:0").await;
    let addr = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.strip_suffix("/ws"))
        .expect("ws://host:port/ws")
        .to_owned();
    let mut clients: Vec<Repeat> = (0..3)
        .map(|_| {
            let mut all = vec!["--repeat", "40", "--interval-ms", "25"];
            all.extend_from_slice(args);
            Repeat::start(&url, &all)
        })
        .collect();
    for c in &mut clients {
        c.outcomes(8).await;
    }
    t(server.kill()).await.expect("SIGKILL the server");
    let (_restarted, again) = start_server(&addr).await;
    assert_eq!(again, url, "the same port");
    let mut out = Vec::new();
    for c in clients {
        out.push(c.finish().await);
    }
    out
}

#[tokio::test]
async fn a_server_killed_mid_burst_and_restarted_loses_no_call_of_a_resuming_client() {
    for (summary, exited_0, lines) in kill_and_restart(&[]).await {
        assert_eq!(summary.total, 40, "{lines:#?}");
        assert_eq!(summary.unresolved, 0, "{lines:#?}");
        assert!(summary.reconnects >= 1, "{lines:#?}");
        // `add` is idempotent: what was in flight is sent again to the new server, and what
        // was made while it was down waited in the session's queue.
        assert_eq!((summary.ok, summary.failed), (40, 0), "{lines:#?}");
        assert!(exited_0);
    }
}

#[tokio::test]
async fn without_resumption_every_call_still_resolves_with_a_reason() {
    for args in [&["--no-resume"][..], &["--no-reconnect"][..]] {
        for (summary, exited_0, lines) in kill_and_restart(args).await {
            assert_eq!(summary.unresolved, 0, "{args:?}: {lines:#?}");
            assert_eq!(summary.ok + summary.failed, 40, "{args:?}: {lines:#?}");
            assert!(summary.ok >= 8, "{args:?}: {lines:#?}");
            assert!(exited_0);
            for line in lines.iter().filter(|l| l.contains(" failed: ")) {
                assert!(
                    line.ends_with("peer disconnected")
                        || line.ends_with("not connected (reconnecting)"),
                    "{args:?}: a failure names its cause: {line}"
                );
            }
            if args == ["--no-reconnect"] {
                assert_eq!(summary.reconnects, 0);
            }
        }
    }
}

/// Resolves once the process is stopped (state `T` in `/proc/<pid>/stat`).
async fn stopped(child: &Child) {
    let stat = format!("/proc/{}/stat", child.id().expect("running"));
    loop {
        let text = std::fs::read_to_string(&stat).expect("the process's stat");
        // The state follows the parenthesised command name: `pid (name) T ...`.
        let state = text
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        if state == Some('T') {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// Sends a signal to a process.
fn signal(child: &Child, name: &str) {
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args([name, &pid])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// A client killed while the server's calls to it wait: they fail, promptly without
/// resumption, at the end of the grace period with it.
#[tokio::test]
async fn a_killed_client_s_pending_callbacks_fail_on_the_server() {
    // The client is frozen with SIGSTOP through the `kill` program.
    if !volley_testing::tools::require(&[volley_testing::tools::kill_available()]) {
        return;
    }
    for resumption in [
        None,
        Some(Resumption::default().grace_period(Duration::from_millis(300))),
    ] {
        let server = Server::builder()
            .add_service(Calc.into_service())
            .add_remote_service::<BrowserClient>()
            .resumption(resumption.clone())
            .build();
        let mut events = server.peers().subscribe();
        let running = t(server.listen("127.0.0.1:0")).await.expect("listen");
        let mut client = Command::new(CLIENT)
            .args(["--url", &running.ws_url(), "--ticks", "1000"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the client");
        let PeerEvent::Connected(peer) = t(events.recv()).await.expect("event") else {
            panic!("expected a connection")
        };
        // Frozen, the client answers nothing: the server's calls stay pending. `kill` returns
        // once the signal is sent; the process is frozen when the kernel says it is stopped.
        signal(&client, "-STOP");
        t(stopped(&client)).await;
        let browser = BrowserClient::new(&peer);
        let calls: Vec<_> = (0..3)
            .map(|i| {
                let browser = browser.clone();
                tokio::spawn(async move { browser.confirm(format!("question {i}")).await })
            })
            .collect();
        t(async {
            while peer.pending_calls() < 3 {
                tokio::task::yield_now().await;
            }
        })
        .await;
        let killed = tokio::time::Instant::now();
        t(client.kill()).await.expect("SIGKILL the client");
        for call in calls {
            let err = t(call).await.expect("task").unwrap_err();
            assert!(err.is_disconnected(), "{resumption:?}: {err:?}");
        }
        let took = killed.elapsed();
        match &resumption {
            None => assert!(took < Duration::from_secs(2), "promptly: {took:?}"),
            Some(r) => assert!(
                took >= r.grace() && took < r.grace() + Duration::from_secs(2),
                "at the end of the grace period: {took:?}"
            ),
        }
        t(running.shutdown()).await;
    }
}
