//! The per-connection engine: one reader, one writer, a bounded dispatcher. The only module
//! that touches the transport, and only through a `Stream` of [`Inbound`] frames and a
//! [`Transport`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use futures_util::{Stream, StreamExt};
use serde_json::value::RawValue;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::PeerConfig;
use crate::context::Context;
use crate::dispatch::{self, Incoming, Target};
use crate::error::{ErrorObject, codes, error_object};
use crate::message::{self, Frame, Message};
use crate::peer::{CloseReason, Peer, Queued, Shared};
use crate::service::Service;
use jsonrpsee_types::Params;

/// One frame from the transport.
#[derive(Debug)]
pub enum Inbound {
    /// A text or binary data frame; both are read as UTF-8 JSON.
    Data(bytes::Bytes),
    /// The remote sent a close frame.
    Close(Option<CloseReason>),
    /// Ping, pong or anything else the transport handles itself.
    Other,
}

/// Adapts a transport's sink to volley: text frames in, close at the end.
pub trait Transport: Send + 'static {
    /// Writes (buffers) one text frame.
    fn feed(&mut self, text: String) -> impl Future<Output = Result<(), BoxError>> + Send;
    /// Flushes buffered frames to the socket.
    fn flush(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send;
    /// Sends a close frame and shuts the write half.
    fn close(&mut self, reason: CloseReason) -> impl Future<Output = ()> + Send;
    /// Sends a WebSocket ping and flushes it (keepalive). The default sends nothing.
    fn ping(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send {
        async { Ok(()) }
    }
}

/// What to put in the close frame for `reason`: `None` (a close frame without a code) for
/// the codes RFC 6455 forbids on the wire (1005, 1006, 1015), and the reason cut to the 123
/// bytes a close frame can carry, at a character boundary.
pub fn close_frame(reason: &CloseReason) -> Option<(u16, String)> {
    if matches!(reason.code, 1005 | 1006 | 1015) || reason.code < 1000 {
        return None;
    }
    let mut end = reason.reason.len().min(123);
    while !reason.reason.is_char_boundary(end) {
        end -= 1;
    }
    Some((reason.code, reason.reason[..end].to_owned()))
}

/// A boxed transport error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
    let admitted = limit + config.max_waiting_requests;
    let peer = Peer::new(tx, config, extensions);
    let conn = Arc::new(Conn {
        peer: peer.clone(),
        service,
        conn_id: jsonrpsee::ConnectionId(NEXT_CONN.fetch_add(1, Ordering::Relaxed)),
        admission: Arc::new(Semaphore::new(admitted)),
        admission_limit: admitted,
        slots: Semaphore::new(limit),
        running: Mutex::new(HashMap::new()),
        seq: AtomicU64::new(0),
    });
    tokio::spawn(write_loop(peer.shared.clone(), rx, transport));
    tokio::spawn(read_loop(conn, incoming));
    peer
}

/// One running incoming request: its sequence number and cancellation token.
type Tracked = (u64, CancellationToken);

pub(crate) struct Conn {
    pub(crate) peer: Peer,
    pub(crate) service: Service,
    pub(crate) conn_id: jsonrpsee::ConnectionId,
    /// Requests read but not finished: running, or waiting for a slot.
    /// When none is left the reader stops reading: backpressure on the socket.
    admission: Arc<Semaphore>,
    admission_limit: usize,
    /// Handlers running at once (`max_concurrent_requests`). Requests waiting for a slot do
    /// not stop the reader, so responses to a handler's own callbacks still get through.
    slots: Semaphore,
    /// Incoming requests in flight, by raw id text, for `rpc.cancel`.
    /// (A peer may reuse an id while an earlier request with it still runs: `rpc.cancel`
    /// then cancels all of them.)
    running: Mutex<HashMap<Box<str>, Vec<Tracked>>>,
    seq: AtomicU64,
}

impl Conn {
    fn shared(&self) -> &Shared {
        &self.peer.shared
    }

    async fn send(&self, frame: String) {
        // Nothing new is queued once the connection is closing: the peer no longer waits for
        // answers (its calls have failed with Disconnected), and the writer is finishing.
        let _ = self.shared().send(frame, false).await;
    }

    /// Starts tracking an incoming request; the token is cancelled by `rpc.cancel` or close.
    fn track(&self, id: &RawValue) -> (u64, CancellationToken) {
        let token = self.shared().closed.child_token();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running
            .entry(id.get().into())
            .or_default()
            .push((seq, token.clone()));
        (seq, token)
    }

    fn untrack(&self, id: &RawValue, seq: u64) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tokens) = running.get_mut(id.get()) {
            tokens.retain(|(s, _)| *s != seq);
            if tokens.is_empty() {
                running.remove(id.get());
            }
        }
    }

    /// Handles `rpc.cancel {"id": ..}` (or `[id]`).
    fn cancel_incoming(&self, params: Option<&RawValue>) {
        #[derive(serde::Deserialize)]
        struct ById<'a> {
            #[serde(borrow)]
            id: &'a RawValue,
        }
        let Some(p) = params else { return };
        let id: Option<&RawValue> = serde_json::from_str::<ById<'_>>(p.get())
            .map(|b| b.id)
            .or_else(|_| serde_json::from_str::<(&RawValue,)>(p.get()).map(|t| t.0))
            .ok();
        if let Some(id) = id {
            let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            for (_, token) in running.get(id.get()).into_iter().flatten() {
                token.cancel();
            }
        }
    }

    fn context(&self, cancel: CancellationToken) -> Context {
        Context::new(self.peer.clone(), cancel)
    }

    /// Waits for a running slot, then runs the handler.
    async fn invoke(
        self: &Arc<Self>,
        target: Target,
        params: Params<'static>,
        id: Option<&RawValue>,
        cx: Context,
    ) -> dispatch::Reply {
        let _slot = self.slots.acquire().await;
        dispatch::invoke(self, target, params, id, cx).await
    }

    /// Runs one request or notification to completion and returns its response frame.
    pub(crate) async fn run(self: &Arc<Self>, item: Incoming) -> Option<String> {
        let span = tracing::debug_span!(
            "rpc",
            peer = %self.peer.id(),
            method = item.target.name(),
            id = item.request.as_ref().map(|(id, _)| id.get()),
        );
        self.run_inner(item).instrument(span).await
    }

    async fn run_inner(self: &Arc<Self>, item: Incoming) -> Option<String> {
        let Incoming {
            request,
            target,
            params,
        } = item;
        let Some((id, (seq, token))) = request else {
            // A notification: run it, answer nothing.
            let token = self.shared().closed.child_token();
            let cx = self.context(token.clone());
            tokio::select! {
                biased;
                _ = token.cancelled() => {}
                _ = self.invoke(target, params, None, cx) => {}
            }
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
        self.untrack(&id, seq);
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

/// How long the writer keeps trying once the connection is closing (a peer that stopped
/// reading must not hold a connection open).
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Runs a transport operation; once the connection is closing it gets [`CLOSE_GRACE`] more.
async fn guarded(
    closed: &CancellationToken,
    op: impl Future<Output = Result<(), BoxError>>,
) -> Result<(), BoxError> {
    tokio::pin!(op);
    tokio::select! {
        biased;
        r = &mut op => r,
        _ = closed.cancelled() => match tokio::time::timeout(CLOSE_GRACE, op).await {
            Ok(r) => r,
            Err(_) => Err("the peer stopped reading".into()),
        },
    }
}

/// A timer that first fires one `every` from now, or none when keepalive is off.
fn keepalive_timer(every: Option<Duration>) -> Option<tokio::time::Interval> {
    every.map(|every| {
        let mut timer = tokio::time::interval_at(Instant::now() + every, every);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        timer
    })
}

/// The next keepalive tick, or never when keepalive is off.
async fn tick(timer: &mut Option<tokio::time::Interval>) {
    match timer {
        Some(timer) => {
            timer.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Marks the writer finished however it ends.
struct Finished(CancellationToken);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

async fn write_loop(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Queued>,
    mut transport: impl Transport,
) {
    let _finished = Finished(shared.finished.clone());
    let closed = shared.closed.clone();
    let mut healthy = true;
    let mut keepalive = keepalive_timer(shared.config.ping_interval);
    loop {
        let first = tokio::select! {
            biased;
            m = rx.recv() => m,
            _ = closed.cancelled() => None,
            _ = tick(&mut keepalive) => {
                if let Err(e) = guarded(&closed, transport.ping()).await {
                    tracing::debug!(peer = %shared.id, error = %e, "ping failed; closing");
                    shared.shutdown(CloseReason {
                        code: 1006,
                        reason: format!("write failed: {e}"),
                    });
                    healthy = false;
                    break;
                }
                continue;
            }
        };
        let Some(first) = first else {
            break;
        };
        let mut result = guarded(&closed, transport.feed(first.text)).await;
        // Coalesce: take whatever is queued; then let the other ready tasks (handlers about to
        // answer) run once and take what they queued, so one flush carries many frames.
        let mut yielded = false;
        while result.is_ok() {
            match rx.try_recv() {
                Ok(q) => result = guarded(&closed, transport.feed(q.text)).await,
                Err(_) if !yielded => {
                    yielded = true;
                    tokio::task::yield_now().await;
                }
                Err(_) => break,
            }
        }
        if result.is_ok() {
            result = guarded(&closed, transport.flush()).await;
        }
        if let Err(e) = result {
            tracing::debug!(peer = %shared.id, error = %e, "write failed; closing");
            shared.shutdown(CloseReason {
                code: 1006,
                reason: format!("write failed: {e}"),
            });
            healthy = false;
            break;
        }
    }
    // Closing: write what was already queued (answers, a last notification; not requests,
    // whose callers were told `Disconnected`), then the close frame, all within the grace.
    let finish = async {
        if healthy {
            while let Ok(q) = rx.try_recv() {
                if !q.is_call && transport.feed(q.text).await.is_err() {
                    return;
                }
            }
            let _ = transport.flush().await;
        }
        let reason = shared.close_reason().unwrap_or(CloseReason {
            code: 1000,
            reason: String::new(),
        });
        transport.close(reason).await;
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, finish).await;
}

async fn read_loop<St, E>(conn: Arc<Conn>, mut incoming: St)
where
    St: Stream<Item = Result<Inbound, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let closed = conn.shared().closed.clone();
    let every = conn.shared().config.ping_interval;
    let mut keepalive = keepalive_timer(every);
    // Only this task reads frames, so when the last one arrived is its own business.
    let mut last_seen = Instant::now();
    let reason = loop {
        let next = tokio::select! {
            biased;
            _ = closed.cancelled() => return,
            n = incoming.next() => n,
            _ = tick(&mut keepalive) => {
                let quiet = last_seen.elapsed();
                match every {
                    Some(every) if quiet > every * 2 => break CloseReason {
                        code: 1006,
                        reason: format!("nothing arrived for {quiet:?}; the peer is gone"),
                    },
                    _ => continue,
                }
            }
        };
        match next {
            None => {
                break CloseReason {
                    code: 1006,
                    reason: "connection lost".into(),
                };
            }
            Some(Err(e)) => {
                break CloseReason {
                    code: 1006,
                    reason: format!("read failed: {e}"),
                };
            }
            Some(Ok(Inbound::Close(r))) => {
                break r.unwrap_or(CloseReason {
                    code: 1005,
                    reason: String::new(),
                });
            }
            Some(Ok(Inbound::Other)) => {}
            Some(Ok(Inbound::Data(bytes))) => {
                if !on_frame(&conn, &bytes, &closed).await {
                    return;
                }
            }
        }
        // Noted after the frame is handled: time spent waiting for a dispatch slot is ours,
        // not the peer's silence.
        last_seen = Instant::now();
    };
    tracing::debug!(peer = %conn.peer.id(), code = reason.code, reason = %reason.reason, "connection ended");
    conn.shared().shutdown(reason);
}

/// Waits for `n` admissions; `None` when the connection closed meanwhile.
async fn admit(
    conn: &Conn,
    closed: &CancellationToken,
    n: u32,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    tokio::select! {
        biased;
        _ = closed.cancelled() => None,
        p = conn.admission.clone().acquire_many_owned(n) => p.ok(),
    }
}

/// Handles one frame; false when the connection closed while waiting for a dispatch slot.
async fn on_frame(conn: &Arc<Conn>, bytes: &[u8], closed: &CancellationToken) -> bool {
    let max = conn.shared().config.max_batch_len;
    let frame = match message::parse_frame(bytes, max) {
        Ok(f) => f,
        Err(err) => {
            conn.send(message::failure(None, &err)).await;
            return true;
        }
    };
    match frame {
        Frame::Single(raw) => match classify_owned(conn, raw) {
            Step::Done => true,
            Step::Reply(frame) => {
                conn.send(frame).await;
                true
            }
            Step::Dispatch(item) => {
                let Some(permit) = admit(conn, closed, 1).await else {
                    return false;
                };
                let conn = conn.clone();
                tokio::spawn(async move {
                    if let Some(frame) = conn.run(item).await {
                        conn.send(frame).await;
                    }
                    drop(permit);
                });
                true
            }
        },
        Frame::TooLarge(len) => {
            let err = error_object(
                codes::BATCH_TOO_LARGE,
                format!("batch of {len} exceeds the limit of {max}"),
            );
            conn.send(message::failure(None, &err)).await;
            true
        }
        Frame::Batch(items) => {
            if items.is_empty() {
                let err = error_object(codes::INVALID_REQUEST, "empty batch".to_owned());
                conn.send(message::failure(None, &err)).await;
                return true;
            }
            let mut replies = Vec::new();
            let mut work = Vec::new();
            for raw in items {
                match classify_owned(conn, raw) {
                    Step::Done => {}
                    Step::Reply(f) => replies.push(f),
                    Step::Dispatch(item) => work.push(item),
                }
            }
            if work.is_empty() {
                if !replies.is_empty() {
                    conn.send(join_batch(replies)).await;
                }
                return true;
            }
            // A batch is admitted for its elements (up to the whole admission), and each element
            // takes a running slot of its own, so batching does not get around the limit.
            let slots = u32::try_from(work.len().min(conn.admission_limit)).unwrap_or(u32::MAX);
            let Some(permit) = admit(conn, closed, slots).await else {
                return false;
            };
            let conn = conn.clone();
            tokio::spawn(async move {
                let outs =
                    futures_util::future::join_all(work.into_iter().map(|i| conn.run(i))).await;
                replies.extend(outs.into_iter().flatten());
                if !replies.is_empty() {
                    conn.send(join_batch(replies)).await;
                }
                drop(permit);
            });
            true
        }
    }
}

fn join_batch(replies: Vec<String>) -> String {
    let mut s = String::with_capacity(replies.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
    s.push('[');
    for (i, r) in replies.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(r);
    }
    s.push(']');
    s
}

/// Params as jsonrpsee callbacks take them, copied once out of the frame.
fn owned_params(params: Option<&RawValue>) -> Params<'static> {
    Params::new(params.map(RawValue::get)).into_owned()
}

enum Step {
    Done,
    Reply(String),
    Dispatch(Incoming),
}

/// Classifies one message and handles everything that needs no handler task.
fn classify_owned(conn: &Conn, raw: &RawValue) -> Step {
    match message::classify(raw) {
        Message::Response { id, outcome } => {
            let answer = match outcome {
                Ok(result) => Ok(result.to_owned()),
                Err(err) => Err(
                    serde_json::from_str::<ErrorObject>(err.get()).unwrap_or_else(|e| {
                        error_object(
                            codes::INTERNAL_ERROR,
                            format!("peer sent a malformed error object: {e}"),
                        )
                    }),
                ),
            };
            let routed = id
                .get()
                .parse::<u64>()
                .is_ok_and(|n| conn.shared().resolve(n, answer));
            if !routed {
                tracing::debug!(peer = %conn.peer.id(), id = id.get(), "response to no pending call; dropped");
            }
            Step::Done
        }
        Message::Notification { method, params } if method == "rpc.cancel" => {
            conn.cancel_incoming(params);
            Step::Done
        }
        Message::Notification { method, params } => match Target::resolve(conn, &method) {
            Some(target) => Step::Dispatch(Incoming {
                request: None,
                target,
                params: owned_params(params),
            }),
            None => {
                tracing::debug!(peer = %conn.peer.id(), %method, "notification for no method; dropped");
                Step::Done
            }
        },
        Message::Request { id, method, params } if method == "rpc.cancel" => {
            conn.cancel_incoming(params);
            Step::Reply(message::success(id.get(), "null"))
        }
        Message::Request { id, method, params } => match Target::resolve(conn, &method) {
            Some(target) => Step::Dispatch(Incoming {
                // Tracked before the handler task starts, so an `rpc.cancel` right behind the
                // request always finds it.
                request: Some((id.to_owned(), conn.track(id))),
                target,
                params: owned_params(params),
            }),
            None => Step::Reply(message::failure(
                Some(id.get()),
                &error_object(
                    codes::METHOD_NOT_FOUND,
                    format!("no method named `{method}`"),
                ),
            )),
        },
        Message::Invalid { id, detail } => {
            let err = error_object(codes::INVALID_REQUEST, detail);
            Step::Reply(message::failure(id.map(RawValue::get), &err))
        }
    }
}
