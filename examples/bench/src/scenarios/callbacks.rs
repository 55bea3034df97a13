//! `callbacks`: volley's server calling its client, against the client calling the server,
//! on the same setup (one raw connection each, 64 calls in flight, the raw load generator
//! answering the server's calls with batched flushes).

use super::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::BoxError;
use crate::generator::oneway::drive;
use crate::generator::pipeline::{Calls, one};
use crate::generator::{self, Ws};
use crate::report::{Table, ratio};
use crate::servers::Kind;
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
    let runs = interleaved(&ctx.opts, 3, async |i, d| {
        let ws = &mut sockets[i];
        match i {
            0 => one(ws, WINDOW, d, Calls::ADD).await,
            1 => drive(ws, WINDOW, d).await,
            _ => one(ws, WINDOW, d, Calls::ASK).await,
        }
    })
    .await?;
    drop(sockets);

    let stats: Vec<_> = runs.iter().map(|r| rates(r)).collect();
    let mut table = Table::new(&[
        "callbacks (volley), 1x64",
        "calls/s median (min–max)",
        "vs client-to-server",
    ]);
    table.row(vec![
        "client-to-server: the client calls `add`".to_owned(),
        show_rates(&runs[0]),
    ]);
    table.row(vec![
        "server-to-client: the server calls the client's `add`".to_owned(),
        show_rates(&runs[1]),
        ratio(ratio_of(&stats[1], &stats[0])),
    ]);
    table.row(vec![
        "both: `ask`, which calls the client's `confirm` first".to_owned(),
        show_rates(&runs[2]),
        ratio(ratio_of(&stats[2], &stats[0])),
    ]);
    table.note(
        "server-to-client: volley's `drive` keeps 64 calls in flight from 64 tasks in the server and checks each sum; the raw generator answers",
    );
    table
        .note("jsonrpsee's server cannot call its clients, and the echo calls nobody: volley only");
    table.note(load.note());
    table.print();

    let r = ratio_of(&stats[1], &stats[0]);
    ctx.targets.record(Goal::Callbacks, "", ratio(r), r >= 0.9);
    Ok(())
}
