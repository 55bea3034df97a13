//! Invoking a method: a built-in one, or one from the service's jsonrpsee method table.

use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::FutureExt;
use jsonrpsee::core::server::{BoundedSubscriptions, MethodSink, SubscriptionState};
use jsonrpsee::core::traits::IdProvider;
use jsonrpsee::{ConnectionId, MethodCallback};
use jsonrpsee_types::{Id, Params, SubscriptionId};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::builtin::Builtin;
use crate::context::Context;
use crate::error::{ErrorObject, codes, error_object, panic_text};
use crate::message;
use crate::service::Service;

/// What an incoming method name resolved to, looked up once by the reader.
pub(crate) enum Target {
    /// `rpc.ping` or `rpc.discover`.
    Builtin(Builtin),
    /// A method of the service, by its registered name.
    Method(&'static str, MethodCallback),
}

impl Target {
    /// Resolves `method`; `None` when this peer does not serve it.
    pub(crate) fn resolve(service: &Service, method: &str) -> Option<Self> {
        if let Some(builtin) = Builtin::lookup(method, service) {
            return Some(Target::Builtin(builtin));
        }
        service
            .methods()
            .method_with_name(method)
            .map(|(name, callback)| Target::Method(name, callback.clone()))
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Target::Builtin(builtin) => builtin.name(),
            Target::Method(name, _) => name,
        }
    }
}

/// An incoming request or notification, owned so it can move into a task.
pub(crate) struct Incoming {
    /// For a request: its id as written, and its tracking for `rpc.cancel`. `None` for a
    /// notification.
    pub(crate) request: Option<(Box<RawValue>, (u64, CancellationToken))>,
    pub(crate) target: Target,
    pub(crate) params: Params<'static>,
}

/// What a connection needs to serve streams: a bound on how many run at once, and their ids.
pub(crate) struct StreamSlots {
    bound: BoundedSubscriptions,
    ids: StreamIds,
}

impl StreamSlots {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            bound: BoundedSubscriptions::new(u32::try_from(max).unwrap_or(u32::MAX)),
            ids: StreamIds::default(),
        }
    }
}

/// Subscription ids: 1, 2, 3... per connection (exact in JavaScript; only this connection
/// can name its subscriptions, so they need not be unguessable).
#[derive(Debug, Default)]
struct StreamIds(AtomicU64);

impl IdProvider for StreamIds {
    fn next_id(&self) -> SubscriptionId<'static> {
        SubscriptionId::Num(self.0.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// Frames a subscription's sink holds before its producer waits (the connection's outgoing
/// queue is the real buffer).
const SINK_FRAMES: usize = 16;

/// A handler's outcome, before the request id is put in.
pub(crate) enum Reply {
    /// A full response from jsonrpsee; `exact` when it already carries the request's id as
    /// written, otherwise it was built with `"id":null` and the id is spliced in. A stream's
    /// subscribe answer comes with its items, to be sent after the answer.
    Jsonrpsee {
        json: Box<RawValue>,
        exact: bool,
        is_error: bool,
        items: Option<mpsc::Receiver<Box<RawValue>>>,
    },
    /// A result or an error object.
    Payload(Result<Box<RawValue>, ErrorObject>),
}

impl Reply {
    /// `ok`, or `error` when the answer is an error object.
    pub(crate) fn outcome(&self) -> &'static str {
        let is_error = match self {
            Reply::Jsonrpsee { is_error, .. } => *is_error,
            Reply::Payload(result) => result.is_err(),
        };
        if is_error { "error" } else { "ok" }
    }

    /// A stream's items, to forward once the answer is queued.
    pub(crate) fn take_items(&mut self) -> Option<mpsc::Receiver<Box<RawValue>>> {
        match self {
            Reply::Jsonrpsee { items, .. } => items.take(),
            Reply::Payload(_) => None,
        }
    }

    pub(crate) fn into_frame(self, id: &str) -> String {
        match self {
            Reply::Jsonrpsee {
                json, exact: true, ..
            } => String::from(Box::<str>::from(json)),
            Reply::Jsonrpsee {
                json, exact: false, ..
            } => message::with_id(&json, id),
            Reply::Payload(Ok(result)) => message::success(id, result.get()),
            Reply::Payload(Err(err)) => message::failure(Some(id), &err),
        }
    }
}

/// The id to hand jsonrpsee so that its response carries the request's id byte for byte:
/// a plain unsigned integer, or a string without escapes. Other ids (negative, fractional,
/// beyond 2^64, escaped) become `Id::Null` and are spliced in afterwards.
fn exact_id(raw: Option<&RawValue>) -> Option<Id<'static>> {
    let text = raw?.get();
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return (!inner.contains('\\')).then(|| Id::Str(Cow::Owned(inner.to_owned())));
    }
    // A JSON number that parses as a u64 has no sign, fraction, exponent or leading zero, so
    // jsonrpsee writes it back exactly as it came.
    text.parse().ok().map(Id::Number)
}

/// Runs the target; a panic in the handler becomes -32603 and leaves the connection usable.
pub(crate) async fn invoke(
    service: &Service,
    conn_id: ConnectionId,
    streams: &StreamSlots,
    target: Target,
    params: Params<'static>,
    id: Option<&RawValue>,
    cx: Context,
) -> Reply {
    let method = target.name();
    let callback = match target {
        Target::Builtin(builtin) => return Reply::Payload(Ok(builtin.answer(service))),
        Target::Method(name, callback) => {
            if let Err(required) = service.authorized(name, &cx) {
                tracing::debug!(
                    method = name,
                    required,
                    "refused by the authorization policy"
                );
                return Reply::Payload(Err(error_object(
                    codes::FORBIDDEN,
                    format!("`{name}` requires `{required}`"),
                )));
            }
            callback
        }
    };
    // Per call: the context (which reaches the connection's extensions) and the connection
    // id. The connection's own extensions are not copied into every call.
    let mut ext = http::Extensions::new();
    ext.insert(cx);
    ext.insert(conn_id);
    let exact = exact_id(id);
    let (rpc_id, exact) = match exact {
        Some(id) => (id, true),
        None => (Id::Null, false),
    };
    let max = usize::MAX;
    let reply = |response: jsonrpsee::MethodResponse| Reply::Jsonrpsee {
        is_error: response.is_error(),
        json: response.into_json(),
        exact,
        items: None,
    };
    let fut = async {
        match callback {
            MethodCallback::Sync(cb) => reply(cb(rpc_id, params, max, ext)),
            MethodCallback::Async(cb) => reply(cb(rpc_id, params, conn_id, max, ext).await),
            MethodCallback::Unsubscription(cb) => reply(cb(rpc_id, params, conn_id, max, ext)),
            MethodCallback::Subscription(cb) => {
                let Some(permit) = streams.bound.acquire() else {
                    let max = streams.bound.max();
                    let detail = format!("this connection already runs {max} streams");
                    return Reply::Payload(Err(error_object(codes::TOO_MANY_STREAMS, detail)));
                };
                let (tx, mut rx) = mpsc::channel(SINK_FRAMES);
                let state = SubscriptionState {
                    conn_id,
                    id_provider: &streams.ids,
                    subscription_permit: permit,
                };
                let response = cb(rpc_id, params, MethodSink::new(tx), state, ext).await;
                // Accepting (or refusing) wrote the answer into the sink ahead of any item; it
                // is the same as `response`, which alone is there when the callback gave up.
                let is_error = response.is_error();
                let json = rx.try_recv().unwrap_or_else(|_| response.into_json());
                Reply::Jsonrpsee {
                    json,
                    exact,
                    is_error,
                    items: (!is_error).then_some(rx),
                }
            }
        }
    };
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(reply) => reply,
        Err(panic) => {
            let what = panic_text(&*panic, "handler panicked");
            tracing::error!(method, panic = %what, "handler panicked");
            Reply::Payload(Err(error_object(
                codes::INTERNAL_ERROR,
                format!("handler panicked: {what}"),
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn only_ids_that_round_trip_are_handed_to_jsonrpsee() {
        assert!(matches!(exact_id(Some(&raw("7"))), Some(Id::Number(7))));
        assert!(matches!(exact_id(Some(&raw(r#""ab c""#))), Some(Id::Str(s)) if s == "ab c"));
        for other in [
            "-0",
            "-1",
            "1.5",
            "1e3",
            "18446744073709551616",
            r#""a\"b""#,
            "null",
        ] {
            assert!(exact_id(Some(&raw(other))).is_none(), "{other}");
        }
        assert!(exact_id(None).is_none());
    }
}
