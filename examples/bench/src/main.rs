//! volley's benchmark: volley side by side with jsonrpsee 0.26 and a raw WebSocket echo (the
//! ceiling), in one run, driven by the same load generator (issue 11). Run it in release mode:
//!
//! ```sh
//! cargo run --release -p example-bench                        # the five without thousands of connections (~6 min)
//! cargo run --release -p example-bench -- all                 # every scenario (~10 min)
//! cargo run --release -p example-bench -- throughput latency  # some of them
//! cargo run --release -p example-bench -- --quick             # every scenario, tiny (CI)
//! cargo run --release -p example-bench -- --duration 1 --repeats 3 own-clients
//! ```
//!
//! It starts three servers, each a child process of its own (the benchmark runs itself with
//! a hidden `--serve volley|jsonrpsee|echo`), all on the same tokio runtime configuration
//! (`--runtime`, current_thread by default) and pinned with `taskset` to CPU 0:
//! - volley's server (`servers/volley.rs`) with the builder's defaults;
//! - jsonrpsee 0.26's own `Server` over WebSocket with a trivial `add`;
//! - a tokio-tungstenite echo with batched flushes (write every ready frame, flush once when
//!   none is left), with volley's buffer sizes: the ceiling.
//!
//! The load generator (`generator/`) is this process, pinned to CPU 1, on a current_thread
//! runtime: raw tokio-tungstenite connections that write JSON-RPC text with a window of N
//! calls in flight per connection, flush once per batch, and check every answer. Everything
//! listens and connects on 127.0.0.1 only. The scenarios (`scenarios/`, each run at most
//! once, in this order):
//! - `throughput`: calls/s at 1 connection x 64 in flight and 100 x 10, every server;
//! - `latency`: p50/p99 of sequential calls, generator on another CPU (split) and on the
//!   servers' (same vCPU);
//! - `own-clients`: volley's `Client` against volley's server, jsonrpsee's `WsClient` against
//!   jsonrpsee's server, in the throughput shapes;
//! - `callbacks`: volley's server calling its client (1 x 64), against the client calling it;
//! - `notify`: one-way messages/s from the client to each server, and from volley's server
//!   to the client;
//! - `broadcast`: one notification from volley's server to 1,000 and 10,000 peers, timed
//!   until all have it;
//! - `memory`: server memory per idle connection at 10,000, every server, and the connect
//!   burst (10,000 at once);
//! - `scaling`: calls/s at 100, 1,000 and 5,000 connections, volley and jsonrpsee;
//! - `cluster`: three volley nodes joined through one `redis-server` (all started for it):
//!   the Redis round trip, awaited calls to a peer on the same node and on another (latency
//!   and throughput), and a broadcast to 1,000 peers (`--cluster-peers`) on one node and
//!   spread over the three (skipped, with a `SKIPPED:` line, when `redis-server` is not installed; a failure
//!   under `VOLLEY_REQUIRE_ALL=1`);
//! - `all`: every one;
//! - `layers` (not part of `all`): the echo on tokio-tungstenite (the ceiling) against the
//!   same echo on tokio-websockets, a fourth server started for it alone, in `throughput`'s
//!   shapes: would a faster WebSocket layer lift the ceiling?
//!
//! With no scenario it runs the first five (the ones that hold no thousands of connections);
//! with `--quick` and no scenario, every scenario at tiny sizes, in seconds (CI runs that
//! and checks only that it succeeds). Each figure is the median of `--repeats` runs of
//! `--duration` (min–max beside it), the servers taking turns; ratios compare medians of the
//! same run. A summary of the targets (issue 11's and the cluster's) closes the output: it
//! reports them and never fails the run. The run fails only when a measurement failed (a
//! lost or wrong answer, a timeout, a server gone). Every process raises its open-files
//! limit to the hard limit.

mod api;
mod generator;
mod report;
mod scenarios;
mod servers;
mod system;
mod targets;
mod wire;

use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::scenarios::Ctx;
use crate::servers::{Kind, Runtime, Servers};
use crate::targets::Targets;

/// Any error; the benchmark reports it and fails.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the benchmark can measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Scenario {
    /// calls/s, 1 connection x 64 in flight and 100 x 10, every server
    Throughput,
    /// p50/p99 of sequential calls, load generator on another CPU and on the same
    Latency,
    /// each framework's own client against its own server
    OwnClients,
    /// volley's server calling its client, against the client calling the server
    Callbacks,
    /// one-way messages/s, client to server (and volley's server to client)
    Notify,
    /// one notification to --peers peers: time until all have it (volley)
    Broadcast,
    /// server memory per idle connection (--idle of them), and the connect burst
    Memory,
    /// calls/s at --scaling connections, volley and jsonrpsee
    Scaling,
    /// three volley nodes joined through Redis: cross-node awaited calls and broadcast
    /// against one node's, and the Redis round trip (needs redis-server)
    Cluster,
    /// every scenario above
    All,
    /// echo servers on two WebSocket layers: tokio-tungstenite (the ceiling) and
    /// tokio-websockets
    Layers,
    /// instructions per call under callgrind, checked against the recorded figure (needs
    /// valgrind; not part of `all`)
    Instructions,
}

/// volley's benchmark: volley, jsonrpsee 0.26 and a raw tokio-tungstenite echo (the
/// ceiling), each server in its own process pinned to CPU 0, driven by the same raw load
/// generator pinned to CPU 1, over 127.0.0.1.
///
/// With no SCENARIO it runs throughput, latency, own-clients, callbacks and notify; with
/// --quick and no SCENARIO, every scenario at tiny sizes.
///
/// Each figure is the median of --repeats runs of --duration, with the range. A closing
/// summary checks the targets (issue 11's and the cluster's) as ratios from this run and
/// never fails it: the exit status is non-zero only when a measurement failed (a lost or
/// wrong answer, a timeout, a server gone).
#[derive(Parser)]
#[command(name = "example-bench")]
struct Args {
    /// What to measure (each at most once, in the order listed below)
    #[arg(value_enum, value_name = "SCENARIO")]
    scenarios: Vec<Scenario>,
    /// A short run that checks the benchmark works (CI): tiny durations and sizes, no
    /// warm-up, one repeat
    #[arg(long)]
    quick: bool,
    /// Seconds per measured run [default: 3, 0.1 with --quick]
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// Measured runs per figure (the median is reported) [default: 5, 1 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    repeats: Option<u32>,
    /// The tokio runtime of every server
    #[arg(long, value_enum, default_value_t = Runtime::CurrentThread)]
    runtime: Runtime,
    /// Idle connections per server in `memory` [default: 10000, 200 with --quick]
    #[arg(long, value_name = "N")]
    idle: Option<usize>,
    /// Connection counts in `scaling` [default: 100,1000,5000; 10,50,100 with --quick]
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    scaling: Vec<usize>,
    /// Connected peers the broadcast goes to, one row per count
    /// [default: 1000,10000; 200,1000 with --quick]
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    peers: Vec<usize>,
    /// Peers the cluster's broadcast goes to [default: 1000, 200 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    cluster_peers: Option<u64>,
    /// Measured broadcasts per count of peers (broadcast) and per placement (cluster), after
    /// one warm-up [default: 5 in broadcast, 20 in cluster; 3 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    rounds: Option<u32>,
    /// volley's clients (own-clients, broadcast) do not ask for session resumption
    #[arg(long)]
    no_resume: bool,
    /// Where `instructions` keeps callgrind's output files, to read with callgrind_annotate
    /// [default: a temporary directory, removed after]
    #[arg(long, value_name = "DIR")]
    callgrind_dir: Option<std::path::PathBuf>,
    /// Be one of the benchmark's servers (the benchmark starts itself with this).
    #[arg(long, hide = true, value_enum)]
    serve: Option<Kind>,
    /// The Redis a cluster node joins through, `127.0.0.1:PORT` (with `--serve volley-node`).
    #[arg(long, hide = true, value_name = "ADDR")]
    redis: Option<String>,
}

/// The sizes of one run.
pub(crate) struct Opts {
    pub(crate) scenarios: Vec<Scenario>,
    pub(crate) quick: bool,
    pub(crate) duration: Duration,
    pub(crate) warmup: Duration,
    pub(crate) repeats: usize,
    pub(crate) runtime: Runtime,
    pub(crate) idle: usize,
    pub(crate) scaling: Vec<usize>,
    pub(crate) peers: Vec<usize>,
    pub(crate) cluster_peers: usize,
    pub(crate) rounds: usize,
    pub(crate) cluster_rounds: usize,
    pub(crate) resume: bool,
    pub(crate) callgrind_dir: Option<std::path::PathBuf>,
}

impl Opts {
    fn from(args: Args) -> Self {
        let quick = args.quick;
        let or =
            |given: Vec<usize>, full: &[usize], small: &[usize]| match (given.is_empty(), quick) {
                (false, _) => given,
                (true, false) => full.to_vec(),
                (true, true) => small.to_vec(),
            };
        let duration = Duration::from_secs_f64(
            args.duration
                .unwrap_or(if quick { 0.1 } else { 3.0 })
                .clamp(0.01, 3600.0),
        );
        Self {
            scenarios: scenarios(&args.scenarios, quick),
            quick,
            duration,
            warmup: if quick {
                Duration::ZERO
            } else {
                duration.min(Duration::from_secs(1))
            },
            repeats: args.repeats.unwrap_or(if quick { 1 } else { 5 }) as usize,
            runtime: args.runtime,
            idle: args.idle.unwrap_or(if quick { 200 } else { 10_000 }),
            scaling: or(args.scaling, &[100, 1_000, 5_000], &[10, 50, 100]),
            peers: or(args.peers, &[1_000, 10_000], &[200, 1_000]),
            cluster_peers: args
                .cluster_peers
                .map_or(if quick { 200 } else { 1_000 }, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                }),
            rounds: args.rounds.unwrap_or(if quick { 3 } else { 5 }) as usize,
            // A round of the cluster's broadcast takes milliseconds: more of them steady the
            // median.
            cluster_rounds: args.rounds.unwrap_or(if quick { 3 } else { 20 }) as usize,
            resume: !args.no_resume,
            callgrind_dir: args.callgrind_dir,
        }
    }
}

/// The scenarios to run, each once, in order.
fn scenarios(asked: &[Scenario], quick: bool) -> Vec<Scenario> {
    use Scenario::*;
    let every = [
        Throughput, Latency, OwnClients, Callbacks, Notify, Broadcast, Memory, Scaling, Cluster,
    ];
    let mut chosen: Vec<Scenario> = if asked.contains(&All) || (asked.is_empty() && quick) {
        every.to_vec()
    } else if asked.is_empty() {
        vec![Throughput, Latency, OwnClients, Callbacks, Notify]
    } else {
        Vec::new()
    };
    // `layers` and `instructions` are never implied; asked for, they come last, in that
    // order.
    chosen.extend(asked.iter().filter(|&&s| s != All));
    chosen.sort_unstable();
    chosen.dedup();
    chosen
}

/// A volley client builder as the options say (with or without resumption).
pub(crate) fn client_builder(opts: &Opts) -> volley::ClientBuilder {
    let builder = volley::Client::builder();
    if opts.resume {
        builder
    } else {
        builder.resumption(None)
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if let Some(kind) = args.serve {
        return match servers::serve(kind, args.runtime, args.redis.as_deref()) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("example-bench server ({}): {e}", kind.label());
                std::process::ExitCode::FAILURE
            }
        };
    }
    let opts = Opts::from(args);
    let cpus = system::cpu_count();
    let placement = system::taskset().then_some(if cpus >= 2 { (0, 1) } else { (0, 0) });
    // Before the runtime starts, so that every thread it makes inherits the CPU.
    let pinned = placement.is_some_and(|(_, load)| system::pin_self(load));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(opts, placement.filter(|_| pinned))) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("example-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Starts the servers, runs the scenarios, prints the targets; whether every measurement
/// succeeded.
async fn run(opts: Opts, placement: Option<(usize, usize)>) -> Result<bool, BoxError> {
    let files = system::raise_nofile();
    let before = system::idle_check(if opts.quick {
        Duration::from_millis(100)
    } else {
        Duration::from_millis(500)
    })
    .await;
    let servers = Servers::start(opts.runtime, placement.map(|(server, _)| server)).await?;

    println!(
        "volley benchmark (issue 11): volley, jsonrpsee 0.26 and a tokio-tungstenite echo (the ceiling), one load generator"
    );
    println!("machine:     {}", system::machine());
    let me = std::process::id();
    let procs: Vec<String> = servers
        .all
        .iter()
        .map(|c| format!("{} pid {}", c.kind.label(), c.pid))
        .collect();
    let allowed = |pid| system::allowed_cpus(pid);
    match placement {
        Some((server, load)) => println!(
            "placement:   servers on CPU {server} ({}; allowed CPUs {}), load generator on CPU {load} (pid {me}; allowed CPUs {}), pinned with taskset",
            procs.join(", "),
            servers
                .all
                .iter()
                .map(|c| allowed(c.pid))
                .collect::<Vec<_>>()
                .join(", "),
            allowed(me)
        ),
        None => println!(
            "placement:   NOT pinned (taskset missing or refused): figures swing with the scheduler ({})",
            procs.join(", ")
        ),
    }
    println!(
        "runtimes:    every server on {}; the load generator on a tokio current_thread runtime",
        opts.runtime.describe()
    );
    println!(
        "figures:     {} of {:?}{}, servers taking turns; 127.0.0.1 only",
        if opts.repeats == 1 {
            "one run".to_owned()
        } else {
            format!("median of {} runs (min–max)", opts.repeats)
        },
        opts.duration,
        if opts.warmup.is_zero() {
            String::new()
        } else {
            format!(", after a {:?} warm-up", opts.warmup)
        }
    );
    let busy: Vec<String> = before
        .iter()
        .enumerate()
        .map(|(cpu, b)| format!("CPU {cpu} {:.0}%", b * 100.0))
        .collect();
    println!(
        "load check:  busy before the run: {}{}",
        busy.join(", "),
        if before.iter().any(|&b| b > 0.2) {
            " (other work is running: expect low and noisy figures)"
        } else {
            ""
        }
    );
    println!(
        "open files:  limit {} (hard {}){}",
        files.soft,
        files.hard,
        files
            .error
            .map(|e| format!("; raising it failed: {e}"))
            .unwrap_or_default()
    );
    println!();

    let mut ctx = Ctx {
        servers,
        targets: Targets::default(),
        placement,
        opts,
    };
    let mut failed = Vec::new();
    for scenario in ctx.opts.scenarios.clone() {
        if let Err(e) = scenarios::run(scenario, &mut ctx).await {
            let name = scenario
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            println!("{name}: FAILED: {e}\n");
            failed.push(name);
        }
    }
    ctx.targets.print(ctx.opts.quick);
    ctx.servers.stop().await;
    if failed.is_empty() {
        Ok(true)
    } else {
        println!("failed measurements: {}", failed.join(", "));
        Ok(false)
    }
}
