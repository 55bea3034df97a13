//! [`Peer`]: the handle for calling the other end of one connection.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::config::PeerConfig;
use crate::error::{Error, ErrorObject, Result};
use crate::message;
use crate::params::encode_params;

/// Identifies one connection for as long as the process runs (never reused).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub struct PeerId(pub u64);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

static NEXT_PEER: AtomicU64 = AtomicU64::new(1);

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    /// The WebSocket close code (1000 normal, 1001 going away, 1006 abnormal, ...).
    pub code: u16,
    /// A human-readable reason.
    pub reason: String,
}

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
    extensions: http::Extensions,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
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

    fn register(&self) -> Result<(u64, oneshot::Receiver<Answer>)> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let mut p = lock(&self.pending);
        if !p.open {
            return Err(Error::Disconnected);
        }
        p.calls.insert(id, tx);
        Ok((id, rx))
    }

    fn forget(&self, id: u64) -> bool {
        lock(&self.pending).calls.remove(&id).is_some()
    }

    pub(crate) fn pending_len(&self) -> usize {
        lock(&self.pending).calls.len()
    }
}

/// Withdraws a pending call if its future is dropped or times out, and tells the peer.
/// `ids` is `[u64; 1]` for a single call (no allocation per call) and a `Vec` for a batch.
struct CallGuard<'a, I: AsRef<[u64]>> {
    shared: &'a Shared,
    ids: I,
    armed: bool,
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

/// The other end of one connection: call its methods, send it notifications.
///
/// Cheap to clone; every clone drives the same connection. Stubs generated by
/// `#[volley::rpc]` wrap a `Peer` (`CalculatorClient::new(&peer)`), and `Peer` implements
/// jsonrpsee's `ClientT`, so jsonrpsee's own `#[rpc(client)]` stubs call through it as well.
///
/// Every call resolves: with the result, with [`Error::Remote`] when the peer answered with
/// an error, or with a local error ([`Error::Disconnected`], [`Error::Timeout`]).
#[derive(Clone)]
pub struct Peer {
    pub(crate) shared: Arc<Shared>,
}

impl Peer {
    pub(crate) fn new(
        out: mpsc::Sender<Queued>,
        config: PeerConfig,
        extensions: http::Extensions,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                id: PeerId(NEXT_PEER.fetch_add(1, Ordering::Relaxed)),
                next_id: AtomicU64::new(0),
                pending: Mutex::new(Pending {
                    open: true,
                    calls: HashMap::new(),
                }),
                out,
                closed: CancellationToken::new(),
                finished: CancellationToken::new(),
                close_reason: Mutex::new(None),
                config,
                extensions,
            }),
        }
    }

    /// This connection's id.
    pub fn id(&self) -> PeerId {
        self.shared.id
    }

    /// The connection's extensions (set when the connection was accepted or dialed).
    pub fn extensions(&self) -> &http::Extensions {
        &self.shared.extensions
    }

    /// Whether the connection is still open.
    pub fn is_connected(&self) -> bool {
        !self.shared.closed.is_cancelled()
    }

    /// Resolves once the connection has closed, with the reason.
    ///
    /// It resolves once the writer is done too (the close frame sent, or the socket gone), so
    /// a program that returns after it does not cut the closing handshake short.
    pub async fn closed(&self) -> CloseReason {
        self.shared.closed.cancelled().await;
        self.shared.finished.cancelled().await;
        self.shared.close_reason().unwrap_or(CloseReason {
            code: 1006,
            reason: String::new(),
        })
    }

    /// Closes the connection with code 1000. Pending calls on both sides fail with
    /// `Disconnected`.
    pub fn close(&self) {
        self.close_with(1000, "closed");
    }

    /// Closes the connection with the given WebSocket close code and reason.
    pub fn close_with(&self, code: u16, reason: &str) {
        self.shared.shutdown(CloseReason {
            code,
            reason: reason.to_owned(),
        });
    }

    /// Calls `method` with `params` (anything that encodes to a JSON array or object, or `()`
    /// for none) and decodes the result.
    pub async fn call<P: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<R> {
        let raw = self
            .request_raw(method, encode_params(params)?, None)
            .await?;
        serde_json::from_str(raw.get()).map_err(Error::InvalidResult)
    }

    /// Sends the notification `method`; returns once the frame is queued.
    pub async fn notify<P: Serialize + ?Sized>(&self, method: &str, params: &P) -> Result<()> {
        self.notify_raw(method, encode_params(params)?).await
    }

    /// Calls `method` with already-encoded params and returns the raw result.
    ///
    /// `timeout` overrides the connection's default deadline. Dropping the returned future
    /// withdraws the call and sends `rpc.cancel`.
    pub async fn request_raw(
        &self,
        method: &str,
        params: Option<Box<RawValue>>,
        timeout: Option<Duration>,
    ) -> Result<Box<RawValue>> {
        let shared = &*self.shared;
        let timeout = timeout.unwrap_or(shared.config.request_timeout);
        let (id, rx) = shared.register()?;
        let mut guard = CallGuard {
            shared,
            ids: [id],
            armed: true,
        };
        let frame = message::request(Some(id), method, params.as_deref());
        let exchange = async {
            shared.send(frame, true).await?;
            rx.await.map_err(|_| Error::Disconnected)
        };
        let answer = match tokio::time::timeout(timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => return Err(Error::Timeout(timeout)),
        };
        guard.armed = false;
        match answer? {
            Ok(result) => Ok(result),
            Err(obj) => Err(Error::Remote(obj)),
        }
    }

    /// Sends a notification with already-encoded params.
    pub async fn notify_raw(&self, method: &str, params: Option<Box<RawValue>>) -> Result<()> {
        let frame = message::request(None, method, params.as_deref());
        self.shared.send(frame, false).await
    }

    /// Queues a notification only if the outgoing queue has room right now; `Error::Busy`
    /// when it is full (the peer is not reading), `Error::Disconnected` when closed.
    pub fn try_notify_raw(&self, method: &str, params: Option<Box<RawValue>>) -> Result<()> {
        if !self.is_connected() {
            return Err(Error::Disconnected);
        }
        let frame = message::request(None, method, params.as_deref());
        let queued = Queued {
            text: frame,
            is_call: false,
        };
        self.shared.out.try_send(queued).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::Busy,
            mpsc::error::TrySendError::Closed(_) => Error::Disconnected,
        })
    }

    /// Starts a batch: several calls and notifications sent in one frame.
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            peer: self,
            entries: Vec::new(),
            timeout: None,
        }
    }

    /// A typed stub for a `#[volley::rpc]` trait the peer serves:
    /// `peer.client::<CalculatorClient>()`.
    pub fn client<C: RemoteService>(&self) -> C {
        C::from_peer(self)
    }

    /// Calls still waiting for an answer (for metrics and tests).
    pub fn pending_calls(&self) -> usize {
        self.shared.pending_len()
    }
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer")
            .field("id", &self.id())
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// A typed stub generated by `#[volley::rpc]` for calling a trait on a remote peer.
pub trait RemoteService: Sized {
    /// The description of the trait the stub calls.
    const DESCRIPTION: &'static crate::describe::ServiceDescription;
    /// A stub calling through `peer`.
    fn from_peer(peer: &Peer) -> Self;
}

/// Several calls and notifications sent as one JSON-RPC batch. Build with [`Peer::batch`].
pub struct Batch<'p> {
    peer: &'p Peer,
    entries: Vec<(String, Option<Box<RawValue>>, bool)>,
    timeout: Option<Duration>,
}

impl Batch<'_> {
    /// Adds a call; its answer is at the same position among the calls in [`Batch::send`]'s
    /// result.
    pub fn call<P: Serialize + ?Sized>(mut self, method: &str, params: &P) -> Result<Self> {
        self.entries
            .push((method.to_owned(), encode_params(params)?, true));
        Ok(self)
    }

    /// Adds a notification (no answer).
    pub fn notify<P: Serialize + ?Sized>(mut self, method: &str, params: &P) -> Result<Self> {
        self.entries
            .push((method.to_owned(), encode_params(params)?, false));
        Ok(self)
    }

    /// Deadline for the whole batch (defaults to the connection's).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the batch and waits for every call's answer, in the order the calls were added.
    pub async fn send(self) -> Result<Vec<Result<Box<RawValue>>>> {
        let shared = &*self.peer.shared;
        if self.entries.is_empty() {
            return Ok(Vec::new());
        }
        let timeout = self.timeout.unwrap_or(shared.config.request_timeout);
        let mut guard = CallGuard {
            shared,
            ids: Vec::new(),
            armed: true,
        };
        let mut receivers = Vec::new();
        let mut frame = String::from("[");
        for (i, (method, params, is_call)) in self.entries.iter().enumerate() {
            if i > 0 {
                frame.push(',');
            }
            let id = if *is_call {
                let (id, rx) = shared.register()?;
                guard.ids.push(id);
                receivers.push(rx);
                Some(id)
            } else {
                None
            };
            frame.push_str(&message::request(id, method, params.as_deref()));
        }
        frame.push(']');
        if receivers.is_empty() && !self.peer.is_connected() {
            return Err(Error::Disconnected);
        }
        let is_call = !receivers.is_empty();
        let exchange = async {
            shared.send(frame, is_call).await?;
            let mut out = Vec::with_capacity(receivers.len());
            for rx in receivers {
                out.push(match rx.await {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(obj)) => Err(Error::Remote(obj)),
                    Err(_) => Err(Error::Disconnected),
                });
            }
            Ok(out)
        };
        let res = match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => return Err(Error::Timeout(timeout)),
        };
        guard.armed = false;
        res
    }
}
