//! volley's benchmark program. Run it in release mode:
//!
//! ```sh
//! cargo run --release -p example-bench                # throughput, latency, callbacks, idle
//! cargo run --release -p example-bench -- broadcast   # one notification to 1,000 and 10,000 peers
//! cargo run --release -p example-bench -- all         # everything
//! cargo run --release -p example-bench -- --calls 400000 --conns 4 --window 64 --idle 2000
//! cargo run --release -p example-bench -- --quick     # a short run that checks it works
//! ```
//!
//! It starts the server as a child process (pinned to CPU 0 with `taskset` when available;
//! the load generator takes CPU 1) and measures, against 127.0.0.1 only, the scenarios named
//! on the command line (each at most once, in this order):
//! - `throughput`: `add` calls per second over `--conns` connections with `--window` calls in
//!   flight each, and the server's CPU time per call;
//! - `latency`: p50/p99 of sequential calls on one connection;
//! - `callbacks`: `ask` calls per second, each of which calls the client back before answering;
//! - `idle`: connect burst, the time to open `--idle` WebSocket connections at once, and the
//!   server's resident memory per idle connection (from `/proc/<pid>/status`);
//! - `broadcast`: one notification to each count of `--peers` connected peers (1,000 and
//!   10,000; 200 and 1,000 with `--quick`): the time from just before a client asks the
//!   server to broadcast until every peer has read it, median and range of `--rounds` rounds
//!   after one warm-up round, and the server's time to encode and queue it (per peer too);
//! - `all`: every scenario above.
//!
//! With no scenario it runs `throughput latency callbacks idle`, as it always has, and
//! `broadcast` too with `--quick`, so that the short run CI does exercises every scenario.
//! The broadcast raises the open-files limit of both processes to the hard limit (each peer
//! is a socket on both sides) and says so when that is too low for a count.

mod broadcast;
mod calls;
mod idle;
mod server;
mod system;

use std::process::Stdio;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use tokio::io::{AsyncBufReadExt, BufReader};
use volley::schemars;

/// The benchmark server's methods.
#[volley::rpc]
pub trait Bench {
    /// Adds two numbers.
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
    /// Calls the caller's `confirm` and returns its answer.
    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
    /// Makes the caller one of the listeners that `broadcast` sends to.
    async fn listen(&self, cx: &volley::Context) -> volley::Result<bool>;
    /// Sends `tick(seq)` to every listener and says what that did and how long it took.
    async fn broadcast(&self, cx: &volley::Context, seq: u64) -> volley::Result<Broadcast>;
    /// The server's open-files limit (each connection takes one).
    async fn open_files(&self) -> volley::Result<u64>;
}

/// The benchmark client's methods.
#[volley::rpc]
pub trait Answer {
    /// Always yes.
    async fn confirm(&self, question: String) -> volley::Result<bool>;
}

/// What the broadcast's listeners are sent.
#[volley::rpc]
pub trait Listener {
    /// One broadcast, numbered.
    #[rpc(notification)]
    async fn tick(&self, seq: u64);
}

/// What one `broadcast` did on the server.
#[derive(Debug, volley::serde::Serialize, volley::serde::Deserialize, volley::JsonSchema)]
#[serde(crate = "volley::serde")]
pub struct Broadcast {
    /// Listeners the tick was queued for.
    pub queued: usize,
    /// Listeners whose outgoing queue was full.
    pub overflowed: usize,
    /// Listeners that had gone.
    pub gone: usize,
    /// Nanoseconds the server took to encode the tick and queue it for every listener.
    pub nanos: u64,
}

/// What the benchmark can measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Scenario {
    /// `add` calls per second, and the server's CPU time per call
    Throughput,
    /// p50/p99 of sequential calls on one connection
    Latency,
    /// `ask` calls per second, each calling the client back
    Callbacks,
    /// connect burst, and the server's memory per idle connection
    Idle,
    /// one notification to --peers connected peers: time until all have it
    Broadcast,
    /// every scenario
    All,
}

/// volley's benchmark: throughput, latency, callbacks, connect burst, memory per idle
/// connection and broadcast, against its own server on 127.0.0.1.
///
/// With no SCENARIO it runs throughput, latency, callbacks and idle (and broadcast too with
/// --quick).
#[derive(Parser)]
#[command(name = "example-bench")]
struct Args {
    /// What to measure (each at most once, in the order listed below)
    #[arg(value_enum, value_name = "SCENARIO")]
    scenarios: Vec<Scenario>,
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
    /// Connected peers the broadcast goes to, one measurement per count
    /// [default: 1000,10000; 200,1000 with --quick]
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    peers: Vec<usize>,
    /// Measured broadcasts per count of peers, after one warm-up
    /// [default: 5, 3 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    rounds: Option<u32>,
    /// A short run that checks the benchmark works: fewer calls, latency samples, idle
    /// connections, peers and rounds.
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
    scenarios: Vec<Scenario>,
    calls: usize,
    conns: usize,
    window: usize,
    idle: usize,
    samples: usize,
    peers: Vec<usize>,
    rounds: usize,
    resume: bool,
}

/// The scenarios to run, each once, in order.
fn scenarios(args: &Args) -> Vec<Scenario> {
    use Scenario::*;
    let mut chosen = if args.scenarios.contains(&All) {
        vec![Throughput, Latency, Callbacks, Idle, Broadcast]
    } else if args.scenarios.is_empty() {
        let mut today = vec![Throughput, Latency, Callbacks, Idle];
        if args.quick {
            today.push(Broadcast);
        }
        today
    } else {
        args.scenarios.clone()
    };
    chosen.sort_unstable();
    chosen.dedup();
    chosen
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
        return server::serve().await;
    }
    let opts = Opts {
        scenarios: scenarios(&args),
        calls: args
            .calls
            .unwrap_or(if args.quick { 20_000 } else { 200_000 }),
        conns: args.conns,
        window: args.window,
        idle: args.idle.unwrap_or(if args.quick { 200 } else { 2_000 }),
        samples: if args.quick { 1_000 } else { 10_000 },
        peers: match (args.peers.is_empty(), args.quick) {
            (false, _) => args.peers,
            (true, false) => vec![1_000, 10_000],
            (true, true) => vec![200, 1_000],
        },
        rounds: args.rounds.unwrap_or(if args.quick { 3 } else { 5 }) as usize,
        resume: !args.no_resume,
    };
    run(opts).await
}

/// Starts the server, runs the scenarios against it, and stops it.
async fn run(opts: Opts) -> Result<(), Box<dyn std::error::Error>> {
    // Before the server starts, which inherits it: the broadcast needs a socket per peer.
    let _ = system::raise_nofile();
    let exe = std::env::current_exe()?;
    let pinned = system::taskset();
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

    for scenario in &opts.scenarios {
        match scenario {
            Scenario::Throughput => {
                let cpu = system::cpu_time(pid);
                let calls = calls::throughput(&url, &opts).await?;
                let used = system::cpu_time(pid) - cpu;
                println!(
                    "  server CPU: {used:?} for {calls} calls = {:.2} us per call ({:.0} calls per server CPU-second)",
                    used.as_secs_f64() * 1e6 / calls as f64,
                    calls as f64 / used.as_secs_f64()
                );
            }
            Scenario::Latency => calls::latency(&url, &opts).await?,
            Scenario::Callbacks => calls::callbacks(&url, &opts).await?,
            Scenario::Idle => idle::idle_memory(&url, pid, opts.idle).await?,
            Scenario::Broadcast => broadcast::broadcast(&url, pid, &opts).await?,
            // Expanded into the others by `scenarios`.
            Scenario::All => {}
        }
    }

    drop(child.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    Ok(())
}
