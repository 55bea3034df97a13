//! # volley
//!
//! Bidirectional JSON-RPC 2.0 over WebSocket. A service is a Rust trait; `#[volley::rpc]`
//! turns it into a handler registration (`into_service()`), a typed stub (`<Trait>Client`)
//! and a description of its methods. Either end of one socket serves traits and calls the
//! other end's traits: the browser calls the server, and the server calls the browser back,
//! on the same connection, in the middle of a call if it likes.
//!
//! ```no_run
//! /// What the server offers.
//! #[volley::rpc]
//! pub trait Calculator {
//!     /// Adds two numbers.
//!     async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
//!     /// Asks the calling client to confirm, and reports its answer.
//!     async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
//! }
//!
//! /// What every connected client offers.
//! #[volley::rpc]
//! pub trait Browser {
//!     /// Asks the user a yes/no question.
//!     async fn confirm(&self, question: String) -> volley::Result<bool>;
//! }
//!
//! struct Calc;
//! impl Calculator for Calc {
//!     async fn add(&self, a: i64, b: i64) -> volley::Result<i64> { Ok(a + b) }
//!     async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
//!         BrowserClient::new(cx.peer()).confirm(question).await  // call the caller back
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = volley::Server::builder().serve(Calc.into_service()).build();
//! let running = server.listen("127.0.0.1:8080").await?;
//! for peer in server.peers().list() {
//!     let _ = BrowserClient::new(&peer).confirm("still there?".into()).await;
//! }
//! # running.shutdown().await; Ok(()) }
//! ```
//!
//! ## Concepts
//! - [`Peer`]: the other end of one connection; every call resolves with a result, a
//!   [remote error](Error::Remote) or a local error ([`Error::Disconnected`], [`Error::Timeout`]).
//! - [`Context`]: what a handler knows about its caller; take `cx: &volley::Context` as the
//!   first parameter.
//! - [`Service`]: the methods one side serves, from `into_service()` or a jsonrpsee `RpcModule`.
//! - [`Server`] (feature `server`): axum routes, peer registry, `listen`/`into_router`.
//! - [`Client`] (feature `client`): dial a server, serve traits, call the server's traits.
//! - [`docs`]: AsyncAPI 3.0 and OpenRPC 1.3.2 documents of both directions, generated from the
//!   traits; a server serves them at `/asyncapi.json` and `/openrpc.json`, and answers
//!   `rpc.discover` with the OpenRPC one.
//!
//! The wire protocol is plain JSON-RPC 2.0; see `PROTOCOL.md` in the repository.

pub use volley_core::{
    Batch, CloseReason, Context, DuplicateMethod, Error, ErrorObject, Peer, PeerConfig, PeerId,
    RemoteService, Result, Service, describe, error::codes,
};

/// serde, at the version volley is built on (parameter and result types implement its
/// `Serialize` and `Deserialize`).
pub use volley_core::serde;

/// schemars, at the version volley is built on. Derive [`JsonSchema`] on the types your
/// methods take and return so the generated documents describe them; bring the crate into
/// scope for the derive with `use volley::schemars;`.
pub use volley_core::schemars;
/// Derive it on parameter and result types (`#[derive(volley::JsonSchema)]`, with
/// `use volley::schemars;` in the module).
pub use volley_core::schemars::JsonSchema;

/// jsonrpsee, at the version volley is built on (for hand-written `RpcModule`s).
pub use volley_core::jsonrpsee;

/// AsyncAPI 3.0 and OpenRPC 1.3.2 documents rendered from trait descriptions, without a
/// server: `volley::docs::asyncapi(&info, &[server_traits], &[client_traits], url)` and
/// `volley::docs::openrpc(...)` return `serde_json::Value`s. A running server serves the same
/// documents at `/asyncapi.json` and `/openrpc.json` (`Server::asyncapi`, `Server::openrpc`).
pub use volley_core::docs;

pub use volley_core::typescript::TypeScriptOptions;
/// Generates a typed TypeScript client over volley.js; what it contains and how schemas map
/// to TypeScript is described in [`volley_core::typescript`].
pub use volley_core::typescript::generate as typescript;

#[cfg(feature = "macros")]
pub use volley_macros::rpc;

#[cfg(feature = "server")]
pub use volley_server::{PeerEvent, Peers, RunningServer, Server, ServerBuilder};

#[cfg(feature = "client")]
pub use volley_client::{Client, ClientBuilder, ConnectError};

#[doc(hidden)]
pub mod __private {
    pub use volley_core::describe::{SchemaGenerator, ServiceDescription};
    pub use volley_core::private::*;
    pub use volley_core::{Context, Error, ErrorObject, Peer, RemoteService, Result, Service};
}
