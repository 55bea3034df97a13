//! The per-connection engine: for each socket one reader (`read.rs`) and one writer
//! (`write.rs`), a bounded dispatcher, and a session (`session.rs`) that can carry the
//! connection across sockets. It touches the transport only through a `Stream` of
//! [`Inbound`] frames and a [`Transport`].

mod read;
mod replay;
mod session;
mod write;

pub use session::{Attach, IncomingFrames, Link, OnLoss, Session, SessionOptions};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::{Sink, Stream, StreamExt};
use serde_json::value::RawValue;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::builtin;
use crate::config::PeerConfig;
use crate::context::Context;
use crate::dispatch::{self, Incoming, StreamSlots, Target};
use crate::error::{codes, error_object};
use crate::message;
use crate::observe::{self, Direction};
use crate::peer::{Between, CallOptions, CloseReason, Kind, OnStart, Peer, Queued, Shared, Took};
use crate::running::Running;
use crate::service::Service;
use crate::transport::ws::{WsMessages, WsSink, inbound};
use crate::transport::{BoxError, Inbound, Transport};
use jsonrpsee_types::Params;

static NEXT_CONN: AtomicUsize = AtomicUsize::new(1);

/// Starts the engine for one established connection and returns its [`Peer`]: plain
/// JSON-RPC, ending with the socket.
///
/// `incoming` yields the transport's frames; `transport` writes. `service` is what this side
/// serves; `extensions` become the connection's extensions (see [`Context::extensions`]).
/// Must be called inside a tokio runtime. The connection runs until either side closes it.
pub fn spawn<St, E>(
    incoming: St,
    transport: impl Transport,
    service: Service,
    config: PeerConfig,
    extensions: http::Extensions,
) -> Peer
where
    St: Stream<Item = Result<Inbound, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let incoming = incoming.map(|r| r.map_err(|e| BoxError::from(e.to_string())));
    let link = Link::new(
        incoming,
        transport,
        Attach::Fresh {
            numbered: false,
            hello: None,
            expired: false,
        },
    );
    start(
        link,
        None,
        service,
        config,
        extensions,
        SessionOptions::new(OnLoss::End),
    )
}

/// Starts the engine on a first socket, as a session that can take others
/// ([`Session::attach`]) as `options` say.
pub fn spawn_session<T: Transport>(
    first: Link<T>,
    service: Service,
    config: PeerConfig,
    extensions: http::Extensions,
    options: SessionOptions,
) -> Session<T> {
    let (links_tx, links_rx) = mpsc::channel(1);
    let peer = start(first, Some(links_rx), service, config, extensions, options);
    Session::new(peer, links_tx)
}

fn start<T: Transport>(
    first: Link<T>,
    links: Option<mpsc::Receiver<Link<T>>>,
    service: Service,
    config: PeerConfig,
    extensions: http::Extensions,
    options: SessionOptions,
) -> Peer {
    let (tx, rx) = mpsc::channel(config.outbound_queue.max(1));
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
    if let Some(OnStart(hook)) = peer.extensions().get::<OnStart>() {
        hook(&peer);
    }
    tokio::spawn(session::run(conn, rx, links, first, options));
    peer
}

/// Starts the engine on an upgraded WebSocket of any library: `W` names the library's
/// message type ([`WsMessages`]), `socket` is the socket itself (both halves).
pub fn spawn_websocket<W, S>(
    socket: S,
    service: Service,
    config: PeerConfig,
    extensions: http::Extensions,
) -> Peer
where
    W: WsMessages,
    S: Stream<Item = Result<W::Message, W::Error>> + Sink<W::Message> + Send + Unpin + 'static,
    <S as Sink<W::Message>>::Error: Into<BoxError>,
{
    let (sink, stream) = socket.split();
    spawn(
        inbound::<W>(stream),
        WsSink::<_, W>::new(sink),
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
    let incoming = inbound::<W>(stream).map(|r| r.map_err(|e| BoxError::from(e.to_string())));
    Link::new(incoming, WsSink::<_, W>::new(sink), attach)
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
    async fn send(&self, frame: String, generation: u64) {
        let shared = self.shared();
        if shared.closed.is_cancelled() || shared.generation.load(Ordering::Acquire) != generation {
            return;
        }
        let queued = Queued {
            text: frame.into(),
            kind: Kind::Answer,
        };
        let frame = match shared.out.try_send(queued) {
            Ok(()) | Err(TrySendError::Closed(_)) => return,
            Err(TrySendError::Full(queued)) => queued.text,
        };
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
    fn stream_item(&self, method: &str, params: Option<&RawValue>) -> bool {
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
    fn cancel_incoming(&self, params: Option<&RawValue>) {
        if let Some(id) = builtin::cancel_target(params) {
            self.running.cancel(id);
        }
    }

    fn context(&self, cancel: CancellationToken) -> Context {
        Context::new(self.peer.clone(), cancel)
    }

    /// Waits for a running slot, then runs the handler.
    async fn invoke(
        &self,
        target: Target,
        params: Params<'static>,
        id: Option<&RawValue>,
        cx: Context,
    ) -> dispatch::Reply {
        let _slot = self.slots.acquire().await;
        dispatch::invoke(
            &self.service,
            self.conn_id,
            &self.streams,
            target,
            params,
            id,
            cx,
        )
        .await
    }

    /// Runs one request or notification to completion and returns its response frame, and
    /// for a stream's subscribe answer the gate its items wait behind.
    async fn run(
        self: &Arc<Self>,
        item: Incoming,
        generation: u64,
    ) -> Option<(String, Option<Gate>)> {
        let span = tracing::debug_span!(
            "rpc",
            direction = "incoming",
            peer = %self.peer.id(),
            method = item.target.name(),
            id = item.request.as_ref().map(|(id, _)| id.get()),
        );
        self.run_inner(item, generation).instrument(span).await
    }

    async fn run_inner(
        self: &Arc<Self>,
        item: Incoming,
        generation: u64,
    ) -> Option<(String, Option<Gate>)> {
        let Incoming {
            request,
            target,
            params,
        } = item;
        let method = target.name();
        let started = observe::Started::now();
        let Some((id, (seq, token))) = request else {
            // A notification: run it, answer nothing.
            let token = self.shared().closed.child_token();
            let cx = self.context(token.clone());
            let outcome = tokio::select! {
                biased;
                _ = token.cancelled() => "cancelled",
                reply = self.invoke(target, params, None, cx) => reply.outcome(),
            };
            observe::finished(Direction::Incoming, method, outcome, started);
            return None;
        };
        let cx = self.context(token.clone());
        let deadline = self.service.deadline(method);
        let past_deadline = async {
            match deadline {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        // Cancellation wins over a result that is ready at the same moment: once the
        // connection is closing, a handler's late answer is dropped, not written.
        let outcome = tokio::select! {
            biased;
            _ = token.cancelled() => None,
            r = self.invoke(target, params, Some(&id), cx) => Some(r),
            _ = past_deadline => {
                // Whatever the handler started (its own calls) is cancelled with it.
                token.cancel();
                let d = deadline.unwrap_or_default();
                let detail = format!("`{method}` did not finish within its deadline of {d:?}; the handler was cancelled");
                Some(dispatch::Reply::Payload(Err(error_object(codes::TIMED_OUT, detail))))
            }
        };
        self.running.untrack(&id, seq);
        observe::finished(
            Direction::Incoming,
            method,
            outcome
                .as_ref()
                .map_or("cancelled", dispatch::Reply::outcome),
            started,
        );
        match outcome {
            Some(mut reply) => {
                let gate = reply
                    .take_items()
                    .map(|items| self.forward(items, generation));
                Some((reply.into_frame(id.get()), gate))
            }
            None if self.peer.is_connected() => Some((
                message::failure(
                    Some(id.get()),
                    &error_object(
                        codes::REQUEST_CANCELLED,
                        "cancelled by rpc.cancel".to_owned(),
                    ),
                ),
                None,
            )),
            None => None,
        }
    }

    /// Sends a served stream's items once its gate opens (the subscribe answer is queued),
    /// waiting for room in the outgoing queue for each: a producer runs no faster than the
    /// peer reads. Stops when the connection ends, or when the socket `generation` it was
    /// opened on is replaced without resuming (even while the producer is quiet); dropping
    /// the items then ends the producer.
    fn forward(
        self: &Arc<Self>,
        mut items: mpsc::Receiver<Box<RawValue>>,
        generation: u64,
    ) -> Gate {
        let (gate, opened) = oneshot::channel();
        let conn = self.clone();
        let Some(voided) = conn.shared().generation_token(generation) else {
            // The socket it was asked on is gone already: the answer is not written either.
            return gate;
        };
        tokio::spawn(async move {
            let _ = opened.await;
            let shared = conn.shared();
            loop {
                let frame = tokio::select! {
                    biased;
                    _ = shared.closed.cancelled() => return,
                    _ = voided.cancelled() => return,
                    frame = items.recv() => match frame {
                        Some(frame) => frame,
                        None => return,
                    },
                };
                let frame = String::from(Box::<str>::from(frame));
                tokio::select! {
                    biased;
                    _ = voided.cancelled() => return,
                    sent = shared.send(frame, Kind::StreamItem) => if sent.is_err() {
                        return;
                    },
                }
            }
        });
        gate
    }
}
