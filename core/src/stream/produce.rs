//! The producing side: [`ItemStream`], what a stream method returns, and [`serve`], which
//! registers one as a jsonrpsee subscription.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use futures_util::stream::{Stream, StreamExt};
use jsonrpsee::core::SubscriptionError;
use jsonrpsee::core::server::{
    PendingSubscriptionSink, SubscriptionCloseResponse, SubscriptionMessage,
};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::error::{ErrorObject, codes, error_object, panic_text};

type Items<T> = Pin<Box<dyn Stream<Item = Result<T, ErrorObject>> + Send>>;

/// What a stream method returns: the items to send, in order. The stream ends the
/// subscription when it ends (`Ok` items only) or at its first `Err` (sent to the consumer
/// as the stream's error).
///
/// It is polled while the connection keeps up: at most about 17 items (a 16-frame hand-off
/// and the one being queued) run ahead of what the connection's outgoing queue has taken, so
/// a slow consumer slows the producer instead of growing a queue. It is dropped when the
/// consumer cancels, the connection ends, or the socket it was opened on is replaced without
/// resuming.
#[must_use = "a stream does nothing unless returned from a stream method"]
pub struct ItemStream<T> {
    items: Items<T>,
}

impl<T: Send + 'static> ItemStream<T> {
    /// Sends the items of `stream`.
    pub fn new(stream: impl Stream<Item = T> + Send + 'static) -> Self {
        Self {
            items: Box::pin(stream.map(Ok)),
        }
    }

    /// Sends the `Ok` items of `stream`; its first `Err` ends the stream with that error.
    pub fn try_new<E: Into<ErrorObject>>(
        stream: impl Stream<Item = Result<T, E>> + Send + 'static,
    ) -> Self {
        Self {
            items: Box::pin(stream.map(|item| item.map_err(Into::into))),
        }
    }

    /// Sends `items` and ends.
    pub fn iter<I>(items: I) -> Self
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        Self::new(futures_util::stream::iter(items))
    }

    /// A stream fed from a task of your own: push with [`ItemSender::send`] (which waits
    /// while `capacity` items are not yet sent), end it by dropping the sender or with
    /// [`ItemSender::fail`]. [`ItemSender::closed`] resolves when the consumer cancels.
    pub fn channel(capacity: usize) -> (ItemSender<T>, Self) {
        let (tx, mut rx) = mpsc::channel(capacity.max(1));
        let items = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        (
            ItemSender { tx },
            Self {
                items: Box::pin(items),
            },
        )
    }
}

impl<T> Stream for ItemStream<T> {
    type Item = Result<T, ErrorObject>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.items.as_mut().poll_next(cx)
    }
}

impl<T> std::fmt::Debug for ItemStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ItemStream")
    }
}

/// The sending end of [`ItemStream::channel`].
#[derive(Debug)]
pub struct ItemSender<T> {
    tx: mpsc::Sender<Result<T, ErrorObject>>,
}

impl<T> Clone for ItemSender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

/// The consumer went away (cancelled, or its connection ended): nothing more is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stream's consumer went away")]
pub struct SendError;

impl<T> ItemSender<T> {
    /// Queues `item`, waiting while the channel is full; `Err` once the consumer has gone.
    pub async fn send(&self, item: T) -> Result<(), SendError> {
        self.tx.send(Ok(item)).await.map_err(|_| SendError)
    }

    /// Ends the stream with `error` (after the items already queued).
    pub async fn fail(self, error: impl Into<ErrorObject>) -> Result<(), SendError> {
        self.tx.send(Err(error.into())).await.map_err(|_| SendError)
    }

    /// Resolves when the consumer has gone: stop producing.
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// Whether the consumer has gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The error for a producer that panicked, logged.
fn panicked(method: &str, panic: Box<dyn std::any::Any + Send>) -> ErrorObject {
    let what = panic_text(&*panic, "stream panicked");
    tracing::error!(method, panic = %what, "stream panicked");
    error_object(codes::INTERNAL_ERROR, format!("stream panicked: {what}"))
}

/// Runs a stream method's subscription: starts the stream (a refusal answers the subscribe
/// call with the error), accepts, and sends every item until the stream ends (a last
/// `{"subscription", "error": null}`), fails (`"error": {..}`), or the consumer cancels
/// (nothing more is sent).
///
/// A producer that panics ends its stream with -32603 (`stream panicked: ..`), like a
/// handler that panics; the connection carries on.
pub(crate) async fn serve<T, F>(
    pending: PendingSubscriptionSink,
    start: F,
) -> SubscriptionCloseResponse
where
    T: Serialize,
    F: Future<Output = Result<ItemStream<T>, ErrorObject>>,
{
    let method = pending.method_name().to_owned();
    let mut items = match AssertUnwindSafe(start).catch_unwind().await {
        Ok(Ok(items)) => items,
        Ok(Err(refusal)) => {
            pending.reject(refusal).await;
            return SubscriptionCloseResponse::None;
        }
        Err(panic) => {
            pending.reject(panicked(&method, panic)).await;
            return SubscriptionCloseResponse::None;
        }
    };
    let Ok(sink) = pending.accept().await else {
        return SubscriptionCloseResponse::None;
    };
    let end: Box<RawValue> = loop {
        let next = tokio::select! {
            biased;
            _ = sink.closed() => return SubscriptionCloseResponse::None,
            next = AssertUnwindSafe(items.next()).catch_unwind() => match next {
                Ok(next) => next,
                Err(panic) => Some(Err(panicked(&method, panic))),
            },
        };
        let item = match next {
            None => break RawValue::NULL.to_owned(),
            Some(Err(error)) => match serde_json::value::to_raw_value(&error) {
                Ok(raw) => break raw,
                Err(_) => break RawValue::NULL.to_owned(),
            },
            Some(Ok(item)) => item,
        };
        let message = match serde_json::value::to_raw_value(&item) {
            Ok(raw) => SubscriptionMessage::from(raw),
            Err(e) => {
                let error = error_object(
                    codes::INTERNAL_ERROR,
                    format!("an item did not encode: {e}"),
                );
                break serde_json::value::to_raw_value(&error)
                    .unwrap_or_else(|_| RawValue::NULL.to_owned());
            }
        };
        tokio::select! {
            biased;
            _ = sink.closed() => return SubscriptionCloseResponse::None,
            sent = sink.send(message) => if sent.is_err() {
                return SubscriptionCloseResponse::None;
            },
        }
    };
    SubscriptionCloseResponse::NotifErr(SubscriptionError::from_json(end))
}
