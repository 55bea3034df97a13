//! [`Server`] (the routes and the registry) and [`RunningServer`] (a server listening on an
//! address).

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use volley_codegen::Api;
use volley_core::Service;

use crate::builder::{ServerBuilder, Settings};
use crate::peers::Peers;

pub(crate) struct Inner {
    pub(crate) service: Service,
    pub(crate) api: Api,
    pub(crate) settings: Settings,
    /// Connection slots, when `max_connections` is set.
    pub(crate) slots: Option<Arc<Semaphore>>,
    /// The address of the last `listen`, for documents requested without a Host header.
    bound: Mutex<Option<SocketAddr>>,
    pub(crate) peers: Peers,
    pub(crate) shutdown: CancellationToken,
    /// The listeners started by `listen`.
    listeners: TaskTracker,
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
    /// A new builder.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

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

    /// The WebSocket endpoint's path.
    pub fn path(&self) -> &str {
        &self.inner.settings.path
    }

    /// The address the server last started listening on, if it did.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self.inner.bound.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The server's routes (the WebSocket endpoint, `/volley.js` and `/volley.d.ts`,
    /// `/asyncapi.json` and `/openrpc.json` unless [`ServerBuilder::documents`] turned them
    /// off, `/docs` unless [`ServerBuilder::docs_page`] did), to merge into an existing app:
    /// `app.merge(server.router())`.
    pub fn router(&self) -> Router {
        crate::http::router(self)
    }

    /// Binds `addr` with a large backlog and serves [`Server::router`] there in the
    /// background. Use port 0 for any free port; [`RunningServer::local_addr`] tells which.
    pub async fn listen(&self, addr: impl ToSocketAddrs) -> io::Result<RunningServer> {
        self.listen_with(addr, self.router()).await
    }

    /// Like [`Server::listen`], serving your own `app` (which should include
    /// [`Server::router`]); shutting down also closes this server's connections.
    pub async fn listen_with(
        &self,
        addr: impl ToSocketAddrs,
        app: Router,
    ) -> io::Result<RunningServer> {
        let listener = bind(addr, self.inner.settings.backlog).await?;
        let local_addr = listener.local_addr()?;
        *self.inner.bound.lock().unwrap_or_else(|e| e.into_inner()) = Some(local_addr);
        let stop = self.inner.shutdown.clone();
        self.inner.listeners.spawn(async move {
            let make = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, make)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
            {
                tracing::error!(error = %e, "server stopped");
            }
        });
        tracing::info!(%local_addr, path = %self.path(), "volley server listening");
        Ok(RunningServer {
            local_addr,
            server: self.clone(),
        })
    }

    /// Serves on `addr` until the process is interrupted (Ctrl-C) or [`Server::shutdown`] is
    /// called, then shuts down.
    pub async fn serve(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        self.serve_with(addr, self.router()).await
    }

    /// Like [`Server::serve`], serving your own `app` (which should include
    /// [`Server::router`]).
    pub async fn serve_with(&self, addr: impl ToSocketAddrs, app: Router) -> io::Result<()> {
        self.listen_with(addr, app).await?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.stopped() => {}
        }
        self.shutdown().await;
        Ok(())
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

    /// Shuts the server down: stops accepting (new upgrades get 503), closes every connection
    /// with 1001 ("server shutting down"; their pending calls fail with `Disconnected`), and
    /// waits until each has sent its close frame (or given up on a peer that stopped reading,
    /// after two seconds; five seconds at most in all) and every listener has stopped, so a
    /// program may exit right after it. Calling it again waits the same way.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        let peers = self.inner.peers.list();
        for peer in &peers {
            peer.close_with(1001, "server shutting down");
        }
        let closing = futures_util::future::join_all(peers.iter().map(|p| p.closed()));
        let _ = tokio::time::timeout(Duration::from_secs(5), closing).await;
        self.inner.listeners.close();
        self.inner.listeners.wait().await;
    }
}

async fn bind(addr: impl ToSocketAddrs, backlog: u32) -> io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.set_nodelay(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(backlog)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind")))
}

/// A server accepting connections on an address in the background (from
/// [`Server::listen`]).
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    server: Server,
}

impl RunningServer {
    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The WebSocket URL of this server, for example `ws://127.0.0.1:8080/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}", self.local_addr, self.server.path())
    }

    /// The server this is running.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// [`Server::shutdown`].
    pub async fn shutdown(self) {
        self.server.shutdown().await
    }
}
