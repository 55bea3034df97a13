//! Invoking a method from the jsonrpsee method table, and volley's built-in `rpc.*` methods.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use jsonrpsee::MethodCallback;
use jsonrpsee_types::{Id, Params};
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use crate::connection::Conn;
use crate::context::Context;
use crate::error::{ErrorObject, codes, error_object};
use crate::message;

/// An incoming request (with `id`) or notification, owned so it can move into a task.
pub(crate) struct Incoming {
    pub(crate) id: Option<Box<RawValue>>,
    pub(crate) method: String,
    pub(crate) params: Option<Box<RawValue>>,
    pub(crate) tracked: Option<(u64, CancellationToken)>,
}

/// A handler's outcome, before the request id is put in.
pub(crate) enum Reply {
    /// A full response from jsonrpsee, written with `"id":null`.
    Jsonrpsee(Box<RawValue>),
    /// A result or an error object.
    Payload(Result<Box<RawValue>, ErrorObject>),
}

impl Reply {
    pub(crate) fn into_frame(self, id: &str) -> String {
        match self {
            Reply::Jsonrpsee(json) => message::with_id(&json, id),
            Reply::Payload(Ok(result)) => message::success(id, result.get()),
            Reply::Payload(Err(err)) => message::failure(Some(id), &err),
        }
    }
}

fn raw(s: &str) -> Box<RawValue> {
    RawValue::from_string(s.to_owned()).expect("valid JSON literal")
}

/// Runs `method`; a panic in the handler becomes -32603 and leaves the connection usable.
pub(crate) async fn invoke(
    conn: &Arc<Conn>,
    method: &str,
    params: Option<Box<RawValue>>,
    cx: Context,
) -> Reply {
    match method {
        "rpc.ping" => return Reply::Payload(Ok(raw("\"pong\""))),
        "rpc.discover" => {
            let doc = crate::discover::openrpc(&conn.service);
            return Reply::Payload(
                serde_json::value::to_raw_value(&doc)
                    .map_err(|e| error_object(codes::INTERNAL_ERROR, e.to_string())),
            );
        }
        "rpc.cancel" => return Reply::Payload(Ok(raw("null"))),
        _ => {}
    }
    let Some(callback) = conn.service.methods().method(method) else {
        return Reply::Payload(Err(error_object(
            codes::METHOD_NOT_FOUND,
            format!("no method named `{method}`"),
        )));
    };
    // Per call: the context (which reaches the connection's extensions) and the connection
    // id. The connection's own extensions are not copied into every call.
    let mut ext = http::Extensions::new();
    ext.insert(cx);
    ext.insert(conn.conn_id);
    let params = Params::new(params.as_deref().map(RawValue::get)).into_owned();
    let max = usize::MAX;
    let fut = async {
        match callback {
            MethodCallback::Sync(cb) => {
                Reply::Jsonrpsee(cb(Id::Null, params, max, ext).into_json())
            }
            MethodCallback::Async(cb) => Reply::Jsonrpsee(
                cb(Id::Null, params, conn.conn_id, max, ext)
                    .await
                    .into_json(),
            ),
            MethodCallback::Unsubscription(cb) => {
                Reply::Jsonrpsee(cb(Id::Null, params, conn.conn_id, max, ext).into_json())
            }
            MethodCallback::Subscription(_) => Reply::Payload(Err(error_object(
                codes::INTERNAL_ERROR,
                "jsonrpsee subscriptions are not served over volley connections; use notifications"
                    .to_owned(),
            ))),
        }
    };
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(reply) => reply,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "handler panicked".to_owned());
            tracing::error!(method, panic = %what, "handler panicked");
            Reply::Payload(Err(error_object(
                codes::INTERNAL_ERROR,
                format!("handler panicked: {what}"),
            )))
        }
    }
}
