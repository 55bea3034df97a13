//! Calls from the client: pipelined with a window of N in flight per connection (throughput),
//! and one at a time (latency).

use std::time::Duration;

use futures_util::SinkExt;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::{Expect, Run, WAIT, Ws, check, next_text, ready_text, send};
use crate::{BoxError, wire};

/// Which call to make and what its answer must say.
#[derive(Clone, Copy)]
pub(crate) struct Calls {
    /// The request with an id, given the id and [`Calls::arg`].
    request: fn(u64, u64) -> String,
    /// What every request is given besides its id (the peer a `relay` goes to).
    arg: u64,
    expect: Expect,
}

impl Calls {
    /// What an answer must say.
    pub(crate) fn expect(self) -> Expect {
        self.expect
    }

    /// The request with id `id`.
    fn request(self, id: u64) -> String {
        (self.request)(id, self.arg)
    }

    /// `add(id, 1)` to a JSON-RPC server.
    pub(crate) const ADD: Self = Self {
        request: |id, _| wire::add(id),
        arg: 0,
        expect: Expect::Sum,
    };
    /// `add(id, 1)` to the echo server, which sends it back.
    pub(crate) const ECHO: Self = Self {
        request: |id, _| wire::add(id),
        arg: 0,
        expect: Expect::Echo,
    };
    /// `ask("ok?")`, which the server answers only after calling the client's `confirm`.
    pub(crate) const ASK: Self = Self {
        request: |id, _| wire::ask(id),
        arg: 0,
        expect: Expect::True,
    };

    /// `relay(to, id, 1)` to a cluster node, which answers only after the peer `to` (on
    /// that node or another) has answered its `add(id, 1)`.
    pub(crate) fn relay(to: u64) -> Self {
        Self {
            request: wire::relay,
            arg: to,
            expect: Expect::Sum,
        }
    }
}

/// Calls for `duration` over every connection in `conns`, keeping `window` calls in flight on
/// each: every answer read is checked and replaced by a new call, every frame that has
/// arrived is handled before one flush. After `duration` no new calls are made and every
/// call in flight must be answered within [`WAIT`]. Requests the server sends meanwhile
/// (volley's `ask` calls the client back) are answered on the same connection.
///
/// Each connection is driven by a task of its own, woken by the runtime when its socket is
/// ready: one future joining thousands of connections would cost the generator more per
/// call than the servers it measures (its wake-ups go through a second queue and its
/// waker). The connections are handed back in `conns` when every task has ended well; on an
/// error they are dropped (closed).
pub(crate) async fn pipeline(
    conns: &mut Vec<Ws>,
    window: usize,
    duration: Duration,
    calls: Calls,
) -> Result<Run, BoxError> {
    if let [ws] = conns.as_mut_slice() {
        return one(ws, window, duration, calls).await;
    }
    let start = Instant::now();
    let stop = start + duration;
    // Dropping the set (on an error, or when the caller gives up) aborts every task.
    let mut tasks = JoinSet::new();
    for (i, mut ws) in conns.drain(..).enumerate() {
        tasks.spawn(async move {
            let answered = connection(&mut ws, window, calls, stop, u64::MAX, stop + WAIT).await;
            (i, ws, answered)
        });
    }
    let mut back: Vec<Option<Ws>> = Vec::new();
    back.resize_with(tasks.len(), || None);
    let mut count = 0;
    while let Some(joined) = tasks.join_next().await {
        let (i, ws, answered) = joined.map_err(|e| format!("a connection's task failed: {e}"))?;
        count += answered?;
        back[i] = Some(ws);
    }
    let elapsed = start.elapsed();
    conns.extend(back.into_iter().flatten());
    Ok(Run { count, elapsed })
}

/// [`pipeline`] over one connection, in the caller's task.
pub(crate) async fn one(
    ws: &mut Ws,
    window: usize,
    duration: Duration,
    calls: Calls,
) -> Result<Run, BoxError> {
    let start = Instant::now();
    let stop = start + duration;
    let count = connection(ws, window, calls, stop, u64::MAX, stop + WAIT).await?;
    Ok(Run {
        count,
        elapsed: start.elapsed(),
    })
}

/// Exactly `total` calls on one connection, `window` in flight, within `deadline`: the
/// instruction count's load, where a count and not a time must be the same every run.
pub(crate) async fn counted(
    ws: &mut Ws,
    window: usize,
    total: u64,
    calls: Calls,
    deadline: Instant,
) -> Result<u64, BoxError> {
    connection(ws, window, calls, deadline, total, deadline).await
}

/// One connection's share of [`pipeline`]: how many calls were answered. No call is made
/// after `stop` or past the `limit`th.
async fn connection(
    ws: &mut Ws,
    window: usize,
    calls: Calls,
    stop: Instant,
    limit: u64,
    deadline: Instant,
) -> Result<u64, BoxError> {
    let mut next = 1u64;
    let mut in_flight = 0usize;
    let mut answered = 0u64;
    for _ in 0..(window as u64).min(limit) {
        ws.feed(Message::Text(calls.request(next).into())).await?;
        next += 1;
        in_flight += 1;
    }
    ws.flush().await?;
    while in_flight > 0 {
        let mut frame = Some(next_text(ws, deadline).await.map_err(|e| {
            format!("{e} ({in_flight} of the calls on a connection were not answered)")
        })?);
        let mut sending = Instant::now() < stop;
        while let Some(text) = frame {
            if calls.expect != Expect::Echo && wire::has(&text, "method") {
                // A call or notification from the server, not an answer.
                if let Some(reply) = wire::answer(&text) {
                    ws.feed(Message::Text(reply.into())).await?;
                }
            } else {
                check(&text, calls.expect, next)?;
                if in_flight == 0 {
                    return Err(format!("more answers than calls: {text}").into());
                }
                in_flight -= 1;
                answered += 1;
                sending &= next <= limit;
                if sending {
                    ws.feed(Message::Text(calls.request(next).into())).await?;
                    next += 1;
                    in_flight += 1;
                }
            }
            frame = ready_text(ws).await?;
        }
        ws.flush().await?;
    }
    Ok(answered)
}

/// Sequential calls on one connection for `duration` (at least one): each is written and
/// flushed, and the next waits for its answer. Returns each call's round trip in
/// nanoseconds.
pub(crate) async fn sequential(
    ws: &mut Ws,
    duration: Duration,
    calls: Calls,
) -> Result<Vec<u64>, BoxError> {
    let stop = Instant::now() + duration;
    let mut samples = Vec::with_capacity(1 << 16);
    let mut id = 1;
    loop {
        let start = Instant::now();
        send(ws, calls.request(id)).await?;
        let text = next_text(ws, start + WAIT).await?;
        check(&text, calls.expect, id + 1)?;
        samples.push(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        id += 1;
        if Instant::now() >= stop {
            return Ok(samples);
        }
    }
}
