//! Errors: what a call can end with, and the JSON-RPC error objects on the wire.

use std::time::Duration;

pub use jsonrpsee_types::ErrorObjectOwned as ErrorObject;

/// Error codes volley uses on the wire.
///
/// The spec's own codes come first; volley-defined codes sit in the server-error range
/// `-32000..=-32099` and are listed in `PROTOCOL.md`.
pub mod codes {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i32 = -32700;
    /// The JSON sent is not a valid request object.
    pub const INVALID_REQUEST: i32 = -32600;
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// Invalid method parameters.
    pub const INVALID_PARAMS: i32 = -32602;
    /// Internal JSON-RPC error, including a handler that panicked.
    pub const INTERNAL_ERROR: i32 = -32603;
    /// The caller sent `rpc.cancel` for this request (same code as LSP's RequestCancelled).
    pub const REQUEST_CANCELLED: i32 = -32800;
    /// A batch had more elements than the connection allows.
    pub const BATCH_TOO_LARGE: i32 = -32010;
    /// A handler's own call to another peer failed locally (disconnected, timed out, cancelled).
    pub const UPSTREAM_FAILED: i32 = -32011;
    /// The peer is shutting down and no longer takes new requests.
    pub const SHUTTING_DOWN: i32 = -32012;
    /// The caller does not meet the method's requirement (`#[rpc(requires = "..")]`); the
    /// handler did not run.
    pub const FORBIDDEN: i32 = -32013;
    /// The method's own deadline (`#[rpc(timeout = "..")]`) passed: the handler was
    /// cancelled.
    pub const TIMED_OUT: i32 = -32014;
    /// The connection already runs as many streams as it allows (`PeerConfig::max_streams`).
    pub const TOO_MANY_STREAMS: i32 = -32015;

    /// The spec's message for one of its own codes ("Parse error", "Invalid Request", ...).
    pub fn message(code: i32) -> &'static str {
        match code {
            PARSE_ERROR => "Parse error",
            INVALID_REQUEST => "Invalid Request",
            METHOD_NOT_FOUND => "Method not found",
            INVALID_PARAMS => "Invalid params",
            INTERNAL_ERROR => "Internal error",
            REQUEST_CANCELLED => "Request cancelled",
            BATCH_TOO_LARGE => "Batch too large",
            UPSTREAM_FAILED => "Upstream call failed",
            SHUTTING_DOWN => "Shutting down",
            FORBIDDEN => "Forbidden",
            TIMED_OUT => "Timed out",
            TOO_MANY_STREAMS => "Too many streams",
            _ => "Server error",
        }
    }
}

/// Builds an error object for one of the codes in [`codes`], with the spec's message and a
/// human-readable detail in `data`.
pub fn error_object(code: i32, detail: impl Into<Option<String>>) -> ErrorObject {
    ErrorObject::owned(code, codes::message(code), detail.into())
}

/// What a call through a [`Peer`](crate::Peer) can end with, besides a result.
///
/// [`Error::Remote`] means the other side answered with a JSON-RPC error; every other variant
/// means no answer was obtained, and says why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The remote peer answered with a JSON-RPC error object (code, message, data).
    ///
    /// The request reached the other side and was refused or failed there; retrying the same
    /// request will usually fail the same way.
    #[error("remote error {}: {}", .0.code(), .0.message())]
    Remote(ErrorObject),
    /// The connection closed before an answer came, or was already closed when the call was
    /// made. Every call pending on a connection fails with this the moment it ends.
    ///
    /// Reconnect (or wait for the peer to reconnect) and call again if the call is idempotent.
    #[error("peer disconnected")]
    Disconnected,
    /// No connection is up right now and the session cannot resume (the client is
    /// reconnecting, or the server's socket was lost without resumption): the call was not
    /// sent. Fails at once, or after the client's `wait_for_connection` bound.
    #[error("not connected (reconnecting)")]
    NotConnected,
    /// The connection was lost, and the session it belonged to had expired when the client
    /// came back (the server kept it for its grace period only): the call may or may not have
    /// run on the other side. The client now runs on a new session.
    #[error("the session expired before the connection came back")]
    SessionExpired,
    /// No answer came within the call's deadline. The call was withdrawn and `rpc.cancel` sent.
    #[error("call timed out after {0:?}")]
    Timeout(Duration),
    /// The call was cancelled locally through its [`CallOptions::cancel`] token (a handler's
    /// `cx.cancellation()`, when its own caller gave up): it was withdrawn and `rpc.cancel`
    /// sent to the peer. (Dropping the call's future withdraws it the same way, with no value
    /// left to see.)
    ///
    /// [`CallOptions::cancel`]: crate::CallOptions::cancel
    #[error("call cancelled")]
    Cancelled,
    /// A stream's consumer fell more than `PeerConfig::stream_buffer` items behind: the
    /// stream was ended (and cancelled at the producer) rather than stall the connection.
    #[error("the stream's consumer fell too far behind")]
    Lagged,
    /// The outgoing queue is full and the call was made with `try_` semantics.
    #[error("outgoing queue full")]
    Busy,
    /// As many calls as `PeerConfig::max_pending_calls` (the number inside) already wait for
    /// an answer from this peer; the call was not sent. Wait for some to finish, or raise the
    /// limit.
    #[error("{0} calls to this peer already wait for an answer")]
    TooManyPendingCalls(usize),
    /// The parameters could not be encoded as JSON, or are not an array or object.
    #[error("could not encode params")]
    InvalidParams(#[source] serde_json::Error),
    /// The remote answered with a result that does not decode into the expected type.
    #[error("could not decode the result")]
    InvalidResult(#[source] serde_json::Error),
    /// The peer is connected to another node of the cluster, and that node cannot be
    /// reached: it stopped sending heartbeats (it died), the backplane cannot reach it (Redis
    /// is away), or this server has no backplane. The call was not made, or its answer is
    /// lost.
    #[error("node {node} cannot be reached: {reason}")]
    Unreachable {
        /// The peer's node.
        node: crate::id::NodeId,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// The JSON-RPC error object when the remote peer answered with an error.
    pub fn remote(&self) -> Option<&ErrorObject> {
        match self {
            Error::Remote(e) => Some(e),
            _ => None,
        }
    }

    /// True when no answer came because of the connection: it was lost before the answer
    /// came ([`Error::Disconnected`], [`Error::SessionExpired`]), was down when the call was
    /// made ([`Error::NotConnected`]), or is on a node that cannot be reached
    /// ([`Error::Unreachable`]).
    pub fn is_disconnected(&self) -> bool {
        matches!(
            self,
            Error::Disconnected
                | Error::NotConnected
                | Error::SessionExpired
                | Error::Unreachable { .. }
        )
    }

    /// True when the call ran out of time: the caller's deadline ([`Error::Timeout`]), or the
    /// method's own on the serving side (a remote -32014, Timed out).
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout(_) => true,
            Error::Remote(e) => e.code() == codes::TIMED_OUT,
            _ => false,
        }
    }
}

impl From<Error> for ErrorObject {
    /// A handler that returns a volley [`Error`] answers with: the remote error unchanged when it
    /// is [`Error::Remote`] (errors pass through a chain of calls), otherwise
    /// [`codes::UPSTREAM_FAILED`] with the local reason in `data`.
    fn from(e: Error) -> Self {
        match e {
            Error::Remote(obj) => obj,
            Error::InvalidResult(_) | Error::InvalidParams(_) => {
                error_object(codes::INTERNAL_ERROR, e.to_string())
            }
            other => error_object(codes::UPSTREAM_FAILED, other.to_string()),
        }
    }
}

/// `Result` with volley's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a caught panic said, when it said it with a string.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send), otherwise: &str) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| otherwise.to_owned())
}
