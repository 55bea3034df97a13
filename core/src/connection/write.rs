//! The writer of one socket: drains the outgoing queue and writes every ready frame with one
//! flush; on a resumable session it numbers and keeps each frame ([`Replay`]) and
//! acknowledges the peer's; it pings for keepalive. When the connection ends it writes what
//! was queued and the close frame within a grace period.

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::replay::Replay;
use crate::observe;
use crate::outbox;
use crate::peer::{CloseReason, Queued, Shared};
use crate::resume::{self, ACK_BYTES, ACK_DELAY, ACK_EVERY};
use crate::signal::{Registered, Signal};
use crate::transport::{BoxError, Frame, Transport};

/// How long the writer keeps trying once the connection is closing (a peer that stopped
/// reading must not hold a connection open).
pub(super) const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How one socket was lost.
#[derive(Debug, Clone)]
pub(super) struct Lost {
    pub(super) reason: CloseReason,
    /// The peer closed it on purpose (a close frame, or a protocol error): a resumable
    /// session ends too.
    pub(super) clean: bool,
    /// Whether the socket may still take a close frame.
    pub(super) writable: bool,
}

/// What the reader and writer of one socket share.
#[derive(Default)]
pub(super) struct LinkCtl {
    /// Set when the socket is lost (either half noticed) or replaced.
    pub(super) lost: Signal,
    why: Mutex<Option<Lost>>,
    /// The reader has counted frames that want an acknowledgement.
    pub(super) ack_due: Notify,
}

impl LinkCtl {
    /// Records why the socket was lost (the first reason wins) and stops both halves.
    pub(super) fn lose(&self, lost: Lost) {
        let mut why = self.why.lock().unwrap_or_else(|p| p.into_inner());
        if why.is_none() {
            *why = Some(lost);
        }
        drop(why);
        self.lost.set();
    }

    pub(super) fn why(&self) -> Option<Lost> {
        self.why.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Runs a transport operation; once the connection is closing it gets [`CLOSE_GRACE`] more,
/// and once the socket is known lost (`lost`: the reader gave up on it) none.
async fn guarded(
    closed: &CancellationToken,
    lost: &Signal,
    op: impl Future<Output = Result<(), BoxError>>,
) -> Result<(), BoxError> {
    tokio::pin!(op);
    // Most writes complete at once (into the transport's buffer): no watch is set up for them.
    if let std::task::Poll::Ready(r) =
        std::future::poll_fn(|cx| std::task::Poll::Ready(op.as_mut().poll(cx))).await
    {
        return r;
    }
    // Boxed: a write that waits is rare (the peer reads slower than it is written to), and
    // its watch would otherwise make every connection's writer larger.
    Box::pin(wait_guarded(closed, lost, op)).await
}

/// [`guarded`] once `op` has to wait.
async fn wait_guarded<F: Future<Output = Result<(), BoxError>>>(
    closed: &CancellationToken,
    lost: &Signal,
    mut op: std::pin::Pin<&mut F>,
) -> Result<(), BoxError> {
    tokio::select! {
        biased;
        r = op.as_mut() => r,
        _ = lost.wait() => Err("the socket was lost".into()),
        _ = closed.cancelled() => match tokio::time::timeout(CLOSE_GRACE, op).await {
            Ok(r) => r,
            Err(_) => Err("the peer stopped reading".into()),
        },
    }
}

/// A timer that first fires one `every` from now, or none when keepalive is off.
pub(super) fn keepalive_timer(every: Option<Duration>) -> Option<tokio::time::Interval> {
    every.map(|every| {
        let mut timer = tokio::time::interval_at(Instant::now() + every, every);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        timer
    })
}

/// The next keepalive tick, or never when keepalive is off.
pub(super) async fn tick(timer: &mut Option<tokio::time::Interval>) {
    match timer {
        Some(timer) => {
            timer.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Sleeps until the acknowledgement is due, or for ever when none is. The timer is made when
/// first needed and kept in the writer: a sleep inside the writer's wait would make every
/// connection's writer larger, and most connections never acknowledge (only resumable ones
/// do).
async fn until(timer: &mut Option<std::pin::Pin<Box<tokio::time::Sleep>>>, at: Option<Instant>) {
    match at {
        Some(at) => {
            let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
            if sleep.deadline() != at {
                sleep.as_mut().reset(at);
            }
            sleep.await
        }
        None => std::future::pending().await,
    }
}

/// Why [`pump`] returned.
pub(super) enum PumpEnd {
    /// The connection ended (closed by either side, or failed for good).
    SessionClosed,
    /// This socket was lost or replaced; the reason is in the [`LinkCtl`].
    Lost,
}

/// The socket's writer state between calls.
pub(super) struct Writer<'a, T> {
    pub(super) shared: &'a Shared,
    pub(super) transport: &'a mut T,
    pub(super) replay: &'a mut Replay,
    pub(super) ctl: &'a LinkCtl,
    /// When the acknowledgement of frames received so far is due.
    ack_at: Option<Instant>,
    /// The timer for `ack_at` (see [`until`]).
    ack_timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<'a, T: Transport> Writer<'a, T> {
    pub(super) fn new(
        shared: &'a Shared,
        transport: &'a mut T,
        replay: &'a mut Replay,
        ctl: &'a LinkCtl,
    ) -> Self {
        Self {
            shared,
            transport,
            replay,
            ctl,
            ack_at: None,
            ack_timer: None,
        }
    }

    /// Records a failed write as the socket's loss.
    fn failed(&self, what: &str, e: &BoxError) -> PumpEnd {
        tracing::debug!(peer = %self.shared.id, error = %e, "{what} failed");
        self.ctl.lose(Lost {
            reason: CloseReason {
                code: 1006,
                reason: format!("write failed: {e}"),
            },
            clean: false,
            writable: false,
        });
        PumpEnd::Lost
    }

    /// Writes a frame that is not counted (a hello, an acknowledgement), unflushed. Not an
    /// `async fn`: the write's own future is returned, without a state machine around it
    /// (every level of one would add to every connection's writer).
    fn feed_uncounted(&mut self, frame: Frame) -> impl Future<Output = Result<(), BoxError>> {
        observe::sent(frame.len());
        guarded(
            &self.shared.closed,
            &self.ctl.lost,
            self.transport.feed(frame),
        )
    }

    /// Writes a counted frame, numbering and keeping it first on a resumable session.
    fn feed(&mut self, frame: Frame) -> impl Future<Output = Result<(), BoxError>> {
        self.replay.record(&frame);
        self.feed_uncounted(frame)
    }

    /// Sets when the acknowledgement of the frames received so far is due: at once when
    /// enough are owed, otherwise [`ACK_DELAY`] after the first one owed.
    fn ack_owed(&mut self) {
        let shared = self.shared;
        let received = shared.received.load(Ordering::Acquire);
        let owed = received - shared.ack_sent.load(Ordering::Acquire).min(received);
        let bytes = shared.unacked_bytes.load(Ordering::Acquire);
        if owed >= ACK_EVERY || bytes >= ACK_BYTES {
            self.ack_at = Some(Instant::now());
        } else if owed > 0 && self.ack_at.is_none() {
            self.ack_at = Some(Instant::now() + ACK_DELAY);
        }
    }

    /// Adds an acknowledgement of everything received so far, when one is owed.
    async fn feed_ack(&mut self) -> Result<(), BoxError> {
        self.ack_at = None;
        self.ack_timer = None;
        let received = self.shared.received.load(Ordering::Acquire);
        if received == self.shared.ack_sent.load(Ordering::Acquire) {
            return Ok(());
        }
        self.shared.ack_sent.store(received, Ordering::Release);
        self.shared.unacked_bytes.store(0, Ordering::Release);
        self.feed_uncounted(resume::ack_frame(received).into())
            .await
    }

    /// What starts a socket, before the queue: the hello (uncounted), the re-sent idempotent
    /// calls of a new session, and on a resumed one every frame the peer has not received.
    /// `Err` when the socket was lost meanwhile (recorded in the [`LinkCtl`]).
    pub(super) async fn start(
        &mut self,
        hello: Option<Frame>,
        resend: Vec<Frame>,
    ) -> Result<(), PumpEnd> {
        let mut result = Ok(());
        if let Some(hello) = hello {
            result = self.feed_uncounted(hello).await;
        }
        for frame in resend {
            if result.is_ok() {
                result = self.feed(frame).await;
            }
        }
        let again: Vec<Frame> = self.replay.unacked().cloned().collect();
        for frame in again {
            if result.is_ok() {
                observe::sent(frame.len());
                result = guarded(
                    &self.shared.closed,
                    &self.ctl.lost,
                    self.transport.feed(frame),
                )
                .await;
            }
        }
        if result.is_ok() {
            result = guarded(&self.shared.closed, &self.ctl.lost, self.transport.flush()).await;
        }
        result.map_err(|e| self.failed("write", &e))
    }

    /// Writes queued frames until the connection ends or the socket is lost.
    pub(super) async fn pump(&mut self, rx: &mut outbox::Receiver<Queued>) -> PumpEnd {
        let shared = self.shared;
        let closed = shared.closed.clone();
        let mut keepalive = keepalive_timer(shared.config.ping_interval);
        // Watched once for the whole loop, not set up again for every batch.
        let session_closed = closed.cancelled();
        let socket_lost = self.ctl.lost.wait();
        tokio::pin!(session_closed, socket_lost);
        // Polled once per waker, then read as flags (see `Registered`).
        let mut registered = Registered::default();
        loop {
            if self.replay.is_numbered() {
                self.replay.ack(shared.peer_acked.load(Ordering::Acquire));
                let now = self.replay.bytes();
                let before = shared.replay_bytes.swap(now, Ordering::Relaxed);
                if now != before {
                    observe::replay_bytes(now as i64 - before as i64);
                }
            }
            let room = self.replay.has_room();
            // A frame that is queued already is taken without setting up the waits (each
            // costs a lock per poll); the session's end and the socket's loss are checked as
            // flags, and an acknowledgement owed is counted here as its wake-up would.
            // (Taken inside a block: a local that outlived it would be kept beside the
            // write's state in every connection's writer.)
            let ready = room && !shared.is_closed() && !self.ctl.lost.is_set();
            let first = {
                let queued = if ready {
                    rx.try_recv().ok().map(|q| q.text)
                } else {
                    None
                };
                match queued {
                    Some(text) => {
                        if self.replay.is_numbered() {
                            self.ack_owed();
                        }
                        text
                    }
                    None => tokio::select! {
                        biased;
                        end = std::future::poll_fn(|cx| {
                            let happened = || {
                                if shared.is_closed() {
                                    Some(PumpEnd::SessionClosed)
                                } else if self.ctl.lost.is_set() {
                                    Some(PumpEnd::Lost)
                                } else {
                                    None
                                }
                            };
                            registered.poll(cx, happened, |cx| {
                                if session_closed.as_mut().poll(cx).is_ready() {
                                    Poll::Ready(PumpEnd::SessionClosed)
                                } else if socket_lost.as_mut().poll(cx).is_ready() {
                                    Poll::Ready(PumpEnd::Lost)
                                } else {
                                    Poll::Pending
                                }
                            })
                        }) => return end,
                        // Only a numbered session acknowledges.
                        _ = self.ctl.ack_due.notified(), if self.replay.is_numbered() => {
                            self.ack_owed();
                            continue;
                        }
                        _ = until(&mut self.ack_timer, self.ack_at) => {
                            let mut result = self.feed_ack().await;
                            if result.is_ok() {
                                result = guarded(&closed, &self.ctl.lost, self.transport.flush()).await;
                            }
                            if let Err(e) = result {
                                return self.failed("acknowledgement", &e);
                            }
                            continue;
                        }
                        // An acknowledgement frees what the peer has (and room, when full): trim at once,
                        // so acknowledged frames never linger in memory on a quiet link.
                        _ = shared.acked.notified(), if self.replay.bytes() > 0 => continue,
                        m = rx.recv(), if room => match m {
                            Some(q) => q.text,
                            None => return PumpEnd::SessionClosed,
                        },
                        _ = tick(&mut keepalive) => {
                            if let Err(e) = guarded(&closed, &self.ctl.lost, self.transport.ping()).await {
                                return self.failed("ping", &e);
                            }
                            continue;
                        }
                    },
                }
            };
            if let Err(e) = self.write_ready(first, rx).await {
                return self.failed("write", &e);
            }
        }
    }

    /// Writes `first` and whatever else is ready, then flushes once.
    async fn write_ready(
        &mut self,
        first: Frame,
        rx: &mut outbox::Receiver<Queued>,
    ) -> Result<(), BoxError> {
        self.feed(first).await?;
        // Coalesce: take whatever is queued, so one flush carries many frames. The reader
        // queues the answers of every frame it has read before this task runs again. A frame
        // taken leaves the queue's room at once: what the writer holds does not count
        // against `outbound_queue`.
        while self.replay.has_room() {
            // (`let else`: a matched value would be kept across the write.)
            let Ok(text) = rx.try_recv().map(|q| q.text) else {
                break;
            };
            self.feed(text).await?;
        }
        // An acknowledgement that is due rides along; one that is merely pending waits for its
        // timer, so a request/response exchange does not double its frames.
        if self.ack_at.is_some_and(|at| at <= Instant::now()) {
            self.feed_ack().await?;
        }
        guarded(&self.shared.closed, &self.ctl.lost, self.transport.flush()).await
    }
}

/// Closing: write what was already queued (answers, a last notification; not requests,
/// whose callers were told `Disconnected`), then the close frame, all within the grace.
pub(super) async fn finish(
    shared: &Shared,
    rx: &mut outbox::Receiver<Queued>,
    transport: &mut impl Transport,
    writable: bool,
) {
    let finish = async {
        if writable {
            while let Ok(q) = rx.try_recv() {
                if !q.kind.is_call() && transport.feed(q.text).await.is_err() {
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
