//! The consuming side: [`Subscription`], the items of a stream the other end serves.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures_util::stream::Stream;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::peer::{CallOptions, Peer, PendingStream, StreamEnd};

/// How long the unsubscribe call sent when a [`Subscription`] is dropped (or falls behind)
/// may take.
pub(crate) const UNSUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(10);

/// A stream the other end serves, as a `Stream` of its items.
///
/// It yields each item decoded as `T` (an item that does not decode yields
/// `Err(Error::InvalidResult)` and the stream goes on), and ends when the producer ends it:
/// with `None` after the last item, or with one `Err` first when the producer failed
/// ([`Error::Remote`]), the connection ended ([`Error::Disconnected`], or
/// [`Error::SessionExpired`] when it came back on a new session), or this consumer fell more
/// than `PeerConfig::stream_buffer` items (or `stream_buffer_bytes`) behind
/// ([`Error::Lagged`]).
///
/// Dropping it before the end cancels the stream: the unsubscribe method goes to the
/// producer. [`Subscription::unsubscribe`] does the same and waits for the answer.
pub struct Subscription<T> {
    peer: Peer,
    id: Box<RawValue>,
    item: Arc<str>,
    unsubscribe: Arc<str>,
    rx: mpsc::Receiver<Box<RawValue>>,
    end: Arc<StreamEnd>,
    /// The stream has ended (or was cancelled): nothing to cancel on drop.
    done: bool,
    _items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Subscription<T> {
    /// Calls `method` (a stream's subscribe method) on `peer` and waits for its answer, the
    /// subscription id; items then come as notifications named `item`, and `unsubscribe`
    /// cancels. The generated stubs call this.
    pub async fn open(
        peer: &Peer,
        method: &str,
        params: Option<&RawValue>,
        item: &str,
        unsubscribe: &str,
        options: &CallOptions,
    ) -> Result<Self> {
        let config = peer.config();
        let (tx, rx) = mpsc::channel(config.stream_buffer.max(1));
        let end = Arc::new(StreamEnd::new(config.stream_buffer_bytes));
        let item: Arc<str> = item.into();
        let unsubscribe: Arc<str> = unsubscribe.into();
        let pending = PendingStream {
            item: item.clone(),
            tx,
            end: end.clone(),
            unsubscribe: unsubscribe.clone(),
        };
        let id = peer
            .open_stream(method, params, options, pending)
            .await?
            .into_raw()?;
        Ok(Self {
            peer: peer.clone(),
            id,
            item,
            unsubscribe,
            rx,
            end,
            done: false,
            _items: PhantomData,
        })
    }
}

impl<T> Subscription<T> {
    /// The subscription id the producer gave.
    pub fn id(&self) -> &RawValue {
        &self.id
    }

    /// The notification method the items come as.
    pub fn item_method(&self) -> &str {
        &self.item
    }

    /// Cancels the stream and waits for the producer's answer: `true` when it was running,
    /// `false` when it had ended already.
    pub async fn unsubscribe(mut self) -> Result<bool> {
        self.done = true;
        self.stop_routing();
        let params = unsubscribe_params(&self.id);
        let raw = self
            .peer
            .request_with(&self.unsubscribe, Some(params), &CallOptions::default())
            .await?;
        serde_json::from_str(raw.get()).map_err(Error::InvalidResult)
    }

    fn stop_routing(&self) {
        self.peer.shared.streams.close(&self.item, self.id.get());
    }

    /// Cancels the stream without waiting: stops routing its items and sends the
    /// unsubscribe call from a task of its own.
    fn cancel(&mut self) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        self.stop_routing();
        if !self.peer.is_connected() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (peer, method) = (self.peer.clone(), self.unsubscribe.clone());
        let params = unsubscribe_params(&self.id);
        runtime.spawn(async move {
            let options = CallOptions::default().timeout(UNSUBSCRIBE_TIMEOUT);
            if let Err(e) = peer.request_with(&method, Some(params), &options).await {
                tracing::debug!(peer = %peer.id(), %method, error = %e, "unsubscribe failed");
            }
        });
    }
}

fn unsubscribe_params(id: &RawValue) -> Box<RawValue> {
    RawValue::from_string(format!("[{}]", id.get())).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

impl<T: DeserializeOwned> Stream for Subscription<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Result<T>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(raw)) => {
                self.end
                    .buffered
                    .fetch_sub(raw.get().len(), std::sync::atomic::Ordering::AcqRel);
                Poll::Ready(Some(
                    serde_json::from_str(raw.get()).map_err(Error::InvalidResult),
                ))
            }
            Poll::Ready(None) if self.done => Poll::Ready(None),
            Poll::Ready(None) => {
                // Ended by the producer, by the connection, or for lagging (the reader has
                // cancelled the producer then): nothing left to cancel.
                self.done = true;
                Poll::Ready(self.end.take().map(Err))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: DeserializeOwned> futures_util::stream::FusedStream for Subscription<T> {
    fn is_terminated(&self) -> bool {
        self.done && self.rx.is_closed() && self.rx.is_empty()
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl<T> std::fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("peer", &self.peer.id())
            .field("id", &self.id.get())
            .field("item", &self.item)
            .field("done", &self.done)
            .finish()
    }
}
