//! `scaling`: calls per second as connections grow (100, 1,000 and 5,000 by default), each
//! connection with one call in flight: the echo (the ceiling), jsonrpsee and volley. The
//! echo's own drop shows how much of volley's comes from the sockets and the kernel rather
//! than from the engine.

use super::throughput::{KINDS, Measured, busy, calls};
use super::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::BoxError;
use crate::generator::pipeline::pipeline;
use crate::generator::{self, Run, Ws};
use crate::report::{Stats, Table, ratio, thousands};
use crate::system::{cpu_time, raise_nofile};
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
    let mut volley: Vec<(usize, Stats)> = Vec::new();
    let mut echo: Vec<Stats> = Vec::new();
    let mut busy_at: Vec<String> = Vec::new();
    for &want in &ctx.opts.scaling {
        let n = want.min(room);
        if n < want {
            table.note(format!(
                "{} connections asked for, {} measured: the open-files limit is {limit} (only root can raise a hard limit)",
                thousands(want as u64),
                thousands(n as u64)
            ));
        }
        let mut sockets: Vec<Vec<Ws>> = Vec::new();
        for kind in KINDS {
            sockets.push(
                generator::open(&ctx.url(kind), n, OPEN_AT_ONCE, Some(calls(kind).expect()))
                    .await?,
            );
        }
        let pids = KINDS.map(|k| ctx.pid(k));
        let me = std::process::id();
        let results = interleaved(&ctx.opts, KINDS.len(), async |i, d| {
            let cpu = (cpu_time(pids[i]), cpu_time(me));
            let run = pipeline(&mut sockets[i], 1, d, calls(KINDS[i])).await?;
            Ok(Measured {
                run,
                server: cpu_time(pids[i]) - cpu.0,
                generator: cpu_time(me) - cpu.1,
            })
        })
        .await?;
        drop(sockets);
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
    table.note("CPU time from /proc (10 ms ticks): a side near 100% busy is the one that set the pace");
    table.note("every connection of every server open at once; all stay open during the repeats");
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
