//! [`ClientBuilder`]: what a client serves, and how it dials.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;
use volley_codegen::{Api, Side};
use volley_core::connection::{self, Attach, OnLoss, SessionOptions};
use volley_core::describe::ServiceDescription;
use volley_core::{
    Claims, Context, DuplicateMethodError, Peer, PeerConfig, RemoteService, Resumption, Service,
};

use crate::client::Client;
use crate::dial::{Ask, Dialer, HeaderSource};
use crate::error::ConnectError;
use crate::reconnect::{ConnectionState, Hook, Reconnect, Reconnected, Supervisor};
use crate::tls::TlsOptions;
use crate::websocket::Tungstenite;

impl Client {
    /// A new builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Dials `url` serving nothing (a call-only client).
    pub async fn connect(url: &str) -> Result<Client, ConnectError> {
        Self::builder().connect(url).await
    }
}

/// Configures a [`Client`]. Start with [`Client::builder`].
pub struct ClientBuilder {
    service: Service,
    remote: Vec<&'static ServiceDescription>,
    config: PeerConfig,
    connect_timeout: Duration,
    max_message_size: usize,
    headers: Vec<(String, HeaderSource)>,
    extensions: http::Extensions,
    tls: TlsOptions,
    reconnect: Option<Reconnect>,
    resumption: Option<Resumption>,
    hook: Option<Hook>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            service: Service::new(),
            remote: Vec::new(),
            config: PeerConfig::default(),
            connect_timeout: Duration::from_secs(10),
            max_message_size: 16 * 1024 * 1024,
            headers: Vec::new(),
            extensions: http::Extensions::new(),
            tls: TlsOptions::default(),
            reconnect: Some(Reconnect::default()),
            resumption: Some(Resumption::default()),
            hook: None,
        }
    }
}

impl ClientBuilder {
    /// Adds methods this client serves to the server: `MyBrowser.into_service()`.
    ///
    /// # Panics
    /// When a method name is already taken; see [`ClientBuilder::try_add_service`].
    pub fn add_service(self, service: impl Into<Service>) -> Self {
        self.try_add_service(service)
            .unwrap_or_else(|e| panic!("volley: {e}"))
    }

    /// Adds methods this client serves; fails on a duplicate method name.
    pub fn try_add_service(
        mut self,
        service: impl Into<Service>,
    ) -> Result<Self, DuplicateMethodError> {
        self.service.merge(service)?;
        Ok(self)
    }

    /// Declares a remote service: a trait the server serves and this client calls, named by
    /// its stub (`.add_remote_service::<CalculatorClient>()`), so this client's
    /// `rpc.discover` describes both directions.
    pub fn add_remote_service<C: RemoteService>(mut self) -> Self {
        self.remote.push(C::DESCRIPTION);
        self
    }

    /// Per-connection limits and defaults: call deadline, running and waiting requests,
    /// outgoing queue, batch size, keepalive (see [`PeerConfig`] for each default).
    pub fn peer_config(mut self, config: PeerConfig) -> Self {
        self.config = config;
        self
    }

    /// Deadline for the TCP connect and WebSocket handshake (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Largest incoming WebSocket message (default 16 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Adds a header to the upgrade request (`Authorization`, `Cookie`, anything the server
    /// or a proxy wants). A header that cannot be sent fails `connect` with
    /// [`ConnectError::InvalidRequest`].
    /// Sent again with every reconnect attempt.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .push((name.into(), HeaderSource::Fixed(value.into())));
        self
    }

    /// Adds a header whose value `value` computes at each attempt (the first connect and
    /// every reconnect): a token that is refreshed, for instance.
    pub fn header_with(
        mut self,
        name: impl Into<String>,
        value: impl Fn() -> String + Send + Sync + 'static,
    ) -> Self {
        self.headers
            .push((name.into(), HeaderSource::Computed(Arc::new(value))));
        self
    }

    /// Sends `Authorization: Bearer <token>` with the upgrade (and every reconnect).
    pub fn bearer_token(self, token: impl AsRef<str>) -> Self {
        let value = format!("Bearer {}", token.as_ref());
        self.header("Authorization", value)
    }

    /// Sends `Authorization: Bearer <token>` with the token `token` returns at each attempt,
    /// so a reconnect presents a fresh one.
    pub fn bearer_token_with(self, token: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.header_with("Authorization", move || format!("Bearer {}", token()))
    }

    /// Reconnecting after the socket is lost (default on: `Reconnect::default()`, backoff
    /// from 250 ms to 10 s with full jitter, no limit on attempts); `None` turns it off, and
    /// the client closes with its socket. The first connect is never retried: its error is
    /// `connect`'s.
    pub fn reconnect(mut self, reconnect: Option<Reconnect>) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Asking the server for a resumable session (default on; see [`Resumption`] and
    /// PROTOCOL.md, "Session resumption"). Servers that do not support it give a plain
    /// connection. `None` turns it off: a reconnect is then a new connection.
    pub fn resumption(mut self, resumption: Option<Resumption>) -> Self {
        self.resumption = resumption;
        self
    }

    /// Runs `hook` after each reconnect, with the peer and whether the session was resumed:
    /// re-join rooms, re-subscribe, refresh state. Calls it makes go out on the new socket.
    pub fn on_reconnect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Peer, Reconnected) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hook = Some(Arc::new(move |peer, info| hook(peer, info).boxed()));
        self
    }

    /// Asks for a WebSocket subprotocol (`Sec-WebSocket-Protocol`); the one the server chose
    /// is [`Client::subprotocol`].
    pub fn subprotocol(self, protocol: impl Into<String>) -> Self {
        self.header("Sec-WebSocket-Protocol", protocol)
    }

    /// Claims of this end of the connection, which the handlers this client serves read with
    /// `cx.claims::<C>()` (as the server's handlers read what its authentication returned).
    pub fn claims<C: Clone + Send + Sync + 'static>(mut self, claims: C) -> Self {
        self.extensions.insert(Claims(claims));
        self
    }

    /// Trusts the certificates in `pem` (PEM text) for `wss://`, besides the webpki roots: a
    /// private CA, or a self-signed server certificate. A PEM without a certificate fails
    /// `connect` with [`ConnectError::Tls`].
    pub fn add_root_certificate_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.tls.extra_roots.push(pem.as_ref().to_vec());
        self
    }

    /// Uses this rustls configuration for `wss://` as it is (client certificates, other
    /// roots, other protocol versions); [`ClientBuilder::add_root_certificate_pem`] is then
    /// ignored. `volley_client::rustls` is the rustls it must come from.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls.config = Some(config);
        self
    }

    /// The authorization policy for the methods this client serves that have a requirement
    /// (`#[rpc(requires = "..")]`), as on the server ([`volley_core::Authorizer`]).
    pub fn authorize(
        mut self,
        policy: impl Fn(&Context, &str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.service = self.service.with_authorizer(policy);
        self
    }

    /// Dials `url` (`ws://host:port/path`, or `wss://` over TLS) and starts serving and
    /// calling over it.
    pub async fn connect(self, url: &str) -> Result<Client, ConnectError> {
        let dialer = Dialer {
            url: url.to_owned(),
            headers: self.headers,
            tls: self.tls,
            connect_timeout: self.connect_timeout,
            max_message_size: self.max_message_size,
        };
        let (state, state_rx) = watch::channel(ConnectionState::Connecting);
        let ask = if self.resumption.is_some() {
            Ask::New
        } else {
            Ask::Plain
        };
        let dialed = dialer.dial(&ask).await?;
        let api = Api::of_service(Side::Client, &self.service).with_remote(self.remote);
        let service = self
            .service
            .with_discover(&volley_codegen::openrpc(&api, None));
        let on_loss = if self.reconnect.is_some() {
            OnLoss::AwaitReattach
        } else {
            OnLoss::End
        };
        let mut options = SessionOptions::new(on_loss);
        if let Some(r) = &self.resumption {
            options.max_replay_bytes = r.replay_bytes();
        }
        if let Some(r) = &self.reconnect {
            options.wait_for_link = r.wait_for_connection;
            options.max_resends = r.max_resends;
        }
        let attach = Attach::Fresh {
            numbered: dialed.hello.is_some(),
            hello: None,
            expired: false,
        };
        let link = connection::websocket_link::<Tungstenite, _>(dialed.socket, attach);
        let session =
            connection::spawn_session(link, service, self.config, self.extensions, options);
        let peer = session.peer().clone();
        state.send_replace(ConnectionState::Connected {
            resumed: false,
            reconnects: 0,
        });
        match self.reconnect {
            Some(policy) => {
                let supervisor = Supervisor {
                    session,
                    dialer,
                    policy,
                    resumption: self.resumption.is_some(),
                    hello: dialed.hello,
                    state,
                    hook: self.hook,
                };
                tokio::spawn(supervisor.run());
            }
            None => {
                let peer = peer.clone();
                tokio::spawn(async move {
                    let reason = peer.closed().await;
                    state.send_replace(ConnectionState::Closed(reason));
                });
            }
        }
        Ok(Client {
            peer,
            response_headers: Arc::new(dialed.headers),
            state: state_rx,
        })
    }
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("service", &self.service)
            .field("config", &self.config)
            .field("connect_timeout", &self.connect_timeout)
            .field("reconnect", &self.reconnect)
            .field("resumption", &self.resumption)
            .field("on_reconnect", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}
