//! volley-core: the JSON-RPC 2.0 protocol and the per-connection peer engine shared by
//! volley's server and client. No sockets, no HTTP and no generators here: a transport hands
//! frames in and takes frames out ([`connection::spawn`], or
//! [`connection::spawn_websocket`] for any WebSocket library).
//!
//! Most users depend on the `volley` facade instead of this crate.
//!
//! - [`Peer`] calls the other end; [`Context`] is what a handler knows about its caller.
//! - [`Service`] is the set of methods one side serves; [`describe`] is the description of
//!   the traits behind it, which `volley-codegen` turns into documents.
//! - [`Error`] separates "the remote said no" ([`Error::Remote`]) from "no answer came".
//! - [`PeerConfig`] holds every per-connection limit.

mod admission;
mod builtin;
pub mod config;
pub mod connection;
mod context;
pub mod describe;
mod dispatch;
pub mod error;
pub mod fanout;
mod frame;
#[doc(hidden)]
pub mod fuzzing;
mod id;
mod message;
mod observe;
mod outbox;
pub mod params;
mod peer;
#[doc(hidden)]
pub mod private;
pub mod resume;
pub mod rpc_error;
mod running;
mod scalar;
mod scan;
mod service;
mod signal;
mod state;
pub mod stream;
pub mod testing;
pub mod transport;

pub use config::{Overflow, PeerConfig, Resumption};
pub use context::Context;
pub use error::{Error, ErrorObject, Result};
pub use fanout::{Audience, Delivery, Outcomes, PeerEvent, Peers, RemoteFanout, Replies, Reply};
pub use peer::{Batch, CallOptions, CloseReason, LinkState, NodeId, Peer, PeerId, RemoteService};
pub use rpc_error::{CallError, ErrorDescription, RpcError};
pub use service::{Authorizer, DuplicateMethodError, Service, Unhandled};
pub use state::Claims;
pub use stream::{ItemSender, ItemStream, Subscription};

/// jsonrpsee, re-exported at the version volley is built on.
pub use jsonrpsee;
/// jsonrpsee's message types (`ErrorObject`, `Params`, ...).
pub use jsonrpsee_types;
/// schemars, at the version volley is built on: derive `JsonSchema` on parameter and result
/// types so documents describe them.
pub use schemars;
/// serde, at the version volley is built on.
pub use serde;
