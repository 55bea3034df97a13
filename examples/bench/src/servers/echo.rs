//! The ceiling: a tokio-tungstenite server that echoes every frame, writing every frame that
//! is ready and flushing once when no more are (batched flushes), with volley's buffer sizes.
//!
//! Two exceptions make it usable with the same load generator: a frame that starts like a
//! JSON-RPC notification (`{"jsonrpc":"2.0","method"`) is counted and not echoed (a
//! notification has no answer), and the exact text of [`wire::COUNT_QUERY`] is answered with
//! that count. Both are a length or prefix comparison; nothing is parsed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Error, Message};

use crate::{BoxError, wire};

/// Notifications read since the process started.
static NOTIFIED: AtomicU64 = AtomicU64::new(0);

/// Serves until stdin closes.
pub(crate) async fn serve() -> Result<(), BoxError> {
    super::serve_each(connection).await
}

/// One connection: the handshake, then echo until it ends.
async fn connection(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let handshake = tokio_tungstenite::accept_async_with_config(stream, Some(wire::config()));
    let Ok(Ok(mut ws)) = tokio::time::timeout(Duration::from_secs(10), handshake).await else {
        return;
    };
    while let Some(Ok(first)) = ws.next().await {
        if answer(&mut ws, first).await.is_err() {
            return;
        }
        loop {
            match wire::ready(&mut ws).await {
                Poll::Ready(Some(Ok(message))) => {
                    if answer(&mut ws, message).await.is_err() {
                        return;
                    }
                }
                Poll::Pending => break,
                Poll::Ready(_) => return,
            }
        }
        if ws.flush().await.is_err() {
            return;
        }
    }
}

/// Queues the answer to one frame (written at the next flush, or sooner when the write
/// buffer fills).
async fn answer(ws: &mut WebSocketStream<TcpStream>, message: Message) -> Result<(), Error> {
    match message {
        Message::Text(text) => {
            if text.as_str() == wire::COUNT_QUERY {
                let count = NOTIFIED.load(Ordering::Relaxed);
                ws.feed(Message::Text(wire::count_reply(count).into()))
                    .await
            } else if text.as_str().starts_with(wire::NOTIFICATION_PREFIX) {
                NOTIFIED.fetch_add(1, Ordering::Relaxed);
                Ok(())
            } else {
                ws.feed(Message::Text(text)).await
            }
        }
        Message::Binary(bytes) => ws.feed(Message::Binary(bytes)).await,
        // tungstenite answers pings and closes itself.
        _ => Ok(()),
    }
}
