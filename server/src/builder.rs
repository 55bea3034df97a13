//! [`ServerBuilder`], [`Server`] and [`RunningServer`].

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use volley_core::describe::ServiceDescription;
use volley_core::docs::{DocInfo, Side};
use volley_core::{DuplicateMethod, PeerConfig, RemoteService, Service, connection};

use crate::peers::Peers;
use crate::transport::{AxumSink, inbound};

/// Configures a [`Server`]. Start with [`Server::builder`].
#[derive(Debug)]
pub struct ServerBuilder {
    service: Service,
    client_services: Vec<&'static ServiceDescription>,
    config: PeerConfig,
    path: String,
    read_buffer_size: usize,
    write_buffer_size: usize,
    max_message_size: usize,
    backlog: u32,
    max_connections: Option<usize>,
    allowed_origins: Option<Vec<String>>,
    docs_page: bool,
    documents: bool,
    title: Option<String>,
    version: Option<String>,
    description: Option<String>,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        Self {
            service: Service::new(),
            client_services: Vec::new(),
            config: PeerConfig::default(),
            path: "/ws".to_owned(),
            read_buffer_size: 4 * 1024,
            write_buffer_size: 16 * 1024,
            max_message_size: 16 * 1024 * 1024,
            backlog: 4096,
            max_connections: None,
            allowed_origins: None,
            docs_page: true,
            documents: true,
            title: None,
            version: None,
            description: None,
        }
    }
}

impl ServerBuilder {
    /// Adds methods every connection serves: `Calc.into_service()`, or a jsonrpsee
    /// `RpcModule`.
    ///
    /// # Panics
    /// When a method name is already taken (a programming error, like overlapping routes in
    /// axum). Use [`ServerBuilder::try_serve`] to handle it instead.
    pub fn serve(self, service: impl Into<Service>) -> Self {
        self.try_serve(service)
            .unwrap_or_else(|e| panic!("volley: {e}"))
    }

    /// Adds methods every connection serves; fails on a duplicate method name.
    pub fn try_serve(mut self, service: impl Into<Service>) -> Result<Self, DuplicateMethod> {
        self.service.merge(service)?;
        Ok(self)
    }

    /// Declares a trait that connecting clients serve (and this server calls), so the
    /// server's documents describe both directions: `.client_serves::<BrowserClient>()`.
    pub fn client_serves<C: RemoteService>(mut self) -> Self {
        self.client_services.push(C::DESCRIPTION);
        self
    }

    /// The WebSocket endpoint's path (default `/ws`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// All per-connection limits at once.
    pub fn peer_config(mut self, config: PeerConfig) -> Self {
        self.config = config;
        self
    }

    /// Default deadline for calls the server makes to clients (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Incoming requests running at once per connection (default 128). Up to
    /// [`max_waiting_requests`](Self::max_waiting_requests) more wait for a slot; beyond that
    /// the connection stops reading until one finishes.
    pub fn max_concurrent_requests(mut self, n: usize) -> Self {
        self.config.max_concurrent_requests = n;
        self
    }

    /// Incoming requests read ahead and waiting for a running slot, per connection (default
    /// 128). While requests only wait, answers to handlers' callbacks still get through.
    pub fn max_waiting_requests(mut self, n: usize) -> Self {
        self.config.max_waiting_requests = n;
        self
    }

    /// Largest incoming WebSocket message (default 16 MiB); a bigger one closes the
    /// connection with 1009.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Bytes read from the socket at a time (default 4 KiB). This buffer is most of an idle
    /// connection's memory: tungstenite's own default of 128 KiB costs ~138 KB per connection.
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Bytes buffered before a write reaches the socket (default 16 KiB); frames written
    /// together are flushed together.
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// The listen backlog (default 4096; tokio's default of 128 turns a burst of 10 000
    /// connects into tens of seconds of retries).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// Most connections at once; further upgrade requests get HTTP 503 (default: no limit).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// Whether to serve the `/docs` page (default on): every method in both directions with
    /// its schemas, and a console that calls methods and answers the server's calls by hand.
    pub fn docs_page(mut self, enabled: bool) -> Self {
        self.docs_page = enabled;
        self
    }

    /// Whether to serve `/asyncapi.json` and `/openrpc.json` (default on): the AsyncAPI 3.0
    /// and OpenRPC 1.3.2 documents of both directions, generated from the traits' descriptions.
    pub fn documents(mut self, enabled: bool) -> Self {
        self.documents = enabled;
        self
    }

    /// The title of the generated documents (default: the served traits' names, then "API").
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The API version in the generated documents (default `0.0.0`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The description of the generated documents (CommonMark; default: a paragraph on how
    /// JSON-RPC over one WebSocket works in both directions).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Accepts WebSocket upgrades only from pages served by these origins
    /// (`"https://app.example.com"`, `"http://localhost:8080"`): a browser sends `Origin` with
    /// every upgrade, and any other origin gets HTTP 403, so a page elsewhere cannot open a
    /// connection with your users' cookies. Requests without `Origin` (programs, not
    /// browsers) are accepted. By default every origin is accepted.
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = Some(
            origins
                .into_iter()
                .map(|o| o.into().trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        );
        self
    }

    /// Finishes the server.
    pub fn build(self) -> Server {
        let mut info = DocInfo::for_services(self.service.descriptions());
        if let Some(title) = self.title {
            info.title = title;
        }
        if let Some(version) = self.version {
            info.version = version;
        }
        info.description = self.description;
        // Each connection's `rpc.discover` describes both directions.
        let service = self
            .service
            .with_side(Side::Server)
            .with_peer_descriptions(self.client_services.iter().copied())
            .with_info(info);
        Server {
            inner: Arc::new(Inner {
                slots: self.max_connections.map(|n| Arc::new(Semaphore::new(n))),
                allowed_origins: self.allowed_origins,
                service,
                client_services: self.client_services,
                config: self.config,
                path: self.path,
                read_buffer_size: self.read_buffer_size,
                write_buffer_size: self.write_buffer_size,
                max_message_size: self.max_message_size,
                backlog: self.backlog,
                docs_page: self.docs_page,
                documents: self.documents,
                bound: Mutex::new(None),
                peers: Peers::default(),
                shutdown: CancellationToken::new(),
            }),
        }
    }
}

struct Inner {
    service: Service,
    client_services: Vec<&'static ServiceDescription>,
    config: PeerConfig,
    path: String,
    read_buffer_size: usize,
    write_buffer_size: usize,
    max_message_size: usize,
    backlog: u32,
    docs_page: bool,
    documents: bool,
    /// The address of the last `listen`, for documents requested without a Host header.
    bound: Mutex<Option<SocketAddr>>,
    slots: Option<Arc<Semaphore>>,
    allowed_origins: Option<Vec<String>>,
    peers: Peers,
    shutdown: CancellationToken,
}

/// A volley server: the services each connection serves, and the registry of peers.
///
/// Cheap to clone. [`Server::listen`] binds and serves; [`Server::router`] gives the routes
/// to mount in your own axum app.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("path", &self.inner.path)
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

    /// The registry of connected peers.
    pub fn peers(&self) -> &Peers {
        &self.inner.peers
    }

    /// What each connection serves.
    pub fn service(&self) -> &Service {
        &self.inner.service
    }

    /// Descriptions of the traits clients serve (declared with
    /// [`ServerBuilder::client_serves`]).
    pub fn client_services(&self) -> &[&'static ServiceDescription] {
        &self.inner.client_services
    }

    /// The WebSocket endpoint's path.
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// The address the server last started listening on, if it did.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self.inner.bound.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The server's routes (the WebSocket endpoint, `/volley.js`, `/asyncapi.json` and
    /// `/openrpc.json` unless [`ServerBuilder::documents`] turned them off, `/docs`), to merge
    /// into an existing app: `app.merge(server.router())`.
    pub fn router(&self) -> Router {
        let mut router = Router::new()
            .route(&self.inner.path, get(upgrade))
            .route(crate::assets::PATH, get(crate::assets::volley_js));
        if self.inner.documents {
            router = crate::documents::routes(router);
        }
        if self.inner.docs_page {
            router = router.route(crate::docs_page::PATH, get(crate::docs_page::serve));
        }
        router.with_state(self.clone())
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
        let listener = bind(addr, self.inner.backlog).await?;
        let local_addr = listener.local_addr()?;
        *self.inner.bound.lock().unwrap_or_else(|e| e.into_inner()) = Some(local_addr);
        let stop = self.inner.shutdown.clone();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let make = app.into_make_service_with_connect_info::<SocketAddr>();
                if let Err(e) = axum::serve(listener, make)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await
                {
                    tracing::error!(error = %e, "server stopped");
                }
            }
        });
        tracing::info!(%local_addr, path = %self.inner.path, "volley server listening");
        Ok(RunningServer {
            local_addr,
            server: self.clone(),
            task,
        })
    }

    /// Serves on `addr` until the process is interrupted (Ctrl-C), then shuts down.
    pub async fn serve(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        self.serve_with(addr, self.router()).await
    }

    /// Like [`Server::serve`], serving your own `app` (which should include
    /// [`Server::router`]).
    pub async fn serve_with(&self, addr: impl ToSocketAddrs, app: Router) -> io::Result<()> {
        let running = self.listen_with(addr, app).await?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.stopped() => {}
        }
        running.shutdown().await;
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

    /// Begins shutting down: stops accepting and closes every connection with 1001. The
    /// `RunningServer` (or `serve`) finishes the shutdown.
    pub fn stop(&self) {
        self.inner.shutdown.cancel();
        self.inner.peers.close_all(1001, "server shutting down");
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

/// A server accepting connections in the background.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    server: Server,
    task: JoinHandle<()>,
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

    /// Stops accepting, closes every connection with 1001 ("server shutting down"; their
    /// pending calls fail with `Disconnected`) and waits for the listener to stop.
    ///
    /// It returns once every connection has sent its close frame (or given up on a peer that
    /// stopped reading, after two seconds), so a program may exit right after it.
    pub async fn shutdown(self) {
        self.server.inner.shutdown.cancel();
        let peers = self.server.peers().list();
        for peer in &peers {
            peer.close_with(1001, "server shutting down");
        }
        let closing = futures_util::future::join_all(peers.iter().map(|p| p.closed()));
        let _ = tokio::time::timeout(Duration::from_secs(5), closing).await;
        let _ = self.task.await;
    }
}

async fn upgrade(
    State(server): State<Server>,
    ws: WebSocketUpgrade,
    request: axum::extract::Request,
) -> Response {
    let inner = &server.inner;
    if inner.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "server shutting down").into_response();
    }
    if let (Some(allowed), Some(origin)) = (
        &inner.allowed_origins,
        request.headers().get(header::ORIGIN),
    ) {
        let origin = origin
            .to_str()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if !allowed.contains(&origin) {
            tracing::debug!(%origin, "WebSocket upgrade from an origin that is not allowed");
            return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
        }
    }
    let slot = match &inner.slots {
        Some(s) => match s.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
            }
        },
        None => None,
    };
    let mut extensions = request.extensions().clone();
    if let Some(ConnectInfo(addr)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        extensions.insert(*addr);
    }
    ws.read_buffer_size(inner.read_buffer_size)
        .write_buffer_size(inner.write_buffer_size)
        .max_message_size(inner.max_message_size)
        .on_upgrade(move |socket| async move {
            let inner = &server.inner;
            let (sink, stream) = socket.split();
            let peer = connection::spawn(
                inbound(stream),
                AxumSink(sink),
                inner.service.clone(),
                inner.config.clone(),
                extensions,
            );
            inner.peers.insert(peer.clone());
            if inner.shutdown.is_cancelled() {
                peer.close_with(1001, "server shutting down");
            }
            let reason = peer.closed().await;
            inner.peers.remove(peer.id(), reason);
            drop(slot);
        })
}
