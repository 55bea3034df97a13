//! A connection's life across sockets: attach one, run its reader and writer (both in this
//! one task, see `halves.rs`) until it is lost, then end, or wait for the next socket (a
//! resume or a reconnect) and carry on.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

use super::Conn;
use super::halves;
use super::read;
use super::replay::Replay;
use super::write::{self, LinkCtl, Lost, PumpEnd, Writer};
use crate::error::Error;
use crate::observe;
use crate::outbox;
use crate::peer::{CloseReason, Kind, LinkState, Peer, Queued};
use crate::resume::Hello;
use crate::transport::{BoxError, Frame, Inbound, Transport};

/// What a session does when its socket is lost.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum OnLoss {
    /// The connection ends with its socket: plain JSON-RPC over WebSocket.
    End,
    /// A resumable session (one attached with numbering on) lost without a close frame waits
    /// `grace` for [`Session::attach`] with [`Attach::Resume`]; then it ends, failing what
    /// still waits. Anything else ends at once.
    AwaitResume {
        /// How long the session waits.
        grace: Duration,
    },
    /// Waits for the owner to attach a new socket or end the connection: a reconnecting
    /// client.
    AwaitReattach,
}

/// How a [`Session`] behaves across sockets.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionOptions {
    /// What happens when the socket is lost.
    pub on_loss: OnLoss,
    /// Bytes of sent frames kept for a resume; when full, nothing more is written until the
    /// peer acknowledges some.
    pub max_replay_bytes: usize,
    /// Between sockets, without a session to resume, how long a call waits for the next
    /// socket; `None` fails it at once with [`Error::NotConnected`].
    pub wait_for_link: Option<Duration>,
    /// How many times an idempotent call is re-sent on new sockets.
    pub max_resends: u32,
}

impl SessionOptions {
    /// Options with `on_loss`, a 256 KiB replay buffer, no waiting and 3 re-sends.
    pub fn new(on_loss: OnLoss) -> Self {
        Self {
            on_loss,
            max_replay_bytes: 256 * 1024,
            wait_for_link: None,
            max_resends: 3,
        }
    }
}

/// How a socket joins its session.
#[derive(Debug)]
#[non_exhaustive]
pub enum Attach {
    /// A new session on this socket. `numbered`: frames are counted, kept and acknowledged
    /// (both ends agreed on resumption). Anything the previous socket left is void: waiting
    /// calls fail with `Disconnected` (`SessionExpired` when `expired`), but idempotent ones,
    /// which are sent again; the handlers it started are cancelled.
    Fresh {
        /// Whether frames are numbered.
        numbered: bool,
        /// The hello to write first (a server's), uncounted.
        hello: Option<Hello>,
        /// The previous session could not be resumed (it expired).
        expired: bool,
    },
    /// This socket continues the session: frames after the peer's `peer_received` are
    /// written again, then the queue goes on.
    Resume {
        /// Counted frames the peer has received from us on this session.
        peer_received: u64,
        /// The hello to write first (a server's); its `received` is filled in.
        hello: Option<Hello>,
    },
}

impl Attach {
    /// A new session whose frames are not numbered: a plain connection, ending with its
    /// socket.
    pub fn fresh() -> Self {
        Attach::Fresh {
            numbered: false,
            hello: None,
            expired: false,
        }
    }
}

/// The incoming half of a socket, as the engine reads it.
pub type IncomingFrames = Pin<Box<dyn Stream<Item = Result<Inbound, BoxError>> + Send>>;

/// One socket for a session: what it reads, what it writes with, and how it joins.
pub struct Link<T> {
    pub(super) incoming: IncomingFrames,
    pub(super) transport: T,
    pub(super) attach: Attach,
}

impl<T: Transport> Link<T> {
    /// A link from a stream of frames and a transport.
    pub fn new<St, E>(incoming: St, transport: T, attach: Attach) -> Self
    where
        St: Stream<Item = Result<Inbound, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        Self::from_frames(incoming.map(|r| r.map_err(Into::into)), transport, attach)
    }

    /// [`Link::new`] for a stream whose errors are boxed already: taken as it is, without an
    /// adapter for every frame.
    pub fn from_frames(
        incoming: impl Stream<Item = Result<Inbound, BoxError>> + Send + 'static,
        transport: T,
        attach: Attach,
    ) -> Self {
        Self {
            incoming: Box::pin(incoming),
            transport,
            attach,
        }
    }
}

/// A connection that can outlive its socket: hand it new sockets with [`Session::attach`].
/// Cheap to clone.
pub struct Session<T> {
    peer: Peer,
    links: mpsc::Sender<Box<Link<T>>>,
}

/// The sockets handed to a session, boxed: a tokio channel allocates room for 32 values at
/// once, whatever its capacity, and an unboxed link would cost every connection 5 KB.
pub(super) type Links<T> = mpsc::Receiver<Box<Link<T>>>;

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Self {
            peer: self.peer.clone(),
            links: self.links.clone(),
        }
    }
}

impl<T: Transport> Session<T> {
    pub(super) fn new(peer: Peer, links: mpsc::Sender<Box<Link<T>>>) -> Self {
        Self { peer, links }
    }

    /// The connection's peer: the same across every socket.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Hands the session a new socket. A socket still attached is dropped for it (its peer is
    /// gone, whatever TCP says). `Err` gives the link back when the session has ended.
    pub async fn attach(&self, link: Link<T>) -> Result<(), Link<T>> {
        if !self.peer.is_connected() {
            return Err(link);
        }
        self.links.send(Box::new(link)).await.map_err(|e| *e.0)
    }
}

impl<T> std::fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("peer", &self.peer).finish()
    }
}

/// Marks the writer finished however it ends.
struct Finished(Arc<crate::peer::Shared>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.finished.set();
    }
}

/// Takes a session's replay buffer off the books when it ends.
struct ReplayAccount(Arc<crate::peer::Shared>);

impl Drop for ReplayAccount {
    fn drop(&mut self) {
        let held = self.0.replay_bytes.swap(0, Ordering::Relaxed);
        if held > 0 {
            observe::replay_bytes(-(held as i64));
        }
    }
}

/// Runs a session: its sockets one after the other, until it ends.
/// (Not an `async fn`: its arguments would be kept twice in the future, as arguments and
/// as the body's locals, in every connection's session task.)
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice"
)]
pub(super) fn run<T: Transport>(
    conn: Arc<Conn>,
    mut rx: outbox::Receiver<Queued>,
    mut links: Option<Links<T>>,
    first: Box<Link<T>>,
    options: SessionOptions,
    kept: Option<Box<dyn Send>>,
) -> impl Future<Output = ()> {
    async move {
        let shared = conn.peer.shared.clone();
        let _finished = Finished(shared.clone());
        let _replay = ReplayAccount(shared.clone());
        // Dropped before `_finished` (locals drop in reverse): gone when `Peer::closed` resolves.
        let _kept = kept;
        let mut replay = Replay::new(options.max_replay_bytes);
        let mut next = Some(first);
        let mut first_socket = true;
        while let Some(link) = next.take() {
            let Link {
                incoming,
                mut transport,
                attach,
            } = *link;
            let (hello, resend) =
                open_link(&conn, &mut rx, &mut replay, attach, first_socket, &options);
            first_socket = false;
            let ctl = LinkCtl::default();
            shared.set_link(LinkState::Up);
            // In a block: the halves borrow the transport and the queue until they end.
            let end = {
                let reader = pin!(read::read_loop(
                    conn.clone(),
                    incoming,
                    &ctl,
                    replay.is_numbered()
                ));
                let mut writer = Writer::new(&shared, &mut transport, &mut replay, &ctl);
                let writing = pin!(async {
                    let end = match writer.start(hello, resend).await {
                        Ok(()) => {
                            tokio::select! {
                                biased;
                                end = writer.pump(&mut rx) => end,
                                link = next_link(&mut links) => {
                                    next = Some(link);
                                    ctl.lose(Lost {
                                        reason: CloseReason { code: 1006, reason: "replaced by a new socket".into() },
                                        clean: false,
                                        writable: true,
                                    });
                                    PumpEnd::Lost
                                }
                            }
                        }
                        Err(end) => end,
                    };
                    ctl.lost.set(); // the reader stops after the frame in hand
                    end
                });
                halves::join(reader, writing).await
            };
            let lost = match end {
                PumpEnd::SessionClosed => None,
                PumpEnd::Lost => ctl.why(),
            };
            let Some(lost) = lost.filter(|_| !shared.closed.is_cancelled()) else {
                write::finish(&shared, &mut rx, &mut transport, true).await;
                break;
            };
            let keep = match options.on_loss {
                OnLoss::End => false,
                OnLoss::AwaitResume { .. } => shared.is_resumable() && !lost.clean,
                OnLoss::AwaitReattach => true,
            };
            if !keep {
                shared.shutdown(lost.reason);
                write::finish(&shared, &mut rx, &mut transport, lost.writable).await;
                break;
            }
            if lost.clean {
                // A close frame ended the session on the other side: nothing to resume.
                shared.set_resumable(false);
            }
            tracing::debug!(peer = %shared.id, reason = %lost.reason.reason, resumable = shared.is_resumable(), "socket lost; waiting for another");
            // Dropped without a close frame: the peer must see a lost socket, not a goodbye.
            drop(transport);
            if !shared.is_resumable() {
                void_previous(&conn, &mut rx, || Error::Disconnected, false);
            }
            shared.set_link(LinkState::Down(lost.reason.clone()));
            if next.is_none() {
                let grace = match options.on_loss {
                    OnLoss::AwaitResume { grace } => Some(grace),
                    _ => None,
                };
                observe::session_waiting(true);
                next = wait_for_link(&shared, &mut links, grace).await;
                observe::session_waiting(false);
            }
            if next.is_none() && !shared.closed.is_cancelled() {
                shared.shutdown(CloseReason {
                    code: 1001,
                    reason: match options.on_loss {
                        OnLoss::AwaitResume { grace } => {
                            format!("session expired: no socket within {grace:?}")
                        }
                        _ => lost.reason.reason,
                    },
                });
            }
        }
    }
}

/// What a new socket starts with (its hello, and the calls to send again), after the
/// session's counters are set for it. Apart from [`run`], whose future would otherwise keep
/// room for the socket's `Attach` for the session's whole life.
fn open_link(
    conn: &Conn,
    rx: &mut outbox::Receiver<Queued>,
    replay: &mut Replay,
    attach: Attach,
    first_socket: bool,
    options: &SessionOptions,
) -> (Option<Frame>, Vec<Frame>) {
    let shared = &conn.peer.shared;
    match attach {
        Attach::Fresh {
            numbered,
            hello,
            expired,
        } => {
            let mut resend = Vec::new();
            if !first_socket {
                let error: fn() -> Error = if expired {
                    || Error::SessionExpired
                } else {
                    || Error::Disconnected
                };
                // A session that expired keeps what it never wrote: it cannot have run.
                let unsent = void_previous(conn, rx, error, expired);
                resend = shared.take_resends().into_iter().map(Frame::from).collect();
                resend.extend(unsent);
            }
            replay.reset(numbered);
            for counter in [&shared.received, &shared.ack_sent, &shared.peer_acked] {
                counter.store(0, Ordering::Release);
            }
            shared.unacked_bytes.store(0, Ordering::Release);
            shared.set_resumable(numbered && !matches!(options.on_loss, OnLoss::End));
            (hello.map(|h| Frame::from(h.frame())), resend)
        }
        Attach::Resume {
            peer_received,
            hello,
        } => {
            shared.peer_acked.fetch_max(peer_received, Ordering::AcqRel);
            replay.ack(peer_received);
            let hello = hello.map(|mut h| {
                h.received = shared.received.load(Ordering::Acquire);
                Frame::from(h.frame())
            });
            (hello, Vec::new())
        }
    }
}

/// What a lost socket leaves behind when the session does not resume: calls waiting for an
/// answer fail with `error()` (but idempotent ones), the handlers it started are cancelled and
/// their answers never written, and frames queued for it are dropped; with `keep_unsent`,
/// the single calls and notifications never written are kept (and returned, in order) for
/// the next socket instead.
fn void_previous(
    conn: &Conn,
    rx: &mut outbox::Receiver<Queued>,
    error: fn() -> Error,
    keep_unsent: bool,
) -> Vec<Frame> {
    let shared = &conn.peer.shared;
    let mut unsent = Vec::new();
    let mut unsent_ids = Vec::new();
    while let Ok(q) = rx.try_recv() {
        match q.kind {
            Kind::Call(id) if keep_unsent => {
                unsent_ids.push(id);
                unsent.push(q.text);
            }
            Kind::Notification if keep_unsent => unsent.push(q.text),
            _ => {}
        }
    }
    shared.fail_unresumable(error, &unsent_ids);
    shared.void_generation();
    conn.running.cancel_all();
    unsent
}

/// The next link handed to the session; never, when it takes none.
async fn next_link<T>(links: &mut Option<Links<T>>) -> Box<Link<T>> {
    match links {
        Some(rx) => match rx.recv().await {
            Some(link) => link,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// Waits for the next socket: `None` when the connection ended, the grace passed, or nobody
/// can attach one any more.
async fn wait_for_link<T>(
    shared: &crate::peer::Shared,
    links: &mut Option<Links<T>>,
    grace: Option<Duration>,
) -> Option<Box<Link<T>>> {
    let rx = links.as_mut()?;
    let grace = async {
        match grace {
            Some(g) => tokio::time::sleep(g).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        _ = shared.closed.cancelled() => None,
        link = rx.recv() => link,
        _ = grace => None,
    }
}
