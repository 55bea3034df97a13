//! `own-clients`: each framework's own client against its own server, in the throughput
//! shapes: volley's `Client` (through the generated `BenchClient` stub) against volley's
//! server, jsonrpsee's `WsClient` against jsonrpsee's server. Every call in flight is a task
//! that calls `add` in a loop and checks each sum.

use std::sync::Arc;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::api::BenchClient;
use crate::generator::{Run, WAIT};
use crate::report::{Table, ratio};
use crate::servers::Kind;
use crate::targets::Goal;
use crate::{BoxError, client_builder};

/// The shapes: (connections, calls in flight per connection), as in `throughput`.
const SHAPES: [(usize, usize); 2] = [(1, 64), (100, 10)];

pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    for (conns, window) in SHAPES {
        let load = ctx.load();
        let (their_url, our_url) = (ctx.url(Kind::Jsonrpsee), ctx.url(Kind::Volley));
        let mut theirs = Vec::with_capacity(conns);
        let mut ours = Vec::with_capacity(conns);
        for _ in 0..conns {
            let dial = WsClientBuilder::default().build(&their_url);
            theirs.push(Arc::new(tokio::time::timeout(WAIT, dial).await??));
            let dial = client_builder(&ctx.opts).connect(&our_url);
            ours.push(tokio::time::timeout(WAIT, dial).await??);
        }
        let results = interleaved(&ctx.opts, 2, async |i, d| {
            let mut tasks = JoinSet::new();
            let start = Instant::now();
            let stop = start + d;
            for w in 0..conns * window {
                if i == 0 {
                    tasks.spawn(jsonrpsee_caller(theirs[w % conns].clone(), stop));
                } else {
                    let stub = BenchClient::new(ours[w % conns].peer());
                    tasks.spawn(volley_caller(stub, stop));
                }
            }
            join(tasks, start, stop).await
        })
        .await?;
        for client in &ours {
            client.close();
        }
        drop(theirs);

        let shape = format!("{conns}x{window}");
        let (jsonrpsee, volley) = (rates(&results[0]), rates(&results[1]));
        let mut table = Table::new(&[
            &format!("own clients {shape}"),
            "calls/s median (min–max)",
            "vs jsonrpsee",
        ]);
        table.row(vec![
            "jsonrpsee WsClient -> jsonrpsee server".to_owned(),
            show_rates(&results[0]),
        ]);
        table.row(vec![
            "volley Client -> volley server".to_owned(),
            show_rates(&results[1]),
            ratio(ratio_of(&volley, &jsonrpsee)),
        ]);
        table.note(format!(
            "{conns} connection{} x {window} calls in flight, each a task calling `add` in a loop; volley's client {} session resumption",
            if conns == 1 { "" } else { "s" },
            if ctx.opts.resume { "asks for" } else { "without" }
        ));
        table.note(load.note());
        table.print();

        let r = ratio_of(&volley, &jsonrpsee);
        ctx.targets
            .record(Goal::OwnClients, &shape, ratio(r), r >= 2.5);
    }
    Ok(())
}

/// Calls `add` through volley's stub until `stop`; how many calls were answered.
async fn volley_caller(stub: BenchClient, stop: Instant) -> Result<u64, String> {
    let mut calls = 0u64;
    while Instant::now() < stop {
        let a = calls as i64;
        let sum = stub.add(a, 1).await.map_err(|e| format!("volley: {e}"))?;
        if sum != a + 1 {
            return Err(format!("volley: add({a}, 1) answered {sum}"));
        }
        calls += 1;
    }
    Ok(calls)
}

/// Calls `add` through jsonrpsee's client until `stop`; how many calls were answered.
async fn jsonrpsee_caller(client: Arc<WsClient>, stop: Instant) -> Result<u64, String> {
    let mut calls = 0u64;
    while Instant::now() < stop {
        let a = calls as i64;
        let mut params = ArrayParams::new();
        params
            .insert(a)
            .and_then(|()| params.insert(1))
            .map_err(|e| e.to_string())?;
        let sum: i64 = client
            .request("add", params)
            .await
            .map_err(|e| format!("jsonrpsee: {e}"))?;
        if sum != a + 1 {
            return Err(format!("jsonrpsee: add({a}, 1) answered {sum}"));
        }
        calls += 1;
    }
    Ok(calls)
}

/// Waits for every caller (until [`WAIT`] past `stop`) and adds up their calls, started at
/// `start`.
async fn join(
    mut tasks: JoinSet<Result<u64, String>>,
    start: Instant,
    stop: Instant,
) -> Result<Run, BoxError> {
    let mut count = 0;
    while let Some(done) = tokio::time::timeout_at(stop + WAIT, tasks.join_next())
        .await
        .map_err(|_| "calls still unanswered 30 s after the run")?
    {
        count += done??;
    }
    Ok(Run {
        count,
        elapsed: start.elapsed(),
    })
}
