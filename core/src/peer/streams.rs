//! The consuming side of streams (PROTOCOL.md, "Streams"): which incoming notifications are
//! items of a stream this peer subscribed to, and where they go.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::error::{Error, ErrorObject};

/// How a stream ended, when it did not simply finish.
#[derive(Debug, Default)]
pub(crate) struct StreamEnd {
    error: Mutex<Option<Error>>,
}

impl StreamEnd {
    fn set(&self, error: Error) {
        let mut e = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if e.is_none() {
            *e = Some(error);
        }
    }

    /// The error the stream ended with, once.
    pub(crate) fn take(&self) -> Option<Error> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A subscribe call waiting for its answer: where its items will go.
pub(crate) struct PendingStream {
    /// The notification method its items come as.
    pub(crate) item: Arc<str>,
    pub(crate) tx: mpsc::Sender<Box<RawValue>>,
    pub(crate) end: Arc<StreamEnd>,
    /// The method that cancels it.
    pub(crate) unsubscribe: Arc<str>,
}

struct Route {
    tx: mpsc::Sender<Box<RawValue>>,
    end: Arc<StreamEnd>,
    unsubscribe: Arc<str>,
}

/// What [`Streams::take`] did with a notification.
pub(crate) enum Took {
    /// Not an item of a stream consumed here: for the handlers.
    NotOurs,
    /// Delivered (or it ended its stream).
    Taken,
    /// Its consumer fell behind: the stream is ended here, and the producer should be told
    /// with this unsubscribe method and params.
    Lagged(Arc<str>, Box<RawValue>),
}

/// Routes by item method and subscription id (its JSON text).
type Routes = HashMap<(Arc<str>, Box<str>), Route>;

/// The streams this peer consumes, by item method and subscription id (its JSON text).
#[derive(Default)]
pub(crate) struct Streams {
    routes: Mutex<Routes>,
    /// How many routes there are, read without the lock on every incoming notification.
    count: AtomicUsize,
}

/// An item notification's params: `{subscription, result}` or `{subscription, error}`.
#[derive(Deserialize)]
struct ItemParams<'a> {
    #[serde(borrow)]
    subscription: &'a RawValue,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<ErrorObject>,
}

impl Streams {
    fn lock(&self) -> MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts routing items of the subscription `id` (the subscribe call's result).
    pub(crate) fn open(&self, pending: PendingStream, id: &RawValue) {
        let mut routes = self.lock();
        routes.insert(
            (pending.item, id.get().into()),
            Route {
                tx: pending.tx,
                end: pending.end,
                unsubscribe: pending.unsubscribe,
            },
        );
        self.count.store(routes.len(), Ordering::Release);
    }

    /// Stops routing the subscription `id` (its consumer went away).
    pub(crate) fn close(&self, item: &str, id: &str) {
        let mut routes = self.lock();
        routes.remove(&(Arc::from(item), Box::from(id)));
        self.count.store(routes.len(), Ordering::Release);
    }

    /// Takes an incoming notification if it is an item (or the end) of a stream this peer
    /// consumes.
    pub(crate) fn take(&self, method: &str, params: Option<&RawValue>) -> Took {
        if self.count.load(Ordering::Acquire) == 0 {
            return Took::NotOurs;
        }
        let Some(params) = params else {
            return Took::NotOurs;
        };
        let Ok(item) = serde_json::from_str::<ItemParams<'_>>(params.get()) else {
            return Took::NotOurs;
        };
        let key = (Arc::from(method), Box::from(item.subscription.get()));
        let mut routes = self.lock();
        let Some(route) = routes.get(&key) else {
            // Not a stream of ours (any more: an item on its way when it was cancelled): the
            // handlers may serve a notification of that name; if none does, it is dropped.
            return Took::NotOurs;
        };
        let (ended, took) = match item.result {
            Some(result) => match route.tx.try_send(result.to_owned()) {
                Ok(()) => (false, Took::Taken),
                Err(mpsc::error::TrySendError::Full(_)) => {
                    route.end.set(Error::Lagged);
                    let params = RawValue::from_string(format!("[{}]", item.subscription.get()))
                        .unwrap_or_else(|_| RawValue::NULL.to_owned());
                    (true, Took::Lagged(route.unsubscribe.clone(), params))
                }
                // The consumer is gone and its cancel is on its way.
                Err(mpsc::error::TrySendError::Closed(_)) => (true, Took::Taken),
            },
            None => {
                if let Some(error) = item.error {
                    route.end.set(Error::Remote(error));
                }
                (true, Took::Taken)
            }
        };
        if ended {
            routes.remove(&key);
            self.count.store(routes.len(), Ordering::Release);
        }
        took
    }

    /// Ends every stream with `error()` (the connection closed, or came back without its
    /// session).
    pub(crate) fn fail_all(&self, error: impl Fn() -> Error) {
        let mut routes = self.lock();
        for (_, route) in routes.drain() {
            route.end.set(error());
        }
        self.count.store(0, Ordering::Release);
    }
}
