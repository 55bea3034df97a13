//! The `cluster` scenario's Redis: a `redis-server` child process on a free port of
//! 127.0.0.1 (on a given CPU, with `taskset`), kept in memory only, killed when stopped or
//! dropped; and the Redis round trip, timed with plain PINGs on a TCP connection of their
//! own (`*1\r\n$4\r\nPING\r\n`, answered `+PONG\r\n`), without a Redis client library.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::BoxError;
use crate::generator::WAIT;

/// How many ports are tried (another process may take a free port between our probe and
/// Redis's bind).
const ATTEMPTS: usize = 5;

/// The PING command and its answer, in RESP.
const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const PONG: &[u8] = b"+PONG\r\n";

/// Whether `redis-server` runs here.
pub(crate) fn available() -> bool {
    std::process::Command::new("redis-server")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A running `redis-server`.
pub(crate) struct Redis {
    /// Where it listens: `127.0.0.1:PORT`.
    pub(crate) addr: String,
    pub(crate) pid: u32,
    process: tokio::process::Child,
}

impl Redis {
    /// Starts `redis-server` (on CPU `cpu` when given) and waits until it accepts
    /// connections.
    pub(crate) async fn start(cpu: Option<usize>) -> Result<Self, BoxError> {
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let port = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await?
                .local_addr()?
                .port();
            match spawn(port, cpu).await {
                Ok(redis) => return Ok(redis),
                Err(why) => last = why.to_string(),
            }
        }
        Err(format!("redis-server did not start in {ATTEMPTS} attempts: {last}").into())
    }

    /// Kills it and waits until it has exited.
    pub(crate) async fn stop(mut self) {
        let _ = self.process.start_kill();
        let _ = tokio::time::timeout(WAIT, self.process.wait()).await;
    }
}

/// `redis-server` on `port`, once it logs that it accepts connections.
async fn spawn(port: u16, cpu: Option<usize>) -> Result<Redis, BoxError> {
    let mut line: Vec<String> = Vec::new();
    if let Some(cpu) = cpu {
        line.extend(["taskset".into(), "-c".into(), cpu.to_string()]);
    }
    line.push("redis-server".into());
    line.extend(["--port".into(), port.to_string()]);
    for arg in [
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        "",
        "--loglevel",
        "notice",
    ] {
        line.push(arg.into());
    }
    let mut process = tokio::process::Command::new(&line[0])
        .args(&line[1..])
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = process.id().ok_or("redis-server exited at once")?;
    let mut lines = BufReader::new(process.stdout.take().ok_or("no stdout")?).lines();
    let ready = async {
        let mut seen = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("Ready to accept connections") {
                return Ok(());
            }
            seen.push(line);
        }
        Err(format!("it exited:\n{}", seen.join("\n")))
    };
    match tokio::time::timeout(WAIT, ready).await {
        Ok(Ok(())) => {
            // The rest of its log is read and dropped, so the pipe never fills.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            Ok(Redis {
                addr: format!("127.0.0.1:{port}"),
                pid,
                process,
            })
        }
        Ok(Err(why)) => Err(why.into()),
        Err(_) => Err(format!("not ready within {WAIT:?}").into()),
    }
}

/// Sequential PINGs to the Redis at `addr` for `duration` (at least one), on a connection
/// of their own (Nagle off): each waits for the previous `+PONG`. Each round trip in
/// nanoseconds.
pub(crate) async fn pings(addr: &str, duration: Duration) -> Result<Vec<u64>, BoxError> {
    let mut socket = tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .map_err(|_| format!("could not connect to Redis at {addr} within {WAIT:?}"))??;
    socket.set_nodelay(true)?;
    let stop = Instant::now() + duration;
    let mut samples = Vec::with_capacity(1 << 16);
    let mut answer = [0u8; PONG.len()];
    loop {
        let start = Instant::now();
        socket.write_all(PING).await?;
        tokio::time::timeout_at(start + WAIT, socket.read_exact(&mut answer))
            .await
            .map_err(|_| "Redis did not answer PING in time")??;
        if answer != PONG {
            return Err(format!(
                "Redis answered PING with {:?}",
                String::from_utf8_lossy(&answer)
            )
            .into());
        }
        samples.push(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        if Instant::now() >= stop {
            return Ok(samples);
        }
    }
}
