//! The idle scenario: a connect burst, and the server's memory per idle connection, over raw
//! WebSocket connections.

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::system::rss_kib;

pub(crate) async fn idle_memory(
    url: &str,
    pid: u32,
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let before = rss_kib(pid);
    let start = Instant::now();
    let conns = open(url, n).await?;
    let burst = start.elapsed();
    let after = rss_kib(pid);
    println!("connect burst: {n} connections opened at once (each answered one call) in {burst:?}");
    println!(
        "memory after the burst: server resident set {before} KiB -> {after} KiB with {n} idle connections: {:.1} KB per connection",
        (after.saturating_sub(before) as f64 * 1024.0) / n as f64 / 1000.0
    );
    // As many again, opened 100 at a time: the steady cost of an idle connection, without
    // the handshake buffers that a burst holds all at once.
    let mid = rss_kib(pid);
    let mut more = Vec::with_capacity(n);
    for _ in 0..n.div_ceil(100) {
        more.extend(open(url, 100).await?);
    }
    let end = rss_kib(pid);
    println!(
        "memory, opened 100 at a time: {mid} KiB -> {end} KiB for {} more idle connections: {:.1} KB per connection",
        more.len(),
        (end.saturating_sub(mid) as f64 * 1024.0) / more.len() as f64 / 1000.0
    );
    drop(conns);
    drop(more);
    Ok(())
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `n` connections at once; each answers one `rpc.ping` before it counts as open.
async fn open(url: &str, n: usize) -> Result<Vec<Ws>, tokio_tungstenite::tungstenite::Error> {
    futures_util::future::try_join_all((0..n).map(|_| async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
        ws.send(Message::Text(
            r#"{"jsonrpc":"2.0","id":1,"method":"rpc.ping"}"#.into(),
        ))
        .await?;
        let _ = ws.next().await;
        Ok::<_, tokio_tungstenite::tungstenite::Error>(ws)
    }))
    .await
}
