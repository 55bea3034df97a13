//! [`Replies`]: a call made to every recipient of an audience, each under its own deadline;
//! awaited whole ([`Outcomes`]) or read as the answers arrive (a `Stream` of [`Reply`]).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::{FuturesUnordered, Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::peer::{CallOptions, Peer, PeerId};

type Pending<R> = Pin<Box<dyn Future<Output = Reply<R>> + Send>>;

/// One recipient's outcome: its result, its remote error, or the local reason no answer
/// came (timed out, disconnected, cancelled).
#[derive(Debug)]
#[non_exhaustive]
pub struct Reply<R> {
    /// The recipient.
    pub peer: Peer,
    /// What it answered, or why it did not.
    pub result: Result<R>,
}

impl<R> Reply<R> {
    /// The recipient's id.
    pub fn id(&self) -> PeerId {
        self.peer.id()
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
#[must_use = "the calls are withdrawn when this is dropped"]
pub struct Replies<R> {
    recipients: Vec<Peer>,
    pending: FuturesUnordered<Pending<R>>,
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
                            serde_json::from_str(raw.get()).map_err(Error::InvalidResult)
                        });
                    Reply { peer, result }
                }) as Pending<R>
            })
            .collect();
        Self {
            recipients,
            pending,
        }
    }
}

impl<R> Replies<R> {
    /// Every peer asked, in id order.
    pub fn recipients(&self) -> &[Peer] {
        &self.recipients
    }

    /// How many answers are still awaited.
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

impl<R> Stream for Replies<R> {
    type Item = Reply<R>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Reply<R>>> {
        self.pending.poll_next_unpin(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.pending.len(), Some(self.pending.len()))
    }
}

impl<R: Send + 'static> IntoFuture for Replies<R> {
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

    /// The peers that answered, with their results.
    pub fn succeeded(&self) -> impl Iterator<Item = (&Peer, &R)> {
        self.replies
            .iter()
            .filter_map(|r| r.result.as_ref().ok().map(|v| (&r.peer, v)))
    }

    /// The peers that did not answer with a result, with the reason.
    pub fn failed(&self) -> impl Iterator<Item = (&Peer, &Error)> {
        self.replies
            .iter()
            .filter_map(|r| r.result.as_ref().err().map(|e| (&r.peer, e)))
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
