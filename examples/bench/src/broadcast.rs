//! The broadcast scenario: one notification to N connected peers, timed until the last of
//! them has it.
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
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::system::{cpu_time, raise_nofile};
use crate::{BenchClient, Broadcast, Opts, client};

type BoxError = Box<dyn std::error::Error>;

/// WebSocket handshakes in flight at once while listeners connect: well under the server's
/// accept backlog (4096), so connecting thousands is no SYN flood.
const OPEN_AT_ONCE: usize = 200;
/// The longest one step may take: a listener connecting, a round's delivery.
const WAIT: Duration = Duration::from_secs(30);
/// Open files kept back on each side for everything other than the listeners' sockets.
const SPARE_FILES: u64 = 100;

/// A tick as one listener read it: its sequence number and when it was read.
type Arrival = (u64, Instant);

/// One measured broadcast.
struct Round {
    /// From just before the controller sent `broadcast` to when the last listener had it.
    delivered: Duration,
    /// What the server did.
    sent: Broadcast,
}

/// Runs the scenario for each count of peers in `opts.peers`, smallest first, growing one
/// set of listeners; prints two lines per count. `pid` is the server's.
pub(crate) async fn broadcast(url: &str, pid: u32, opts: &Opts) -> Result<(), BoxError> {
    let controller = tokio::time::timeout(WAIT, client(opts).connect(url))
        .await
        .map_err(|_| "the controller could not connect within 30 s")??;
    let stub = BenchClient::new(controller.peer());
    let (room, why) = room(&stub).await?;

    let mut counts = opts.peers.clone();
    counts.sort_unstable();
    counts.dedup();
    let (arrivals, mut rx) = mpsc::unbounded_channel::<Arrival>();
    let mut listeners: Vec<JoinHandle<()>> = Vec::new();
    let mut seq = 0;
    let mut done = 0;
    for want in counts {
        let n = want.min(room);
        if n < want {
            println!(
                "broadcast {:>6} peers: too many here, measuring {} instead: {why}",
                thousands(want),
                thousands(n)
            );
        }
        if n == 0 || n <= done {
            continue;
        }
        let missing = n - listeners.len();
        let opened: Vec<JoinHandle<()>> = futures_util::stream::iter(0..missing)
            .map(|_| listener(url, arrivals.clone()))
            .buffer_unordered(OPEN_AT_ONCE)
            .try_collect()
            .await?;
        listeners.extend(opened);

        // One round unmeasured, to leave out what only the first send to new peers costs.
        seq += 1;
        round(&stub, &mut rx, seq, n).await?;
        let cpu = (cpu_time(pid), cpu_time(std::process::id()));
        let mut rounds = Vec::with_capacity(opts.rounds);
        for _ in 0..opts.rounds {
            seq += 1;
            rounds.push(round(&stub, &mut rx, seq, n).await?);
        }
        let cpu = (cpu_time(pid) - cpu.0, cpu_time(std::process::id()) - cpu.1);
        report(n, &rounds, cpu);
        done = n;
    }
    for l in listeners {
        l.abort();
    }
    controller.close();
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

/// Connects one listener, has it call `listen`, and leaves it reading: each tick it reads is
/// sent to `arrivals` with the instant it was read.
async fn listener(
    url: &str,
    arrivals: mpsc::UnboundedSender<Arrival>,
) -> Result<JoinHandle<()>, BoxError> {
    let connect = async {
        // A listener reads only small notifications.
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(url, Some(config), false).await?;
        ws.send(Message::Text(
            r#"{"jsonrpc":"2.0","id":1,"method":"listen"}"#.into(),
        ))
        .await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) if text.contains(r#""id":1"#) => {
                    if text.contains(r#""result":true"#) {
                        return Ok::<_, BoxError>(ws);
                    }
                    return Err(format!("listen was answered with {text}").into());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Err("the server closed before answering listen".into()),
            }
        }
    };
    let mut ws = tokio::time::timeout(WAIT, connect)
        .await
        .map_err(|_| "a listener could not connect and listen within 30 s")??;
    Ok(tokio::spawn(async move {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message
                && let Some(seq) = tick_seq(&text)
            {
                let _ = arrivals.send((seq, Instant::now()));
            }
        }
    }))
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

/// Has the server broadcast tick `seq` and waits until all `n` listeners have read it.
async fn round(
    stub: &BenchClient,
    rx: &mut mpsc::UnboundedReceiver<Arrival>,
    seq: u64,
    n: usize,
) -> Result<Round, BoxError> {
    // Ticks of an earlier round (none are expected: each round waits for all of its own).
    while rx.try_recv().is_ok() {}
    let start = Instant::now();
    let deadline = tokio::time::Instant::from_std(start + WAIT);
    let sent = tokio::time::timeout_at(deadline, stub.broadcast(seq))
        .await
        .map_err(|_| "the server did not answer broadcast within 30 s")??;
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
    if got < n || sent.queued != n {
        return Err(format!(
            "broadcast {} peers: FAILED: {} of {} listeners had tick {seq} after {:?} (the server queued it for {}, {} overflowed, {} gone)",
            thousands(n),
            thousands(got),
            thousands(n),
            start.elapsed(),
            thousands(sent.queued),
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

/// Prints the lines for `n` peers: median and range of delivery, median server queueing,
/// and the CPU time both processes spent on the measured `rounds` (`cpu`: server, load
/// generator).
fn report(n: usize, rounds: &[Round], cpu: (Duration, Duration)) {
    let mut delivered: Vec<Duration> = rounds.iter().map(|r| r.delivered).collect();
    delivered.sort_unstable();
    let (min, max) = (delivered[0], delivered[delivered.len() - 1]);
    let middle = median(&delivered, |a, b| (a + b) / 2);
    let mut queueing: Vec<u64> = rounds.iter().map(|r| r.sent.nanos).collect();
    queueing.sort_unstable();
    let queued = median(&queueing, |a, b| (a + b) / 2);
    println!(
        "broadcast {:>6} peers: delivered to all in {} ms median ({}–{} ms, {} rounds; {:.2} µs per peer), server queued in {:.0} µs ({} ns/peer)",
        thousands(n),
        ms(middle),
        ms(min),
        ms(max),
        rounds.len(),
        middle.as_secs_f64() * 1e6 / n as f64,
        queued as f64 / 1e3,
        queued / n as u64
    );
    // /proc counts CPU time in 10 ms steps: below a few of them a per-peer figure is noise.
    let sends = (rounds.len() * n) as f64;
    let per_peer = |used: Duration| {
        if used >= Duration::from_millis(50) {
            format!("{:.1} µs per peer", used.as_secs_f64() * 1e6 / sends)
        } else {
            "too little to divide".to_string()
        }
    };
    println!(
        "  CPU for the {} rounds: server {:?} ({}), load generator {:?} ({})",
        rounds.len(),
        cpu.0,
        per_peer(cpu.0),
        cpu.1,
        per_peer(cpu.1)
    );
}

/// The middle of `sorted` (not empty), or the `mean` of the middle two.
fn median<T: Copy>(sorted: &[T], mean: impl Fn(T, T) -> T) -> T {
    let mid = sorted.len() / 2;
    if !sorted.len().is_multiple_of(2) {
        sorted[mid]
    } else {
        mean(sorted[mid - 1], sorted[mid])
    }
}

/// A duration in milliseconds (without the unit), to the tenth below 100 ms.
fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// `n` with a comma between thousands: 10,000.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{median, thousands, tick_seq};

    #[test]
    fn reads_the_tick_number() {
        let tick = r#"{"jsonrpc":"2.0","method":"tick","params":{"seq":42}}"#;
        assert_eq!(tick_seq(tick), Some(42));
        assert_eq!(tick_seq(r#"{"jsonrpc":"2.0","id":1,"result":true}"#), None);
    }

    #[test]
    fn takes_the_middle() {
        let mean = |a: u64, b: u64| (a + b) / 2;
        assert_eq!(median(&[3], mean), 3);
        assert_eq!(median(&[1, 2, 9], mean), 2);
        assert_eq!(median(&[1, 3, 5, 9], mean), 4);
    }

    #[test]
    fn separates_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(200), "200");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
