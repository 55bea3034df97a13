//! [`Replies`]: a call made to every recipient of an audience, each under its own deadline;
//! awaited whole ([`Outcomes`]) or read as the answers arrive (a `Stream` of [`Reply`]).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::{BoxStream, FuturesUnordered, Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::RemoteReply;
use crate::error::{Error, Result};
use crate::peer::{CallOptions, Peer, PeerId};

type Pending<R> = Pin<Box<dyn Future<Output = Reply<R>> + Send>>;

/// One recipient's outcome: its result, its remote error, or the local reason no answer
/// came (timed out, disconnected, cancelled).
#[derive(Debug)]
#[non_exhaustive]
pub struct Reply<R> {
    /// The recipient's id.
    pub id: PeerId,
    /// The recipient, when it is connected to this node (`None` for one on another node of
    /// a cluster).
    pub peer: Option<Peer>,
    /// What it answered, or why it did not.
    pub result: Result<R>,
}

impl<R> Reply<R> {
    /// The recipient's id.
    pub fn id(&self) -> PeerId {
        self.id
    }
}

/// A call to many peers. The recipients are fixed when it is made; the requests all go out
/// when it is first awaited or polled, and each answer is bounded by its own deadline, so a
/// slow or dead peer neither delays nor hides the others'.
///
/// - `.await` it for every outcome at once ([`Outcomes`], in peer id order);
/// - or read it as a `Stream` of [`Reply`], each as it arrives.
///
/// Dropping it withdraws the calls still waiting (each recipient gets `rpc.cancel`).
///
/// In a cluster the recipients on the other nodes answer through the backplane: their
/// replies come in the same stream (with no [`Peer`] of this node), and the stream ends once
/// every live node has answered for its recipients. A cancellation token in the call's
/// options ends the other nodes' part at once: recipients there that had not answered give
/// no reply.
#[must_use = "the calls are withdrawn when this is dropped"]
pub struct Replies<R> {
    recipients: Vec<Peer>,
    pending: FuturesUnordered<Pending<R>>,
    /// The other nodes' replies, when the audience reaches them.
    remote: Option<BoxStream<'static, RemoteReply>>,
}

impl<R: DeserializeOwned + Send + 'static> Replies<R> {
    pub(crate) fn new(
        recipients: Vec<Peer>,
        method: Arc<str>,
        params: Option<Arc<RawValue>>,
        options: CallOptions,
    ) -> Self {
        let options = Arc::new(options);
        let pending = recipients
            .iter()
            .map(|peer| {
                let (peer, method, params, options) = (
                    peer.clone(),
                    method.clone(),
                    params.clone(),
                    options.clone(),
                );
                Box::pin(async move {
                    let result = peer
                        .request_ref(&method, params.as_deref(), &options)
                        .await
                        .and_then(|raw| {
                            crate::scalar::from_slice(raw.as_bytes()).map_err(Error::InvalidResult)
                        });
                    Reply {
                        id: peer.id(),
                        peer: Some(peer),
                        result,
                    }
                }) as Pending<R>
            })
            .collect();
        Self {
            recipients,
            pending,
            remote: None,
        }
    }

    /// Adds the other nodes' replies, until `cancel` (if any) is cancelled.
    pub(crate) fn with_remote(
        mut self,
        remote: BoxStream<'static, RemoteReply>,
        cancel: Option<tokio_util::sync::CancellationToken>,
    ) -> Self {
        self.remote = Some(match cancel {
            Some(token) => remote.take_until(token.cancelled_owned()).boxed(),
            None => remote,
        });
        self
    }
}

impl<R> Replies<R> {
    /// Every peer asked on this node, in id order (the other nodes' recipients are known
    /// by their replies).
    pub fn recipients(&self) -> &[Peer] {
        &self.recipients
    }

    /// How many answers of this node's recipients are still awaited.
    pub fn remaining(&self) -> usize {
        self.pending.len()
    }
}

impl<R> std::fmt::Debug for Replies<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replies")
            .field("recipients", &self.recipients.len())
            .field("remaining", &self.pending.len())
            .finish()
    }
}

impl<R: DeserializeOwned> Stream for Replies<R> {
    type Item = Reply<R>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Reply<R>>> {
        let local = self.pending.poll_next_unpin(cx);
        if let Poll::Ready(Some(reply)) = local {
            return Poll::Ready(Some(reply));
        }
        let remote = match self.remote.as_mut() {
            Some(remote) => remote.poll_next_unpin(cx),
            None => Poll::Ready(None),
        };
        match (local, remote) {
            (_, Poll::Ready(Some((id, result)))) => {
                let result = result
                    .and_then(|raw| serde_json::from_str(raw.get()).map_err(Error::InvalidResult));
                Poll::Ready(Some(Reply {
                    id,
                    peer: None,
                    result,
                }))
            }
            (Poll::Ready(None), Poll::Ready(None)) => {
                self.remote = None;
                Poll::Ready(None)
            }
            (_, Poll::Ready(None)) => {
                self.remote = None;
                Poll::Pending
            }
            _ => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.remote {
            Some(_) => (self.pending.len(), None),
            None => (self.pending.len(), Some(self.pending.len())),
        }
    }
}

impl<R: DeserializeOwned + Send + 'static> IntoFuture for Replies<R> {
    type Output = Outcomes<R>;
    type IntoFuture = Pin<Box<dyn Future<Output = Outcomes<R>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let mut replies: Vec<Reply<R>> = self.collect().await;
            replies.sort_by_key(Reply::id);
            Outcomes { replies }
        })
    }
}

/// Every recipient's outcome of a call made to many, in peer id order.
#[derive(Debug)]
pub struct Outcomes<R> {
    replies: Vec<Reply<R>>,
}

impl<R> Outcomes<R> {
    /// The outcome for the peer `id`, if it was asked.
    pub fn get(&self, id: PeerId) -> Option<&Result<R>> {
        self.replies
            .binary_search_by_key(&id, Reply::id)
            .ok()
            .map(|i| &self.replies[i].result)
    }

    /// How many peers were asked.
    pub fn len(&self) -> usize {
        self.replies.len()
    }

    /// Whether nobody was asked.
    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }

    /// Every outcome, in peer id order.
    pub fn iter(&self) -> std::slice::Iter<'_, Reply<R>> {
        self.replies.iter()
    }

    /// The ids of the peers that answered, with their results.
    pub fn succeeded(&self) -> impl Iterator<Item = (PeerId, &R)> {
        self.replies
            .iter()
            .filter_map(|r| r.result.as_ref().ok().map(|v| (r.id, v)))
    }

    /// The ids of the peers that did not answer with a result, with the reason.
    pub fn failed(&self) -> impl Iterator<Item = (PeerId, &Error)> {
        self.replies
            .iter()
            .filter_map(|r| r.result.as_ref().err().map(|e| (r.id, e)))
    }
}

impl<R> IntoIterator for Outcomes<R> {
    type Item = Reply<R>;
    type IntoIter = std::vec::IntoIter<Reply<R>>;

    fn into_iter(self) -> Self::IntoIter {
        self.replies.into_iter()
    }
}

impl<'a, R> IntoIterator for &'a Outcomes<R> {
    type Item = &'a Reply<R>;
    type IntoIter = std::slice::Iter<'a, Reply<R>>;

    fn into_iter(self) -> Self::IntoIter {
        self.replies.iter()
    }
}
