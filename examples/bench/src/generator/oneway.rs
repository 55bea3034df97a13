//! Traffic that is not the client calling: notifications to the server, and what a volley
//! server sends the client (calls the client answers, notifications it counts).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::{Run, WAIT, Ws, next_text, ready_text, send};
use crate::{BoxError, wire};

/// Notifications written per flush.
const BURST: u64 = 64;

/// Writes `note` notifications on `ws` for `duration`, `BURST` per flush (TCP's flow
/// control holds the writer back when the server falls behind), then asks the server how
/// many it has counted until they all are. The run lasts until the server has counted the
/// last one.
pub(crate) async fn notify(ws: &mut Ws, duration: Duration) -> Result<Run, BoxError> {
    let before = count(ws).await?;
    let start = Instant::now();
    let stop = start + duration;
    let mut sent = 0u64;
    while Instant::now() < stop {
        for _ in 0..BURST {
            ws.feed(Message::Text(wire::note(sent).into())).await?;
            sent += 1;
        }
        ws.flush().await?;
    }
    let deadline = Instant::now() + WAIT;
    loop {
        let counted = count(ws).await? - before;
        if counted == sent {
            break;
        }
        if counted > sent {
            return Err(format!("the server counted {counted} notifications of {sent}").into());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the server counted {counted} of {sent} notifications after {WAIT:?}: lost notifications"
            )
            .into());
        }
    }
    Ok(Run {
        count: sent,
        elapsed: start.elapsed(),
    })
}

/// The server's count of notifications (its answer to [`wire::COUNT_QUERY`]).
async fn count(ws: &mut Ws) -> Result<u64, BoxError> {
    send(ws, wire::COUNT_QUERY.to_owned()).await?;
    let deadline = Instant::now() + WAIT;
    loop {
        let text = next_text(ws, deadline).await?;
        if answer0(&text) {
            return wire::field(&text, "result")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("not a count: {text}").into());
        }
    }
}

/// Asks a volley server to `blast` `tick` notifications at this client for `duration` and
/// counts them until its answer (which the server queues after the last of them) says how
/// many it sent.
pub(crate) async fn blast(ws: &mut Ws, duration: Duration) -> Result<Run, BoxError> {
    let millis = duration.as_millis().to_string();
    let start = Instant::now();
    send(ws, wire::request0("blast", &format!("[{millis}]"))).await?;
    let deadline = start + duration + WAIT;
    let mut got = 0u64;
    loop {
        let mut frame = Some(next_text(ws, deadline).await?);
        while let Some(text) = frame {
            if answer0(&text) {
                let sent: u64 = wire::field(&text, "result")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("blast failed: {text}"))?;
                if sent != got {
                    return Err(format!("the server sent {sent} ticks, {got} arrived").into());
                }
                return Ok(Run {
                    count: got,
                    elapsed: start.elapsed(),
                });
            }
            if wire::field(&text, "method") == Some(r#""tick""#) {
                got += 1;
            }
            frame = ready_text(ws).await?;
        }
    }
}

/// Asks a volley server to `drive` calls at this client (`window` in flight, for
/// `duration`) and answers each, flushing once per batch of arrived calls. The server checks
/// every answer and times the run itself.
pub(crate) async fn drive(ws: &mut Ws, window: usize, duration: Duration) -> Result<Run, BoxError> {
    let params = format!("[{window},{}]", duration.as_millis());
    send(ws, wire::request0("drive", &params)).await?;
    let deadline = Instant::now() + duration + WAIT;
    loop {
        let mut frame = Some(next_text(ws, deadline).await?);
        while let Some(text) = frame {
            if answer0(&text) {
                let result =
                    wire::field(&text, "result").ok_or_else(|| format!("drive failed: {text}"))?;
                let number = |name| {
                    wire::field(result, name)
                        .and_then(|n| n.parse::<u64>().ok())
                        .ok_or_else(|| format!("drive answered {text}"))
                };
                return Ok(Run {
                    count: number("calls")?,
                    elapsed: Duration::from_nanos(number("nanos")?),
                });
            }
            if let Some(reply) = wire::answer(&text) {
                ws.feed(Message::Text(reply.into())).await?;
            }
            frame = ready_text(ws).await?;
        }
        ws.flush().await?;
    }
}

/// Answers every call a volley server sends on `ws` (`add`, `confirm`), flushing once per
/// batch of arrived calls, until the connection ends: how many it answered. (It waits
/// without a deadline: its owner aborts it when done with it.)
pub(crate) async fn answer_all(mut ws: Ws) -> Result<u64, BoxError> {
    let mut answered = 0;
    loop {
        let mut frame = match ws.next().await {
            None | Some(Ok(Message::Close(_))) => return Ok(answered),
            Some(Err(e)) => return Err(format!("the connection failed: {e}").into()),
            Some(Ok(Message::Text(text))) => Some(text),
            Some(Ok(_)) => continue,
        };
        while let Some(text) = frame {
            if let Some(reply) = wire::answer(&text) {
                ws.feed(Message::Text(reply.into())).await?;
                answered += 1;
            }
            frame = ready_text(&mut ws).await?;
        }
        ws.flush().await?;
    }
}

/// Asks a server for `method` with no params, as request 0, and gives the raw result (the
/// calls and notifications the server sends meanwhile are not expected, and skipped).
pub(crate) async fn ask0(ws: &mut Ws, method: &str) -> Result<String, BoxError> {
    send(ws, wire::request0(method, "[]")).await?;
    let deadline = Instant::now() + WAIT;
    loop {
        let text = next_text(ws, deadline).await?;
        if answer0(&text) {
            return wire::field(&text, "result")
                .map(str::to_owned)
                .ok_or_else(|| format!("{method} failed: {text}").into());
        }
    }
}

/// Whether `text` is the answer to our request with id 0 (not a request the server sends,
/// whose ids are its own).
fn answer0(text: &str) -> bool {
    wire::field(text, "id") == Some("0") && !wire::has(text, "method")
}
