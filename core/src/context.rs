//! [`Context`]: what a handler knows about the call it is serving.

use std::fmt;

use tokio_util::sync::CancellationToken;

use crate::fanout::Peers;
use crate::peer::{Peer, PeerId};
use crate::running::CallCancel;

/// The calling context of one incoming request, available to any handler that takes
/// `cx: &volley::Context` as its first parameter (and to hand-written jsonrpsee methods in
/// their `Extensions`).
#[derive(Clone)]
pub struct Context {
    peer: Peer,
    cancel: CallCancel,
}

impl Context {
    pub(crate) fn new(peer: Peer, cancel: CallCancel) -> Self {
        Self { peer, cancel }
    }

    /// The peer that made this call. Call its traits through their stubs:
    /// `BrowserClient::new(cx.peer()).confirm(q).await`.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// The calling peer's id.
    pub fn peer_id(&self) -> PeerId {
        self.peer.id()
    }

    /// The connection's extensions: what the server put there at upgrade time (the remote
    /// address, the HTTP upgrade request's extensions such as auth claims).
    pub fn extensions(&self) -> &http::Extensions {
        self.peer.extensions()
    }

    /// The caller's claims, established when its connection opened (see [`Peer::claims`]).
    pub fn claims<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.peer.claims()
    }

    /// Runs `f` on the caller's connection state of type `T` (see [`Peer::with_state`]).
    pub fn with_state<T: Default + Send + 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.peer.with_state(f)
    }

    /// The registry of the server this connection belongs to: its peers, groups and users,
    /// and the audiences to send to (`cx.peers().group("room").except(cx.peer_id())`). On a
    /// connection outside any registry (a client's) it is an empty one: nobody to send to,
    /// and joins do nothing.
    pub fn peers(&self) -> Peers {
        Peers::linked(self.peer.extensions())
    }

    /// Adds the caller to `group`; `true` when it joined now (see [`Peers::join`]). It leaves
    /// every group when its connection ends.
    pub fn join(&self, group: &str) -> bool {
        self.peers().join(self.peer_id(), group)
    }

    /// Removes the caller from `group`; `true` when it was a member.
    pub fn leave(&self, group: &str) -> bool {
        self.peers().leave(self.peer_id(), group)
    }

    /// The groups the caller is in, in name order.
    pub fn groups(&self) -> Vec<String> {
        self.peers().groups_of(self.peer_id())
    }

    /// Cancelled when the caller sends `rpc.cancel` for this request or the connection closes.
    pub fn cancellation(&self) -> &CancellationToken {
        self.cancel.token(&self.peer.shared.closed)
    }

    /// Whether this call has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.was_cancelled() || self.peer.shared.is_closed()
    }

    /// Resolves when this call is cancelled.
    pub async fn cancelled(&self) {
        self.cancellation().cancelled().await
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("peer", &self.peer.id())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
