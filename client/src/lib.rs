//! volley-client: dial a volley (or any JSON-RPC 2.0 WebSocket) server, serve traits to it,
//! and call its traits over the same socket.
//!
//! Most users depend on the `volley` facade, which re-exports [`Client`].

use std::time::Duration;

mod websocket;

use tokio_tungstenite::tungstenite::{self, protocol::WebSocketConfig};
use volley_codegen::{Api, Side};
use volley_core::describe::ServiceDescription;
use volley_core::{
    CloseReason, DuplicateMethodError, Peer, PeerConfig, RemoteService, Service, connection,
};

use websocket::Tungstenite;

/// Dialing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The WebSocket handshake or the TCP connect failed.
    #[error("could not connect")]
    WebSocket(#[source] Box<tungstenite::Error>),
    /// No answer within the connect timeout.
    #[error("connect timed out after {0:?}")]
    Timeout(Duration),
}

/// Configures a [`Client`]. Start with [`Client::builder`].
#[derive(Debug)]
pub struct ClientBuilder {
    service: Service,
    remote: Vec<&'static ServiceDescription>,
    config: PeerConfig,
    connect_timeout: Duration,
    max_message_size: usize,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            service: Service::new(),
            remote: Vec::new(),
            config: PeerConfig::default(),
            connect_timeout: Duration::from_secs(10),
            max_message_size: 16 * 1024 * 1024,
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

    /// Dials `url` (`ws://host:port/path`) and starts serving and calling over it.
    pub async fn connect(self, url: &str) -> Result<Client, ConnectError> {
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(16 * 1024)
            .max_message_size(Some(self.max_message_size));
        let dial = tokio_tungstenite::connect_async_with_config(url, Some(ws_config), true);
        let (ws, _response) = tokio::time::timeout(self.connect_timeout, dial)
            .await
            .map_err(|_| ConnectError::Timeout(self.connect_timeout))?
            .map_err(|e| ConnectError::WebSocket(Box::new(e)))?;
        let api = Api::of_service(Side::Client, &self.service).with_remote(self.remote);
        let service = self
            .service
            .with_discover(&volley_codegen::openrpc(&api, None));
        let peer = connection::spawn_websocket::<Tungstenite, _>(
            ws,
            service,
            self.config,
            http::Extensions::new(),
        );
        Ok(Client { peer })
    }
}

/// A connection to a server: call it through [`Client::peer`]; it calls the services this
/// client serves. Dropping the `Client` does not close the connection; call
/// [`Client::close`].
#[derive(Debug, Clone)]
pub struct Client {
    peer: Peer,
}

impl Client {
    /// A new builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Dials `url` serving nothing (a call-only client).
    pub async fn connect(url: &str) -> Result<Client, ConnectError> {
        Self::builder().connect(url).await
    }

    /// The server, as a peer: `CalculatorClient::new(client.peer())`.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Closes the connection with code 1000.
    pub fn close(&self) {
        self.peer.close();
    }

    /// Resolves when the connection has closed.
    pub async fn closed(&self) -> CloseReason {
        self.peer.closed().await
    }
}
