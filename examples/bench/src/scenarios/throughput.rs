//! `throughput`: `add` calls per second from the raw load generator to each server, in two
//! shapes: 1 connection with 64 calls in flight, and 100 connections with 10 each.

use std::time::Duration;

use super::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::generator::pipeline::{Calls, pipeline};
use crate::generator::{self, Run};
use crate::report::{Table, ratio};
use crate::servers::Kind;
use crate::system::{Ticks, cpu_clock, cpu_time, per_item, user_and_kernel};
use crate::targets::Goal;
use crate::{BoxError, Opts};

/// The shapes: (connections, calls in flight per connection).
pub(crate) const SHAPES: [(usize, usize); 2] = [(1, 64), (100, 10)];

/// The servers, ceiling first.
pub(crate) const KINDS: [Kind; 3] = [Kind::Echo, Kind::Jsonrpsee, Kind::Volley];

/// How the generator calls `kind`.
pub(crate) fn calls(kind: Kind) -> Calls {
    if matches!(kind, Kind::Echo | Kind::EchoTokioWebsockets) {
        Calls::ECHO
    } else {
        Calls::ADD
    }
}

pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    for (conns, window) in SHAPES {
        let load = ctx.load();
        let urls = KINDS.map(|k| ctx.url(k));
        let pids = KINDS.map(|k| ctx.pid(k));
        let results = measure_shape(&ctx.opts, &KINDS, &urls, &pids, conns, window).await?;

        let shape = format!("{conns}x{window}");
        let runs: Vec<Vec<Run>> = results
            .iter()
            .map(|r| r.iter().map(|m| m.run).collect())
            .collect();
        let stats: Vec<_> = runs.iter().map(|r| rates(r)).collect();
        let [echo, jsonrpsee, volley] = [&stats[0], &stats[1], &stats[2]];
        let mut table = Table::new(&[
            &format!("throughput {shape}"),
            "calls/s median (min–max)",
            "server CPU per call (user + kernel)",
            "CPU busy: server, load",
            "vs jsonrpsee",
            "vs ceiling",
        ]);
        for (i, kind) in KINDS.into_iter().enumerate() {
            let mut row = vec![
                kind.label().to_owned(),
                show_rates(&runs[i]),
                cpu_per_call(&results[i]),
                busy(&results[i]),
            ];
            match kind {
                Kind::Echo | Kind::EchoTokioWebsockets | Kind::VolleyNode => {}
                Kind::Jsonrpsee => {
                    row.push(String::new());
                    row.push(ratio(ratio_of(jsonrpsee, echo)));
                }
                Kind::Volley => {
                    row.push(ratio(ratio_of(volley, jsonrpsee)));
                    row.push(ratio(ratio_of(volley, echo)));
                }
            }
            table.row(row);
        }
        table.note(format!(
            "{conns} connection{} x {window} calls in flight, raw load generator, batched flushes on both sides; CPU time from {}: a side near 100% busy is the one that set the pace",
            if conns == 1 { "" } else { "s" },
            cpu_clock()
        ));
        table.note(load.note());
        table.print();

        let r = ratio_of(volley, echo);
        ctx.targets
            .record(Goal::Throughput, &shape, ratio(r), r >= 0.8);
    }
    Ok(())
}

/// Calls/s and CPU time of `kinds` (at `urls`, whose processes are `pids`) in one shape,
/// `conns` connections x `window` in flight each, the servers taking turns: each one's
/// repeats.
pub(crate) async fn measure_shape(
    opts: &Opts,
    kinds: &[Kind],
    urls: &[String],
    pids: &[u32],
    conns: usize,
    window: usize,
) -> Result<Vec<Vec<Measured>>, BoxError> {
    let mut sockets = Vec::new();
    for url in urls {
        sockets.push(generator::open(url, conns, 100, None).await?);
    }
    interleaved(opts, kinds.len(), async |i, d| {
        let before = Counters::read(pids[i]);
        let run = pipeline(&mut sockets[i], window, d, calls(kinds[i])).await?;
        Ok(before.measured(run))
    })
    .await
}

/// One measured run and what the server and the load generator spent on it.
pub(crate) struct Measured {
    /// The run.
    pub(crate) run: Run,
    /// The server's CPU time.
    pub(crate) server: Duration,
    /// The load generator's CPU time.
    pub(crate) generator: Duration,
    /// The server's ticks in user space and in the kernel.
    pub(crate) server_ticks: Ticks,
}

/// The CPU counters of a server and of this process (the load generator), read before a
/// run.
pub(crate) struct Counters {
    pid: u32,
    server: Duration,
    generator: Duration,
    ticks: Ticks,
}

impl Counters {
    /// Reads them for the server `pid`.
    pub(crate) fn read(pid: u32) -> Self {
        Self {
            pid,
            server: cpu_time(pid),
            generator: cpu_time(std::process::id()),
            ticks: user_and_kernel(pid),
        }
    }

    /// `run`, with what each side spent since the counters were read.
    pub(crate) fn measured(self, run: Run) -> Measured {
        Measured {
            run,
            server: cpu_time(self.pid).saturating_sub(self.server),
            generator: cpu_time(std::process::id()).saturating_sub(self.generator),
            server_ticks: user_and_kernel(self.pid).since(self.ticks),
        }
    }
}

/// The server's CPU time per answered call over all repeats, and in parentheses its user
/// space and kernel parts.
pub(crate) fn cpu_per_call(results: &[Measured]) -> String {
    let Some(total) = cpu_nanos(results) else {
        return "-".to_owned();
    };
    match cpu_split(results) {
        Some((user, kernel)) => format!(
            "{:.2} µs ({:.2} + {:.2})",
            total / 1e3,
            user / 1e3,
            kernel / 1e3
        ),
        None => format!("{:.2} µs", total / 1e3),
    }
}

/// The server's CPU time per call over the repeats (from its CPU-time clock), split between
/// user space and the kernel in the proportion of `/proc`'s ticks: (user, kernel) in
/// nanoseconds.
pub(crate) fn cpu_split(results: &[Measured]) -> Option<(f64, f64)> {
    let per_call = cpu_nanos(results)?;
    let ticks: Ticks = results.iter().map(|m| m.server_ticks).sum();
    let kernel = ticks.kernel_share()?;
    Some((per_call * (1.0 - kernel), per_call * kernel))
}

/// The server's CPU time per answered call over all repeats, in nanoseconds; `None` without
/// calls or with too little CPU time to divide ([`per_item`]).
pub(crate) fn cpu_nanos(results: &[Measured]) -> Option<f64> {
    let calls: u64 = results.iter().map(|m| m.run.count).sum();
    let cpu: Duration = results.iter().map(|m| m.server).sum();
    per_item(cpu, calls)
}

/// The share of the repeats' wall time that the server and the load generator were busy.
pub(crate) fn busy(results: &[Measured]) -> String {
    let wall: f64 = results.iter().map(|m| m.run.elapsed.as_secs_f64()).sum();
    let share = |f: fn(&Measured) -> Duration| {
        let used: f64 = results.iter().map(|m| f(m).as_secs_f64()).sum();
        format!("{:.0}%", used / wall.max(1e-9) * 100.0)
    };
    format!("{}, {}", share(|m| m.server), share(|m| m.generator))
}
