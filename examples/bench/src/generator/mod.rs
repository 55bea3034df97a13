//! The load generator: raw tokio-tungstenite client connections that write JSON-RPC text and
//! check what comes back, the same for every server. It runs in the benchmark's own process
//! on a current_thread runtime (one CPU, no hand-offs between threads).
//!
//! - [`pipeline`]: calls with a window of N in flight per connection, batched flushes;
//!   sequential calls for latency;
//! - [`oneway`]: notifications to the server, and what the server sends the client
//!   (server-to-client calls it answers, notifications it counts).

pub(crate) mod oneway;
pub(crate) mod pipeline;

use std::task::Poll;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt, TryStreamExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::{BoxError, wire};

/// One raw client connection.
pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The longest any one step may take (a connect, an answer, draining a run): past it the
/// measurement has failed.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// What one timed run did.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run {
    /// Calls answered (or messages delivered).
    pub(crate) count: u64,
    /// From the first write to the last answer.
    pub(crate) elapsed: Duration,
}

impl Run {
    pub(crate) fn per_sec(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Connects one raw client (Nagle off), within [`WAIT`].
pub(crate) async fn connect(url: &str) -> Result<Ws, BoxError> {
    let dial = tokio_tungstenite::connect_async_with_config(url, Some(wire::config()), true);
    let (ws, _) = tokio::time::timeout(WAIT, dial)
        .await
        .map_err(|_| format!("could not connect to {url} within {WAIT:?}"))??;
    Ok(ws)
}

/// Opens `n` connections, `at_once` handshakes in flight at a time; with `answered` (what
/// the answer must say), each has had one `add` answered before it counts as open.
pub(crate) async fn open(
    url: &str,
    n: usize,
    at_once: usize,
    answered: Option<Expect>,
) -> Result<Vec<Ws>, BoxError> {
    futures_util::stream::iter(0..n)
        .map(|_| async move {
            let mut ws = connect(url).await?;
            if let Some(expect) = answered {
                send(&mut ws, wire::add(1)).await?;
                let reply = next_text(&mut ws, Instant::now() + WAIT).await?;
                check(&reply, expect, 2)?;
            }
            Ok::<_, BoxError>(ws)
        })
        .buffer_unordered(at_once.max(1))
        .try_collect()
        .await
}

/// Writes one text frame and flushes.
pub(crate) async fn send(ws: &mut Ws, text: String) -> Result<(), BoxError> {
    ws.send(Message::Text(text.into())).await?;
    Ok(())
}

/// The next text frame, by `deadline` (pings and pongs are tungstenite's business).
pub(crate) async fn next_text(ws: &mut Ws, deadline: Instant) -> Result<Utf8Bytes, BoxError> {
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Err("no answer in time: lost or late answers".into()),
            Ok(None) => return Err("the server closed the connection".into()),
            Ok(Some(Err(e))) => return Err(format!("the connection failed: {e}").into()),
            Ok(Some(Ok(Message::Text(text)))) => return Ok(text),
            Ok(Some(Ok(Message::Close(c)))) => {
                return Err(format!("the server closed the connection: {c:?}").into());
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// The next text frame if one has arrived already, without waiting.
pub(crate) async fn ready_text(ws: &mut Ws) -> Result<Option<Utf8Bytes>, BoxError> {
    loop {
        match wire::ready(ws).await {
            Poll::Pending => return Ok(None),
            Poll::Ready(Some(Ok(Message::Text(text)))) => return Ok(Some(text)),
            Poll::Ready(Some(Ok(Message::Close(c)))) => {
                return Err(format!("the server closed the connection: {c:?}").into());
            }
            Poll::Ready(Some(Ok(_))) => {}
            Poll::Ready(Some(Err(e))) => return Err(format!("the connection failed: {e}").into()),
            Poll::Ready(None) => return Err("the server closed the connection".into()),
        }
    }
}

/// What an answer must say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// `add(id, 1)`'s result, `id + 1`.
    Sum,
    /// `ask`'s result, `true`.
    True,
    /// The request itself, echoed.
    Echo,
}

/// Checks one answer; returns its id. `below` bounds the ids this connection has used.
pub(crate) fn check(text: &str, expect: Expect, below: u64) -> Result<u64, BoxError> {
    let id: u64 = wire::field(text, "id")
        .and_then(|id| id.parse().ok())
        .filter(|&id| id >= 1 && id < below)
        .ok_or_else(|| format!("an answer with an id never sent: {text}"))?;
    let good = match expect {
        Expect::Echo => text.starts_with(r#"{"jsonrpc":"2.0","id":"#),
        Expect::Sum => wire::field(text, "result").and_then(|r| r.parse().ok()) == Some(id + 1),
        Expect::True => wire::field(text, "result") == Some("true"),
    };
    if good {
        Ok(id)
    } else {
        Err(format!("a wrong answer: {text}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::{Expect, check};
    use crate::wire;

    #[test]
    fn checks_answers() {
        assert_eq!(
            check(r#"{"jsonrpc":"2.0","id":4,"result":5}"#, Expect::Sum, 9).unwrap(),
            4
        );
        assert_eq!(
            check(r#"{"jsonrpc":"2.0","result":5,"id":4}"#, Expect::Sum, 9).unwrap(),
            4,
            "volley's answers put the result first"
        );
        assert!(check(r#"{"jsonrpc":"2.0","id":4,"result":6}"#, Expect::Sum, 9).is_err());
        assert!(check(r#"{"jsonrpc":"2.0","id":9,"result":10}"#, Expect::Sum, 9).is_err());
        let error = r#"{"jsonrpc":"2.0","id":4,"error":{"code":-32601}}"#;
        assert!(check(error, Expect::True, 9).is_err());
        assert_eq!(check(&wire::add(3), Expect::Echo, 9).unwrap(), 3);
    }
}
