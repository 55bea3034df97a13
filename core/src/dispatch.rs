//! Invoking a method: a built-in one, or one from the service's jsonrpsee method table.

use std::sync::atomic::{AtomicU64, Ordering};

use std::pin::Pin;
use std::task::{self, Poll};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use jsonrpsee::core::server::{
    BoundedSubscriptions, MethodResponse, MethodSink, SubscriptionState,
};
use jsonrpsee::core::traits::IdProvider;
use jsonrpsee::{ConnectionId, MethodCallback};
use jsonrpsee_types::{Id, Params, SubscriptionId};

use crate::params::CallParams;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use tokio::sync::mpsc;

use crate::builtin::Builtin;
use crate::context::Context;
use crate::error::{ErrorObject, codes, error_object, panic_text};
use crate::frame::{Encoded, Frame};
use crate::message;
use crate::running::Tracked;
use crate::service::{Fallback, Native, Service, Unhandled};

/// What an incoming method name resolved to, looked up once by the reader. A generated
/// method is borrowed from the service while the reader serves it (no reference count
/// taken and given back per call), owned once the call moves into a task.
pub(crate) enum Target<'a> {
    /// `rpc.ping` or `rpc.discover`.
    Builtin(Builtin),
    /// A method `#[volley::rpc]` generated, called directly.
    Native(&'static str, Cow<'a, Native>),
    /// A method of the service's jsonrpsee table, by its registered name.
    Method(&'static str, MethodCallback),
    /// A method nothing serves, for the service's fallback; the method's name as sent.
    Fallback(Box<str>, Fallback),
}

/// What logs and metrics call a call to the fallback, whatever its method.
pub(crate) const UNHANDLED: &str = "(unhandled)";

impl<'a> Target<'a> {
    /// Resolves `method`; `None` when this peer does not serve it.
    pub(crate) fn resolve(service: &'a Service, method: &str) -> Option<Self> {
        if let Some(builtin) = Builtin::lookup(method, service) {
            return Some(Target::Builtin(builtin));
        }
        if let Some((name, native)) = service.native(method) {
            return Some(Target::Native(name, Cow::Borrowed(native)));
        }
        if let Some((name, callback)) = service.methods().method_with_name(method) {
            return Some(Target::Method(name, callback.clone()));
        }
        service
            .fallback()
            .map(|fallback| Target::Fallback(method.into(), fallback.clone()))
    }

    /// Whether serving it needs the call's [`Context`]: a generated method that takes one,
    /// a jsonrpsee method (which may read it from its extensions) or the fallback.
    pub(crate) fn takes_context(&self) -> bool {
        match self {
            Target::Builtin(_) => false,
            Target::Native(_, native) => native.takes_context,
            Target::Method(..) | Target::Fallback(..) => true,
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Target::Builtin(builtin) => builtin.name(),
            Target::Native(name, _) | Target::Method(name, _) => name,
            Target::Fallback(..) => UNHANDLED,
        }
    }

    /// The same target, owned.
    pub(crate) fn into_owned(self) -> Target<'static> {
        match self {
            Target::Builtin(builtin) => Target::Builtin(builtin),
            Target::Native(name, native) => Target::Native(name, Cow::Owned(native.into_owned())),
            Target::Method(name, callback) => Target::Method(name, callback),
            Target::Fallback(method, fallback) => Target::Fallback(method, fallback),
        }
    }
}

/// An incoming request or notification: borrowed from its frame while the reader serves it,
/// owned ([`Incoming::into_owned`]) to move into a task.
pub(crate) struct Incoming<'a> {
    /// For a request: its id as written. `None` for a notification.
    pub(crate) request: Option<Cow<'a, str>>,
    /// Its tracking for `rpc.cancel`, once it is tracked (before the reader reads on while it
    /// has not finished).
    pub(crate) tracked: Option<Tracked>,
    pub(crate) target: Target<'a>,
    pub(crate) params: CallParams<'a>,
}

impl Incoming<'_> {
    /// The same call, owning its id and params (copied out of the frame).
    pub(crate) fn into_owned(self) -> Incoming<'static> {
        Incoming {
            request: self.request.map(|id| Cow::Owned(id.into_owned())),
            tracked: self.tracked,
            target: self.target.into_owned(),
            params: self.params.into_owned(),
        }
    }
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
    Payload(Result<Encoded, ErrorObject>),
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

    pub(crate) fn into_frame(self, id: &str) -> Frame {
        match self {
            Reply::Jsonrpsee {
                json, exact: true, ..
            } => String::from(Box::<str>::from(json)).into(),
            Reply::Jsonrpsee {
                json, exact: false, ..
            } => message::with_id(&json, id).into(),
            Reply::Payload(Ok(result)) => result.into_answer(id),
            Reply::Payload(Err(err)) => message::failure(Some(id), &err).into(),
        }
    }
}

/// The id to hand jsonrpsee so that its response carries the request's id byte for byte:
/// a plain unsigned integer, or a string without escapes. Other ids (negative, fractional,
/// beyond 2^64, escaped) become `Id::Null` and are spliced in afterwards.
fn exact_id(raw: Option<&str>) -> Option<Id<'static>> {
    let text = raw?;
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return (!inner.contains('\\')).then(|| Id::Str(Cow::Owned(inner.to_owned())));
    }
    // A JSON number that parses as a u64 has no sign, fraction, exponent or leading zero, so
    // jsonrpsee writes it back exactly as it came.
    text.parse().ok().map(Id::Number)
}

/// A call begun: answered already (a built-in, a refusal, a synchronous method), or running.
pub(crate) enum Begun {
    Done(Reply),
    Running(Pending),
}

/// A running call: the handler's future, polled for its [`Reply`].
pub(crate) struct Pending(Running);

enum Running {
    /// jsonrpsee's own future; `exact` as in [`Reply::Jsonrpsee`].
    Response(BoxFuture<'static, MethodResponse>, bool),
    /// A stream's subscribe, which collects its answer from the sink.
    Reply(BoxFuture<'static, Reply>),
    /// A generated method called directly.
    Native(BoxFuture<'static, Result<Encoded, ErrorObject>>),
}

impl Future for Pending {
    type Output = Reply;
    fn poll(mut self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<Reply> {
        match &mut self.0 {
            Running::Response(fut, exact) => {
                let exact = *exact;
                fut.poll_unpin(cx).map(|r| response_reply(r, exact))
            }
            Running::Reply(fut) => fut.poll_unpin(cx),
            Running::Native(fut) => fut.poll_unpin(cx).map(Reply::Payload),
        }
    }
}

fn response_reply(response: MethodResponse, exact: bool) -> Reply {
    Reply::Jsonrpsee {
        is_error: response.is_error(),
        json: response.into_json(),
        exact,
        items: None,
    }
}

/// The reply for a handler that panicked: -32603, the connection stays usable.
fn panicked(method: &str, panic: &(dyn std::any::Any + Send)) -> Reply {
    let what = panic_text(panic, "handler panicked");
    tracing::error!(method, panic = %what, "handler panicked");
    Reply::Payload(Err(error_object(
        codes::INTERNAL_ERROR,
        format!("handler panicked: {what}"),
    )))
}

/// Starts the target without waiting: a synchronous method runs to its reply, an
/// asynchronous one is returned unpolled. A panic becomes -32603. `cx` makes the call's
/// context, called only when something needs it (the method takes it, or the authorization
/// policy must see it).
pub(crate) fn start(
    service: &Service,
    conn_id: ConnectionId,
    streams: &StreamSlots,
    target: Target<'_>,
    params: CallParams<'_>,
    id: Option<&str>,
    cx: impl FnOnce() -> Context,
) -> Begun {
    let method = target.name();
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        begin(service, conn_id, streams, target, params, id, cx)
    }))
    .unwrap_or_else(|panic| Begun::Done(panicked(method, &*panic)))
}

/// Polls a running call once; a panic ends it with -32603.
pub(crate) fn poll_once(
    method: &str,
    pending: &mut Pending,
    cx: &mut task::Context<'_>,
) -> Poll<Reply> {
    std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *pending).poll(cx)))
        .unwrap_or_else(|panic| Poll::Ready(panicked(method, &*panic)))
}

/// Runs a call to its end; a panic becomes -32603.
pub(crate) async fn finish(method: &str, begun: Begun) -> Reply {
    match begun {
        Begun::Done(reply) => reply,
        Begun::Running(pending) => match AssertUnwindSafe(pending).catch_unwind().await {
            Ok(reply) => reply,
            Err(panic) => panicked(method, &*panic),
        },
    }
}

fn begin(
    service: &Service,
    conn_id: ConnectionId,
    streams: &StreamSlots,
    target: Target<'_>,
    params: CallParams<'_>,
    id: Option<&str>,
    cx: impl FnOnce() -> Context,
) -> Begun {
    let name = target.name();
    let required = match target {
        Target::Builtin(_) => None,
        _ => service.requirement(name),
    };
    let cx = (required.is_some() || target.takes_context()).then(cx);
    if let (Some(required), Some(cx)) = (required, &cx)
        && let Err(required) = service.authorized(required, cx)
    {
        tracing::debug!(
            method = name,
            required,
            "refused by the authorization policy"
        );
        return Begun::Done(Reply::Payload(Err(error_object(
            codes::FORBIDDEN,
            format!("`{name}` requires `{required}`"),
        ))));
    }
    let callback = match target {
        Target::Builtin(builtin) => {
            return Begun::Done(Reply::Payload(Ok(builtin.answer(service))));
        }
        Target::Native(_, native) => {
            return Begun::Running(Pending(Running::Native((native.call)(params, cx))));
        }
        Target::Fallback(method, fallback) => {
            let call = Unhandled {
                method: method.into(),
                params: params
                    .as_str()
                    .and_then(|p| RawValue::from_string(p.to_owned()).ok()),
                notification: id.is_none(),
            };
            // Made above: the fallback takes it (`takes_context`).
            return match cx {
                Some(cx) => Begun::Running(Pending(Running::Native(fallback(cx, call)))),
                None => Begun::Done(Reply::Payload(Err(crate::private::no_context()))),
            };
        }
        Target::Method(_, callback) => callback,
    };
    // jsonrpsee's callbacks take their params owned.
    let params = Params::new(params.as_str()).into_owned();
    // Per call: the context (which reaches the connection's extensions) and the connection
    // id. The connection's own extensions are not copied into every call.
    let mut ext = http::Extensions::new();
    if let Some(cx) = cx {
        ext.insert(cx);
    }
    ext.insert(conn_id);
    let (rpc_id, exact) = match exact_id(id) {
        Some(id) => (id, true),
        None => (Id::Null, false),
    };
    let max = usize::MAX;
    match callback {
        MethodCallback::Sync(cb) => {
            Begun::Done(response_reply(cb(rpc_id, params, max, ext), exact))
        }
        MethodCallback::Unsubscription(cb) => {
            Begun::Done(response_reply(cb(rpc_id, params, conn_id, max, ext), exact))
        }
        MethodCallback::Async(cb) => Begun::Running(Pending(Running::Response(
            cb(rpc_id, params, conn_id, max, ext),
            exact,
        ))),
        MethodCallback::Subscription(cb) => {
            let Some(permit) = streams.bound.acquire() else {
                let max = streams.bound.max();
                let detail = format!("this connection already runs {max} streams");
                return Begun::Done(Reply::Payload(Err(error_object(
                    codes::TOO_MANY_STREAMS,
                    detail,
                ))));
            };
            let (tx, mut rx) = mpsc::channel(SINK_FRAMES);
            let state = SubscriptionState {
                conn_id,
                id_provider: &streams.ids,
                subscription_permit: permit,
            };
            let accepting = cb(rpc_id, params, MethodSink::new(tx), state, ext);
            Begun::Running(Pending(Running::Reply(
                async move {
                    let response = accepting.await;
                    // Accepting (or refusing) wrote the answer into the sink ahead of any
                    // item; it is the same as `response`, which alone is there when the
                    // callback gave up.
                    let is_error = response.is_error();
                    let json = rx.try_recv().unwrap_or_else(|_| response.into_json());
                    Reply::Jsonrpsee {
                        json,
                        exact,
                        is_error,
                        items: (!is_error).then_some(rx),
                    }
                }
                .boxed(),
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_that_round_trip_are_handed_to_jsonrpsee() {
        assert!(matches!(exact_id(Some("7")), Some(Id::Number(7))));
        assert!(matches!(exact_id(Some(r#""ab c""#)), Some(Id::Str(s)) if s == "ab c"));
        for other in [
            "-0",
            "-1",
            "1.5",
            "1e3",
            "18446744073709551616",
            r#""a\"b""#,
            "null",
        ] {
            assert!(exact_id(Some(other)).is_none(), "{other}");
        }
        assert!(exact_id(None).is_none());
    }
}
