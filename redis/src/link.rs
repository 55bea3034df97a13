//! [`Link`]: the node's Redis connections. One publishes, from a queue, in order, in
//! batches (on a connection Redis does not answer, [`Quiet`], when Redis is reached over
//! plain TCP); the other is subscribed to the cluster channel and the node's own channel
//! (on a connection of the node's own over plain TCP, [`listen`](crate::listen); otherwise
//! through the client library, [`subscribe`], which hands what arrives to a channel). Both
//! reconnect by themselves; the subscriber re-subscribes after a reconnect.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Msg, PushInfo, PushKind};
use tokio::sync::mpsc;
use volley_core::NodeId;

use crate::quiet::Quiet;
use crate::resp;

/// The most messages published in one pipeline.
const PIPELINE: usize = 256;
/// The most of a batch's buffer kept between batches, in bytes.
const KEPT_BUFFER: usize = 64 * 1024;

/// Where a message is published: the channel every node listens on, or one node's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Cluster,
    Node(NodeId),
}

impl Channel {
    /// Writes the channel's name in `namespace` to `out` (no allocation once `out` has
    /// room).
    fn write_name(self, namespace: &str, out: &mut Vec<u8>) {
        use std::io::Write;
        out.extend_from_slice(namespace.as_bytes());
        let _infallible = match self {
            Channel::Cluster => out.write_all(b":cluster"),
            Channel::Node(node) => write!(out, ":node:{node}"),
        };
    }

    /// The channel's name in `namespace`.
    pub(crate) fn name(self, namespace: &str) -> String {
        let mut out = Vec::with_capacity(namespace.len() + 12);
        self.write_name(namespace, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// How the node reaches Redis.
#[derive(Clone)]
pub(crate) struct Link {
    namespace: Arc<str>,
    queue: mpsc::Sender<(Channel, Vec<u8>)>,
    /// Whether the last publish failed (so the outage is logged once, and its end too).
    down: Arc<AtomicBool>,
}

impl Link {
    /// Starts the publishing task on `publisher`, with a queue of `capacity` messages.
    pub(crate) fn start(
        namespace: &str,
        publisher: Publisher,
        capacity: usize,
    ) -> (Self, tokio::task::AbortHandle) {
        let (queue, rx) = mpsc::channel(capacity.max(1));
        let down = Arc::new(AtomicBool::new(false));
        let namespace: Arc<str> = namespace.into();
        let task = tokio::spawn(publish_all(publisher, namespace.clone(), rx, down.clone()));
        let link = Self {
            namespace,
            queue,
            down,
        };
        (link, task.abort_handle())
    }

    /// The name of the channel every node listens on.
    pub(crate) fn cluster_channel(&self) -> String {
        Channel::Cluster.name(&self.namespace)
    }

    /// The name of node `node`'s own channel.
    pub(crate) fn node_channel(&self, node: NodeId) -> String {
        Channel::Node(node).name(&self.namespace)
    }

    /// Queues `payload` for `channel` without waiting; `Err` says why it could not be. When
    /// the queue is full (Redis is slower than this node's sends) the message is dropped
    /// and logged.
    pub(crate) fn publish(&self, channel: Channel, payload: Vec<u8>) -> Result<(), &'static str> {
        match self.queue.try_send((channel, payload)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("the backplane's publish queue is full: a message was dropped");
                Err(
                    "the backplane's publish queue is full (Redis is slower than this node's sends)",
                )
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                Err("the backplane has stopped publishing")
            }
        }
    }

    /// Whether Redis could not be reached at the last publish.
    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }
}

/// Where the publisher writes: a quiet connection of its own (with the buffer each batch
/// is encoded into, kept between batches), or the client library's.
pub(crate) enum Publisher {
    Quiet(Quiet, Vec<u8>),
    Managed(ConnectionManager),
}

impl Publisher {
    /// Publishes `batch`, in order, to channels in `namespace`.
    async fn publish(
        &mut self,
        namespace: &str,
        batch: &mut Vec<(Channel, Vec<u8>)>,
    ) -> Result<(), String> {
        match self {
            Publisher::Quiet(quiet, commands) => {
                commands.clear();
                let mut name = Vec::with_capacity(namespace.len() + 12);
                for (channel, payload) in batch.drain(..) {
                    name.clear();
                    channel.write_name(namespace, &mut name);
                    resp::encode(commands, &[b"PUBLISH", &name, &payload]);
                }
                let sent = quiet.send(commands).await.map_err(|e| e.to_string());
                // A burst's buffer is not kept for ever.
                commands.shrink_to(KEPT_BUFFER);
                sent
            }
            Publisher::Managed(commands) => {
                let mut pipe = redis::pipe();
                for (channel, payload) in batch.drain(..) {
                    pipe.cmd("PUBLISH")
                        .arg(channel.name(namespace))
                        .arg(payload)
                        .ignore();
                }
                pipe.query_async::<()>(commands)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// Publishes what is queued, in order, in batches of up to [`PIPELINE`] messages.
async fn publish_all(
    mut publisher: Publisher,
    namespace: Arc<str>,
    mut rx: mpsc::Receiver<(Channel, Vec<u8>)>,
    down: Arc<AtomicBool>,
) {
    let mut batch = Vec::with_capacity(PIPELINE);
    while rx.recv_many(&mut batch, PIPELINE).await > 0 {
        let published = publisher.publish(&namespace, &mut batch).await;
        batch.clear();
        match published {
            Ok(()) => {
                if down.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis is reachable again: sends reach the other nodes");
                }
            }
            Err(e) => {
                if !down.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        "Redis is unreachable ({e}): sends reach this node's peers only until \
                         it is back"
                    );
                }
            }
        }
    }
}

/// A subscriber to `channels` that reconnects and re-subscribes by itself, retrying without
/// end every `retry` at most; what arrives goes to the returned receiver.
pub(crate) async fn subscribe(
    client: &redis::Client,
    channels: &[String],
    retry: Duration,
) -> redis::RedisResult<(ConnectionManager, mpsc::UnboundedReceiver<Received>)> {
    let (push_tx, mut push_rx) = mpsc::unbounded_channel::<PushInfo>();
    let config = ConnectionManagerConfig::new()
        .set_push_sender(push_tx)
        .set_automatic_resubscription()
        .set_number_of_retries(usize::MAX)
        .set_max_delay(retry);
    let mut subscriber = client.get_connection_manager_with_config(config).await?;
    // One SUBSCRIBE for all of them.
    subscriber.subscribe(channels).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(push) = push_rx.recv().await {
            let received = match push.kind {
                PushKind::Disconnection => {
                    tracing::error!("lost the Redis subscription; dialing again");
                    Received::Lost
                }
                PushKind::Message => match Msg::from_push_info(push) {
                    Some(msg) => Received::Payload(Bytes::copy_from_slice(msg.get_payload_bytes())),
                    None => continue,
                },
                _ => continue,
            };
            if tx.send(received).is_err() {
                return;
            }
        }
    });
    Ok((subscriber, rx))
}

/// What the subscriber hands on.
#[derive(Debug)]
pub(crate) enum Received {
    /// A published message.
    Payload(Bytes),
    /// The connection to Redis was lost (it is being dialed again).
    Lost,
}

#[cfg(test)]
mod tests {
    use volley_core::NodeId;

    use super::Channel;

    #[test]
    fn channels_are_named_in_their_namespace() {
        let node = NodeId::new(NodeId::MAX).expect("the largest node");
        assert_eq!(Channel::Cluster.name("volley"), "volley:cluster");
        assert_eq!(Channel::Node(node).name("test 7"), "test 7:node:8191");
        // Written after what the buffer holds, as the publisher's scratch buffer is reused.
        let mut out = b"x".to_vec();
        Channel::Node(NodeId::default()).write_name("ns", &mut out);
        assert_eq!(out, b"xns:node:0");
    }
}
