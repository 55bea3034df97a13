//! `notify`: one-way messages per second. From the client to each server: the raw load
//! generator writes notifications, 64 per flush, and the run lasts until the server has
//! counted the last one. And from volley's server to the client.

use super::throughput::KINDS;
use super::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::BoxError;
use crate::generator::oneway::{blast, notify};
use crate::generator::{self, Ws};
use crate::report::{Table, ratio};
use crate::servers::Kind;

pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    let load = ctx.load();
    let mut sockets: Vec<Ws> = Vec::new();
    for kind in KINDS {
        sockets.push(generator::connect(&ctx.url(kind)).await?);
    }
    // The fourth: volley's server sending to the client.
    sockets.push(generator::connect(&ctx.url(Kind::Volley)).await?);
    let runs = interleaved(&ctx.opts, 4, async |i, d| {
        if i < 3 {
            notify(&mut sockets[i], d).await
        } else {
            blast(&mut sockets[i], d).await
        }
    })
    .await?;
    drop(sockets);

    let stats: Vec<_> = runs.iter().map(|r| rates(r)).collect();
    let mut table = Table::new(&[
        "notify (one-way)",
        "messages/s median (min–max)",
        "vs jsonrpsee",
        "vs ceiling",
    ]);
    table.row(vec![
        "echo (ceiling), client -> server".to_owned(),
        show_rates(&runs[0]),
    ]);
    table.row(vec![
        "jsonrpsee 0.26, client -> server".to_owned(),
        show_rates(&runs[1]),
        String::new(),
        ratio(ratio_of(&stats[1], &stats[0])),
    ]);
    table.row(vec![
        "volley, client -> server".to_owned(),
        show_rates(&runs[2]),
        ratio(ratio_of(&stats[2], &stats[1])),
        ratio(ratio_of(&stats[2], &stats[0])),
    ]);
    table.row(vec![
        "volley, server -> client".to_owned(),
        show_rates(&runs[3]),
    ]);
    table.note("echo: counts each frame that starts like a notification, echoes nothing for it");
    table.note(
        "jsonrpsee runs no handler for a notification: counted in an RPC middleware, which it calls for each one it reads (so its figure is read + parse + middleware, no handler)",
    );
    table.note("volley runs its `note` handler for each (a counter)");
    table.note(
        "server -> client: volley's `blast` sends `tick` through the connection's outgoing queue as fast as it takes them; the generator counts them",
    );
    table.note(load.note());
    table.print();
    Ok(())
}
