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

/// How the node reaches Redis.
#[derive(Clone)]
pub(crate) struct Link {
    namespace: Arc<str>,
    queue: mpsc::Sender<(String, Vec<u8>)>,
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
        let task = tokio::spawn(publish_all(publisher, rx, down.clone()));
        let link = Self {
            namespace: namespace.into(),
            queue,
            down,
        };
        (link, task.abort_handle())
    }

    /// The channel every node listens on.
    pub(crate) fn cluster_channel(&self) -> String {
        format!("{}:cluster", self.namespace)
    }

    /// Node `node`'s own channel.
    pub(crate) fn node_channel(&self, node: NodeId) -> String {
        format!("{}:node:{node}", self.namespace)
    }

    /// Queues `payload` for `channel` without waiting; `Err` says why it could not be. When
    /// the queue is full (Redis is slower than this node's sends) the message is dropped
    /// and logged.
    pub(crate) fn publish(&self, channel: String, payload: Vec<u8>) -> Result<(), &'static str> {
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
    /// Publishes `batch`, in order.
    async fn publish(&mut self, batch: &mut Vec<(String, Vec<u8>)>) -> Result<(), String> {
        match self {
            Publisher::Quiet(quiet, commands) => {
                commands.clear();
                for (channel, payload) in batch.drain(..) {
                    resp::encode(commands, &[b"PUBLISH", channel.as_bytes(), &payload]);
                }
                let sent = quiet.send(commands).await.map_err(|e| e.to_string());
                // A burst's buffer is not kept for ever.
                commands.shrink_to(KEPT_BUFFER);
                sent
            }
            Publisher::Managed(commands) => {
                let mut pipe = redis::pipe();
                for (channel, payload) in batch.drain(..) {
                    pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
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
    mut rx: mpsc::Receiver<(String, Vec<u8>)>,
    down: Arc<AtomicBool>,
) {
    let mut batch = Vec::with_capacity(PIPELINE);
    while rx.recv_many(&mut batch, PIPELINE).await > 0 {
        let published = publisher.publish(&mut batch).await;
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
