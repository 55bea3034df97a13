//! `latency`: sequential `add` calls on one connection (each waits for the previous answer),
//! p50 and p99, with the load generator on another CPU than the servers (split) and on the
//! same one (same vCPU: no cross-CPU wake-up in the round trip).

use super::throughput::{KINDS, calls};
use super::{Ctx, interleaved};
use crate::generator::pipeline::sequential;
use crate::generator::{self, Ws};
use crate::report::{Stats, Table, micros, ratio};
use crate::servers::Kind;
use crate::targets::Goal;
use crate::{BoxError, system};

pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    let mut sockets: Vec<Ws> = Vec::new();
    for kind in KINDS {
        sockets.push(generator::connect(&ctx.url(kind)).await?);
    }
    let placements: Vec<(&str, Option<usize>)> = match ctx.placement {
        Some((server, load)) if server != load => {
            vec![("split", None), ("same vCPU", Some(server))]
        }
        Some(_) => vec![("same vCPU", None)],
        None => vec![("unpinned", None)],
    };
    for (name, move_to) in placements {
        if let Some(cpu) = move_to
            && !system::pin_self(cpu)
        {
            println!("latency, {name}: skipped, could not move the load generator to CPU {cpu}\n");
            continue;
        }
        let load = ctx.load();
        let where_ = describe(ctx.placement, move_to);
        let result = interleaved(&ctx.opts, KINDS.len(), async |i, d| {
            let mut samples = sequential(&mut sockets[i], d, calls(KINDS[i])).await?;
            samples.sort_unstable();
            let n = samples.len();
            Ok((
                samples[n / 2] as f64,
                samples[(n * 99 / 100).min(n - 1)] as f64,
                n,
            ))
        })
        .await;
        if let (Some(_), Some((_, back))) = (move_to, ctx.placement) {
            system::pin_self(back);
        }
        let results = result?;

        let p50: Vec<Stats> = results
            .iter()
            .map(|r| Stats::of(&r.iter().map(|x| x.0).collect::<Vec<_>>()))
            .collect();
        let p99: Vec<Stats> = results
            .iter()
            .map(|r| Stats::of(&r.iter().map(|x| x.1).collect::<Vec<_>>()))
            .collect();
        let calls: usize = results.iter().flatten().map(|x| x.2).sum();
        let mut table = Table::new(&[
            &format!("latency, {name}"),
            "p50 median (min–max)",
            "p99 median (min–max)",
            "p50 vs jsonrpsee",
            "p50 vs echo",
        ]);
        for (i, kind) in KINDS.into_iter().enumerate() {
            let mut row = vec![
                kind.label().to_owned(),
                p50[i].show(micros),
                p99[i].show(micros),
            ];
            match kind {
                Kind::Echo | Kind::EchoTokioWebsockets | Kind::VolleyNode => {}
                Kind::Jsonrpsee => {
                    row.push(String::new());
                    row.push(ratio(p50[1].median / p50[0].median));
                }
                Kind::Volley => {
                    row.push(ratio(p50[2].median / p50[1].median));
                    row.push(ratio(p50[2].median / p50[0].median));
                }
            }
            table.row(row);
        }
        table.note(format!(
            "{where_}; one connection per server, one call at a time, {calls} calls in all; lower is better"
        ));
        table.note(load.note());
        table.print();

        let r = p50[2].median / p50[0].median;
        ctx.targets.record(Goal::Latency, name, ratio(r), r <= 1.2);
    }
    Ok(())
}

/// Where the servers and the load generator ran.
fn describe(placement: Option<(usize, usize)>, moved_to: Option<usize>) -> String {
    match (placement, moved_to) {
        (Some((server, _)), Some(cpu)) => {
            format!("servers on CPU {server}, load generator moved to CPU {cpu} too")
        }
        (Some((server, load)), None) => {
            format!("servers on CPU {server}, load generator on CPU {load}")
        }
        (None, _) => "not pinned: figures swing with where the scheduler puts things".to_owned(),
    }
}
