//! volley-client: dial a volley (or any JSON-RPC 2.0 WebSocket) server, serve traits to it,
//! and call its traits over the same socket.
//!
//! Most users depend on the `volley` facade, which re-exports [`Client`].

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, Stream, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use volley_core::connection::{BoxError, Inbound, Transport, close_frame};
use volley_core::{CloseReason, DuplicateMethod, Peer, PeerConfig, Service, connection};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

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
    config: PeerConfig,
    connect_timeout: Duration,
    max_message_size: usize,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            service: Service::new(),
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
    /// When a method name is already taken; see [`ClientBuilder::try_serve`].
    pub fn serve(self, service: impl Into<Service>) -> Self {
        self.try_serve(service)
            .unwrap_or_else(|e| panic!("volley: {e}"))
    }

    /// Adds methods this client serves; fails on a duplicate method name.
    pub fn try_serve(mut self, service: impl Into<Service>) -> Result<Self, DuplicateMethod> {
        self.service.merge(service)?;
        Ok(self)
    }

    /// All per-connection limits at once.
    pub fn peer_config(mut self, config: PeerConfig) -> Self {
        self.config = config;
        self
    }

    /// Default deadline for calls to the server (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
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
        let (sink, stream) = ws.split();
        let peer = connection::spawn(
            inbound(stream),
            TungsteniteSink(sink),
            self.service.with_side(volley_core::docs::Side::Client),
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

struct TungsteniteSink(SplitSink<Ws, Message>);

impl Transport for TungsteniteSink {
    async fn feed(&mut self, text: String) -> Result<(), BoxError> {
        self.0
            .feed(Message::Text(text.into()))
            .await
            .map_err(Into::into)
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        self.0.flush().await.map_err(Into::into)
    }

    async fn ping(&mut self) -> Result<(), BoxError> {
        self.0
            .send(Message::Ping(Default::default()))
            .await
            .map_err(Into::into)
    }

    async fn close(&mut self, reason: CloseReason) {
        let frame = close_frame(&reason).map(|(code, reason)| CloseFrame {
            code: code.into(),
            reason: reason.into(),
        });
        let _ = self.0.send(Message::Close(frame)).await;
        let _ = self.0.close().await;
    }
}

fn inbound(
    stream: SplitStream<Ws>,
) -> impl Stream<Item = Result<Inbound, tungstenite::Error>> + Send + Unpin + 'static {
    stream.map(|m| {
        let m = match m {
            Ok(m) => m,
            Err(e) => return Ok(Inbound::Close(Some(read_error(&e)))),
        };
        Ok::<_, tungstenite::Error>(match m {
            Message::Text(t) => Inbound::Data(t.into()),
            Message::Binary(b) => Inbound::Data(b),
            Message::Close(f) => Inbound::Close(f.map(|f| CloseReason {
                code: f.code.into(),
                reason: f.reason.to_string(),
            })),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Inbound::Other,
        })
    })
}

/// The close code for a failed read: 1009 for an oversized message, 1007 for text that is
/// not UTF-8, 1002 for a protocol violation, 1006 (connection lost) otherwise.
fn read_error(e: &tungstenite::Error) -> CloseReason {
    let code = match e {
        tungstenite::Error::Capacity(_) => 1009,
        tungstenite::Error::Utf8(_) => 1007,
        tungstenite::Error::Protocol(_) => 1002,
        _ => 1006,
    };
    CloseReason {
        code,
        reason: e.to_string(),
    }
}
