//! Running a [`Server`]: its routes, on an address in the background ([`RunningServer`]) or
//! until Ctrl-C.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};

use crate::accept;
use crate::server::Server;
use crate::tls::TlsListener;

impl Server {
    /// The server's routes (the WebSocket endpoint, `/volley.js` and `/volley.d.ts`,
    /// `/asyncapi.json` and `/openrpc.json` unless [`ServerBuilder::documents`](crate::ServerBuilder::documents) turned them
    /// off, `/docs` unless [`ServerBuilder::docs_page`](crate::ServerBuilder::docs_page) did), to merge into an existing app:
    /// `app.merge(server.router())`.
    pub fn router(&self) -> Router {
        crate::http::router(self)
    }

    /// Binds `addr` with a large backlog and serves [`Server::router`] there in the
    /// background (over TLS when [`ServerBuilder::tls`](crate::ServerBuilder::tls) was given). Use port 0 for any free port; [`RunningServer::local_addr`] tells which.
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
        let handshake = self.inner.settings.handshake_timeout;
        match &self.inner.settings.tls {
            None => {
                let serve = accept::serve(listener, app, stop, handshake);
                self.inner.listeners.spawn(serve);
            }
            Some(tls) => {
                let listener = TlsListener::new(listener, tls)?;
                let serve = accept::serve(listener, app, stop, handshake);
                self.inner.listeners.spawn(serve);
            }
        }
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

    /// The WebSocket URL of this server, for example `ws://127.0.0.1:8080/ws` (`wss://` over
    /// TLS).
    pub fn ws_url(&self) -> String {
        let scheme = if self.server.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.local_addr, self.server.path())
    }

    /// The HTTP URL of this server's root, for example `http://127.0.0.1:8080/` (`https://`
    /// over TLS).
    pub fn http_url(&self) -> String {
        let scheme = if self.server.is_tls() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}/", self.local_addr)
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
