//! The state every clone of a [`Peer`](super::Peer) shares: the pending-call table (with
//! the calls' deadlines), the outgoing queue, the close state.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::deadline::Deadline;
use super::pending::{Answered, Pending, Waiter, wake_all};
use super::streams::{PendingStream, Streams};
use super::{CloseReason, LinkState, PeerId};
use crate::admission::Admission;
use crate::config::PeerConfig;
use crate::error::{Error, ErrorObject, Result, codes};
use crate::frame::Frame;
use crate::message;
use crate::observe;
use crate::outbox;
use crate::signal::Signal;
use crate::state::State;

mod link;

/// What runs when a connection closes ([`Shared::on_close`]).
pub(crate) type OnClose = Box<dyn FnOnce(CloseReason) + Send>;

/// A frame waiting for the writer.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) text: Frame,
    pub(crate) kind: Kind,
}

/// What a queued frame is: requests are not written once the connection is closing (their
/// callers have already been told `Disconnected`); when a session expires, the requests and
/// notifications never written go out on the new one, answers to the old one are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One call, with its id.
    Call(u64),
    /// A batch with calls in it.
    Batch,
    /// Notifications only.
    Notification,
    /// Answers to the peer's requests.
    Answer,
    /// An item (or the end) of a stream this side serves: void with its socket generation.
    StreamItem,
}

impl Kind {
    pub(crate) fn is_call(self) -> bool {
        matches!(self, Kind::Call(_) | Kind::Batch)
    }
}

pub(crate) use super::pending::Answer;

pub(crate) struct Shared {
    pub(crate) id: PeerId,
    next_id: AtomicU64,
    pending: Mutex<Pending>,
    /// Whether the deadline sweeper ([`sweep`]) runs: started with the first call that has
    /// a deadline, so a connection that never calls out runs no task for it.
    sweeping: AtomicBool,
    /// Woken when a call's deadline comes before the sweeper's alarm.
    deadline_moved: Notify,
    pub(crate) out: outbox::Sender<Queued>,
    /// Cancelled only by [`Shared::shutdown`], after `closing` is set: a connection's
    /// reader and writer read `closing` on a wake-up and poll this token's wait only when
    /// their waker changes (decision 29), so a cancel without the flag would leave them
    /// asleep.
    pub(crate) closed: CancellationToken,
    /// Set just before `closed` is cancelled: [`Shared::is_closed`] reads it without the
    /// token's lock, on every frame.
    closing: AtomicBool,
    /// Set when the writer has finished (close frame sent or the socket gone).
    pub(crate) finished: Signal,
    close_reason: Mutex<Option<CloseReason>>,
    /// Shared by every connection of a server.
    pub(crate) config: Arc<PeerConfig>,
    pub(super) extensions: http::Extensions,
    /// Handlers' typed per-connection state; cleared when the connection closes.
    pub(super) state: State,
    /// Incoming requests read but not finished (running, or waiting for a slot); when none is
    /// left the reader stops reading: backpressure on the socket.
    pub(crate) admission: Arc<Admission>,
    /// Set by [`Shared::drain`]: new incoming requests are refused with -32012.
    draining: AtomicBool,
    /// Whether a socket is attached now (see [`LinkState`]).
    link_up: AtomicBool,
    /// The link's state, and its watch once someone asked for one ([`Shared::link_state`]):
    /// most connections never make it.
    link: Mutex<(LinkState, Option<watch::Sender<LinkState>>)>,
    /// Run once the connection closes (the registry forgets it there), in a task of its own.
    on_close: Mutex<Option<OnClose>>,
    /// Whether losing the socket keeps pending calls and running handlers for a resume.
    resumable: AtomicBool,
    /// Bumped when a new socket replaces a lost one without resuming: answers of handlers
    /// started before it are not written.
    pub(crate) generation: AtomicU64,
    /// The current generation and a token cancelled when it is voided (the streams served
    /// on it stop).
    epoch: Mutex<(u64, Option<CancellationToken>)>,
    /// Counted frames read from the peer on this session (resumption: what our acks say).
    pub(crate) received: AtomicU64,
    /// The last `received` value sent in an acknowledgement.
    pub(crate) ack_sent: AtomicU64,
    /// Bytes of counted frames received since the last acknowledgement.
    pub(crate) unacked_bytes: AtomicUsize,
    /// The most of our frames the peer has acknowledged.
    pub(crate) peer_acked: AtomicU64,
    /// Woken when `peer_acked` moves (the writer waits on it when the replay buffer is full).
    pub(crate) acked: Notify,
    /// Bytes held in the replay buffer (mirrored by the writer, for accounting).
    pub(crate) replay_bytes: AtomicUsize,
    /// What calls do between sockets.
    pub(crate) between: Between,
    /// The streams this peer consumes.
    pub(crate) streams: Streams,
}

/// What calls do while no socket is attached (set once, from the session's options).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Between {
    /// How long a call made while the session cannot resume waits for a socket; `None` fails
    /// it at once.
    pub(crate) wait_for_link: Option<std::time::Duration>,
    /// Re-sends allowed for an idempotent call.
    pub(crate) max_resends: u32,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Whether new incoming requests are refused (see [`Shared::drain`]).
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Stops admitting incoming requests and waits until every admitted one has finished, or
    /// the connection closed.
    pub(crate) async fn drain(&self) {
        self.draining.store(true, Ordering::Release);
        tokio::select! {
            _ = self.closed.cancelled() => {}
            () = self.admission.all_back() => {}
        }
    }

    pub(super) fn new(
        id: PeerId,
        out: outbox::Sender<Queued>,
        config: Arc<PeerConfig>,
        extensions: http::Extensions,
        between: Between,
    ) -> Self {
        let admitted = config.max_concurrent_requests.max(1) + config.max_waiting_requests;
        Self {
            id,
            next_id: AtomicU64::new(0),
            pending: Mutex::new(Pending::new()),
            sweeping: AtomicBool::new(false),
            deadline_moved: Notify::new(),
            out,
            closed: CancellationToken::new(),
            closing: AtomicBool::new(false),
            finished: Signal::default(),
            close_reason: Mutex::new(None),
            config,
            extensions,
            state: State::default(),
            admission: Arc::new(Admission::new(admitted)),
            draining: AtomicBool::new(false),
            link_up: AtomicBool::new(true),
            link: Mutex::new((LinkState::Up, None)),
            on_close: Mutex::new(None),
            resumable: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            epoch: Mutex::new((0, None)),
            received: AtomicU64::new(0),
            ack_sent: AtomicU64::new(0),
            unacked_bytes: AtomicUsize::new(0),
            peer_acked: AtomicU64::new(0),
            acked: Notify::new(),
            replay_bytes: AtomicUsize::new(0),
            between,
            streams: Streams::default(),
        }
    }

    /// After a socket is lost without a resume: fails every waiting call with `error()`,
    /// but the idempotent ones that may still be re-sent and those in `unsent` (never
    /// written, so they go out on the next socket).
    pub(crate) fn fail_unresumable(&self, error: impl Fn() -> Error, unsent: &[u64]) {
        let failed = {
            let mut p = lock(&self.pending);
            p.batches.clear();
            p.answer_all(
                |id, w| !w.may_resend() && !unsent.contains(&id),
                |_| Err(error()),
            )
        };
        wake_all(failed);
        self.streams.fail_all(error);
    }

    /// On a new socket after a lost one: the request frames of the idempotent calls still
    /// waiting, each counting one re-send.
    pub(crate) fn take_resends(&self) -> Vec<String> {
        let mut p = lock(&self.pending);
        let mut frames = Vec::new();
        for w in p.calls.values_mut().filter(|w| w.waits()) {
            if let Some((frame, left)) = w.resend()
                && *left > 0
            {
                *left -= 1;
                frames.push(frame.to_string());
            }
        }
        frames
    }

    /// Hands an answer to the caller waiting for `id`; false when nobody waits.
    pub(crate) fn resolve(&self, id: u64, answer: Answer) -> bool {
        let woken = {
            let mut p = lock(&self.pending);
            let open = p.open;
            // Routed before the next frame is read (items may follow the answer at once), and
            // under the pending lock: a close either comes first (no route: the consumer ends
            // with `Disconnected`) or ends the route it finds.
            p.answer(id, answer, |w, answer| {
                if let (Some(stream), Ok(sub_id)) = (w.take_stream(), answer) {
                    if open {
                        self.streams.open(stream, sub_id.as_str());
                    } else {
                        stream.end.set_disconnected();
                    }
                }
            })
        };
        match woken {
            Some(waker) => {
                if let Some(waker) = waker {
                    waker.wake();
                }
                true
            }
            None => false,
        }
    }

    /// Ends the connection: every pending call fails with `Disconnected`, new calls fail at
    /// once, the reader and writer stop. Idempotent; the first reason wins.
    pub(crate) fn shutdown(&self, reason: CloseReason) {
        {
            let mut r = lock(&self.close_reason);
            if r.is_none() {
                tracing::info!(peer = %self.id, code = reason.code, reason = %reason.reason, "connection closed");
                observe::connection_closed(reason.code);
                *r = Some(reason);
            }
        }
        let drained = {
            let mut p = lock(&self.pending);
            p.open = false;
            p.answer_all(|_, _| true, |_| Err(Error::Disconnected))
        };
        wake_all(drained);
        self.streams.fail_all(|| Error::Disconnected);
        self.link_up.store(false, Ordering::Release);
        if let Some(reason) = self.close_reason() {
            self.update_link(LinkState::Closed(reason));
        }
        self.closing.store(true, Ordering::Release);
        self.closed.cancel();
        self.state.clear();
        let hook = lock(&self.on_close).take();
        if let Some(hook) = hook {
            self.run_on_close(hook);
        }
    }

    /// Queues a frame for the writer, waiting for room; fails at once with `Disconnected`
    /// when the connection closes meanwhile (a stalled writer never holds a caller).
    pub(crate) async fn send(&self, frame: impl Into<Frame>, kind: Kind) -> Result<()> {
        match self.try_queue(frame.into(), kind)? {
            None => Ok(()),
            Some(queued) => self.queue_waiting(queued).await,
        }
    }

    /// Queues a frame if there is room now: `Ok(None)` when queued, `Ok(Some(frame))` given
    /// back when the queue is full (see [`Shared::queue_waiting`]), or why it cannot go.
    pub(crate) fn try_queue(&self, text: Frame, kind: Kind) -> Result<Option<Queued>> {
        if self.is_closed() {
            return Err(Error::Disconnected);
        }
        if !self.takes_calls() {
            return Err(Error::NotConnected);
        }
        match self.out.try_send(Queued { text, kind }) {
            Ok(()) => Ok(None),
            Err(outbox::TrySendError::Closed(_)) => Err(Error::Disconnected),
            Err(outbox::TrySendError::Full(queued)) => Ok(Some(queued)),
        }
    }

    /// Waits for room for a frame [`Shared::try_queue`] gave back; `Disconnected` when the
    /// connection closes meanwhile.
    pub(crate) async fn queue_waiting(&self, queued: Queued) -> Result<()> {
        tokio::select! {
            biased;
            _ = self.closed.cancelled() => Err(Error::Disconnected),
            sent = self.out.send(queued) => {
                sent.map_err(|_| Error::Disconnected)
            }
        }
    }

    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        lock(&self.close_reason).clone()
    }

    /// Registers a call; `resend` makes the request frame for an idempotent call (given its
    /// id), kept so the call can be re-sent on a new connection.
    /// `stream` routes a subscribe call's items once its answer (the subscription id) comes.
    /// `deadline`, when given, fails the call with [`Error::Timeout`] (see [`sweep`]).
    /// `waker`, when given, is woken when the answer comes; see [`Shared::answer`].
    pub(super) fn register(
        self: &Arc<Self>,
        resend: Option<&dyn Fn(u64) -> String>,
        stream: Option<PendingStream>,
        deadline: Option<Deadline>,
        waker: Option<Waker>,
    ) -> Result<u64> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let resend = resend.map(|frame| (frame(id).into_boxed_str(), self.between.max_resends));
        let mut p = lock(&self.pending);
        if !p.open {
            return Err(Error::Disconnected);
        }
        if !self.takes_calls() {
            return Err(Error::NotConnected);
        }
        let limit = self.config.max_pending_calls;
        if p.waiting() >= limit {
            return Err(Error::TooManyPendingCalls(limit));
        }
        let earlier = deadline.filter(|d| p.wake_at.is_none_or(|w| d.at < w));
        if let Some(d) = earlier {
            p.wake_at = Some(d.at);
        }
        p.calls
            .insert(id, Waiter::new(waker, deadline, resend, stream));
        drop(p);
        if earlier.is_some() {
            if !self.sweeping.swap(true, Ordering::AcqRel) {
                tokio::spawn(sweep(Arc::clone(self)));
            }
            self.deadline_moved.notify_one();
        }
        Ok(id)
    }

    /// The answer to call `id`, once it comes. `registered` when the call was registered with
    /// the waker of the task poll that goes on to poll this future first (its first poll then
    /// only waits). Take it, or drop a [`CallGuard`] for the call: an answer nobody takes
    /// stays in the table until then.
    pub(super) fn answer(&self, id: u64, registered: bool) -> Answered<'_> {
        Answered::new(&self.pending, id, registered)
    }

    /// Fails every call whose deadline has passed with [`Error::Timeout`] (telling the peer
    /// with `rpc.cancel`), and sets the sweeper's next alarm to the earliest deadline left.
    fn expire(&self, now: Instant) {
        let expired = {
            let mut p = lock(&self.pending);
            let expired = p.answer_all(
                |_, w| w.deadline.is_some_and(|d| d.at <= now),
                |w| {
                    Err(Error::Timeout(
                        w.deadline.map_or(Duration::ZERO, |d| d.after),
                    ))
                },
            );
            p.wake_at = p.earliest_deadline();
            expired
        };
        let ids: Vec<u64> = expired.iter().map(|(id, _)| *id).collect();
        wake_all(expired);
        for id in ids {
            self.cancel_remote(id);
        }
    }

    /// Tells the peer that the call `id` is withdrawn (best effort: a full queue means the
    /// peer is slow, and its late answer is dropped as an unknown id anyway).
    fn cancel_remote(&self, id: u64) {
        let params = RawValue::from_string(format!(r#"{{"id":{id}}}"#)).expect("valid");
        let frame = message::request(None, "rpc.cancel", Some(params.get()));
        let _ = self.out.try_send(Queued {
            text: frame.into(),
            kind: Kind::Notification,
        });
    }

    /// Notes a batch of `len` elements whose calls are `ids` (not empty), so a refusal of the
    /// whole batch (an error with `id: null`) reaches its callers.
    pub(super) fn track_batch(&self, len: usize, ids: Vec<u64>) {
        lock(&self.pending).batches.push((len, ids));
    }

    /// Forgets the batch whose first call is `first`.
    pub(super) fn untrack_batch(&self, first: u64) {
        lock(&self.pending)
            .batches
            .retain(|(_, ids)| ids.first() != Some(&first));
    }

    /// Hands an error that answers no id (`id: null`) to the calls of the batch it refuses:
    /// for "Batch too large" (-32010) the oldest batch of the size its data names
    /// (`batch of N exceeds ...`), otherwise the only batch waiting. False when no batch can be
    /// told.
    pub(crate) fn fail_batch(&self, error: &ErrorObject) -> bool {
        let size = (error.code() == codes::BATCH_TOO_LARGE)
            .then(|| error.data())
            .flatten()
            .and_then(|data| serde_json::from_str::<String>(data.get()).ok())
            .and_then(|text| {
                let rest = text.strip_prefix("batch of ")?;
                rest.split(' ').next()?.parse::<usize>().ok()
            });
        let mut pending = lock(&self.pending);
        let index = match size {
            Some(n) => pending.batches.iter().position(|(len, _)| *len == n),
            None if pending.batches.len() == 1 => Some(0),
            None => None,
        };
        let Some(index) = index else {
            return false;
        };
        let (_, ids) = pending.batches.remove(index);
        let woken: Vec<Waker> = ids
            .iter()
            .filter_map(|&id| pending.answer(id, Err(Error::Remote(error.clone())), |_, _| {}))
            .flatten()
            .collect();
        drop(pending);
        woken.into_iter().for_each(Waker::wake);
        true
    }

    /// Removes call `id` from the table (its caller is gone); whether it was still waiting.
    pub(super) fn forget(&self, id: u64) -> bool {
        lock(&self.pending).forget(id)
    }

    /// Calls still waiting for their answers.
    pub(crate) fn pending_len(&self) -> usize {
        lock(&self.pending).waiting()
    }
}

/// The deadline sweeper of one connection: one timer for all its calls, set to the earliest
/// deadline, instead of one per call. Ends when the connection closes (which fails every
/// waiting call with `Disconnected`).
async fn sweep(shared: Arc<Shared>) {
    let closed = shared.closed.clone();
    loop {
        let wake_at = lock(&shared.pending).wake_at;
        let moved = shared.deadline_moved.notified();
        tokio::select! {
            biased;
            _ = closed.cancelled() => return,
            _ = moved => {}
            _ = async {
                match wake_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => shared.expire(Instant::now()),
        }
    }
}

/// Withdraws a pending call if its future is dropped or times out, and tells the peer.
/// `ids` is `[u64; 1]` for a single call (no allocation per call) and a `Vec` for a batch.
pub(super) struct CallGuard<'a, I: AsRef<[u64]>> {
    pub(super) shared: &'a Shared,
    pub(super) ids: I,
    pub(super) armed: bool,
}

impl<I: AsRef<[u64]>> Drop for CallGuard<'_, I> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        for &id in self.ids.as_ref() {
            if self.shared.forget(id) {
                self.shared.cancel_remote(id);
            }
        }
    }
}

#[cfg(test)]
#[path = "shared_tests.rs"]
mod tests;
