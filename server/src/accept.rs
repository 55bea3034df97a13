//! Serving HTTP/1.1 on accepted connections: hyper with a timer, so a client that does not
//! send a complete request head within the handshake timeout (slowloris, an idle keep-alive
//! connection) is disconnected; WebSocket upgrades go on as usual. Stops accepting when
//! `stop` is cancelled and lets each connection finish its request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

/// Accepts connections from `listener` until `stop`, serving `router` on each.
pub(crate) async fn serve<L>(
    mut listener: L,
    router: Router,
    stop: CancellationToken,
    handshake_timeout: Duration,
) where
    L: Listener<Addr = SocketAddr>,
{
    let connections = TaskTracker::new();
    loop {
        let (io, remote) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.cancelled() => break,
        };
        let router = router.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(remote));
                let mut router = router.clone();
                async move {
                    Ok::<_, Infallible>(router.call(request).await.unwrap_or_else(|e| match e {}))
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(handshake_timeout);
            let connection = builder
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%remote, error = %e, "HTTP connection ended");
                    }
                }
                _ = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}
