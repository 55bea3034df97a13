//! `callbacks`: volley's server calling its client, against the client calling the server,
//! on the same setup (one raw connection each, 64 calls in flight, the raw load generator
//! answering the server's calls with batched flushes).

use super::throughput::{Counters, busy, cpu_nanos, cpu_per_call};
use super::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::BoxError;
use crate::generator::oneway::drive;
use crate::generator::pipeline::{Calls, one};
use crate::generator::{self, Ws};
use crate::report::{Table, ratio};
use crate::servers::Kind;
use crate::system::cpu_clock;
use crate::targets::Goal;

/// Calls in flight.
const WINDOW: usize = 64;

pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    let load = ctx.load();
    let url = ctx.url(Kind::Volley);
    let mut sockets: Vec<Ws> = Vec::new();
    for _ in 0..3 {
        sockets.push(generator::connect(&url).await?);
    }
    let server = ctx.pid(Kind::Volley);
    let results = interleaved(&ctx.opts, 3, async |i, d| {
        let ws = &mut sockets[i];
        let before = Counters::read(server);
        let run = match i {
            0 => one(ws, WINDOW, d, Calls::ADD).await,
            1 => drive(ws, WINDOW, d).await,
            _ => one(ws, WINDOW, d, Calls::ASK).await,
        }?;
        Ok(before.measured(run))
    })
    .await?;
    drop(sockets);

    let runs: Vec<Vec<_>> = results
        .iter()
        .map(|r| r.iter().map(|m| m.run).collect())
        .collect();
    let stats: Vec<_> = runs.iter().map(|r| rates(r)).collect();
    let mut table = Table::new(&[
        "callbacks (volley), 1x64",
        "calls/s median (min–max)",
        "server CPU per call (user + kernel)",
        "CPU busy: server, load",
        "vs client-to-server",
    ]);
    let labels = [
        "client-to-server: the client calls `add`",
        "server-to-client: the server calls the client's `add`",
        "both: `ask`, which calls the client's `confirm` first",
    ];
    for (i, label) in labels.into_iter().enumerate() {
        let mut row = vec![
            label.to_owned(),
            show_rates(&runs[i]),
            cpu_per_call(&results[i]),
            busy(&results[i]),
        ];
        if i > 0 {
            row.push(ratio(ratio_of(&stats[i], &stats[0])));
        }
        table.row(row);
    }
    table.note(
        "server-to-client: volley's `drive` keeps 64 calls in flight from 64 tasks in the server and checks each sum; the raw generator answers",
    );
    table
        .note("jsonrpsee's server cannot call its clients, and the echo calls nobody: volley only");
    if let (Some(to), Some(from)) = (cpu_nanos(&results[0]), cpu_nanos(&results[1])) {
        table.note(format!(
            "CPU time from {}: a call from the server cost it {:.2}x the CPU of a call to it",
            cpu_clock(),
            from / to
        ));
    }
    table.note(load.note());
    table.print();

    let r = ratio_of(&stats[1], &stats[0]);
    ctx.targets.record(Goal::Callbacks, "", ratio(r), r >= 0.9);
    Ok(())
}
