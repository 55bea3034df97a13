//! The reader: classifies each frame, routes responses to waiting callers, acts on
//! `rpc.cancel`, admits requests to the dispatcher (backpressure when full), and notices a
//! silent peer.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;

use futures_util::{Stream, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Conn;
use super::write::{LinkCtl, Lost, keepalive_timer, tick};
use crate::admission::Admitted;
use crate::builtin;
use crate::dispatch::{Incoming, Target};
use crate::error::{Error, ErrorObject, codes, error_object};
use crate::message::{self, Message, Parsed};
use crate::observe;
use crate::params::CallParams;
use crate::peer::{CloseReason, Returned};
use crate::resume::{self, ACK_BYTES, ACK_EVERY};
use crate::signal::Registered;
use crate::transport::{Frame, Inbound};

/// Reads the socket's frames until it ends. (Not an `async fn`: its arguments would be kept
/// twice in the future, as arguments and as the body's locals, in every connection's reader.)
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice"
)]
pub(super) fn read_loop<St, E>(
    conn: Arc<Conn>,
    mut incoming: St,
    ctl: &LinkCtl,
    numbered: bool,
) -> impl Future<Output = ()>
where
    St: Stream<Item = Result<Inbound, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    async move {
        let closed = conn.shared().closed.clone();
        let every = conn.shared().config.ping_interval;
        let mut keepalive = keepalive_timer(every);
        // Only the reader reads frames, so when the last one arrived is its own business.
        let mut last_seen = Instant::now();
        // A frame was handled since `last_seen` was set: the clock is read once the reader has
        // nothing more to read, not for every frame.
        let mut seen = false;
        // Frames handled since the socket last had nothing to read (see `BURST`).
        let mut run: usize = 0;
        // Watched once for the whole loop, not set up again for every frame.
        let session_closed = closed.cancelled();
        let socket_lost = ctl.lost.wait();
        tokio::pin!(session_closed, socket_lost);
        // Polled once per waker, then read as flags (see `Registered`).
        let mut registered = Registered::default();
        let lost = 'read: loop {
            // A frame that is ready is taken without setting up the other waits (each costs a
            // lock per poll); they are checked as flags instead. Only when the socket has nothing
            // does the reader wait on all of them. (The session's end is read from the flag set
            // just before `closed` is cancelled: the token's own check takes a lock.)
            if conn.shared().is_closed() || ctl.lost.is_set() {
                return;
            }
            // A block rather than a local for the ready value: it would otherwise be kept across
            // the wait below, in every connection's reader.
            let next = 'next: {
                if let Poll::Ready(next) =
                    std::future::poll_fn(|cx| Poll::Ready(incoming.poll_next_unpin(cx))).await
                {
                    break 'next next;
                }
                run = 0;
                if seen {
                    last_seen = Instant::now();
                    seen = false;
                }
                let ended = std::future::poll_fn(|cx| {
                    registered.poll(
                        cx,
                        || (conn.shared().is_closed() || ctl.lost.is_set()).then_some(()),
                        |cx| {
                            if session_closed.as_mut().poll(cx).is_ready()
                                || socket_lost.as_mut().poll(cx).is_ready()
                            {
                                Poll::Ready(())
                            } else {
                                Poll::Pending
                            }
                        },
                    )
                });
                tokio::select! {
                    biased;
                    _ = ended => return,
                    n = incoming.next() => n,
                    _ = tick(&mut keepalive) => {
                        let quiet = last_seen.elapsed();
                        match every {
                            Some(every) if quiet > every * 2 => break 'read Lost {
                                reason: CloseReason {
                                    code: 1006,
                                    reason: format!("nothing arrived for {quiet:?}; the peer is gone"),
                                },
                                clean: false,
                                writable: true,
                            },
                            _ => continue 'read,
                        }
                    }
                }
            };
            let abnormal = |reason: String| Lost {
                reason: CloseReason { code: 1006, reason },
                clean: false,
                writable: true,
            };
            match next {
                None => break abnormal("connection lost".into()),
                Some(Err(e)) => break abnormal(format!("read failed: {e}")),
                Some(Ok(Inbound::Close(r))) => {
                    let reason = r.unwrap_or(CloseReason {
                        code: 1005,
                        reason: String::new(),
                    });
                    // 1006 is never sent in a close frame: the transport lost the connection.
                    let clean = reason.code != 1006;
                    break Lost {
                        reason,
                        clean,
                        writable: true,
                    };
                }
                Some(Ok(Inbound::Other)) => {}
                Some(Ok(inbound @ (Inbound::Data(_) | Inbound::Text(_)))) => {
                    // Handed over whole (its bytes and whether it is text, unpacked here, would be
                    // kept across the wait beside it, in every connection's reader).
                    let len = inbound.message().map_or(0, |(bytes, _)| bytes.len());
                    observe::received(len);
                    let handled = {
                        let (conn, inbound, closed) = (&conn, &inbound, &closed);
                        std::future::poll_fn(move |cx| {
                            Poll::Ready(on_frame(conn, inbound, closed, cx))
                        })
                        .await
                    };
                    match handled.finish().await {
                        Read::Closed => return,
                        Read::NotUtf8 => {
                            break Lost {
                                reason: CloseReason {
                                    code: 1007,
                                    reason: "a text message that is not UTF-8".into(),
                                },
                                clean: true,
                                writable: true,
                            };
                        }
                        Read::Control => {}
                        Read::Counted if numbered => {
                            let shared = conn.shared();
                            let received = shared.received.fetch_add(1, Ordering::AcqRel) + 1;
                            let owed =
                                received - shared.ack_sent.load(Ordering::Acquire).min(received);
                            let bytes = shared.unacked_bytes.fetch_add(len, Ordering::AcqRel) + len;
                            if owed == 1 || owed >= ACK_EVERY || bytes >= ACK_BYTES {
                                ctl.ack_due.notify_one();
                            }
                        }
                        Read::Counted => {}
                    }
                }
            }
            // Noted after the frame is handled: time spent waiting for a dispatch slot is ours,
            // not the peer's silence.
            seen = true;
            run += 1;
            if run == BURST {
                run = 0;
                // Wakes itself and waits once: the connection's task yields (see `halves`).
                let mut yielded = false;
                std::future::poll_fn(|cx| {
                    if std::mem::replace(&mut yielded, true) {
                        Poll::Ready(())
                    } else {
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                })
                .await;
            }
        };
        tracing::debug!(peer = %conn.peer.id(), code = lost.reason.code, reason = %lost.reason.reason, "socket ended");
        ctl.lose(lost);
    }
}

/// Frames the reader handles in a row before it gives way (decision 31): the writer sends what
/// they answered, and the runtime runs the tasks they woke, before the reader goes on. A peer
/// that sent many frames at once has the first answers to work on while the rest are served,
/// instead of both ends taking turns with a whole window each.
const BURST: usize = 32;

/// What reading one frame came to.
enum Read {
    /// A frame of the conversation (counted on a resumable session).
    Counted,
    /// The session extension's own frame (`rpc.ack`, `rpc.session`): not counted.
    Control,
    /// The connection closed while the frame waited for a dispatch slot.
    Closed,
    /// A text message that is not UTF-8: the connection fails (1007).
    NotUtf8,
}

/// Waits for `n` admissions; `None` when the connection closed meanwhile. Taken at once
/// when free; the wait is boxed (rare: the peer has sent more than the connection runs), so
/// that its state does not make the reader of every connection larger.
async fn admit(conn: &Conn, closed: &CancellationToken, n: usize) -> Option<Admitted> {
    let admission = &conn.shared().admission;
    if conn.shared().is_closed() {
        return None;
    }
    if let Some(admitted) = admission.try_acquire(n) {
        return Some(admitted);
    }
    Box::pin(async move {
        tokio::select! {
            biased;
            _ = closed.cancelled() => None,
            admitted = admission.acquire(n) => Some(admitted),
        }
    })
    .await
}

/// How far handling one frame got within the reader's poll.
enum Handled<'a> {
    /// All of it.
    Done(Read),
    /// The rest has to wait (for an admission, for room for an answer, for a batch's calls).
    /// Boxed: it is rare, and its state would otherwise make every connection's reader
    /// larger (the reader holds room for its largest wait all the time).
    Waits(Pin<Box<dyn Future<Output = Read> + Send + 'a>>),
}

impl Handled<'_> {
    /// Finishes the handling.
    async fn finish(self) -> Read {
        match self {
            Handled::Done(read) => read,
            Handled::Waits(rest) => rest.await,
        }
    }
}

/// Answers from the reader without a handler (an error, a built-in's reply). With an
/// admission free, the answer holds it while it waits for room in a task of its own (the
/// reader reads on: the acknowledgement that frees room may be the next frame); without one
/// (the connection is draining, or the peer sends without reading) the reader waits.
fn reply<'a>(conn: &'a Arc<Conn>, frame: impl Into<Frame>, generation: u64) -> Handled<'a> {
    let frame = frame.into();
    // Not while draining: `drain` waits until every admission is back.
    let admitted = if conn.shared().is_draining() {
        None
    } else {
        conn.shared().admission.try_acquire(1)
    };
    match admitted {
        Some(admitted) => {
            conn.send_from_reader(frame, generation, admitted);
            Handled::Done(Read::Counted)
        }
        None => Handled::Waits(Box::pin(async move {
            conn.send(frame, generation).await;
            Read::Counted
        })),
    }
}

/// A frame's bytes parsed: `None` for text that is not UTF-8 (the connection fails), an
/// error for data that is not (it is answered).
fn parse(bytes: &[u8], text: bool, max: usize) -> Option<Result<Parsed<'_>, ErrorObject>> {
    match std::str::from_utf8(bytes) {
        Ok(utf8) => Some(message::parse_text(utf8, max)),
        Err(_) if text => None,
        Err(e) => Some(Err(message::not_utf8(&e))),
    }
}

/// Handles one frame as far as it can within this poll (`task`): a single request admitted
/// at once runs here (a handler that waits moves to a task of its own); what has to wait is
/// returned to be awaited.
fn on_frame<'a>(
    conn: &'a Arc<Conn>,
    inbound: &'a Inbound,
    closed: &'a CancellationToken,
    task: &mut Context<'_>,
) -> Handled<'a> {
    let max = conn.shared().config.max_batch_len;
    let generation = conn.shared().generation.load(Ordering::Acquire);
    let Some((bytes, text)) = inbound.message() else {
        return Handled::Done(Read::Control);
    };
    let frame = match parse(bytes, text, max) {
        None => return Handled::Done(Read::NotUtf8),
        Some(Ok(f)) => f,
        Some(Err(err)) => return reply(conn, message::failure(None, &err), generation),
    };
    match frame {
        Parsed::Single(raw) => match classify_one(conn, bytes, raw) {
            Step::Control => Handled::Done(Read::Control),
            Step::Done => Handled::Done(Read::Counted),
            Step::Reply(frame) => reply(conn, frame, generation),
            Step::Dispatch(item) => {
                if conn.shared().is_closed() {
                    return Handled::Done(Read::Closed);
                }
                match conn.shared().admission.try_acquire(1) {
                    Some(permit) => {
                        conn.serve_now(item, generation, permit, task);
                        Handled::Done(Read::Counted)
                    }
                    None => Handled::Waits(Box::pin(async move {
                        let Some(permit) = admit(conn, closed, 1).await else {
                            return Read::Closed;
                        };
                        conn.serve(item, generation, permit).await;
                        Read::Counted
                    })),
                }
            }
        },
        Parsed::TooLarge(len) => {
            let err = error_object(
                codes::BATCH_TOO_LARGE,
                format!("batch of {len} exceeds the limit of {max}"),
            );
            reply(conn, message::failure(None, &err), generation)
        }
        Parsed::Batch(items) => {
            Handled::Waits(Box::pin(on_batch(conn, bytes, items, closed, generation)))
        }
    }
}

/// Handles a batch (`items`, parts of `bytes`).
async fn on_batch(
    conn: &Arc<Conn>,
    bytes: &Bytes,
    items: Vec<&serde_json::value::RawValue>,
    closed: &CancellationToken,
    generation: u64,
) -> Read {
    if items.is_empty() {
        let err = error_object(codes::INVALID_REQUEST, "empty batch".to_owned());
        return reply(conn, message::failure(None, &err), generation)
            .finish()
            .await;
    }
    let mut replies = Vec::new();
    let mut work = Vec::new();
    for raw in items {
        match classify_one(conn, bytes, raw.get()) {
            Step::Done | Step::Control => {}
            Step::Reply(f) => replies.push(Frame::from(f)),
            Step::Dispatch(item) => work.push(item.into_owned().tracked(conn)),
        }
    }
    if work.is_empty() {
        if !replies.is_empty() {
            return reply(conn, join_batch(replies), generation).finish().await;
        }
        return Read::Counted;
    }
    // A batch is admitted for its elements (up to the whole admission), and each element
    // takes a running slot of its own, so batching does not get around the limit.
    let Some(permit) = admit(conn, closed, work.len()).await else {
        return Read::Closed;
    };
    let conn = conn.clone();
    let batch = Box::pin(async move {
        let outs =
            futures_util::future::join_all(work.into_iter().map(|i| conn.run(i, generation))).await;
        let mut gates = Vec::new();
        for (frame, gate) in outs.into_iter().flatten() {
            replies.push(frame);
            gates.extend(gate);
        }
        if !replies.is_empty() {
            conn.send(join_batch(replies).into(), generation).await;
        }
        drop(gates);
        drop(permit);
    });
    finish_here_or_spawn(batch).await;
    Read::Counted
}

/// Polls `work` once here, in the reader; if it has to wait, it goes on in a task of its own.
/// A batch whose elements all answer at once is answered in order with the frames around it.
async fn finish_here_or_spawn(mut work: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) {
    let ready =
        std::future::poll_fn(|cx| std::task::Poll::Ready(work.as_mut().poll(cx).is_ready())).await;
    if !ready {
        tokio::spawn(work);
    }
}

fn join_batch(replies: Vec<Frame>) -> String {
    let mut s = String::with_capacity(replies.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
    s.push('[');
    for (i, r) in replies.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(r.as_str());
    }
    s.push(']');
    s
}

enum Step<'a> {
    /// The session extension's own notification, handled.
    Control,
    Done,
    Reply(String),
    Dispatch(Incoming<'a>),
}

/// Classifies one message (`text`, a part of `frame`) and handles everything that needs no
/// handler task.
fn classify_one<'a>(conn: &'a Conn, frame: &Bytes, text: &'a str) -> Step<'a> {
    match message::classify(text) {
        Message::Response { id, outcome } => {
            let answer = match outcome {
                // Valid JSON already: handed over as it lies in the frame.
                Ok(result) => Ok(Returned::within(frame, result)),
                Err(err) => Err(Error::Remote(
                    serde_json::from_str::<ErrorObject>(err).unwrap_or_else(|e| {
                        error_object(
                            codes::INTERNAL_ERROR,
                            format!("peer sent a malformed error object: {e}"),
                        )
                    }),
                )),
            };
            let routed = match (id.parse::<u64>(), answer) {
                (Ok(n), answer) => conn.shared().resolve(n, answer),
                // An error for no id: the refusal of a whole batch of ours, when one can be told.
                (Err(_), Err(Error::Remote(error))) if id == "null" => {
                    conn.shared().fail_batch(&error)
                }
                _ => false,
            };
            if !routed {
                tracing::debug!(peer = %conn.peer.id(), id, "response to no pending call; dropped");
            }
            Step::Done
        }
        Message::Notification { method, params, .. } if method == builtin::CANCEL => {
            conn.cancel_incoming(params);
            Step::Done
        }
        Message::Notification { method, params, .. } if resume::is_control(&method) => {
            if method == resume::ACK
                && let Some(n) = resume::ack_count(params)
            {
                let shared = conn.shared();
                shared.peer_acked.fetch_max(n, Ordering::AcqRel);
                shared.acked.notify_one();
            }
            Step::Control
        }
        // An item (or the end) of a stream this peer consumes.
        Message::Notification { method, params, .. } if conn.stream_item(&method, params) => {
            Step::Done
        }
        Message::Notification { method, .. } if conn.shared().is_draining() => {
            tracing::debug!(peer = %conn.peer.id(), %method, "notification while draining; dropped");
            Step::Done
        }
        Message::Notification {
            method,
            params,
            split,
        } => match Target::resolve(&conn.service, &method) {
            Some(target) => Step::Dispatch(Incoming {
                request: None,
                tracked: None,
                target,
                params: CallParams::scanned(params, split),
            }),
            None => {
                tracing::debug!(peer = %conn.peer.id(), %method, "notification for no method; dropped");
                Step::Done
            }
        },
        Message::Request {
            id, method, params, ..
        } if method == builtin::CANCEL => {
            conn.cancel_incoming(params);
            Step::Reply(message::success(id, "null"))
        }
        Message::Request { id, method, .. } if conn.shared().is_draining() => {
            Step::Reply(builtin::while_draining(id, &method))
        }
        Message::Request {
            id,
            method,
            params,
            split,
        } => match Target::resolve(&conn.service, &method) {
            Some(target) => Step::Dispatch(Incoming {
                request: Some(Cow::Borrowed(id)),
                tracked: None,
                target,
                params: CallParams::scanned(params, split),
            }),
            None => Step::Reply(message::failure(
                Some(id),
                &error_object(
                    codes::METHOD_NOT_FOUND,
                    format!("no method named `{method}`"),
                ),
            )),
        },
        Message::Unparsable(detail) => Step::Reply(message::failure(
            None,
            &error_object(codes::PARSE_ERROR, detail),
        )),
        Message::Invalid { id, detail } => {
            let err = error_object(codes::INVALID_REQUEST, detail);
            Step::Reply(message::failure(id, &err))
        }
    }
}
