//! `scaling`: calls per second as connections grow (100, 1,000 and 5,000 by default), each
//! connection with one call in flight: the echo (the ceiling), jsonrpsee and volley. The
//! echo's own drop shows how much of volley's comes from the sockets and the kernel rather
//! than from the engine.

use super::throughput::{Counters, KINDS, busy, calls, cpu_split};
use super::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::BoxError;
use crate::generator::pipeline::pipeline;
use crate::generator::{self, Run, Ws};
use crate::report::{Stats, Table, ratio, thousands};
use crate::system::{cpu_clock, raise_nofile};
use crate::targets::Goal;

/// Handshakes in flight at once while opening.
const OPEN_AT_ONCE: usize = 200;
/// Open files kept back for everything other than the connections.
const SPARE_FILES: u64 = 100;

pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    let load = ctx.load();
    let mut table = Table::new(&[
        "scaling, 1 call in flight per connection",
        "echo (ceiling) calls/s",
        "jsonrpsee 0.26 calls/s",
        "volley calls/s",
        "vs jsonrpsee",
        "vs ceiling",
    ]);
    // Every server's connections are open at once, each a file here.
    let limit = raise_nofile().soft;
    let room = usize::try_from(limit.saturating_sub(SPARE_FILES) / KINDS.len() as u64)
        .unwrap_or(usize::MAX);
    let mut counts: Vec<usize> = Vec::new();
    for &want in &ctx.opts.scaling {
        let n = want.min(room);
        if n < want {
            table.note(format!(
                "{} connections asked for, {} measured: the open-files limit is {limit} (only root can raise a hard limit)",
                thousands(want as u64),
                thousands(n as u64)
            ));
        }
        counts.push(n);
    }
    counts.sort_unstable();
    counts.dedup();
    let most = counts.last().copied().unwrap_or(0);
    // Each server's connections for the largest count, opened once; a smaller count uses
    // the first of them while the rest stay open and idle.
    let mut sockets: Vec<Vec<Ws>> = Vec::new();
    for kind in KINDS {
        sockets.push(
            generator::open(
                &ctx.url(kind),
                most,
                OPEN_AT_ONCE,
                Some(calls(kind).expect()),
            )
            .await?,
        );
    }
    let pids = KINDS.map(|k| ctx.pid(k));
    // Every (count, server) pair takes its turn in every round of repeats, so that a change
    // in the machine's load falls on every row alike, not only on every column.
    let pairs: Vec<(usize, usize)> = counts
        .iter()
        .flat_map(|&n| (0..KINDS.len()).map(move |k| (n, k)))
        .collect();
    let results = interleaved(&ctx.opts, pairs.len(), async |p, d| {
        let (n, k) = pairs[p];
        let mut active: Vec<Ws> = sockets[k].drain(..n).collect();
        let before = Counters::read(pids[k]);
        let run = pipeline(&mut active, 1, d, calls(KINDS[k])).await?;
        sockets[k].splice(0..0, active);
        Ok(before.measured(run))
    })
    .await?;
    drop(sockets);

    let mut volley: Vec<(usize, Stats)> = Vec::new();
    let mut echo: Vec<Stats> = Vec::new();
    let mut busy_at: Vec<String> = Vec::new();
    // Each server's CPU time per call in user space and in the kernel, at each count.
    let mut split_at: Vec<[Option<(f64, f64)>; 3]> = Vec::new();
    for (row, &n) in counts.iter().enumerate() {
        let pairs = row * KINDS.len()..(row + 1) * KINDS.len();
        split_at.push(std::array::from_fn(|k| {
            cpu_split(&results[pairs.start + k])
        }));
        let results = &results[pairs];
        let runs: Vec<Vec<Run>> = results
            .iter()
            .map(|r| r.iter().map(|m| m.run).collect())
            .collect();
        let stats: Vec<_> = runs.iter().map(|r| rates(r)).collect();
        // Positions in KINDS.
        let (e, j, v) = (0, 1, 2);
        table.row(vec![
            format!("{} connections", thousands(n as u64)),
            show_rates(&runs[e]),
            show_rates(&runs[j]),
            show_rates(&runs[v]),
            ratio(ratio_of(&stats[v], &stats[j])),
            ratio(ratio_of(&stats[v], &stats[e])),
        ]);
        busy_at.push(format!(
            "CPU busy (server, load) at {} connections: echo {}; jsonrpsee {}; volley {}",
            thousands(n as u64),
            busy(&results[e]),
            busy(&results[j]),
            busy(&results[v])
        ));
        volley.push((n, stats[v]));
        echo.push(stats[e]);
    }
    if let (Some(a), Some(b)) = (echo.first(), echo.last())
        && echo.len() > 1
    {
        table.note(format!(
            "the echo itself keeps {} of its rate from the fewest connections to the most",
            ratio(b.median / a.median)
        ));
    }
    for line in busy_at {
        table.note(line);
    }
    for (&n, split) in counts.iter().zip(&split_at) {
        let show = |s: Option<(f64, f64)>| {
            s.map_or("-".to_owned(), |(user, kernel)| {
                format!("{:.2} + {:.2} µs", user / 1e3, kernel / 1e3)
            })
        };
        table.note(format!(
            "server CPU per call, user + kernel, at {} connections: echo {}; jsonrpsee {}; volley {}",
            thousands(n as u64),
            show(split[0]),
            show(split[1]),
            show(split[2])
        ));
    }
    if let (Some(few), Some(many)) = (split_at.first(), split_at.last())
        && split_at.len() > 1
    {
        for (k, name) in [(0, "the echo"), (2, "volley")] {
            if let (Some((_, a)), Some((_, b))) = (few[k], many[k]) {
                table.note(format!(
                    "{name}'s server spent {:.2}x the kernel time per call at the most connections as at the fewest: a server that sets the pace, with that kernel time per call and nothing in user space, would keep {} of its rate",
                    b / a,
                    ratio(a / b)
                ));
            }
        }
    }
    table.note(format!(
        "CPU time from {}: a side near 100% busy is the one that set the pace",
        cpu_clock()
    ));
    table.note(format!("{} connections to every server open at once, all through the repeats; a smaller count calls on some of them while the rest stay idle; every count and server takes its turn in each round", thousands(most as u64)));
    table.note(load.note());
    table.print();

    if let (Some((few, a)), Some((many, b))) = (volley.first(), volley.last())
        && few < many
    {
        let r = b.median / a.median;
        ctx.targets.record(
            Goal::Scaling,
            &format!("{} vs {}", thousands(*many as u64), thousands(*few as u64)),
            ratio(r),
            r >= 0.8,
        );
    }
    Ok(())
}
