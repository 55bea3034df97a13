//! `layers`: would a faster WebSocket layer lift the ceiling? The echo server on two
//! layers, tokio-tungstenite (the running ceiling, [`Kind::Echo`]) and tokio-websockets (a
//! child started for this scenario alone, [`Kind::EchoTokioWebsockets`]), driven by the raw
//! load generator in `throughput`'s shapes: 1 connection x 64 in flight, 100 x 10; and each
//! echo's memory per idle connection, as `memory` measures it. Not part of `all`.

use super::memory::{idle, idle_count};
use super::throughput::{SHAPES, busy, cpu_per_call, measure_shape};
use super::{Ctx, rates, ratio_of, show_rates};
use crate::BoxError;
use crate::generator::Run;
use crate::report::{Table, ratio, thousands};
use crate::servers::{Child, Kind};
use crate::system::{Load, allowed_cpus, cpu_clock};

/// The servers, tungstenite first.
const KINDS: [Kind; 2] = [Kind::Echo, Kind::EchoTokioWebsockets];

/// Starts the tokio-websockets echo, measures both echoes, stops it.
pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    let server_cpu = ctx.placement.map(|(server, _)| server);
    let mut child = Child::start(Kind::EchoTokioWebsockets, ctx.opts.runtime, server_cpu).await?;
    let measured = measure(ctx, &mut child).await;
    child.stop().await;
    measured?;
    memory(ctx).await
}

/// Each echo's memory per idle connection, in fresh processes.
async fn memory(ctx: &Ctx) -> Result<(), BoxError> {
    let n = idle_count(ctx.opts.idle);
    let mut load = ctx.load();
    let mut table = Table::new(&[
        &format!("layers, {} idle connections", thousands(n as u64)),
        "KB per connection",
        "KB per connection, burst",
    ]);
    for kind in KINDS {
        let idle = idle(ctx, kind, n).await?;
        load.add_exited(idle.cpu);
        table.row(vec![
            label(kind).to_owned(),
            format!("{:.1}", idle.steady),
            format!("{:.1}", idle.burst_kb),
        ]);
    }
    table.note("as in `memory`: growth of a fresh server process's VmRSS, connections opened 200 at a time and each answering one call, then idle; burst: all at once, high-water mark");
    table.note(load.note());
    table.print();
    Ok(())
}

/// Both shapes against both echoes, one table each.
async fn measure(ctx: &Ctx, child: &mut Child) -> Result<(), BoxError> {
    let urls = [ctx.url(Kind::Echo), child.url.clone()];
    let pids = [ctx.pid(Kind::Echo), child.pid];
    let me = std::process::id();
    for (conns, window) in SHAPES {
        child.check_alive()?;
        let mut watched = ctx.servers.pids();
        watched.extend([child.pid, me]);
        let load = Load::start(&watched);
        let results = measure_shape(&ctx.opts, &KINDS, &urls, &pids, conns, window).await?;

        let runs: Vec<Vec<Run>> = results
            .iter()
            .map(|r| r.iter().map(|m| m.run).collect())
            .collect();
        let mut table = Table::new(&[
            &format!("layers {conns}x{window}"),
            "calls/s median (min–max)",
            "server CPU per call (user + kernel)",
            "CPU busy: server, load",
            "tokio-websockets / tungstenite",
        ]);
        for (i, kind) in KINDS.into_iter().enumerate() {
            let mut row = vec![
                label(kind).to_owned(),
                show_rates(&runs[i]),
                cpu_per_call(&results[i]),
                busy(&results[i]),
            ];
            if kind == Kind::EchoTokioWebsockets {
                row.push(ratio(ratio_of(&rates(&runs[1]), &rates(&runs[0]))));
            }
            table.row(row);
        }
        table.note(format!(
            "{conns} connection{} x {window} calls in flight, raw load generator, every frame echoed, batched flushes on both sides; CPU time from {}: a side near 100% busy is the one that set the pace",
            if conns == 1 { "" } else { "s" },
            cpu_clock()
        ));
        table.note(format!(
            "both echoes on {}; the tokio-websockets echo is pid {}, allowed CPUs {}",
            ctx.opts.runtime.describe(),
            child.pid,
            allowed_cpus(child.pid)
        ));
        table.note(load.note());
        table.print();
    }
    Ok(())
}

/// The name in the table: which layer.
fn label(kind: Kind) -> &'static str {
    match kind {
        Kind::Echo => "echo (tokio-tungstenite, ceiling)",
        other => other.label(),
    }
}
