//! The consuming side of streams (PROTOCOL.md, "Streams"): which incoming notifications are
//! items of a stream this peer subscribed to, and where they go.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::error::{Error, ErrorObject, codes};

/// What a consumed stream's route and its [`Subscription`](crate::Subscription) share: how it
/// ended, when it did not simply finish, and the bytes of items waiting to be taken.
#[derive(Debug)]
pub(crate) struct StreamEnd {
    error: Mutex<Option<Error>>,
    /// Bytes of items delivered and not yet taken by the consumer.
    pub(crate) buffered: AtomicUsize,
    /// The most bytes it may hold (an empty buffer takes one item of any size).
    limit: usize,
}

impl StreamEnd {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            error: Mutex::new(None),
            buffered: AtomicUsize::new(0),
            limit,
        }
    }

    fn set(&self, error: Error) {
        let mut e = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if e.is_none() {
            *e = Some(error);
        }
    }

    /// Ends it with `Disconnected` (its connection closed as it opened).
    pub(crate) fn set_disconnected(&self) {
        self.set(Error::Disconnected);
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
    /// Its consumer fell behind, or went away without cancelling (its subscribe call was
    /// dropped just as the answer came): the stream is ended here, and the producer should
    /// be told with this unsubscribe method and params.
    Cancel(Arc<str>, Box<RawValue>),
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
    /// An error object, `null` (a plain end), or anything else a producer sends (jsonrpsee's
    /// servers send a string).
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// The producer's end message as an error, if it carries one.
fn end_error(error: Option<&RawValue>) -> Option<Error> {
    let error = error?;
    if let Ok(object) = serde_json::from_str::<ErrorObject>(error.get()) {
        return Some(Error::Remote(object));
    }
    let text =
        serde_json::from_str::<String>(error.get()).unwrap_or_else(|_| error.get().to_owned());
    (text != "null")
        .then(|| Error::Remote(ErrorObject::owned(codes::INTERNAL_ERROR, text, None::<()>)))
}

impl Streams {
    fn lock(&self) -> MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts routing items of the subscription `id` (the subscribe call's result).
    pub(crate) fn open(&self, pending: PendingStream, id: &str) {
        let mut routes = self.lock();
        routes.insert(
            (pending.item, id.into()),
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
    pub(crate) fn take(&self, method: &str, params: Option<&str>) -> Took {
        if self.count.load(Ordering::Acquire) == 0 {
            return Took::NotOurs;
        }
        let Some(params) = params else {
            return Took::NotOurs;
        };
        let Ok(item) = serde_json::from_str::<ItemParams<'_>>(params) else {
            return Took::NotOurs;
        };
        let key = (Arc::from(method), Box::from(item.subscription.get()));
        let mut routes = self.lock();
        let Some(route) = routes.get(&key) else {
            // Not a stream of ours (any more: an item on its way when it was cancelled): the
            // handlers may serve a notification of that name; if none does, it is dropped.
            return Took::NotOurs;
        };
        let cancel = || {
            let params = RawValue::from_string(format!("[{}]", item.subscription.get()))
                .unwrap_or_else(|_| RawValue::NULL.to_owned());
            Took::Cancel(route.unsubscribe.clone(), params)
        };
        let (ended, took) = match item.result {
            Some(result) => {
                let size = result.get().len();
                let end = &route.end;
                let held = end.buffered.load(Ordering::Acquire);
                if held > 0 && held + size > end.limit {
                    end.set(Error::Lagged);
                    (true, cancel())
                } else {
                    end.buffered.fetch_add(size, Ordering::AcqRel);
                    match route.tx.try_send(result.to_owned()) {
                        Ok(()) => (false, Took::Taken),
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            end.set(Error::Lagged);
                            (true, cancel())
                        }
                        // Nobody reads it: its subscribe call was dropped after the answer.
                        Err(mpsc::error::TrySendError::Closed(_)) => (true, cancel()),
                    }
                }
            }
            None => {
                if let Some(error) = end_error(item.error) {
                    route.end.set(error);
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
