//! `scaling`: calls per second as connections grow (100, 1,000 and 5,000 by default), each
//! connection with one `add` in flight, volley and jsonrpsee.

use super::{Ctx, interleaved, rates, ratio_of, show_rates};
use crate::BoxError;
use crate::generator::pipeline::{Calls, pipeline};
use crate::generator::{self, Ws};
use crate::report::{Stats, Table, ratio, thousands};
use crate::servers::Kind;
use crate::system::raise_nofile;
use crate::targets::Goal;

/// Handshakes in flight at once while opening.
const OPEN_AT_ONCE: usize = 200;
/// Open files kept back for everything other than the connections.
const SPARE_FILES: u64 = 100;

pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    let load = ctx.load();
    let mut table = Table::new(&[
        "scaling, 1 call in flight per connection",
        "jsonrpsee 0.26 calls/s",
        "volley calls/s",
        "vs jsonrpsee",
    ]);
    // Both servers' connections are open at once, each a file here.
    let limit = raise_nofile().soft;
    let room = usize::try_from(limit.saturating_sub(SPARE_FILES) / 2).unwrap_or(usize::MAX);
    let mut volley: Vec<(usize, Stats)> = Vec::new();
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
        for kind in [Kind::Jsonrpsee, Kind::Volley] {
            sockets.push(
                generator::open(&ctx.url(kind), n, OPEN_AT_ONCE, Some(Calls::ADD.expect())).await?,
            );
        }
        let runs = interleaved(&ctx.opts, 2, async |i, d| {
            pipeline(&mut sockets[i], 1, d, Calls::ADD).await
        })
        .await?;
        drop(sockets);
        let stats: Vec<_> = runs.iter().map(|r| rates(r)).collect();
        table.row(vec![
            format!("{} connections", thousands(n as u64)),
            show_rates(&runs[0]),
            show_rates(&runs[1]),
            ratio(ratio_of(&stats[1], &stats[0])),
        ]);
        volley.push((n, stats[1]));
    }
    table.note("every connection of one server open at once; both servers' connections stay open during the repeats");
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
