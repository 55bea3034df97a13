//! `throughput`: `add` calls per second from the raw load generator to each server, in two
//! shapes: 1 connection with 64 calls in flight, and 100 connections with 10 each.

use std::time::Duration;

use super::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::generator::pipeline::{Calls, pipeline};
use crate::generator::{self, Run};
use crate::report::{Table, ratio};
use crate::servers::Kind;
use crate::system::{cpu_clock, cpu_time, per_item};
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
            "server CPU per call",
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

/// One measured run and the CPU time the server and the load generator spent on it.
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
    let me = std::process::id();
    interleaved(opts, kinds.len(), async |i, d| {
        let cpu = (cpu_time(pids[i]), cpu_time(me));
        let run = pipeline(&mut sockets[i], window, d, calls(kinds[i])).await?;
        Ok(Measured {
            run,
            server: cpu_time(pids[i]).saturating_sub(cpu.0),
            generator: cpu_time(me).saturating_sub(cpu.1),
        })
    })
    .await
}

pub(crate) struct Measured {
    /// The run.
    pub(crate) run: Run,
    /// The server's CPU time.
    pub(crate) server: Duration,
    /// The load generator's CPU time.
    pub(crate) generator: Duration,
}

/// The server's CPU time per answered call over all repeats.
pub(crate) fn cpu_per_call(results: &[Measured]) -> String {
    cpu_nanos(results).map_or("-".to_owned(), |n| format!("{:.2} µs", n / 1e3))
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
