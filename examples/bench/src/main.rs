//! volley's benchmark program. Run it in release mode:
//!
//! ```sh
//! cargo run --release -p example-bench
//! cargo run --release -p example-bench -- --calls 400000 --conns 4 --window 64 --idle 2000
//! cargo run --release -p example-bench -- --quick     # a short run that checks it works
//! ```
//!
//! It starts the server as a child process (pinned to CPU 0 with `taskset` when available;
//! the load generator takes CPU 1) and measures, against 127.0.0.1 only:
//! - throughput: `add` calls per second over `--conns` connections with `--window` calls in
//!   flight each;
//! - latency: p50/p99 of sequential calls on one connection;
//! - callbacks: `ask` calls per second, each of which calls the client back before answering;
//! - connect burst: time to open `--idle` WebSocket connections at once;
//! - memory: the server's resident memory per idle connection (from `/proc/<pid>/status`).

use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

/// The benchmark server's methods.
#[volley::rpc]
pub trait Bench {
    /// Adds two numbers.
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
    /// Calls the caller's `confirm` and returns its answer.
    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
}

/// The benchmark client's methods.
#[volley::rpc]
pub trait Answer {
    /// Always yes.
    async fn confirm(&self, question: String) -> volley::Result<bool>;
}

struct Server;
impl Bench for Server {
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64> {
        Ok(a + b)
    }
    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
        AnswerClient::new(cx.peer()).confirm(question).await
    }
}

struct Yes;
impl Answer for Yes {
    async fn confirm(&self, _question: String) -> volley::Result<bool> {
        Ok(true)
    }
}

/// volley's benchmark: throughput, latency, callbacks, connect burst and memory per idle
/// connection, against its own server on 127.0.0.1.
#[derive(Parser)]
#[command(name = "example-bench")]
struct Args {
    /// `add` calls in the throughput run (a quarter as many `ask` calls in the callbacks run)
    /// [default: 200000, 20000 with --quick]
    #[arg(long, value_name = "N")]
    calls: Option<usize>,
    /// Connections in the throughput run.
    #[arg(long, value_name = "N", default_value_t = 4)]
    conns: usize,
    /// Calls in flight on each connection.
    #[arg(long, value_name = "N", default_value_t = 64)]
    window: usize,
    /// Idle connections opened for the burst and memory figures, and again 100 at a time
    /// [default: 2000, 200 with --quick]
    #[arg(long, value_name = "N")]
    idle: Option<usize>,
    /// A short run that checks the benchmark works: fewer calls, latency samples and idle
    /// connections.
    #[arg(long)]
    quick: bool,
    /// Clients do not ask for session resumption (to measure what it costs).
    #[arg(long)]
    no_resume: bool,
    /// Be the benchmark's server (the benchmark starts itself with this).
    #[arg(long, hide = true)]
    serve: bool,
}

/// The sizes of one run.
struct Opts {
    calls: usize,
    conns: usize,
    window: usize,
    idle: usize,
    samples: usize,
    resume: bool,
}

/// A client builder as the options say (with or without resumption).
fn client(opts: &Opts) -> volley::ClientBuilder {
    let builder = volley::Client::builder();
    if opts.resume {
        builder
    } else {
        builder.resumption(None)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.serve {
        return serve().await;
    }
    let opts = Opts {
        calls: args
            .calls
            .unwrap_or(if args.quick { 20_000 } else { 200_000 }),
        conns: args.conns,
        window: args.window,
        idle: args.idle.unwrap_or(if args.quick { 200 } else { 2_000 }),
        samples: if args.quick { 1_000 } else { 10_000 },
        resume: !args.no_resume,
    };
    run(opts).await
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let server = volley::Server::builder()
        .add_service(Server.into_service())
        .add_remote_service::<AnswerClient>()
        .build();
    let running = server.listen("127.0.0.1:0").await?;
    println!("{}", running.ws_url());
    // Stop when the parent closes our stdin.
    let mut line = String::new();
    let _ = BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await;
    running.shutdown().await;
    Ok(())
}

fn taskset() -> bool {
    std::process::Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// CPU time (user + system) the process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime and stime are 14th and 15th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn run(opts: Opts) -> Result<(), Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let pinned = taskset();
    let mut cmd = if pinned {
        let mut c = tokio::process::Command::new("taskset");
        c.arg("-c").arg("0").arg(&exe);
        c
    } else {
        tokio::process::Command::new(&exe)
    };
    let mut child = cmd
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    if pinned {
        let me = std::process::id().to_string();
        let _ = std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", "1", &me])
            .stdout(Stdio::null())
            .status();
    }
    let pid = child.id().ok_or("server exited")?;
    let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), out.next_line())
        .await??
        .ok_or("server printed nothing")?;
    println!(
        "volley benchmark against {url} (server pid {pid}{}; clients {} session resumption)",
        if pinned {
            ", server on CPU 0, load on CPU 1"
        } else {
            ""
        },
        if opts.resume { "with" } else { "without" }
    );

    let cpu = cpu_time(pid);
    let calls = throughput(&url, &opts).await?;
    let used = cpu_time(pid) - cpu;
    println!(
        "  server CPU: {used:?} for {calls} calls = {:.2} us per call ({:.0} calls per server CPU-second)",
        used.as_secs_f64() * 1e6 / calls as f64,
        calls as f64 / used.as_secs_f64()
    );
    latency(&url, &opts).await?;
    callbacks(&url, &opts).await?;
    idle_memory(&url, pid, opts.idle).await?;

    drop(child.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    Ok(())
}

async fn throughput(url: &str, opts: &Opts) -> Result<usize, Box<dyn std::error::Error>> {
    let mut clients = Vec::new();
    for _ in 0..opts.conns {
        clients.push(client(opts).connect(url).await?);
    }
    let per_task = opts.calls / (opts.conns * opts.window);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in &clients {
        for _ in 0..opts.window {
            let stub = BenchClient::new(c.peer());
            tasks.push(tokio::spawn(async move {
                for i in 0..per_task as i64 {
                    let r = stub.add(i, 1).await.expect("add");
                    assert_eq!(r, i + 1);
                }
            }));
        }
    }
    for t in tasks {
        t.await?;
    }
    let total = per_task * opts.conns * opts.window;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "throughput: {total} add calls, {} connections x {} in flight: {:.0} calls/s",
        opts.conns,
        opts.window,
        total as f64 / secs
    );
    for c in clients {
        c.close();
    }
    Ok(total)
}

async fn latency(url: &str, opts: &Opts) -> Result<(), Box<dyn std::error::Error>> {
    let n = opts.samples;
    let c = client(opts).connect(url).await?;
    let stub = BenchClient::new(c.peer());
    let mut samples = Vec::with_capacity(n);
    for i in 0..n as i64 {
        let t = Instant::now();
        stub.add(i, 1).await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "latency: {n} sequential calls on one connection: p50 {:?}, p99 {:?}",
        samples[n / 2],
        samples[n * 99 / 100]
    );
    c.close();
    Ok(())
}

async fn callbacks(url: &str, opts: &Opts) -> Result<(), Box<dyn std::error::Error>> {
    let c = client(opts)
        .add_service(Yes.into_service())
        .connect(url)
        .await?;
    let per_task = (opts.calls / 4) / opts.window;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..opts.window {
        let stub = BenchClient::new(c.peer());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_task {
                assert!(stub.ask("ok?".into()).await.expect("ask"));
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let total = per_task * opts.window;
    println!(
        "callbacks: {total} ask calls (each calls the client back), {} in flight: {:.0} calls/s",
        opts.window,
        total as f64 / start.elapsed().as_secs_f64()
    );
    c.close();
    Ok(())
}

async fn idle_memory(url: &str, pid: u32, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let before = rss_kib(pid);
    let start = Instant::now();
    let conns = open(url, n).await?;
    let burst = start.elapsed();
    let after = rss_kib(pid);
    println!("connect burst: {n} connections opened at once (each answered one call) in {burst:?}");
    println!(
        "memory after the burst: server resident set {before} KiB -> {after} KiB with {n} idle connections: {:.1} KB per connection",
        (after.saturating_sub(before) as f64 * 1024.0) / n as f64 / 1000.0
    );
    // As many again, opened 100 at a time: the steady cost of an idle connection, without
    // the handshake buffers that a burst holds all at once.
    let mid = rss_kib(pid);
    let mut more = Vec::with_capacity(n);
    for _ in 0..n.div_ceil(100) {
        more.extend(open(url, 100).await?);
    }
    let end = rss_kib(pid);
    println!(
        "memory, opened 100 at a time: {mid} KiB -> {end} KiB for {} more idle connections: {:.1} KB per connection",
        more.len(),
        (end.saturating_sub(mid) as f64 * 1024.0) / more.len() as f64 / 1000.0
    );
    drop(conns);
    drop(more);
    Ok(())
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `n` connections at once; each answers one `rpc.ping` before it counts as open.
async fn open(url: &str, n: usize) -> Result<Vec<Ws>, tokio_tungstenite::tungstenite::Error> {
    futures_util::future::try_join_all((0..n).map(|_| async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
        ws.send(Message::Text(
            r#"{"jsonrpc":"2.0","id":1,"method":"rpc.ping"}"#.into(),
        ))
        .await?;
        let _ = ws.next().await;
        Ok::<_, tokio_tungstenite::tungstenite::Error>(ws)
    }))
    .await
}
