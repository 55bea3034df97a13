//! [`Peers`]: the registry of one server's connections, their groups and their users.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, LazyLock, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use tokio::sync::broadcast;

use super::{Audience, Backplane, Target};
use crate::peer::{CloseReason, NodeId, OnStart, Peer, PeerId};

/// The most groups one connection can be in; [`Peers::join`] refuses more.
pub const MAX_GROUPS_PER_PEER: usize = 1024;
/// The longest group (or user) name, in bytes; [`Peers::join`] refuses longer ones.
pub const MAX_NAME_BYTES: usize = 256;

/// A peer connected or disconnected, or (in a cluster) another node left.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PeerEvent {
    /// A new connection is up; the peer can be called right away.
    Connected(Peer),
    /// A connection ended (it has left its groups already).
    Disconnected {
        /// The peer that left.
        id: PeerId,
        /// How it ended.
        reason: CloseReason,
    },
    /// Another node of the cluster left or stopped answering (its backplane said so with
    /// [`Peers::node_left`]): its peers are gone, from every group.
    NodeLeft {
        /// The node that left.
        node: NodeId,
    },
}

/// The connected peers of one server, the named groups they are in, and the user each
/// belongs to. Cheap to clone; usable from any task.
///
/// Every connection a server accepts is registered before it reads its first frame, for its
/// whole life (across resumed sockets), and leaves every group when it starts closing.
/// Handlers reach the registry through [`Context`](crate::Context): `cx.join("room")`,
/// `cx.peers().group("room")`.
///
/// Sends go to an [`Audience`]: [`Peers::all`], [`Peers::group`], [`Peers::user`],
/// [`Peers::only`], each narrowed with [`Audience::except`].
#[derive(Clone)]
pub struct Peers {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    members: RwLock<Members>,
    events: broadcast::Sender<PeerEvent>,
    /// The node this registry's connections are on (0 for a server on its own).
    node: AtomicU16,
    /// The other nodes of the cluster, when there are any.
    pub(super) backplane: OnceLock<Arc<dyn Backplane>>,
}

#[derive(Default)]
pub(super) struct Members {
    peers: HashMap<PeerId, Member>,
    groups: HashMap<Arc<str>, BTreeMap<PeerId, Peer>>,
    users: HashMap<Arc<str>, BTreeMap<PeerId, Peer>>,
}

struct Member {
    peer: Peer,
    groups: BTreeSet<Arc<str>>,
    user: Option<Arc<str>>,
}

/// How many connect and disconnect events a subscriber may fall behind.
const EVENTS: usize = 1024;

/// The registry of a connection that belongs to none (a client's): no members, no groups.
static DETACHED: LazyLock<Peers> = LazyLock::new(Peers::default);

impl Default for Peers {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                members: RwLock::new(Members::default()),
                events: broadcast::channel(EVENTS).0,
                node: AtomicU16::new(0),
                backplane: OnceLock::new(),
            }),
        }
    }
}

/// What a connection's extensions hold to find its registry (`cx.peers()`); weak, so a
/// registry and its peers never keep each other alive.
#[derive(Clone)]
pub(crate) struct RegistryLink(Weak<Inner>);

impl Peers {
    /// Every connected peer, in connection order.
    pub fn list(&self) -> Vec<Peer> {
        let mut v: Vec<Peer> = self.read().peers.values().map(|m| m.peer.clone()).collect();
        v.sort_by_key(Peer::id);
        v
    }

    /// The peer with this id, if it is still connected.
    pub fn get(&self, id: PeerId) -> Option<Peer> {
        self.read().peers.get(&id).map(|m| m.peer.clone())
    }

    /// How many peers are connected.
    pub fn len(&self) -> usize {
        self.read().peers.len()
    }

    /// Whether no peer is connected.
    pub fn is_empty(&self) -> bool {
        self.read().peers.is_empty()
    }

    /// Tells this registry's subscribers that the cluster's node `node` left or stopped
    /// answering ([`PeerEvent::NodeLeft`](PeerEvent::NodeLeft)), so that what they
    /// keep about its peers can go. For backplanes; ignored for this registry's own node.
    pub fn node_left(&self, node: NodeId) {
        if node != self.node() {
            let _ = self.inner.events.send(PeerEvent::NodeLeft { node });
        }
    }

    /// Connect and disconnect events from now on. A receiver that falls more than 1024
    /// events behind gets `RecvError::Lagged` and can resynchronise with [`Peers::list`].
    pub fn subscribe(&self) -> broadcast::Receiver<PeerEvent> {
        self.inner.events.subscribe()
    }

    /// Every connected peer, as an [`Audience`].
    pub fn all(&self) -> Audience {
        Audience::new(self.clone(), Target::All)
    }

    /// The members of `group` at the time of each send.
    pub fn group(&self, group: &str) -> Audience {
        Audience::new(self.clone(), Target::Group(group.into()))
    }

    /// Every connection of `user` (see [`Peers::set_user`]).
    pub fn user(&self, user: &str) -> Audience {
        Audience::new(self.clone(), Target::User(user.into()))
    }

    /// The peers with these ids that are still connected.
    pub fn only(&self, ids: impl IntoIterator<Item = PeerId>) -> Audience {
        Audience::new(self.clone(), Target::Only(ids.into_iter().collect()))
    }

    /// Adds the peer `id` to `group` (created on first use). `true` when it joined now;
    /// `false` when it was a member already, is not connected, is in
    /// [`MAX_GROUPS_PER_PEER`] groups already, or the name is longer than
    /// [`MAX_NAME_BYTES`] (so a peer that picks group names cannot grow the registry without
    /// bound).
    ///
    /// A peer on another node of a cluster (its id names another node) is added on its own
    /// node through the backplane; this returns `false`, the outcome being that node's.
    /// Nothing this node sends that node later overtakes the change, so a query made here
    /// afterwards ([`Audience::find`]) sees it; a query made on a third node sees it once the
    /// change has arrived. A change lost on the way (the backplane's queue full, its broker
    /// away) is lost, as the backplane's other messages are.
    pub fn join(&self, id: PeerId, group: &str) -> bool {
        if group.len() > MAX_NAME_BYTES {
            tracing::warn!(peer = %id, bytes = group.len(), "group name too long; not joined");
            return false;
        }
        let mut members = self.write();
        let Members { peers, groups, .. } = &mut *members;
        let Some(member) = peers.get_mut(&id) else {
            drop(members);
            self.elsewhere(id, group, true);
            return false;
        };
        if member.groups.contains(group) {
            return false;
        }
        if member.groups.len() >= MAX_GROUPS_PER_PEER {
            tracing::warn!(peer = %id, "in {MAX_GROUPS_PER_PEER} groups already; not joined");
            return false;
        }
        let name: Arc<str> = groups
            .get_key_value(group)
            .map_or_else(|| group.into(), |(k, _)| k.clone());
        member.groups.insert(name.clone());
        groups
            .entry(name)
            .or_default()
            .insert(id, member.peer.clone());
        true
    }

    /// Removes the peer `id` from `group` (an empty group ceases to exist). `true` when it
    /// was a member.
    ///
    /// A peer on another node of a cluster is removed on its own node through the
    /// backplane; this returns `false`, the outcome being that node's. Queries see the
    /// change as they see a join's (see [`Peers::join`]).
    pub fn leave(&self, id: PeerId, group: &str) -> bool {
        let mut members = self.write();
        let Members { peers, groups, .. } = &mut *members;
        let Some(member) = peers.get_mut(&id) else {
            drop(members);
            self.elsewhere(id, group, false);
            return false;
        };
        if !member.groups.remove(group) {
            return false;
        }
        remove_from(groups, group, id);
        true
    }

    /// The groups the peer `id` is in, in name order.
    pub fn groups_of(&self, id: PeerId) -> Vec<String> {
        self.read().peers.get(&id).map_or_else(Vec::new, |m| {
            m.groups.iter().map(|g| g.to_string()).collect()
        })
    }

    /// The members of `group` now, in connection order.
    pub fn members(&self, group: &str) -> Vec<Peer> {
        self.read()
            .groups
            .get(group)
            .map_or_else(Vec::new, |g| g.values().cloned().collect())
    }

    /// Every group with at least one member, with its size, in name order.
    pub fn groups(&self) -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = self
            .read()
            .groups
            .iter()
            .map(|(name, g)| (name.to_string(), g.len()))
            .collect();
        v.sort();
        v
    }

    /// Sets (or with `None` clears) the user the peer `id` belongs to, replacing the one its
    /// handshake gave (the server's `identify` hook). `false` when it is not connected or the
    /// name is longer than [`MAX_NAME_BYTES`].
    pub fn set_user(&self, id: PeerId, user: Option<&str>) -> bool {
        if user.is_some_and(|u| u.len() > MAX_NAME_BYTES) {
            return false;
        }
        let mut members = self.write();
        let Members { peers, users, .. } = &mut *members;
        let Some(member) = peers.get_mut(&id) else {
            return false;
        };
        if let Some(old) = member.user.take() {
            remove_from(users, &old, id);
        }
        if let Some(user) = user {
            let name: Arc<str> = users
                .get_key_value(user)
                .map_or_else(|| user.into(), |(k, _)| k.clone());
            users
                .entry(name.clone())
                .or_default()
                .insert(id, member.peer.clone());
            member.user = Some(name);
        }
        true
    }

    /// The user the peer `id` belongs to, if any.
    pub fn user_of(&self, id: PeerId) -> Option<String> {
        let members = self.read();
        members.peers.get(&id)?.user.as_deref().map(str::to_owned)
    }

    /// Adds a connection, in `user` when given, and tells subscribers; a connection already
    /// here keeps its groups (only its user is set). [`Peers::link_as`] does this (and
    /// [`Peers::unregister`]) for every connection made with the linked extensions; call it
    /// yourself only for a peer made elsewhere.
    pub fn register(&self, peer: &Peer, user: Option<&str>) {
        let id = peer.id();
        let fresh = {
            let mut members = self.write();
            let fresh = !members.peers.contains_key(&id);
            if fresh {
                members.peers.insert(
                    id,
                    Member {
                        peer: peer.clone(),
                        groups: BTreeSet::new(),
                        user: None,
                    },
                );
            }
            fresh
        };
        if user.is_some() {
            self.set_user(id, user);
        }
        if fresh {
            let _ = self.inner.events.send(PeerEvent::Connected(peer.clone()));
        }
    }

    /// Removes a connection from the registry, its groups and its user, and tells
    /// subscribers why it ended.
    pub fn unregister(&self, id: PeerId, reason: CloseReason) {
        let mut members = self.write();
        let Members {
            peers,
            groups,
            users,
        } = &mut *members;
        let Some(member) = peers.remove(&id) else {
            return;
        };
        for group in &member.groups {
            remove_from(groups, group, id);
        }
        if let Some(user) = &member.user {
            remove_from(users, user, id);
        }
        drop(members);
        let _ = self
            .inner
            .events
            .send(PeerEvent::Disconnected { id, reason });
    }

    /// The node this registry's connections are on: part of every id it gives out
    /// ([`PeerId::node`]). 0 for a server on its own.
    pub fn node(&self) -> NodeId {
        NodeId::new(self.inner.node.load(Ordering::Relaxed)).unwrap_or_default()
    }

    /// Makes this registry's connections from now on part of `node` (their ids carry it).
    /// A backplane sets it when the server starts, before it accepts a connection, so that
    /// ids are unique across the nodes of a cluster.
    pub fn set_node(&self, node: NodeId) {
        self.inner.node.store(node.get(), Ordering::Relaxed);
    }

    /// Puts a link to this registry in a connection's extensions, before the connection is
    /// made ([`connection::spawn`](crate::connection::spawn) and friends): the engine then
    /// registers the connection, in `user` when given, before it reads its first frame,
    /// unregisters it when it starts closing, and its handlers reach the registry as
    /// `cx.peers()`. A server does this for every connection it accepts.
    pub fn link_as(&self, extensions: &mut http::Extensions, user: Option<&str>) {
        extensions.insert(self.node());
        let weak = Arc::downgrade(&self.inner);
        extensions.insert(RegistryLink(weak.clone()));
        let user: Option<Arc<str>> = user.map(Into::into);
        extensions.insert(OnStart(Arc::new(move |peer: &Peer| {
            let Some(inner) = weak.upgrade() else { return };
            let peers = Peers { inner };
            peers.register(peer, user.as_deref());
            let id = peer.id();
            peer.on_close(Box::new(move |reason| peers.unregister(id, reason)));
        })));
    }

    /// [`Peers::link_as`] without a user.
    pub fn link(&self, extensions: &mut http::Extensions) {
        self.link_as(extensions, None);
    }

    /// The registry `extensions` were linked to, or an empty detached one.
    pub(crate) fn linked(extensions: &http::Extensions) -> Peers {
        extensions
            .get::<RegistryLink>()
            .and_then(|RegistryLink(weak)| weak.upgrade())
            .map_or_else(|| DETACHED.clone(), |inner| Peers { inner })
    }

    /// Closes every connection with `code` (1001 when the server shuts down).
    pub fn close_all(&self, code: u16, reason: &str) {
        for p in self.list() {
            p.close_with(code, reason);
        }
    }

    pub(super) fn read(&self) -> RwLockReadGuard<'_, Members> {
        self.inner.members.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Members> {
        self.inner
            .members
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }
}

impl Members {
    /// Calls `f` on each peer `target` names now, in id order for groups and users.
    pub(super) fn each(&self, target: &Target, mut f: impl FnMut(&Peer)) {
        match target {
            Target::All => self.peers.values().for_each(|m| f(&m.peer)),
            Target::Group(name) => {
                if let Some(g) = self.groups.get(name) {
                    g.values().for_each(f);
                }
            }
            Target::User(name) => {
                if let Some(u) = self.users.get(name) {
                    u.values().for_each(f);
                }
            }
            Target::Only(ids) => ids
                .iter()
                .filter_map(|id| self.peers.get(id))
                .for_each(|m| f(&m.peer)),
        }
    }
}

fn remove_from(index: &mut HashMap<Arc<str>, BTreeMap<PeerId, Peer>>, name: &str, id: PeerId) {
    if let Some(set) = index.get_mut(name) {
        set.remove(&id);
        if set.is_empty() {
            index.remove(name);
        }
    }
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").field("len", &self.len()).finish()
    }
}
