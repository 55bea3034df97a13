//! Runs the Chromium tests of `tests/browser/` from Rust tests: finds what they need, runs
//! one script under Node with a deadline, and carries out the script's `CONTROL` requests
//! (see `tests/browser/harness.mjs`).
//!
//! ```no_run
//! # async fn page(base: &str) {
//! use std::time::Duration;
//! use volley_testing::browser;
//!
//! if !browser::ready() {
//!     return; // SKIPPED: ... went to stderr
//! }
//! browser::run_script("ping.test.mjs", base, Duration::from_secs(90), None).await;
//! # }
//! ```

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use crate::{tools, workspace_root};

/// The directory of the scripts and their npm packages.
fn scripts_dir() -> PathBuf {
    workspace_root().join("tests/browser")
}

/// Whether the browser tests can run (Node >= 20, `npm ci` in tests/browser, Chromium).
/// Otherwise prints `SKIPPED: <why>` and returns false, or panics when
/// `VOLLEY_REQUIRE_ALL=1`.
pub fn ready() -> bool {
    let root = workspace_root();
    tools::require(&[
        tools::node_at_least(20, "playwright-core"),
        tools::npm_packages(root, "tests/browser"),
        tools::has_dir(
            root,
            "tests/browser/node_modules/playwright-core",
            "cd tests/browser && npm ci",
        ),
        tools::chromium_available(),
    ])
}

/// One `CONTROL <command>` line from a script; answer through `reply` (an error message
/// fails the script's step).
#[derive(Debug)]
pub struct ControlRequest {
    /// The command, as the script wrote it after `CONTROL `.
    pub command: String,
    /// Where the outcome goes: `Ok` or an error message.
    pub reply: oneshot::Sender<Result<(), String>>,
}

/// Runs `node tests/browser/<script> <base>` and panics unless it exits 0 within `deadline`
/// after a closing `N passed, 0 failed` line with N > 0. `CONTROL` lines go to `control` (and
/// fail the script when there is none).
pub async fn run_script(
    script: &str,
    base: &str,
    deadline: Duration,
    control: Option<mpsc::UnboundedSender<ControlRequest>>,
) {
    let mut child = tokio::process::Command::new("node")
        .arg(scripts_dir().join(script))
        .arg(base)
        .current_dir(scripts_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });

    let conversation = async {
        let mut transcript = String::new();
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await.expect("read the script's output") {
            println!("[{script}] {line}");
            transcript.push_str(&line);
            transcript.push('\n');
            let Some(command) = line.strip_prefix("CONTROL ") else {
                continue;
            };
            let outcome = match &control {
                None => Err("this test takes no CONTROL requests".to_owned()),
                Some(control) => {
                    let (reply, answer) = oneshot::channel();
                    let request = ControlRequest {
                        command: command.to_owned(),
                        reply,
                    };
                    match control.send(request) {
                        Ok(()) => answer
                            .await
                            .unwrap_or_else(|_| Err("the driver dropped the request".into())),
                        Err(_) => Err("the driver stopped taking requests".into()),
                    }
                }
            };
            let answer = match outcome {
                Ok(()) => format!("OK {command}\n"),
                Err(why) => format!("ERR {command} {why}\n"),
            };
            // The script may have ended meanwhile; its exit status tells.
            let _ = stdin.write_all(answer.as_bytes()).await;
            let _ = stdin.flush().await;
        }
        let status = child.wait().await.expect("wait for node");
        (status, transcript)
    };
    let (status, transcript) = match tokio::time::timeout(deadline, conversation).await {
        Ok(done) => done,
        Err(_) => panic!("{script} ran longer than {deadline:?}"),
    };
    let stderr = tokio::time::timeout(Duration::from_secs(5), errors)
        .await
        .map(|r| r.unwrap_or_default())
        .unwrap_or_default();
    if !stderr.is_empty() {
        eprintln!("[{script} stderr]\n{stderr}");
    }
    assert!(
        status.success(),
        "{script} failed ({status}):\n{transcript}\n{stderr}"
    );
    let passed = checks_passed(&transcript)
        .unwrap_or_else(|| panic!("{script} printed no `N passed, 0 failed` line:\n{transcript}"));
    assert!(passed > 0, "{script} ran no check:\n{transcript}");
}

/// N of the script's closing `N passed, 0 failed` line (the summary of harness.mjs).
fn checks_passed(transcript: &str) -> Option<u32> {
    transcript
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_suffix(" passed, 0 failed")?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::checks_passed;

    #[test]
    fn the_summary_line_counts_the_checks() {
        assert_eq!(checks_passed("a\n3 passed, 0 failed\n"), Some(3));
        assert_eq!(checks_passed("2 passed, 1 failed\n"), None);
        assert_eq!(checks_passed("nothing\n"), None);
    }
}
