//! [`Server`]: what every connection serves, the registry of peers, and the shutdown.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use volley_codegen::Api;
use volley_core::Service;

use crate::peers::Peers;
use crate::sessions::Sessions;
use crate::settings::Settings;

pub(crate) struct Inner {
    pub(crate) service: Service,
    pub(crate) api: Api,
    pub(crate) settings: Settings,
    /// Connection slots, when `max_connections` is set.
    pub(crate) slots: Option<Arc<Semaphore>>,
    /// The address of the last `listen`, for documents requested without a Host header.
    pub(crate) bound: Mutex<Option<SocketAddr>>,
    pub(crate) peers: Peers,
    /// Resumable sessions by id.
    pub(crate) sessions: Sessions,
    pub(crate) shutdown: CancellationToken,
    /// The listeners started by `listen`.
    pub(crate) listeners: TaskTracker,
}

/// A volley server: the services each connection serves, and the registry of peers.
///
/// Cheap to clone. [`Server::listen`] binds and serves in the background, [`Server::serve`]
/// serves until Ctrl-C, and [`Server::router`] gives the routes to mount in your own axum
/// app. [`Server::shutdown`] stops it, however it was started.
#[derive(Clone)]
pub struct Server {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("path", &self.inner.settings.path)
            .field("service", &self.inner.service)
            .field("peers", &self.inner.peers.len())
            .finish()
    }
}

impl Server {
    pub(crate) fn new(service: Service, api: Api, settings: Settings) -> Self {
        Server {
            inner: Arc::new(Inner {
                slots: settings
                    .max_connections
                    .map(|n| Arc::new(Semaphore::new(n))),
                service,
                api,
                settings,
                bound: Mutex::new(None),
                peers: Peers::default(),
                sessions: Sessions::default(),
                shutdown: CancellationToken::new(),
                listeners: TaskTracker::new(),
            }),
        }
    }

    /// The registry of connected peers.
    pub fn peers(&self) -> &Peers {
        &self.inner.peers
    }

    /// The server's contract: what it serves, what its clients serve, the documents' info.
    /// Render it with `volley::codegen::{asyncapi, openrpc, typescript}`.
    pub fn api(&self) -> &Api {
        &self.inner.api
    }

    /// Whether the server terminates TLS itself ([`ServerBuilder::tls`](crate::ServerBuilder::tls)).
    pub fn is_tls(&self) -> bool {
        self.inner.settings.tls.is_some()
    }

    /// The WebSocket endpoint's path.
    pub fn path(&self) -> &str {
        &self.inner.settings.path
    }

    /// The address the server last started listening on, if it did.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self.inner.bound.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves once the server begins to shut down; background tasks that call peers can
    /// `select!` on it to stop with the server.
    pub async fn stopped(&self) {
        self.inner.shutdown.cancelled().await
    }

    /// Whether the server is shutting down.
    pub fn is_stopping(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }

    /// Shuts the server down, draining first:
    ///
    /// 1. stops accepting: new upgrades get 503;
    /// 2. drains every connection ([`Peer::drain`](volley_core::Peer::drain)): new requests
    ///    get -32012 `Shutting down`, requests already running finish and their answers are
    ///    delivered, for up to [`drain_timeout`](crate::ServerBuilder::drain_timeout);
    /// 3. closes every connection with 1001 ("server shutting down"; calls still pending fail
    ///    with `Disconnected` on both sides) and waits until each has sent its close frame
    ///    (or given up on a peer that stopped reading, after two seconds; five at most);
    /// 4. waits for every listener [`Server::listen`] started.
    ///
    /// Calling it again, or from several tasks, waits for the same end.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        let peers = self.inner.peers.list();
        let draining = futures_util::future::join_all(peers.iter().map(|p| p.drain()));
        if tokio::time::timeout(self.inner.settings.drain_timeout, draining)
            .await
            .is_err()
        {
            tracing::info!(
                timeout = ?self.inner.settings.drain_timeout,
                "requests still running at the end of the drain; closing anyway"
            );
        }
        let peers = self.inner.peers.list();
        for peer in &peers {
            peer.close_with(1001, "server shutting down");
        }
        let closing = futures_util::future::join_all(peers.iter().map(|p| p.closed()));
        let _ = tokio::time::timeout(Duration::from_secs(5), closing).await;
        self.inner.listeners.close();
        self.inner.listeners.wait().await;
    }

    /// For a server run by your own `axum::serve`: a future to pass to its
    /// `with_graceful_shutdown` that waits for `signal`, then runs [`Server::shutdown`]'s
    /// drain and close, so every client gets its answers and a 1001 close frame before axum
    /// stops:
    ///
    /// ```no_run
    /// # async fn run(server: volley_server::Server) -> std::io::Result<()> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// let app = server.router();
    /// axum::serve(listener, app)
    ///     .with_graceful_shutdown(server.shutdown_on(async {
    ///         let _ = tokio::signal::ctrl_c().await;
    ///     }))
    ///     .await
    /// # }
    /// ```
    pub fn shutdown_on(
        &self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let server = self.clone();
        async move {
            tokio::select! {
                () = signal => {}
                () = server.stopped() => {}
            }
            server.shutdown().await;
        }
    }
}
