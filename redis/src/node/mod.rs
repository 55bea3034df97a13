//! [`Node`]: this server's place in the cluster. It implements the backplane (what this
//! node asks of the others, [`asks`]) and handles what the others send (`handle`), keeps the
//! live nodes from their heartbeats (and apart, those of another wire version), and fails
//! what waited on a node that went silent.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use volley_core::fanout::{Forward, RemoteReply};
use volley_core::{Error, NodeId, PeerId, Peers};

pub(crate) mod asks;
mod serve;

use crate::Options;
use crate::link::{Channel, Link};
use crate::wire::{Message, Request};

/// This node.
pub(crate) struct Node {
    pub(crate) id: NodeId,
    pub(crate) options: Options,
    pub(crate) link: Link,
    next: AtomicU64,
    state: Mutex<State>,
}

/// Where a forwarded call's outcome goes.
type ReplyTo = oneshot::Sender<volley_core::Result<Box<RawValue>>>;

#[derive(Default)]
struct State {
    /// The other nodes heard from, and when last.
    live: HashMap<NodeId, Instant>,
    /// The nodes heard from that speak another version of the format, which one, and when
    /// last (forgotten like the live ones, after the node timeout).
    foreign: HashMap<NodeId, (u32, Instant)>,
    /// Calls to one peer on another node, waiting for their reply.
    calls: HashMap<u64, (NodeId, ReplyTo)>,
    /// Calls to many, waiting for the other nodes' replies.
    each: HashMap<u64, Each>,
    /// Queries, waiting for the other nodes' answers.
    finds: HashMap<u64, Find>,
    /// Calls the other nodes asked this one to make, by (node, call), to cancel them.
    serving: HashMap<(NodeId, u64), AbortHandle>,
}

struct Each {
    replies: mpsc::UnboundedSender<RemoteReply>,
    /// The nodes that have not said they are done.
    waiting: HashSet<NodeId>,
    /// The recipients each node calls and has not given the outcome of yet.
    unanswered: HashMap<NodeId, HashSet<PeerId>>,
    until: Instant,
}

impl Each {
    /// Node `node` will not answer: each of its recipients not answered yet gets
    /// `Unreachable` with `reason`.
    fn lost(&mut self, node: NodeId, reason: &str) {
        for peer in self.unanswered.remove(&node).unwrap_or_default() {
            let error = Error::Unreachable {
                node,
                reason: reason.to_owned(),
            };
            let _ = self.replies.send((peer, Err(error)));
        }
        self.waiting.remove(&node);
    }
}

struct Find {
    ids: Vec<PeerId>,
    waiting: HashSet<NodeId>,
    done: Option<oneshot::Sender<Vec<PeerId>>>,
    until: Instant,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("id", &self.id).finish()
    }
}

impl Node {
    pub(crate) fn new(id: NodeId, options: Options, link: Link) -> Self {
        Self {
            id,
            options,
            link,
            next: AtomicU64::new(1),
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn number(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// The other nodes alive now.
    pub(crate) fn live(&self) -> HashSet<NodeId> {
        self.state().live.keys().copied().collect()
    }

    fn timeout(&self, call: &Forward) -> Duration {
        call.timeout.unwrap_or(self.options.call_timeout)
    }

    /// `call` as this node forwards it, numbered `number`, waiting `timeout`.
    fn request(&self, number: u64, call: &Forward, timeout: Duration) -> Request {
        Request {
            call: number,
            method: call.method.to_string(),
            params: call.params.as_deref().map(ToOwned::to_owned),
            timeout_ms: crate::millis(timeout),
        }
    }

    /// Handles one message from node `from` (another one), for the registry `peers`.
    pub(crate) fn handle(
        self: &Arc<Self>,
        peers: &Peers,
        from: NodeId,
        message: Message,
        body: Bytes,
    ) {
        debug_assert_ne!(from, self.id, "a node's own messages are not handled");
        match message {
            Message::Heartbeat => {
                let fresh = {
                    let mut state = self.state();
                    // A node heard in another version before: upgraded, or its number
                    // taken over by a process of this version.
                    state.foreign.remove(&from);
                    state.live.insert(from, Instant::now()).is_none()
                };
                if fresh {
                    tracing::info!(node = %self.id, other = %from, "a node joined the cluster");
                    // The newcomer hears of this node now, not at its next heartbeat.
                    self.send_to(from, &Message::Heartbeat, None);
                }
            }
            Message::Leaving => self.forget(peers, from, "it left"),
            // Delivered in the guard; the arm itself only reports a frame that is not text.
            Message::Notify { to, except } if peers.deliver(&to, &except, body).is_none() => {
                tracing::warn!(node = %self.id, other = %from, "a notification that is not text");
            }
            Message::Call { peer, request } => self.serve_call(peers, from, peer, request),
            Message::Cancel { call } => {
                if let Some(task) = self.state().serving.remove(&(from, call)) {
                    task.abort();
                }
            }
            Message::Reply { call, outcome } => {
                if let Some((node, reply)) = self.state().calls.remove(&call) {
                    let _ = reply.send(outcome.into_result(node));
                }
            }
            Message::CallEach {
                to,
                except,
                request,
            } => self.serve_each(peers, from, &to, except, request),
            Message::EachRecipients { call, peers } => {
                if let Some(each) = self.state().each.get_mut(&call) {
                    each.unanswered.entry(from).or_default().extend(peers);
                }
            }
            Message::EachReply {
                call,
                peer,
                outcome,
            } => {
                // Only from a node still waited on: one taken as gone has had its
                // recipients' outcomes given already (Unreachable), and a late answer from it
                // would be a second.
                if let Some(each) = self.state().each.get_mut(&call)
                    && each.waiting.contains(&from)
                {
                    if let Some(unanswered) = each.unanswered.get_mut(&from) {
                        unanswered.remove(&peer);
                    }
                    let _ = each.replies.send((peer, outcome.into_result(from)));
                }
            }
            Message::EachDone { call } => {
                let mut state = self.state();
                if let Some(each) = state.each.get_mut(&call) {
                    each.waiting.remove(&from);
                    each.unanswered.remove(&from);
                    if each.waiting.is_empty() {
                        state.each.remove(&call);
                    }
                }
            }
            Message::Find { query, to } => {
                let ids = peers
                    .audience(&to)
                    .local()
                    .resolve()
                    .iter()
                    .map(|p| p.id())
                    .collect();
                self.send_to(from, &Message::Found { query, ids }, None);
            }
            Message::Found { query, ids } => {
                let mut state = self.state();
                if let Some(find) = state.finds.get_mut(&query) {
                    find.ids.extend(ids);
                    find.waiting.remove(&from);
                    if find.waiting.is_empty()
                        && let Some(find) = state.finds.remove(&query)
                    {
                        finish(find);
                    }
                }
            }
            Message::Membership { peer, group, join } if peer.node() == self.id => {
                if join {
                    peers.join(peer, &group);
                } else {
                    peers.leave(peer, &group);
                }
            }
            // A notification delivered in its arm's guard; a membership change for a peer of
            // another node, which none sends here.
            Message::Notify { .. } | Message::Membership { .. } => {}
        }
    }

    /// Node `from`, which speaks `version` of the format (not this node's), was heard: it
    /// is not sent to or waited for, calls to its peers fail naming both versions, and the
    /// first time it is heard in that version a warning says so. A node that spoke this
    /// node's version until now is gone, as if it had left.
    pub(crate) fn foreign(&self, peers: &Peers, from: NodeId, version: u32) {
        let (first, was_live) = {
            let mut state = self.state();
            let before = state.foreign.insert(from, (version, Instant::now()));
            let first = before.is_none_or(|(v, _)| v != version);
            (first, state.live.contains_key(&from))
        };
        if first {
            tracing::warn!(
                node = %self.id,
                other = %from,
                "node {from} speaks backplane version {version} and this node {}: they \
                 exchange no sends, calls or queries until both run one version",
                crate::WIRE_VERSION
            );
        }
        if was_live {
            self.forget(
                peers,
                from,
                &format!("it now speaks backplane version {version}"),
            );
        }
    }

    /// Why a call to a peer on `node`, not live, cannot be made.
    fn not_live(&self, node: NodeId) -> String {
        match self.state().foreign.get(&node) {
            Some((version, _)) => format!(
                "it speaks backplane version {version} and this node {}",
                crate::WIRE_VERSION
            ),
            None => "no heartbeat heard from it".into(),
        }
    }

    /// Publishes `message` on node `to`'s channel; a message that cannot be queued is
    /// dropped (and logged).
    fn send_to(&self, to: NodeId, message: &Message, body: Option<&[u8]>) {
        let _dropped = self.try_send_to(to, message, body);
    }

    /// Publishes `message` on the cluster channel; a message that cannot be queued is
    /// dropped (and logged).
    pub(crate) fn send_all(&self, message: &Message, body: Option<&[u8]>) {
        let _dropped = self.try_send_all(message, body);
    }

    /// Publishes `message` on node `to`'s channel; `Err` says why it could not be queued.
    fn try_send_to(
        &self,
        to: NodeId,
        message: &Message,
        body: Option<&[u8]>,
    ) -> Result<(), &'static str> {
        self.link
            .publish(Channel::Node(to), message.encode(self.id, body))
    }

    /// Publishes `message` on the cluster channel; `Err` says why it could not be queued.
    fn try_send_all(&self, message: &Message, body: Option<&[u8]>) -> Result<(), &'static str> {
        self.link
            .publish(Channel::Cluster, message.encode(self.id, body))
    }

    /// Forgets the nodes not heard from within the node timeout, and ends what waited on
    /// them and what waited too long.
    pub(crate) fn sweep(&self, peers: &Peers) {
        let now = Instant::now();
        let silent: Vec<NodeId> = self
            .state()
            .live
            .iter()
            .filter(|(_, seen)| now.duration_since(**seen) > self.options.node_timeout)
            .map(|(node, _)| *node)
            .collect();
        for node in silent {
            self.forget(peers, node, "no heartbeat within the node timeout");
        }
        let mut state = self.state();
        let timeout = self.options.node_timeout;
        state
            .foreign
            .retain(|_, (_, seen)| now.duration_since(*seen) <= timeout);
        state.each.retain(|_, each| each.until > now);
        let late: Vec<u64> = state
            .finds
            .iter()
            .filter(|(_, find)| find.until <= now)
            .map(|(query, _)| *query)
            .collect();
        for query in late {
            if let Some(find) = state.finds.remove(&query) {
                finish(find);
            }
        }
    }

    /// Takes `node` as gone: its calls fail, calls to many and queries stop waiting for it,
    /// and the registry's subscribers hear of it ([`Peers::node_left`]).
    pub(crate) fn forget(&self, peers: &Peers, node: NodeId, why: &str) {
        let mut state = self.state();
        if state.live.remove(&node).is_some() {
            tracing::warn!(node = %self.id, other = %node, "a node left the cluster: {why}");
            peers.node_left(node);
        }
        let failed: Vec<u64> = state
            .calls
            .iter()
            .filter(|(_, (n, _))| *n == node)
            .map(|(call, _)| *call)
            .collect();
        for call in failed {
            if let Some((_, reply)) = state.calls.remove(&call) {
                let _ = reply.send(Err(Error::Unreachable {
                    node,
                    reason: format!("the node is gone: {why}"),
                }));
            }
        }
        let reason = format!("the node is gone: {why}");
        state.each.retain(|_, each| {
            each.lost(node, &reason);
            !each.waiting.is_empty()
        });
        let done: Vec<u64> = state
            .finds
            .iter_mut()
            .filter_map(|(query, find)| {
                find.waiting.remove(&node);
                find.waiting.is_empty().then_some(*query)
            })
            .collect();
        for query in done {
            if let Some(find) = state.finds.remove(&query) {
                finish(find);
            }
        }
    }
}

impl Node {
    /// The subscription to Redis was lost, and with it, maybe, the answers to what waits:
    /// calls to other nodes fail now (rather than at their deadline), calls to many give
    /// each recipient not answered yet that error, and queries end with what they have.
    pub(crate) fn cut_off(&self) {
        let reason = "the subscription to Redis was lost, and the answer with it";
        let mut cancels = Vec::new();
        {
            let mut state = self.state();
            for (call, (node, reply)) in state.calls.drain() {
                let _ = reply.send(Err(Error::Unreachable {
                    node,
                    reason: reason.into(),
                }));
                cancels.push((Some(node), call));
            }
            for (call, mut each) in state.each.drain() {
                let waiting: Vec<NodeId> = each.waiting.iter().copied().collect();
                for node in waiting {
                    each.lost(node, reason);
                }
                cancels.push((None, call));
            }
            for (_, find) in state.finds.drain() {
                finish(find);
            }
        }
        // The nodes serving them stop (when the cancel gets through): nobody waits for
        // their answers any more.
        for (to, call) in cancels {
            let cancel = Message::Cancel { call };
            // A cancel that cannot be queued is dropped (and logged): the call it names
            // ends at its deadline on the other node.
            match to {
                Some(to) => self.send_to(to, &cancel, None),
                None => self.send_all(&cancel, None),
            }
        }
    }
}

fn finish(mut find: Find) {
    if let Some(done) = find.done.take() {
        let _ = done.send(std::mem::take(&mut find.ids));
    }
}
