//! The per-connection engine: one reader (`read.rs`), one writer (`write.rs`), a bounded
//! dispatcher. It touches the transport only through a `Stream` of [`Inbound`] frames and a
//! [`Transport`].

mod read;
mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::{Sink, Stream, StreamExt};
use serde_json::value::RawValue;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::builtin;
use crate::config::PeerConfig;
use crate::context::Context;
use crate::dispatch::{self, Incoming, Target};
use crate::error::{codes, error_object};
use crate::message;
use crate::observe::{self, Direction};
use crate::peer::{CloseReason, Peer, Queued, Shared};
use crate::running::Running;
use crate::service::Service;
use crate::transport::ws::{WsMessages, WsSink, inbound};
use crate::transport::{BoxError, Inbound, Transport};
use jsonrpsee_types::Params;

static NEXT_CONN: AtomicUsize = AtomicUsize::new(1);

/// Starts the engine for one established connection and returns its [`Peer`].
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
    let (tx, rx) = mpsc::channel(config.outbound_queue.max(1));
    let limit = config.max_concurrent_requests.max(1);
    let peer = Peer::new(tx, config, extensions);
    let conn = Arc::new(Conn {
        peer: peer.clone(),
        service,
        conn_id: jsonrpsee::ConnectionId(NEXT_CONN.fetch_add(1, Ordering::Relaxed)),
        slots: Semaphore::new(limit),
        running: Running::default(),
    });
    tracing::info!(peer = %peer.id(), remote = ?peer.extensions().get::<std::net::SocketAddr>(), "connection opened");
    observe::connection_opened();
    tokio::spawn(write::write_loop(peer.shared.clone(), rx, transport));
    tokio::spawn(read::read_loop(conn, incoming));
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

struct Conn {
    peer: Peer,
    service: Service,
    conn_id: jsonrpsee::ConnectionId,
    /// Handlers running at once (`max_concurrent_requests`). Requests waiting for a slot do
    /// not stop the reader, so responses to a handler's own callbacks still get through.
    slots: Semaphore,
    /// Incoming requests in flight, for `rpc.cancel` and close.
    running: Running,
}

impl Conn {
    fn shared(&self) -> &Shared {
        &self.peer.shared
    }

    /// Queues an answer. Nothing new is queued once the connection is closing: the peer no
    /// longer waits for answers (its calls have failed with Disconnected), and the writer is
    /// finishing. An answer that finds no room for `write_stall_timeout` means the peer is
    /// not reading: the connection closes with 1008.
    async fn send(&self, frame: String) {
        let shared = self.shared();
        if shared.closed.is_cancelled() {
            return;
        }
        let queued = Queued {
            text: frame,
            is_call: false,
        };
        let frame = match shared.out.try_send(queued) {
            Ok(()) | Err(TrySendError::Closed(_)) => return,
            Err(TrySendError::Full(queued)) => queued.text,
        };
        let stall = shared.config.write_stall_timeout;
        if tokio::time::timeout(stall, shared.send(frame, false))
            .await
            .is_err()
        {
            tracing::info!(peer = %shared.id, ?stall, "the peer does not read its answers; closing");
            observe::stall_close();
            shared.shutdown(CloseReason {
                code: 1008,
                reason: "the peer does not read its answers".to_owned(),
            });
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
        dispatch::invoke(&self.service, self.conn_id, target, params, id, cx).await
    }

    /// Runs one request or notification to completion and returns its response frame.
    async fn run(&self, item: Incoming) -> Option<String> {
        let span = tracing::debug_span!(
            "rpc",
            direction = "incoming",
            peer = %self.peer.id(),
            method = item.target.name(),
            id = item.request.as_ref().map(|(id, _)| id.get()),
        );
        self.run_inner(item).instrument(span).await
    }

    async fn run_inner(&self, item: Incoming) -> Option<String> {
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
        // Cancellation wins over a result that is ready at the same moment: once the
        // connection is closing, a handler's late answer is dropped, not written.
        let outcome = tokio::select! {
            biased;
            _ = token.cancelled() => None,
            r = self.invoke(target, params, Some(&id), cx) => Some(r),
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
            Some(reply) => Some(reply.into_frame(id.get())),
            None if self.peer.is_connected() => Some(message::failure(
                Some(id.get()),
                &error_object(
                    codes::REQUEST_CANCELLED,
                    "cancelled by rpc.cancel".to_owned(),
                ),
            )),
            None => None,
        }
    }
}
