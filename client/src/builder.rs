//! [`ClientBuilder`]: what a client serves, and how it dials.

use std::sync::Arc;
use std::time::Duration;

use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use volley_codegen::{Api, Side};
use volley_core::describe::ServiceDescription;
use volley_core::{
    Claims, Context, DuplicateMethodError, PeerConfig, RemoteService, Service, connection,
};

use crate::client::Client;
use crate::error::ConnectError;
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
#[derive(Debug)]
pub struct ClientBuilder {
    service: Service,
    remote: Vec<&'static ServiceDescription>,
    config: PeerConfig,
    connect_timeout: Duration,
    max_message_size: usize,
    headers: Vec<(String, String)>,
    extensions: http::Extensions,
    tls: TlsOptions,
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
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends `Authorization: Bearer <token>` with the upgrade.
    pub fn bearer_token(self, token: impl AsRef<str>) -> Self {
        let value = format!("Bearer {}", token.as_ref());
        self.header("Authorization", value)
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
        let mut request = url
            .into_client_request()
            .map_err(|e| ConnectError::InvalidRequest(e.to_string()))?;
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| ConnectError::InvalidRequest(format!("header {name}: {e}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| ConnectError::InvalidRequest(format!("header {name}: {e}")))?;
            request.headers_mut().append(name, value);
        }
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(16 * 1024)
            .max_message_size(Some(self.max_message_size));
        let connector = if request.uri().scheme_str() == Some("wss") {
            Connector::Rustls(self.tls.client_config()?)
        } else {
            Connector::Plain
        };
        let dial = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(ws_config),
            true,
            Some(connector),
        );
        let (ws, response) = tokio::time::timeout(self.connect_timeout, dial)
            .await
            .map_err(|_| ConnectError::Timeout(self.connect_timeout))??;
        let api = Api::of_service(Side::Client, &self.service).with_remote(self.remote);
        let service = self
            .service
            .with_discover(&volley_codegen::openrpc(&api, None));
        let peer = connection::spawn_websocket::<Tungstenite, _>(
            ws,
            service,
            self.config,
            self.extensions,
        );
        Ok(Client {
            peer,
            response_headers: Arc::new(response.headers().clone()),
        })
    }
}
