//! The state every clone of a [`Peer`](super::Peer) shares: the pending-call table, the
//! outgoing queue, the close state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::value::RawValue;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{CloseReason, PeerId};
use crate::config::PeerConfig;
use crate::error::{Error, ErrorObject, Result, codes};
use crate::message;
use crate::observe;
use crate::state::State;

/// A frame waiting for the writer; `is_call` marks requests, which are not written once the
/// connection is closing (their callers have already been told `Disconnected`).
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) text: String,
    pub(crate) is_call: bool,
}

pub(crate) type Answer = std::result::Result<Box<RawValue>, ErrorObject>;

struct Pending {
    open: bool,
    calls: HashMap<u64, oneshot::Sender<Answer>>,
    /// Batches with calls still waiting: how many elements each had, and its call ids.
    batches: Vec<(usize, Vec<u64>)>,
}

pub(crate) struct Shared {
    pub(crate) id: PeerId,
    next_id: AtomicU64,
    pending: Mutex<Pending>,
    pub(crate) out: mpsc::Sender<Queued>,
    pub(crate) closed: CancellationToken,
    /// Cancelled when the writer has finished (close frame sent or the socket gone).
    pub(crate) finished: CancellationToken,
    close_reason: Mutex<Option<CloseReason>>,
    pub(crate) config: PeerConfig,
    pub(super) extensions: http::Extensions,
    /// Handlers' typed per-connection state; cleared when the connection closes.
    pub(super) state: State,
    /// Incoming requests read but not finished (running, or waiting for a slot); when none is
    /// left the reader stops reading: backpressure on the socket.
    pub(crate) admission: Arc<Semaphore>,
    /// The admission's size: `max_concurrent_requests` (at least 1) + `max_waiting_requests`.
    pub(crate) admission_limit: usize,
    /// Set by [`Shared::drain`]: new incoming requests are refused with -32012.
    draining: AtomicBool,
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
        let all = u32::try_from(self.admission_limit).unwrap_or(u32::MAX);
        tokio::select! {
            _ = self.closed.cancelled() => {}
            idle = self.admission.acquire_many(all) => drop(idle),
        }
    }

    pub(super) fn new(
        id: PeerId,
        out: mpsc::Sender<Queued>,
        config: PeerConfig,
        extensions: http::Extensions,
    ) -> Self {
        let admitted = config.max_concurrent_requests.max(1) + config.max_waiting_requests;
        Self {
            id,
            next_id: AtomicU64::new(0),
            pending: Mutex::new(Pending {
                open: true,
                calls: HashMap::new(),
                batches: Vec::new(),
            }),
            out,
            closed: CancellationToken::new(),
            finished: CancellationToken::new(),
            close_reason: Mutex::new(None),
            config,
            extensions,
            state: State::default(),
            admission: Arc::new(Semaphore::new(admitted)),
            admission_limit: admitted,
            draining: AtomicBool::new(false),
        }
    }

    /// Hands an answer to the caller waiting for `id`; false when nobody waits.
    pub(crate) fn resolve(&self, id: u64, answer: Answer) -> bool {
        let tx = lock(&self.pending).calls.remove(&id);
        match tx {
            Some(tx) => {
                let _ = tx.send(answer);
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
            std::mem::take(&mut p.calls)
        };
        drop(drained); // dropping the senders wakes every waiting caller with `Disconnected`
        self.closed.cancel();
        self.state.clear();
    }

    /// Queues a frame for the writer, waiting for room; fails at once with `Disconnected`
    /// when the connection closes meanwhile (a stalled writer never holds a caller).
    pub(crate) async fn send(&self, frame: String, is_call: bool) -> Result<()> {
        if self.closed.is_cancelled() {
            return Err(Error::Disconnected);
        }
        tokio::select! {
            biased;
            _ = self.closed.cancelled() => Err(Error::Disconnected),
            sent = self.out.send(Queued { text: frame, is_call }) => {
                sent.map_err(|_| Error::Disconnected)
            }
        }
    }

    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        lock(&self.close_reason).clone()
    }

    pub(super) fn register(&self) -> Result<(u64, oneshot::Receiver<Answer>)> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let mut p = lock(&self.pending);
        if !p.open {
            return Err(Error::Disconnected);
        }
        let limit = self.config.max_pending_calls;
        if p.calls.len() >= limit {
            return Err(Error::TooManyPendingCalls(limit));
        }
        p.calls.insert(id, tx);
        Ok((id, rx))
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
        let waiting: Vec<_> = ids
            .iter()
            .filter_map(|id| pending.calls.remove(id))
            .collect();
        drop(pending);
        for tx in waiting {
            let _ = tx.send(Err(error.clone()));
        }
        true
    }

    pub(super) fn forget(&self, id: u64) -> bool {
        lock(&self.pending).calls.remove(&id).is_some()
    }

    pub(crate) fn pending_len(&self) -> usize {
        lock(&self.pending).calls.len()
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
                let params = RawValue::from_string(format!(r#"{{"id":{id}}}"#)).expect("valid");
                let frame = message::request(None, "rpc.cancel", Some(&params));
                // Best effort: a full queue means the peer is slow; the late answer is dropped
                // as an unknown id anyway.
                let _ = self.shared.out.try_send(Queued {
                    text: frame,
                    is_call: false,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::error_object;

    fn shared() -> Shared {
        let (tx, _rx) = mpsc::channel(8);
        Shared::new(
            PeerId(1),
            tx,
            PeerConfig::default(),
            http::Extensions::new(),
        )
    }

    #[test]
    fn a_refused_batch_is_told_by_its_size_or_by_being_the_only_one() {
        let shared = shared();
        let (a, mut rx_a) = shared.register().unwrap();
        let (b, mut rx_b) = shared.register().unwrap();
        shared.track_batch(2, vec![a]);
        shared.track_batch(5, vec![b]);
        // Without a size, two batches cannot be told apart: nothing is failed.
        let vague = error_object(codes::INVALID_REQUEST, None);
        assert!(!shared.fail_batch(&vague));
        // "batch of 5" names the second.
        let sized = error_object(
            codes::BATCH_TOO_LARGE,
            "batch of 5 exceeds the limit of 3".to_owned(),
        );
        assert!(shared.fail_batch(&sized));
        assert!(matches!(rx_b.try_recv(), Ok(Err(e)) if e.code() == codes::BATCH_TOO_LARGE));
        assert!(rx_a.try_recv().is_err(), "the other batch still waits");
        // Now only one batch waits: any error for no id is its answer.
        assert!(shared.fail_batch(&vague));
        assert!(matches!(rx_a.try_recv(), Ok(Err(e)) if e.code() == codes::INVALID_REQUEST));
        assert!(!shared.fail_batch(&vague), "no batch left");
        assert_eq!(shared.pending_len(), 0);
    }
}
