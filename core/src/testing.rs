//! Two connected peers in one process, without sockets, for unit tests of services: a server
//! end and a client end, each serving its own services and calling the other's, on the same
//! engine and with the same limits as over a WebSocket. Handlers see what they would see on a
//! server: [`Context::peer`](crate::Context::peer) is the other end, `cx.peers()` is the
//! pair's registry (the client end is registered in it, in a user when one is given), and
//! claims given to the builder read as an authentication hook's would.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use volley_core::{Service, testing};
//!
//! let pair = testing::pair().add_server_service(Service::new()).connect();
//! assert!(pair.client().is_connected());
//! assert_eq!(pair.peers().len(), 1);
//! pair.close();
//! # }
//! ```
//!
//! With `#[volley::rpc]` traits, `volley::testing` is the same module; the README's "Testing
//! your services" shows a handler that calls the client back.
//!
//! Between the ends, each frame is handed over whole, as a WebSocket message would be, and a
//! frame larger than [`PairBuilder::max_message_size`] closes the connection with 1009 on
//! the end that receives it, as the WebSocket layer does. Each direction holds at most
//! [`FRAMES_IN_FLIGHT`] frames that the other end has not read yet; past that a writer waits,
//! as on a full socket.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;

use crate::config::PeerConfig;
use crate::connection;
use crate::fanout::Peers;
use crate::peer::{CloseReason, Peer};
use crate::service::{DuplicateMethodError, Service};
use crate::state::Claims;
use crate::transport::{BoxError, Frame, Inbound, Transport, close_frame};

/// Frames one direction holds that the other end has not read yet.
pub const FRAMES_IN_FLIGHT: usize = 64;

/// The largest frame either end accepts by default: the server's default, 16 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// Starts a [`PairBuilder`]: nothing served on either end, default limits.
pub fn pair() -> PairBuilder {
    PairBuilder::default()
}

/// Two peers connected in memory; see the [module](self).
#[derive(Clone, Debug)]
pub struct Pair {
    server: Peer,
    client: Peer,
    peers: Peers,
}

impl Pair {
    /// The client's end: stubs on it call the services of the server end
    /// (`CalculatorClient::new(pair.client())`).
    pub fn client(&self) -> &Peer {
        &self.client
    }

    /// The server's end of the connection: stubs on it call the services of the client end.
    /// It is the peer the server's handlers see as `cx.peer()`.
    pub fn server(&self) -> &Peer {
        &self.server
    }

    /// The server end's registry, with the client end in it: what handlers reach as
    /// `cx.peers()`, for groups and fan-out.
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// Closes the connection from the client's end (1000); [`Peer::closed`] on either end
    /// resolves once both have finished.
    pub fn close(&self) {
        self.client.close();
    }
}

/// Builds a [`Pair`]: what each end serves, its limits, and what its handlers know about the
/// other end.
#[derive(Debug)]
pub struct PairBuilder {
    server: Service,
    client: Service,
    server_config: PeerConfig,
    client_config: PeerConfig,
    server_extensions: http::Extensions,
    client_extensions: http::Extensions,
    user: Option<String>,
    max_message_size: usize,
    peers: Peers,
}

impl Default for PairBuilder {
    fn default() -> Self {
        Self {
            server: Service::new(),
            client: Service::new(),
            server_config: PeerConfig::default(),
            client_config: PeerConfig::default(),
            server_extensions: http::Extensions::new(),
            client_extensions: http::Extensions::new(),
            user: None,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            peers: Peers::default(),
        }
    }
}

impl PairBuilder {
    /// Serves `service` on the server end (`Calc.into_service()`); may be called for several.
    ///
    /// # Panics
    /// When a method name is already taken; see [`PairBuilder::try_add_server_service`].
    pub fn add_server_service(self, service: impl Into<Service>) -> Self {
        match self.try_add_server_service(service) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`PairBuilder::add_server_service`], failing on a method name already taken.
    pub fn try_add_server_service(
        mut self,
        service: impl Into<Service>,
    ) -> Result<Self, DuplicateMethodError> {
        self.server.merge(service)?;
        Ok(self)
    }

    /// Serves `service` on the client end: what the server's handlers call back.
    ///
    /// # Panics
    /// When a method name is already taken; see [`PairBuilder::try_add_client_service`].
    pub fn add_client_service(self, service: impl Into<Service>) -> Self {
        match self.try_add_client_service(service) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`PairBuilder::add_client_service`], failing on a method name already taken.
    pub fn try_add_client_service(
        mut self,
        service: impl Into<Service>,
    ) -> Result<Self, DuplicateMethodError> {
        self.client.merge(service)?;
        Ok(self)
    }

    /// The server end's limits and timeouts (the server's `peer_config`).
    pub fn server_config(mut self, config: PeerConfig) -> Self {
        self.server_config = config;
        self
    }

    /// The client end's limits and timeouts (the client's `peer_config`).
    pub fn client_config(mut self, config: PeerConfig) -> Self {
        self.client_config = config;
        self
    }

    /// Claims the server's handlers read with `cx.claims::<C>()`, as if the server's
    /// authentication had returned them for this connection.
    pub fn server_claims<C: Clone + Send + Sync + 'static>(mut self, claims: C) -> Self {
        self.server_extensions.insert(Claims(claims));
        self
    }

    /// Claims the client's handlers read with `cx.claims::<C>()` (the client's `claims`).
    pub fn client_claims<C: Clone + Send + Sync + 'static>(mut self, claims: C) -> Self {
        self.client_extensions.insert(Claims(claims));
        self
    }

    /// Registers the client end in the registry under `user` (as the server's `identify`
    /// does), for `peers.user(..)` audiences.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The registry the server end registers in: share one between pairs to test fan-out
    /// over several connections. A new one by default.
    pub fn registry(mut self, peers: Peers) -> Self {
        self.peers = peers;
        self
    }

    /// The largest frame, in bytes, either end accepts; a larger one closes the connection
    /// with 1009 on the end that receives it. 16 MiB by default, as the server's.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Connects the two ends. Must be called inside a tokio runtime.
    pub fn connect(self) -> Pair {
        let (to_client, client_in) = mpsc::channel(FRAMES_IN_FLIGHT);
        let (to_server, server_in) = mpsc::channel(FRAMES_IN_FLIGHT);
        let mut server_extensions = self.server_extensions;
        self.peers
            .link_as(&mut server_extensions, self.user.as_deref());
        let server = connection::spawn(
            Incoming::new(server_in, self.max_message_size),
            Pipe(Some(to_client)),
            self.server,
            self.server_config,
            server_extensions,
        );
        let client = connection::spawn(
            Incoming::new(client_in, self.max_message_size),
            Pipe(Some(to_server)),
            self.client,
            self.client_config,
            self.client_extensions,
        );
        Pair {
            server,
            client,
            peers: self.peers,
        }
    }
}

/// One end's writing half: frames go whole to the other end's [`Incoming`].
struct Pipe(Option<mpsc::Sender<Inbound>>);

impl Pipe {
    async fn send(&mut self, inbound: Inbound) -> Result<(), BoxError> {
        let Some(tx) = &self.0 else {
            return Err("the connection was closed from this end".into());
        };
        tx.send(inbound)
            .await
            .map_err(|_| BoxError::from("the other end is gone"))
    }
}

impl Transport for Pipe {
    async fn feed(&mut self, text: Frame) -> Result<(), BoxError> {
        self.send(Inbound::Data(text.into_bytes())).await
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        Ok(())
    }

    async fn ping(&mut self) -> Result<(), BoxError> {
        // What the other end reads of a ping: its WebSocket layer answers it by itself.
        self.send(Inbound::Other).await
    }

    async fn close(&mut self, reason: CloseReason) {
        // What a close frame can carry (no 1005/1006, a reason cut to 123 bytes).
        let frame = close_frame(&reason).map(|(code, reason)| CloseReason { code, reason });
        let _ = self.send(Inbound::Close(frame)).await;
        self.0 = None;
    }
}

/// One end's reading half: the other end's frames, with the size limit applied.
struct Incoming {
    rx: mpsc::Receiver<Inbound>,
    max_message_size: usize,
    ended: bool,
}

impl Incoming {
    fn new(rx: mpsc::Receiver<Inbound>, max_message_size: usize) -> Self {
        Self {
            rx,
            max_message_size,
            ended: false,
        }
    }
}

impl Stream for Incoming {
    type Item = Result<Inbound, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let next = std::task::ready!(self.rx.poll_recv(cx));
        let item = match next {
            Some(Inbound::Data(bytes)) if bytes.len() > self.max_message_size => {
                Inbound::Close(Some(CloseReason {
                    code: 1009,
                    reason: format!(
                        "message too big: {} bytes, the limit is {}",
                        bytes.len(),
                        self.max_message_size
                    ),
                }))
            }
            Some(inbound) => inbound,
            None => {
                self.ended = true;
                return Poll::Ready(None);
            }
        };
        if matches!(item, Inbound::Close(_)) {
            self.ended = true;
        }
        Poll::Ready(Some(Ok(item)))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt;

    use super::*;

    async fn next(incoming: &mut Incoming) -> Option<Inbound> {
        tokio::time::timeout(Duration::from_secs(5), incoming.next())
            .await
            .expect("timed out")
            .map(|r| r.expect("no read error"))
    }

    #[tokio::test]
    async fn frames_up_to_the_limit_pass_and_one_byte_more_closes_with_1009() {
        let limit = 100;
        let (tx, rx) = mpsc::channel(FRAMES_IN_FLIGHT);
        let mut pipe = Pipe(Some(tx));
        let mut incoming = Incoming::new(rx, limit);
        for len in [limit - 1, limit] {
            pipe.feed(Frame::from("x".repeat(len))).await.unwrap();
            match next(&mut incoming).await {
                Some(Inbound::Data(bytes)) => assert_eq!(bytes.len(), len),
                other => panic!("{len} bytes: {other:?}"),
            }
        }
        pipe.feed(Frame::from("x".repeat(limit + 1))).await.unwrap();
        match next(&mut incoming).await {
            Some(Inbound::Close(Some(reason))) => {
                assert_eq!(reason.code, 1009);
                assert!(reason.reason.contains("101 bytes"), "{reason:?}");
            }
            other => panic!("{other:?}"),
        }
        // Nothing is read after the close.
        pipe.feed(Frame::from("x")).await.unwrap();
        assert!(next(&mut incoming).await.is_none());
    }

    #[tokio::test]
    async fn a_close_carries_what_a_close_frame_can_and_ends_the_other_side() {
        let (tx, rx) = mpsc::channel(FRAMES_IN_FLIGHT);
        let mut pipe = Pipe(Some(tx));
        let mut incoming = Incoming::new(rx, 100);
        pipe.ping().await.unwrap();
        assert!(matches!(next(&mut incoming).await, Some(Inbound::Other)));
        // 1006 never travels in a close frame: the other side reads a close without a code.
        pipe.close(CloseReason {
            code: 1006,
            reason: "gone".into(),
        })
        .await;
        assert!(matches!(
            next(&mut incoming).await,
            Some(Inbound::Close(None))
        ));
        assert!(next(&mut incoming).await.is_none());
        assert!(pipe.feed(Frame::from("x")).await.is_err());
    }

    #[tokio::test]
    async fn a_dropped_end_is_a_lost_connection() {
        let (tx, rx) = mpsc::channel(FRAMES_IN_FLIGHT);
        let mut incoming = Incoming::new(rx, 100);
        drop(Pipe(Some(tx)));
        assert!(next(&mut incoming).await.is_none());
    }
}
