//! [`ServerBuilder`]: what a server serves and how it is configured.

use std::sync::Arc;

use volley_codegen::{Api, Info, Side};
use volley_core::describe::ServiceDescription;
use volley_core::{Claims, Context, DuplicateMethodError, PeerConfig, RemoteService, Service};

use crate::auth::{Authenticator, Handshake, Refusal};
use crate::origin::normalise;
use crate::server::Server;
use crate::settings::{Identify, Settings};
use crate::tls::Tls;

impl Server {
    /// A new builder.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }
}

/// Configures a [`Server`]. Start with [`Server::builder`].
#[derive(Debug, Default)]
pub struct ServerBuilder {
    service: Service,
    remote: Vec<&'static ServiceDescription>,
    info: Option<Info>,
    settings: Settings,
}

impl ServerBuilder {
    /// Adds methods every connection serves: `Calc.into_service()`, or a jsonrpsee
    /// `RpcModule`.
    ///
    /// # Panics
    /// When a method name is already taken (a programming error, like overlapping routes in
    /// axum). Use [`ServerBuilder::try_add_service`] to handle it instead.
    pub fn add_service(self, service: impl Into<Service>) -> Self {
        self.try_add_service(service)
            .unwrap_or_else(|e| panic!("volley: {e}"))
    }

    /// Adds methods every connection serves; fails on a duplicate method name.
    pub fn try_add_service(
        mut self,
        service: impl Into<Service>,
    ) -> Result<Self, DuplicateMethodError> {
        self.service.merge(service)?;
        Ok(self)
    }

    /// Declares a remote service: a trait that connecting clients serve and this server
    /// calls, named by its stub (`.add_remote_service::<BrowserClient>()`), so the server's
    /// documents, `rpc.discover` and TypeScript client describe both directions.
    pub fn add_remote_service<C: RemoteService>(mut self) -> Self {
        self.remote.push(C::DESCRIPTION);
        self
    }

    /// The WebSocket endpoint's path (default `/ws`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.settings.path = path.into();
        self
    }

    /// Per-connection limits and defaults: call deadline, running and waiting requests,
    /// outgoing queue, batch size, keepalive (see [`PeerConfig`] for each default).
    pub fn peer_config(mut self, config: PeerConfig) -> Self {
        self.settings.config = std::sync::Arc::new(config);
        self
    }

    /// Largest incoming WebSocket message (default 16 MiB); a bigger one closes the
    /// connection with 1009.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.settings.max_message_size = bytes;
        self
    }

    /// Bytes read from the socket at a time (default 8 KiB, which takes in 64 pipelined
    /// calls of a hundred bytes in one read; at most 8 KiB while no frame is half-read). The
    /// read buffer exists only while a frame is arriving: an idle connection keeps none,
    /// whatever this is.
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.settings.read_buffer_size = bytes;
        self
    }

    /// Bytes of frames held before they are written without waiting for the batch to end
    /// (default 16 KiB); frames queued together are written together. Also the most of
    /// unwritten bytes behind which a ping is still answered (a peer that pings and never
    /// reads gets no more pongs). The buffer is released once written.
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.settings.write_buffer_size = bytes;
        self
    }

    /// The listen backlog (default 4096; tokio's default of 128 turns a burst of 10 000
    /// connects into tens of seconds of retries).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.settings.backlog = backlog;
        self
    }

    /// Most connections at once; further upgrade requests get HTTP 503 (default: no limit).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.settings.max_connections = Some(n);
        self
    }

    /// Whether to serve the `/docs` page (default on): every method in both directions with
    /// its schemas, and a console that calls methods and answers the server's calls by hand.
    pub fn docs_page(mut self, enabled: bool) -> Self {
        self.settings.docs_page = enabled;
        self
    }

    /// Whether to serve `/asyncapi.json` and `/openrpc.json` (default on): the AsyncAPI 3.0
    /// and OpenRPC 1.3.2 documents of both directions, generated from the traits' descriptions.
    pub fn documents(mut self, enabled: bool) -> Self {
        self.settings.documents = enabled;
        self
    }

    /// The title, version and description of the generated documents (default: titled after
    /// the served traits, version `0.0.0`, and a paragraph on how JSON-RPC over one WebSocket
    /// works in both directions).
    pub fn info(mut self, info: Info) -> Self {
        self.info = Some(info);
        self
    }

    /// Also accepts WebSocket upgrades from pages served by these origins
    /// (`"https://app.example.com"`, `"http://localhost:5173"`), besides the server's own.
    ///
    /// A browser sends `Origin` with every upgrade and attaches the user's cookies, so by
    /// default only pages of the server's own origin (scheme, host and port as the request
    /// reached it) may connect; others get HTTP 403 before the upgrade. Requests without
    /// `Origin` (programs, not browsers) are always accepted.
    ///
    /// # Panics
    /// When an entry is not an origin (`scheme://host[:port]`, http or https).
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for origin in origins {
            let origin = origin.into();
            let normalised = normalise(&origin).unwrap_or_else(|| {
                panic!("volley: `{origin}` is not an origin (scheme://host[:port], http or https)")
            });
            self.settings.origins.allowed.push(normalised);
        }
        self
    }

    /// Says the server runs behind a reverse proxy that sets `X-Forwarded-Proto`,
    /// `X-Forwarded-Host` or `Forwarded` (default off), so the server's own origin is read
    /// from them: `https://app.example.com` rather than the address the proxy dialed. Only
    /// turn it on behind such a proxy: a client could set these headers itself.
    pub fn behind_proxy(mut self, enabled: bool) -> Self {
        self.settings.origins.behind_proxy = enabled;
        self
    }

    /// Accepts WebSocket upgrades from pages of any origin: any site the user visits may then
    /// open a connection with the user's cookies (cross-site WebSocket hijacking). For local
    /// development only; prefer [`ServerBuilder::allowed_origins`].
    pub fn danger_accept_any_origin(mut self) -> Self {
        tracing::warn!("volley: every origin may open a WebSocket (danger_accept_any_origin)");
        self.settings.origins.any = true;
        self
    }

    /// Authenticates every WebSocket upgrade (not `/docs`, `/volley.js` or the documents):
    /// `hook` sees the request ([`Handshake`]: headers, query, cookies, remote address) and
    /// returns the connection's claims, which handlers read with `cx.claims::<C>()` and the
    /// registry with `peer.claims::<C>()`, or a [`Refusal`] (401 or 403 with a body, sent
    /// instead of the upgrade). It runs after the origin check.
    ///
    /// ```
    /// use volley_server::{Handshake, Refusal, Server};
    ///
    /// #[derive(Clone)]
    /// struct User(String);
    ///
    /// let server = Server::builder()
    ///     .authenticate(|handshake: Handshake| async move {
    ///         let token = handshake
    ///             .bearer_token()
    ///             .map(str::to_owned)
    ///             .or_else(|| handshake.query("token"))
    ///             .ok_or_else(|| Refusal::unauthorized("a token is needed"))?;
    ///         match token.as_str() {
    ///             "alice-secret" => Ok(User("alice".into())),
    ///             _ => Err(Refusal::forbidden("unknown token")),
    ///         }
    ///     })
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn authenticate<F, Fut, C>(mut self, hook: F) -> Self
    where
        F: Fn(Handshake) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C, Refusal>> + Send + 'static,
        C: Clone + Send + Sync + 'static,
    {
        self.settings.auth = Some(Authenticator::new(hook));
        self
    }

    /// Names the user each connection belongs to, from the claims its handshake established
    /// ([`ServerBuilder::authenticate`]): every connection of a user is then reachable as
    /// `server.peers().user("alice")` (a person's tabs and devices at once). Connections
    /// without claims of type `C`, or for which `user` gives `None`, belong to no user;
    /// [`Peers::set_user`](crate::Peers::set_user) changes it at any time.
    ///
    /// ```
    /// use volley_server::{Handshake, Refusal, Server};
    ///
    /// #[derive(Clone)]
    /// struct User { name: String }
    ///
    /// let server = Server::builder()
    ///     .authenticate(|h: Handshake| async move {
    ///         h.query("user").map(|name| User { name }).ok_or(Refusal::unauthorized("who?"))
    ///     })
    ///     .identify(|user: &User| Some(user.name.clone()))
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn identify<C, F>(mut self, user: F) -> Self
    where
        C: Send + Sync + 'static,
        F: Fn(&C) -> Option<String> + Send + Sync + 'static,
    {
        self.settings.identify = Some(Identify(Arc::new(move |ext: &http::Extensions| {
            ext.get::<Claims<C>>().and_then(|claims| user(&claims.0))
        })));
        self
    }

    /// WebSocket subprotocols the server speaks, in order of preference: of those a client
    /// asks for (`Sec-WebSocket-Protocol`), the first listed here is chosen and echoed. By
    /// default none is chosen (and a client that insists on one gives up).
    pub fn subprotocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings
            .subprotocols
            .extend(protocols.into_iter().map(Into::into));
        self
    }

    /// How long [`Server::shutdown`] lets running requests finish before it closes the
    /// connections anyway (default 10 s; their callers then see the close).
    pub fn drain_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.settings.drain_timeout = timeout;
        self
    }

    /// How long a client has to send a complete HTTP request head (default 10 s): the
    /// WebSocket upgrade, a document request, or the next request on a kept-alive
    /// connection. A client that sends it slowly or not at all (slowloris) is disconnected.
    /// Applies to [`Server::listen`](crate::Server::listen) and `serve`; with your own
    /// `axum::serve`, configure your server.
    pub fn handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.settings.handshake_timeout = timeout;
        self
    }

    /// Session resumption for clients that ask for it (default on: `Resumption::default()`,
    /// a 30 s grace period and a 256 KiB replay buffer per connection); `None` turns it off,
    /// and such clients get plain connections. A plain JSON-RPC client never sees it. See
    /// PROTOCOL.md, "Session resumption".
    pub fn resumption(mut self, resumption: Option<volley_core::Resumption>) -> Self {
        self.settings.resumption = resumption;
        self
    }

    /// Terminates TLS itself: [`Server::listen`] and [`Server::serve`] then speak `https://`
    /// and `wss://` on their address. (Behind a proxy that terminates TLS, leave this out
    /// and see [`ServerBuilder::behind_proxy`].)
    pub fn tls(mut self, tls: Tls) -> Self {
        self.settings.tls = Some(tls);
        self
    }

    /// The authorization policy for methods with a requirement (`#[rpc(requires =
    /// "admin")]`): `|cx, requirement| ..` decides from the caller's claims
    /// (`cx.claims::<T>()`) or its connection state. A refused call is answered with -32013
    /// `Forbidden` and its handler never runs. Without a policy every requirement is refused.
    ///
    /// ```
    /// # #[derive(Clone)] struct User { admin: bool }
    /// let server = volley_server::Server::builder()
    ///     .authorize(|cx, requirement| match requirement {
    ///         "admin" => cx.claims::<User>().is_some_and(|u| u.admin),
    ///         _ => false,
    ///     })
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn authorize(
        mut self,
        policy: impl Fn(&Context, &str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.service = self.service.with_authorizer(policy);
        self
    }

    /// Finishes the server. Its [`Api`] (and from it the `rpc.discover` document every
    /// connection answers with) is computed here, once.
    pub fn build(self) -> Server {
        let mut api = Api::of_service(Side::Server, &self.service).with_remote(self.remote);
        if let Some(info) = self.info {
            api = api.with_info(info);
        }
        let service = self
            .service
            .with_discover(&volley_codegen::openrpc(&api, None));
        Server::new(service, api, self.settings)
    }
}
