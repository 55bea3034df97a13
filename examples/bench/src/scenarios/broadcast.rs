//! `broadcast`: one notification from volley's server to N connected peers (1,000 and
//! 10,000 by default), timed until the last of them has it.
//!
//! The peers are raw WebSocket connections (tokio-tungstenite, no volley client) that each
//! call `listen` once, which puts them in the server's `listeners` group, and then only read.
//! A volley client, the controller, calls `broadcast(seq)`: the server sends `tick(seq)` to
//! the group through `ListenerFanout` (encoded once, queued for every listener without
//! waiting) and answers with what the fan-out did and how long it took. Each listener notes
//! the instant it read its tick; a round lasts from just before the controller sends
//! `broadcast` to the latest of those instants. The listeners' reading runs on the load
//! generator's CPU, so the figure is the time until one process holding every peer has read
//! them all.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use super::Ctx;
use crate::api::{BenchClient, Broadcast};
use crate::generator::{self, WAIT, Ws};
use crate::report::{Stats, Table, micros, millis, ratio, thousands};
use crate::servers::Kind;
use crate::system::{cpu_clock, cpu_time, per_item, raise_nofile};
use crate::targets::Goal;
use crate::{BoxError, client_builder};

/// WebSocket handshakes in flight at once while listeners connect: well under the server's
/// accept backlog (4096), so connecting thousands is no SYN flood.
pub(crate) const OPEN_AT_ONCE: usize = 200;
/// Open files kept back on each side for everything other than the listeners' sockets.
const SPARE_FILES: u64 = 100;

/// A tick as one listener read it: its sequence number and when it was read.
pub(crate) type Arrival = (u64, Instant);

/// One measured broadcast.
pub(crate) struct Round {
    /// From just before the controller sent `broadcast` to when the last listener had it.
    pub(crate) delivered: Duration,
    /// What the server did.
    pub(crate) sent: Broadcast,
}

/// Runs the scenario for each count of peers in `--peers`, smallest first, growing one set
/// of listeners; one table row per count.
pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), BoxError> {
    let load = ctx.load();
    let (url, pid) = (ctx.url(Kind::Volley), ctx.pid(Kind::Volley));
    let controller = tokio::time::timeout(WAIT, client_builder(&ctx.opts).connect(&url))
        .await
        .map_err(|_| "the controller could not connect within 30 s")??;
    let stub = BenchClient::new(controller.peer());
    let (room, why) = room(&stub).await?;

    let mut table = Table::new(&[
        "broadcast (volley)",
        "delivered to all, median (min–max)",
        "per peer",
        "server: encode + queue",
        "CPU per peer: server, load generator",
    ]);
    let mut counts = ctx.opts.peers.clone();
    counts.sort_unstable();
    counts.dedup();
    let (arrivals, mut rx) = mpsc::unbounded_channel::<Arrival>();
    // Every listener's reading task; dropping the set (at the end, or on an error) aborts
    // them and closes their connections.
    let mut listeners = JoinSet::new();
    let mut per_peer: Vec<(usize, f64)> = Vec::new();
    let mut seq = 0;
    let mut done = 0;
    for want in counts {
        let n = want.min(room);
        if n < want {
            table.note(format!(
                "{} peers: too many here, measured {} instead: {why}",
                thousands(want as u64),
                thousands(n as u64)
            ));
        }
        if n == 0 || n <= done {
            continue;
        }
        let missing = n - listeners.len();
        let mut opening = futures_util::stream::iter(0..missing)
            .map(|_| listener(&url, LISTEN))
            .buffer_unordered(OPEN_AT_ONCE);
        while let Some(ws) = opening.try_next().await? {
            listeners.spawn(read_ticks(ws, arrivals.clone()));
        }

        // One round unmeasured, to leave out what only the first send to new peers costs.
        seq += 1;
        round(stub.broadcast(seq), &mut rx, seq, n, n).await?;
        let cpu = (cpu_time(pid), cpu_time(std::process::id()));
        let mut rounds = Vec::with_capacity(ctx.opts.rounds);
        for _ in 0..ctx.opts.rounds {
            seq += 1;
            rounds.push(round(stub.broadcast(seq), &mut rx, seq, n, n).await?);
        }
        let cpu = (
            cpu_time(pid).saturating_sub(cpu.0),
            cpu_time(std::process::id()).saturating_sub(cpu.1),
        );
        per_peer.push((n, row(&mut table, n, &rounds, cpu)));
        done = n;
    }
    drop(listeners);
    controller.close();
    table.note(format!(
        "{} measured rounds per count after one warm-up; the peers are raw connections in the load generator that each called `listen`; a round lasts from just before the controller calls `broadcast` until the last peer has read its `tick`",
        ctx.opts.rounds
    ));
    table.note(format!(
        "CPU per peer over the measured rounds, from {} (`-` when too little to divide)",
        cpu_clock()
    ));
    table.note(load.note());
    table.print();

    if let (Some((few, a)), Some((many, b))) = (per_peer.first(), per_peer.last())
        && few < many
    {
        let r = b / a;
        ctx.targets.record(
            Goal::Broadcast,
            &format!(
                "{} vs {} peers",
                thousands(*many as u64),
                thousands(*few as u64)
            ),
            format!("{} per peer", ratio(r)),
            r <= 1.2,
        );
    }
    Ok(())
}

/// How many listeners both sides have open files for, after raising the limit on both, and
/// why not more.
async fn room(stub: &BenchClient) -> Result<(usize, String), BoxError> {
    let ours = raise_nofile();
    let theirs = tokio::time::timeout(WAIT, stub.open_files())
        .await
        .map_err(|_| "the server did not say its open-files limit within 30 s")??;
    let room = ours.soft.min(theirs).saturating_sub(SPARE_FILES);
    let mut why = format!(
        "each peer takes an open file on both sides: limit {} here (hard limit {}), {theirs} in the server, {SPARE_FILES} kept for other files",
        ours.soft, ours.hard
    );
    if let Some(e) = &ours.error {
        why.push_str(&format!("; raising it failed: {e}"));
    } else {
        why.push_str("; only root can raise a hard limit (`ulimit -Hn`)");
    }
    Ok((usize::try_from(room).unwrap_or(usize::MAX), why))
}

/// What a listener sends to join the server's `listeners` group.
const LISTEN: &str = r#"{"jsonrpc":"2.0","id":1,"method":"listen"}"#;

/// Connects one listener and has it send `join`, a request with id 1 that puts it in a group
/// and is answered `true`.
pub(crate) async fn listener(url: &str, join: &str) -> Result<Ws, BoxError> {
    let connect = async {
        let mut ws = generator::connect(url).await?;
        ws.send(Message::Text(join.into())).await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) if text.contains(r#""id":1"#) => {
                    if text.contains(r#""result":true"#) {
                        return Ok::<_, BoxError>(ws);
                    }
                    return Err(format!("{join} was answered with {text}").into());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Err("the server closed before answering listen".into()),
            }
        }
    };
    tokio::time::timeout(WAIT, connect)
        .await
        .map_err(|_| "a listener could not connect and join within 30 s")?
}

/// Reads a listener's frames until its connection ends: each tick is sent to `arrivals`
/// with the instant it was read.
pub(crate) async fn read_ticks(mut ws: Ws, arrivals: mpsc::UnboundedSender<Arrival>) {
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message
            && let Some(seq) = tick_seq(&text)
        {
            let _ = arrivals.send((seq, Instant::now()));
        }
    }
}

/// The sequence number of a `tick` notification (`{"jsonrpc":"2.0","method":"tick",
/// "params":{"seq":N}}`), or `None` for anything else.
fn tick_seq(text: &str) -> Option<u64> {
    if !text.contains(r#""method":"tick""#) {
        return None;
    }
    let at = text.find(r#""seq":"#)? + r#""seq":"#.len();
    let rest = text[at..].trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Has the server broadcast tick `seq` (`send`, the call that makes it) and waits until all
/// `n` listeners have read it; the server must have queued it for `queued` of them itself.
pub(crate) async fn round<E: Into<BoxError>>(
    send: impl Future<Output = Result<Broadcast, E>>,
    rx: &mut mpsc::UnboundedReceiver<Arrival>,
    seq: u64,
    n: usize,
    queued: usize,
) -> Result<Round, BoxError> {
    // Ticks of an earlier round (none are expected: each round waits for all of its own).
    while rx.try_recv().is_ok() {}
    let start = Instant::now();
    let deadline = tokio::time::Instant::from_std(start + WAIT);
    let sent = tokio::time::timeout_at(deadline, send)
        .await
        .map_err(|_| "the server did not answer broadcast within 30 s")?
        .map_err(Into::into)?;
    let mut got = 0;
    let mut last = start;
    while got < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((s, at))) if s == seq => {
                got += 1;
                last = last.max(at);
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    if got < n || sent.queued != queued {
        return Err(format!(
            "broadcast {} peers: FAILED: {} of {} listeners had tick {seq} after {:?} (the server queued it for {} of its {}, {} overflowed, {} gone)",
            thousands(n as u64),
            thousands(got as u64),
            thousands(n as u64),
            start.elapsed(),
            thousands(sent.queued as u64),
            thousands(queued as u64),
            sent.overflowed,
            sent.gone
        )
        .into());
    }
    Ok(Round {
        delivered: last - start,
        sent,
    })
}

/// Adds the row for `n` peers: median and range of delivery, per peer, median server
/// queueing, and the CPU time both processes spent per peer on the measured `rounds`
/// (`cpu`: server, load generator). Returns the median delivery time per peer in ns.
fn row(table: &mut Table, n: usize, rounds: &[Round], cpu: (Duration, Duration)) -> f64 {
    let ms: Vec<f64> = rounds
        .iter()
        .map(|r| r.delivered.as_secs_f64() * 1e3)
        .collect();
    let delivered = Stats::of(&ms);
    let queued = Stats::of(
        &rounds
            .iter()
            .map(|r| r.sent.nanos as f64)
            .collect::<Vec<_>>(),
    );
    let per_peer = delivered.median * 1e6 / n as f64;
    let sends = (rounds.len() * n) as u64;
    let cpu_per_peer = |used: Duration| per_item(used, sends).map_or("-".to_owned(), micros);
    table.row(vec![
        format!("{} peers", thousands(n as u64)),
        delivered.show(millis),
        micros(per_peer),
        format!(
            "{} ({:.0} ns per peer)",
            micros(queued.median),
            queued.median / n as f64
        ),
        format!("{}, {}", cpu_per_peer(cpu.0), cpu_per_peer(cpu.1)),
    ]);
    per_peer
}

#[cfg(test)]
mod tests {
    use super::tick_seq;

    #[test]
    fn reads_the_tick_number() {
        let tick = r#"{"jsonrpc":"2.0","method":"tick","params":{"seq":42}}"#;
        assert_eq!(tick_seq(tick), Some(42));
        assert_eq!(tick_seq(r#"{"jsonrpc":"2.0","id":1,"result":true}"#), None);
    }
}
