//! An example's binary run as a user runs it, under a deadline.
//!
//! ```no_run
//! # async fn check() {
//! use volley_testing::process;
//!
//! // In an example's tests: env!("CARGO_BIN_EXE_example-ping").
//! let bin = "target/debug/example-ping";
//! let help = process::output(bin, &["--help"]).await;
//! assert!(help.status.success());
//! let (server, line) = process::spawn_until(bin, &["--addr", "127.0.0.1:0"], "open ").await;
//! println!("{line}");
//! drop(server); // killed
//! # }
//! ```

use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a run, or the wait for a line, may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Runs `program args` with no input to the end: its status and output. Panics when it runs
/// longer than [`DEADLINE`].
pub async fn output(program: &str, args: &[&str]) -> Output {
    let run = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} ran longer than {DEADLINE:?}"))
        .unwrap_or_else(|e| panic!("run {program}: {e}"))
}

/// Starts `program args` and reads its standard output up to the first line starting with
/// `prefix`: the running process (killed when dropped) and that line; the rest of its output is
/// read and dropped. Panics when no such line comes within [`DEADLINE`] or the output ends
/// first.
pub async fn spawn_until(program: &str, args: &[&str], prefix: &str) -> (Child, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = String::new();
    let wait = async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if line.starts_with(prefix) {
                return Some(line);
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        None
    };
    let line = tokio::time::timeout(DEADLINE, wait)
        .await
        .unwrap_or_else(|_| panic!("{program} printed no `{prefix}` line in {DEADLINE:?}"))
        .unwrap_or_else(|| panic!("{program} ended without a `{prefix}` line:\n{seen}"));
    // The rest is read and dropped, so the program never writes to a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, line)
}

/// Starts an example's server binary with `--addr 127.0.0.1:0`, reads the URL it prints
/// (`open http://127.0.0.1:<port>/`), and checks that `GET /` there answers `page`; the
/// process is killed afterwards.
pub async fn assert_serves_page(program: &str, page: &str) {
    let (mut server, line) = spawn_until(program, &["--addr", "127.0.0.1:0"], "open ").await;
    let addr: std::net::SocketAddr = line
        .strip_prefix("open http://")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(addr, _)| addr.parse().ok())
        .unwrap_or_else(|| panic!("not a URL to open: {line}"));
    assert!(addr.ip().is_loopback(), "{line}");
    let response = crate::http::get(addr, "/").await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, page);
    tokio::time::timeout(DEADLINE, server.kill())
        .await
        .expect("stopped in time")
        .expect("stop the server");
}

/// `program --help` succeeds and explains `--addr <HOST:PORT>` with its loopback default;
/// an unknown argument exits with status 2 and is named on stderr.
pub async fn assert_addr_help_and_refusal(program: &str) {
    let help = output(program, &["--help"]).await;
    assert!(help.status.success(), "{help:?}");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--addr <HOST:PORT>"), "{text}");
    assert!(text.contains("127.0.0.1:8080"), "{text}");
    let wrong = output(program, &["--port", "80"]).await;
    assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("--port"));
}
