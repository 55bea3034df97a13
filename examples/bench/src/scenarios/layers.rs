//! `layers`: would a faster WebSocket layer lift the ceiling? The echo server on two
//! layers, tokio-tungstenite (the running ceiling, [`Kind::Echo`]) and tokio-websockets (a
//! child started for this scenario alone, [`Kind::EchoTokioWebsockets`]), driven by the raw
//! load generator in `throughput`'s shapes: 1 connection x 64 in flight, 100 x 10. Not part
//! of `all`.

use super::throughput::{SHAPES, busy, cpu_per_call, measure_shape};
use super::{Ctx, rates, ratio_of, show_rates};
use crate::BoxError;
use crate::generator::Run;
use crate::report::{Table, ratio};
use crate::servers::{Child, Kind};
use crate::system::{Load, allowed_cpus};

/// The servers, tungstenite first.
const KINDS: [Kind; 2] = [Kind::Echo, Kind::EchoTokioWebsockets];

/// Starts the tokio-websockets echo, measures both echoes, stops it.
pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    let server_cpu = ctx.placement.map(|(server, _)| server);
    let mut child = Child::start(Kind::EchoTokioWebsockets, ctx.opts.runtime, server_cpu).await?;
    let measured = measure(ctx, &mut child).await;
    child.stop().await;
    measured
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
            "server CPU per call",
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
            "{conns} connection{} x {window} calls in flight, raw load generator, every frame echoed, batched flushes on both sides; CPU time from /proc (10 ms ticks): a side near 100% busy is the one that set the pace",
            if conns == 1 { "" } else { "s" }
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
