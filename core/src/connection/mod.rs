//! The per-connection engine: for each socket one reader (`read.rs`) and one writer
//! (`write.rs`), run in the connection's one task (`halves.rs`), a bounded dispatcher, and a
//! session (`session.rs`) that can carry the connection across sockets. It touches the
//! transport only through a `Stream` of [`Inbound`] frames and a [`Transport`].

mod halves;
mod read;
mod replay;
mod serve;
mod session;
mod write;

pub use session::{Attach, IncomingFrames, Link, OnLoss, Session, SessionOptions};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::outbox::{self, TrySendError};
use futures_util::{Sink, Stream, StreamExt};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::builtin;
use crate::config::PeerConfig;
use crate::dispatch::StreamSlots;
use crate::observe;
use crate::peer::{Between, CallOptions, CloseReason, Kind, OnStart, Peer, Queued, Shared, Took};
use crate::running::Running;
use crate::service::Service;
use crate::transport::ws::{WsMessages, WsSink, inbound};
use crate::transport::{BoxError, Frame, Inbound, Transport};

static NEXT_CONN: AtomicUsize = AtomicUsize::new(1);

/// A value kept for exactly a connection's life. Put it in the connection's extensions before
/// the connection starts ([`spawn`] and friends): the engine takes it out as the connection
/// starts and drops it when the connection has ended, every socket of it, just before
/// [`Peer::closed`] resolves. A server holds a connection's slot this way, with no task of
/// its own waiting for the end.
#[derive(Clone)]
pub struct KeepUntilEnd(Arc<Mutex<Option<Box<dyn Send>>>>);

impl KeepUntilEnd {
    /// Keeps `value` (its `Drop` runs when the connection ends).
    pub fn new(value: impl Send + 'static) -> Self {
        Self(Arc::new(Mutex::new(Some(Box::new(value)))))
    }

    /// The value, taken out: `None` when it was taken before.
    fn take(&self) -> Option<Box<dyn Send>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl std::fmt::Debug for KeepUntilEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeepUntilEnd")
    }
}

/// Starts the engine for one established connection and returns its [`Peer`]: plain
/// JSON-RPC, ending with the socket.
///
/// `incoming` yields the transport's frames; `transport` writes. `service` is what this side
/// serves; `extensions` become the connection's extensions (see
/// [`Context::extensions`](crate::Context::extensions)).
/// Must be called inside a tokio runtime. The connection runs until either side closes it.
pub fn spawn<St, E>(
    incoming: St,
    transport: impl Transport,
    service: Service,
    config: impl Into<Arc<PeerConfig>>,
    extensions: http::Extensions,
) -> Peer
where
    St: Stream<Item = Result<Inbound, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let incoming = incoming.map(|r| r.map_err(|e| BoxError::from(e.to_string())));
    spawn_link(
        Link::from_frames(incoming, transport, Attach::fresh()),
        service,
        config,
        extensions,
    )
}

/// [`spawn`] for a [`Link`] (made with [`Link::from_frames`] when the transport's errors are
/// boxed already, so that no adapter runs for every frame): plain JSON-RPC, ending with the
/// socket.
pub fn spawn_link<T: Transport>(
    link: Link<T>,
    service: Service,
    config: impl Into<Arc<PeerConfig>>,
    extensions: http::Extensions,
) -> Peer {
    start(
        link,
        None,
        service,
        config.into(),
        extensions,
        SessionOptions::new(OnLoss::End),
    )
}

/// Starts the engine on a first socket, as a session that can take others
/// ([`Session::attach`]) as `options` say.
pub fn spawn_session<T: Transport>(
    first: Link<T>,
    service: Service,
    config: impl Into<Arc<PeerConfig>>,
    extensions: http::Extensions,
    options: SessionOptions,
) -> Session<T> {
    let (links_tx, links_rx) = mpsc::channel(1);
    let peer = start(
        first,
        Some(links_rx),
        service,
        config.into(),
        extensions,
        options,
    );
    Session::new(peer, links_tx)
}

fn start<T: Transport>(
    first: Link<T>,
    links: Option<session::Links<T>>,
    service: Service,
    config: Arc<PeerConfig>,
    mut extensions: http::Extensions,
    options: SessionOptions,
) -> Peer {
    // Run once, here: not kept with the connection.
    let on_start = extensions.remove::<OnStart>();
    let (tx, rx) = outbox::channel(config.outbound_queue);
    let limit = config.max_concurrent_requests.max(1);
    let between = Between {
        wait_for_link: options.wait_for_link,
        max_resends: options.max_resends,
    };
    let config_streams = config.max_streams;
    let peer = Peer::new(tx, config, extensions, between);
    let conn = Arc::new(Conn {
        peer: peer.clone(),
        service,
        conn_id: jsonrpsee::ConnectionId(NEXT_CONN.fetch_add(1, Ordering::Relaxed)),
        slots: Semaphore::new(limit),
        running: Running::default(),
        streams: StreamSlots::new(config_streams),
    });
    tracing::info!(peer = %peer.id(), remote = ?peer.extensions().get::<std::net::SocketAddr>(), "connection opened");
    observe::connection_opened();
    if let Some(OnStart(hook)) = on_start {
        hook(&peer);
    }
    let kept = peer
        .extensions()
        .get::<KeepUntilEnd>()
        .and_then(KeepUntilEnd::take);
    tokio::spawn(session::run(
        conn,
        rx,
        links,
        Box::new(first),
        options,
        kept,
    ));
    peer
}

/// Starts the engine on an upgraded WebSocket of any library: `W` names the library's
/// message type ([`WsMessages`]), `socket` is the socket itself (both halves).
pub fn spawn_websocket<W, S>(
    socket: S,
    service: Service,
    config: impl Into<Arc<PeerConfig>>,
    extensions: http::Extensions,
) -> Peer
where
    W: WsMessages,
    S: Stream<Item = Result<W::Message, W::Error>> + Sink<W::Message> + Send + Unpin + 'static,
    <S as Sink<W::Message>>::Error: Into<BoxError>,
{
    let (sink, stream) = socket.split();
    spawn_link(
        Link::from_frames(
            inbound::<W>(stream),
            WsSink::<_, W>::new(sink),
            Attach::fresh(),
        ),
        service,
        config,
        extensions,
    )
}

/// A WebSocket of any library as a [`Link`] for a [`Session`] (see [`spawn_websocket`]).
pub fn websocket_link<W, S>(socket: S, attach: Attach) -> Link<WsTransport<W, S>>
where
    W: WsMessages,
    S: Stream<Item = Result<W::Message, W::Error>> + Sink<W::Message> + Send + Unpin + 'static,
    <S as Sink<W::Message>>::Error: Into<BoxError>,
{
    let (sink, stream) = socket.split();
    Link::from_frames(inbound::<W>(stream), WsSink::<_, W>::new(sink), attach)
}

/// The writing half of a WebSocket `S` of the library `W`, as a [`Transport`].
pub type WsTransport<W, S> =
    WsSink<futures_util::stream::SplitSink<S, <W as WsMessages>::Message>, W>;

struct Conn {
    peer: Peer,
    service: Service,
    conn_id: jsonrpsee::ConnectionId,
    /// Handlers running at once (`max_concurrent_requests`). Requests waiting for a slot do
    /// not stop the reader, so responses to a handler's own callbacks still get through.
    slots: Semaphore,
    /// Incoming requests in flight, for `rpc.cancel` and close.
    running: Running,
    /// The streams this connection serves.
    streams: StreamSlots,
}

/// Dropped once an answer is queued: lets the stream it opened send its items.
pub(crate) type Gate = oneshot::Sender<()>;

impl Conn {
    fn shared(&self) -> &Shared {
        &self.peer.shared
    }

    /// Queues an answer for the socket `generation` it was asked on. Nothing new is queued
    /// once the connection is closing (the peer no longer waits for answers: its calls have
    /// failed with Disconnected, and the writer is finishing), nor for a socket that was lost
    /// and replaced without resuming. An answer that finds no room for `write_stall_timeout`
    /// while a socket is attached means the peer is not reading: the connection closes with
    /// 1008. Between sockets of a resumable session it waits (the grace bounds that).
    async fn send(&self, frame: Frame, generation: u64) {
        if let Err(frame) = self.try_send(frame, generation) {
            // Boxed: the wait is rare, and its state would otherwise make every future that
            // sends an answer (and the reader that holds one) larger for every connection.
            Box::pin(self.send_waiting(frame, generation)).await;
        }
    }

    /// [`Conn::send`] from the reader, which must never wait for room: the acknowledgement
    /// that frees it may be the next frame to read. When the queue is full, a task waits with
    /// the answer, holding `held` (the call's admission, a stream's gate) until it is queued.
    fn send_from_reader<H: Send + 'static>(
        self: &Arc<Self>,
        frame: Frame,
        generation: u64,
        held: H,
    ) {
        if let Err(frame) = self.try_send(frame, generation) {
            let conn = self.clone();
            tokio::spawn(async move {
                conn.send_waiting(frame, generation).await;
                drop(held);
            });
        }
    }

    /// Queues an answer if there is room at once; `Err` gives it back when the queue is full.
    fn try_send(&self, frame: Frame, generation: u64) -> Result<(), Frame> {
        let shared = self.shared();
        if shared.is_closed() || shared.generation.load(Ordering::Acquire) != generation {
            return Ok(());
        }
        let queued = Queued {
            text: frame,
            kind: Kind::Answer,
        };
        match shared.out.try_send(queued) {
            Ok(()) | Err(TrySendError::Closed(_)) => Ok(()),
            Err(TrySendError::Full(queued)) => Err(queued.text),
        }
    }

    /// Waits for room for an answer (see [`Conn::send`]).
    async fn send_waiting(&self, frame: Frame, generation: u64) {
        let shared = self.shared();
        let stall = shared.config.write_stall_timeout;
        loop {
            let room = tokio::select! {
                biased;
                _ = shared.closed.cancelled() => return,
                room = tokio::time::timeout(stall, shared.out.reserve()) => room,
            };
            match room {
                Ok(Ok(permit)) => {
                    if shared.generation.load(Ordering::Acquire) == generation {
                        permit.send(Queued {
                            text: frame,
                            kind: Kind::Answer,
                        });
                    }
                    return;
                }
                Ok(Err(_)) => return,
                Err(_) if !shared.is_link_up() => continue,
                Err(_) => break,
            }
        }
        tracing::info!(peer = %shared.id, ?stall, "the peer does not read its answers; closing");
        observe::stall_close();
        shared.shutdown(CloseReason {
            code: 1008,
            reason: "the peer does not read its answers".to_owned(),
        });
    }

    /// Takes an item (or the end) of a stream this peer consumes; `false` for any other
    /// notification. A consumer that fell behind has its stream cancelled at the producer.
    fn stream_item(&self, method: &str, params: Option<&str>) -> bool {
        match self.shared().streams.take(method, params) {
            Took::NotOurs => false,
            Took::Taken => true,
            Took::Cancel(unsubscribe, params) => {
                tracing::debug!(peer = %self.peer.id(), method, "a stream's consumer fell behind or went away; cancelling it");
                let peer = self.peer.clone();
                tokio::spawn(async move {
                    let options =
                        CallOptions::default().timeout(crate::stream::UNSUBSCRIBE_TIMEOUT);
                    let _ = peer
                        .request_with(&unsubscribe, Some(params), &options)
                        .await;
                });
                true
            }
        }
    }

    /// Acts on `rpc.cancel`: cancels every running request with the id it names.
    fn cancel_incoming(&self, params: Option<&str>) {
        if let Some(id) = builtin::cancel_target(params) {
            self.running.cancel(id);
        }
    }
}
