//! A `redis-server` of the test's own ([`RedisServer`]): on a free port of 127.0.0.1, kept in
//! memory only (no snapshot, no append-only file), stopped when dropped, and restartable on
//! the same port for the tests of a Redis that goes away and comes back, or freezable for
//! those of one that stops answering.
//!
//! ```no_run
//! # async fn test() {
//! use volley_testing::redis::RedisServer;
//!
//! let Some(mut redis) = RedisServer::start().await else {
//!     return; // SKIPPED: redis-server is missing, ... went to stderr
//! };
//! let url = redis.url(); // redis://127.0.0.1:PORT/
//! redis.stop().await;
//! redis.restart().await;
//! # }
//! ```

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::tools::{self, Check};

/// How long a server may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How many ports are tried before giving up (another process may take a port between our
/// probe and the server's bind).
const ATTEMPTS: usize = 5;

/// Whether `redis-server` runs here.
pub fn available() -> Check {
    let runs = std::process::Command::new("redis-server")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if runs {
        Ok(())
    } else {
        Err("redis-server is missing, install with `apt-get install -y redis-server`".into())
    }
}

/// A `redis-server` process of one test.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it accepts connections. `None` (after
    /// `SKIPPED: ...` on stderr) when `redis-server` is missing; a panic instead under
    /// `VOLLEY_REQUIRE_ALL=1`, or when it does not start.
    pub async fn start() -> Option<Self> {
        if !tools::require(&[available()]) {
            return None;
        }
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let port = free_port().await;
            match spawn(port).await {
                Ok(child) => {
                    return Some(Self {
                        child: Some(child),
                        port,
                    });
                }
                Err(why) => last = why,
            }
        }
        panic!("redis-server did not start in {ATTEMPTS} attempts: {last}");
    }

    /// Its URL: `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it (its data goes with it) and waits until it has exited.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(READY_TIMEOUT, child.wait()).await;
        }
    }

    /// Freezes it (`SIGSTOP`, through the `kill` program): it keeps its connections and its
    /// port but answers nothing until [`resume`](Self::resume). Check
    /// [`tools::kill_available`] first.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets it run again after [`pause`](Self::pause) (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, name: &str) {
        let pid = self
            .child
            .as_ref()
            .and_then(Child::id)
            .expect("a running redis-server");
        let status = std::process::Command::new("kill")
            .args([name, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {name} {pid}: {status}");
    }

    /// Starts it again on the same port (after [`stop`](Self::stop)), empty, and waits until
    /// it accepts connections. Panics when the port was taken in between.
    pub async fn restart(&mut self) {
        self.stop().await;
        let child = spawn(self.port)
            .await
            .unwrap_or_else(|why| panic!("redis-server did not restart: {why}"));
        self.child = Some(child);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.start_kill();
        }
    }
}

/// A port nothing listens on now.
async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a probe");
    listener.local_addr().expect("its address").port()
}

/// `redis-server` on `port`, once it logs that it accepts connections.
async fn spawn(port: u16) -> Result<Child, String> {
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--logfile", "", "--loglevel", "notice"])
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run redis-server: {e}"))?;
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let ready = async {
        let mut seen = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("Ready to accept connections") {
                return Ok(());
            }
            seen.push(line);
        }
        Err(seen.join("\n"))
    };
    match tokio::time::timeout(READY_TIMEOUT, ready).await {
        Ok(Ok(())) => {
            // The rest of its log is read and dropped, so the pipe never fills.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            Ok(child)
        }
        Ok(Err(log)) => {
            let _ = child.start_kill();
            Err(format!("it exited:\n{log}"))
        }
        Err(_) => {
            let _ = child.start_kill();
            Err(format!("not ready within {READY_TIMEOUT:?}"))
        }
    }
}
