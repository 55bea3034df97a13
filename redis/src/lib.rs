//! A Redis backplane for volley: several server processes, behind one address, serve as one.
//! Sends to a group, a user or everyone reach the members on every node; an awaited call to
//! a peer connected to another node is forwarded there and its answer brought back; a call to
//! many gathers one outcome per recipient on every node; queries see every node.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = volley::Server::builder().build();
//! let backplane =
//!     volley_redis::RedisBackplane::join(server.peers(), "redis://127.0.0.1/", Default::default())
//!         .await?;
//! let running = server.listen("127.0.0.1:8080").await?;
//! # let _ = (backplane, running); Ok(()) }
//! ```
//!
//! How it works (see decision 21): the nodes keep no shared state. Each node claims a node
//! number (`SET <ns>:node-id:<n> NX PX`), which every peer id it gives out carries; publishes
//! a heartbeat every [`Options::heartbeat`] on the cluster channel; and listens there and on
//! its own channel. A send is one PUBLISH of the recipients and the frame's bytes (on a
//! connection Redis does not answer, over plain TCP); every node queues the same bytes for
//! its own members. A call crosses as a message to the peer's node and its reply comes back
//! on the caller's. A node not heard from within
//! [`Options::node_timeout`] is gone: calls to it fail with `Error::Unreachable`. When Redis
//! is away, sends reach this node's peers only (logged once) and both connections are
//! dialed again until it is back.
//!
//! Every message between nodes names the version of their format ([`WIRE_VERSION`]) and its
//! sender. Nodes of two versions (a rolling upgrade) know of each other from their heartbeats
//! but exchange nothing: once a node has heard one of another version, its calls to a peer
//! there fail at once with `Error::Unreachable` naming both versions; sends and queries reach
//! the nodes of the sender's version; and a warning is logged when a node starts hearing one
//! of another version.

mod link;
mod listen;
mod node;
mod quiet;
mod resp;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::AbortHandle;
use volley_core::{NodeId, Peers};

use link::{Link, Publisher, Received};
use listen::Subscriber;
use node::Node;
use node::asks::Handle;
use quiet::Quiet;
use resp::Dialer;
use wire::{Decoded, Message};

/// The version of what nodes say to each other through Redis, raised whenever a node of
/// this release could misread what a node of the previous release writes (or the other way
/// round). Nodes of different versions do not exchange messages (see the crate's docs).
pub const WIRE_VERSION: u32 = 1;

/// How a node takes part in the cluster.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The prefix of every key and channel (default `volley`): clusters sharing a Redis
    /// keep apart by namespace.
    pub namespace: String,
    /// How often the node says it is alive (default 1 s).
    pub heartbeat: Duration,
    /// How long a silent node is still taken as alive (default 5 s): after it, calls routed
    /// to it fail and nothing waits for it. Also how long a query waits for the others, and
    /// how long Redis may take to answer a command (a publish) before it counts as away.
    pub node_timeout: Duration,
    /// How long a forwarded call waits when the caller gave no deadline (default 30 s).
    pub call_timeout: Duration,
    /// How many messages may wait to be published (default 65,536); more are dropped and
    /// logged, and a call to another node whose message is dropped fails at once with
    /// `Error::Unreachable` instead of waiting for its deadline.
    pub queue: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            namespace: "volley".into(),
            heartbeat: Duration::from_secs(1),
            node_timeout: Duration::from_secs(5),
            call_timeout: Duration::from_secs(30),
            queue: 65_536,
        }
    }
}

impl Options {
    /// Sets the namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Sets the heartbeat interval.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every;
        self
    }

    /// Sets the node timeout.
    pub fn node_timeout(mut self, after: Duration) -> Self {
        self.node_timeout = after;
        self
    }

    /// Sets how many messages may wait to be published (at least one).
    pub fn queue(mut self, messages: usize) -> Self {
        self.queue = messages.max(1);
        self
    }

    /// Sets the default deadline of forwarded calls.
    pub fn call_timeout(mut self, after: Duration) -> Self {
        self.call_timeout = after;
        self
    }
}

/// Why a node could not join.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// Redis could not be reached, or refused a command.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Every node number is taken in this namespace.
    #[error("every node number (1 to 8191) is taken in namespace {0}")]
    NoNodeNumber(String),
    /// The registry already has a backplane.
    #[error("the server already has a backplane")]
    AlreadyJoined,
}

/// This server's membership of a cluster: keep it as long as the server runs. Dropping it
/// stops the node's part at once and says nothing, as a crash would (the others notice
/// within the node timeout); [`RedisBackplane::leave`] tells them first.
#[derive(Debug)]
pub struct RedisBackplane {
    node: Arc<Node>,
    tasks: Vec<AbortHandle>,
    key: String,
    token: String,
    commands: redis::aio::ConnectionManager,
}

impl RedisBackplane {
    /// Joins the cluster at `url` (`redis://host:port/`) for the server whose registry is
    /// `peers`: claims a node number, starts the heartbeat and the listener, and sets the
    /// registry's node and backplane. Call it before the server accepts connections.
    pub async fn join(peers: &Peers, url: &str, options: Options) -> Result<Self, JoinError> {
        if peers.backplane().is_some() {
            return Err(JoinError::AlreadyJoined);
        }
        let client = redis::Client::open(resp3(url))?;
        // One plain connection first: a wrong address or password fails here at once, where
        // the reconnecting connections below would try again for seconds before saying so.
        drop(client.get_multiplexed_async_connection().await?);
        // Publishes go out in pipelines of up to 256: the client's default response timeout
        // (500 ms) would take a busy Redis for a lost one. A Redis that does not answer
        // within the node timeout has lost this node its place anyway.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(options.node_timeout));
        let mut commands = client.get_connection_manager_with_config(config).await?;
        let token = token();
        let (id, key) = claim(&mut commands, &options, &token).await?;
        // Over plain TCP the node publishes and listens on connections of its own.
        let dialer = Dialer::for_redis(client.get_connection_info(), options.node_timeout);
        let publisher = match &dialer {
            Some(dialer) => Publisher::Quiet(Quiet::new(dialer.clone()), Vec::new()),
            None => Publisher::Managed(commands.clone()),
        };
        let (link, publishing) = Link::start(&options.namespace, publisher, options.queue);
        let node = Arc::new(Node::new(id, options.clone(), link.clone()));
        let channels = vec![link.cluster_channel(), link.node_channel(id)];
        let mut on = {
            let (node, peers) = (node.clone(), peers.clone());
            move |item| receive(&node, &peers, item)
        };
        let listening = match dialer {
            Some(dialer) => {
                let subscriber =
                    Subscriber::new(dialer, channels, options.heartbeat, options.node_timeout);
                let subscribed = subscriber
                    .subscribe(&mut on)
                    .await
                    .map_err(redis::RedisError::from)?;
                tokio::spawn(subscriber.run(subscribed, on))
            }
            None => {
                let (subscriber, mut received) =
                    link::subscribe(&client, &channels, options.heartbeat).await?;
                tokio::spawn(async move {
                    // The subscriber lives as long as this task: it stops forwarding when
                    // dropped.
                    let _subscriber = subscriber;
                    while let Some(item) = received.recv().await {
                        on(item);
                    }
                })
            }
        };
        peers.set_node(id);
        if !peers.set_backplane(Arc::new(Handle(node.clone()))) {
            listening.abort();
            return Err(JoinError::AlreadyJoined);
        }
        let beating = {
            let (node, key, token) = (node.clone(), key.clone(), token.clone());
            let peers = peers.clone();
            let mut commands = commands.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(node.options.heartbeat);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    every.tick().await;
                    node.send_all(&Message::Heartbeat, None);
                    let renewed: redis::RedisResult<()> = redis::cmd("SET")
                        .arg(&key)
                        .arg(&token)
                        .arg("PX")
                        .arg(millis(node.options.node_timeout))
                        .query_async(&mut commands)
                        .await;
                    if let Err(e) = renewed {
                        tracing::debug!(node = %node.id, "could not renew the node key: {e}");
                    }
                    node.sweep(&peers);
                }
            })
        };
        tracing::info!(node = %id, "joined the cluster");
        Ok(Self {
            node,
            tasks: vec![listening.abort_handle(), beating.abort_handle(), publishing],
            key,
            token,
            commands,
        })
    }

    /// This node's number.
    pub fn node(&self) -> NodeId {
        self.node.id
    }

    /// The other nodes heard from within the node timeout, in order.
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut nodes: Vec<NodeId> = self.node.live().into_iter().collect();
        nodes.sort_unstable();
        nodes
    }

    /// The Redis key that exists while `node` is alive: the node's claim on its number,
    /// renewed every heartbeat, gone within the node timeout once the node stops (at once
    /// when it [leaves](Self::leave)). For state an application keeps in Redis per node, to
    /// find what belongs to nodes that are gone (`EXISTS` it, from a script if need be).
    pub fn alive_key(&self, node: NodeId) -> String {
        node_key(&self.node.options.namespace, node.get())
    }

    /// Whether Redis could not be reached at the last publish.
    pub fn is_redis_down(&self) -> bool {
        self.node.link.is_down()
    }

    /// Leaves the cluster: tells the others (who forget this node at once), gives the node
    /// number back and stops listening. Sends from this server reach its own peers only
    /// from then on.
    pub async fn leave(mut self) {
        // The listener and the heartbeat stop first; the goodbye goes straight to Redis.
        for task in &self.tasks[..2] {
            task.abort();
        }
        // Give the number back (only if it is still ours) before saying goodbye: whoever
        // hears the goodbye finds this node gone from Redis too.
        let script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
        let released: redis::RedisResult<i64> = redis::cmd("EVAL")
            .arg(script)
            .arg(1)
            .arg(&self.key)
            .arg(&self.token)
            .query_async(&mut self.commands)
            .await;
        if let Err(e) = released {
            tracing::debug!(node = %self.node.id, "could not release the node number: {e}");
        }
        let goodbye = Message::Leaving.encode(self.node.id, None);
        let said: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(self.node.link.cluster_channel())
            .arg(goodbye)
            .query_async(&mut self.commands)
            .await;
        if let Err(e) = said {
            tracing::debug!(node = %self.node.id, "could not say goodbye: {e}");
        }
    }
}

impl Drop for RedisBackplane {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Hands what the subscription brought to the node.
fn receive(node: &Arc<Node>, peers: &Peers, item: Received) {
    match item {
        Received::Payload(payload) => match Message::decode(payload) {
            // This node's own, on the cluster channel.
            Decoded::Ours { from, .. } if from == node.id => {}
            Decoded::Ours {
                from,
                message,
                body,
            } => node.handle(peers, from, message, body),
            // Never its own number in another version: numbers are claimed one per process.
            Decoded::Foreign { from, .. } if from == node.id => {}
            Decoded::Foreign { from, version } => node.foreign(peers, from, version),
            Decoded::Unreadable => {
                tracing::warn!(node = %node.id, "an unreadable backplane message");
            }
        },
        // Logged where it was noticed, with the reason.
        Received::Lost => node.cut_off(),
    }
}

/// `url` with RESP3, which the subscriber's pushes need.
fn resp3(url: &str) -> String {
    if url.contains("protocol=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}protocol=resp3")
}

/// A random token naming this process's claim on its node number.
fn token() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Claims a free node number: tries each from a random start.
async fn claim(
    commands: &mut redis::aio::ConnectionManager,
    options: &Options,
    token: &str,
) -> Result<(NodeId, String), JoinError> {
    let mut start = [0u8; 2];
    let _ = getrandom::fill(&mut start);
    let start = u16::from_le_bytes(start) % NodeId::MAX;
    for i in 0..NodeId::MAX {
        let n = (start + i) % NodeId::MAX + 1;
        let Some(id) = NodeId::new(n) else { continue };
        let key = node_key(&options.namespace, n);
        let claimed: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(millis(options.node_timeout))
            .query_async(commands)
            .await?;
        if claimed.is_some() {
            return Ok((id, key));
        }
    }
    Err(JoinError::NoNodeNumber(options.namespace.clone()))
}

/// The key that holds node `n`'s number while it is alive.
fn node_key(namespace: &str, n: u16) -> String {
    format!("{namespace}:node-id:{n}")
}

/// `d` in whole milliseconds, at least 1 (Redis refuses an expiry of 0).
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}
