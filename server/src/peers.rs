//! The registry of connected peers.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;
use volley_core::{CloseReason, Peer, PeerId};

/// A peer connected or disconnected.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// A new connection is up; the peer can be called right away.
    Connected(Peer),
    /// A connection ended.
    Disconnected {
        /// The peer that left.
        id: PeerId,
        /// How it ended.
        reason: CloseReason,
    },
}

/// The peers connected to one server. Cheap to clone; usable from any task.
#[derive(Clone)]
pub struct Peers {
    inner: Arc<Inner>,
}

struct Inner {
    map: RwLock<HashMap<PeerId, Peer>>,
    events: broadcast::Sender<PeerEvent>,
}

impl Default for Peers {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                map: RwLock::new(HashMap::new()),
                events: broadcast::channel(1024).0,
            }),
        }
    }
}

impl Peers {
    /// Every connected peer, in connection order.
    pub fn list(&self) -> Vec<Peer> {
        let mut v: Vec<Peer> = self.read().values().cloned().collect();
        v.sort_by_key(Peer::id);
        v
    }

    /// The peer with this id, if it is still connected.
    pub fn get(&self, id: PeerId) -> Option<Peer> {
        self.read().get(&id).cloned()
    }

    /// How many peers are connected.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no peer is connected.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Connect and disconnect events from now on. A receiver that falls more than 1024
    /// events behind gets `RecvError::Lagged` and can resynchronise with [`Peers::list`].
    pub fn subscribe(&self) -> broadcast::Receiver<PeerEvent> {
        self.inner.events.subscribe()
    }

    /// Queues the notification `method` with `params` for every connected peer, without
    /// waiting: a peer whose outgoing queue is full (it has stopped reading) misses it, so one
    /// stalled client never holds up a broadcast. Returns how many peers it was queued for.
    pub fn notify_all<P: volley_core::serde::Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<usize, volley_core::Error> {
        let params = volley_core::params::encode_params(params)?;
        Ok(self
            .list()
            .iter()
            .filter(|peer| peer.try_notify_raw(method, params.clone()).is_ok())
            .count())
    }

    /// Closes every connection with `code` (1001 when the server shuts down).
    pub fn close_all(&self, code: u16, reason: &str) {
        for p in self.list() {
            p.close_with(code, reason);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<PeerId, Peer>> {
        self.inner.map.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn insert(&self, peer: Peer) {
        self.inner
            .map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(peer.id(), peer.clone());
        let _ = self.inner.events.send(PeerEvent::Connected(peer));
    }

    pub(crate) fn remove(&self, id: PeerId, reason: CloseReason) {
        self.inner
            .map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        let _ = self
            .inner
            .events
            .send(PeerEvent::Disconnected { id, reason });
    }
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").field("len", &self.len()).finish()
    }
}
