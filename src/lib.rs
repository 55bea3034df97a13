//! # volley
//!
//! Bidirectional JSON-RPC 2.0 over WebSocket. A service is a Rust trait; `#[volley::rpc]`
//! turns it into a handler registration (`into_service()`), a typed stub (`<Trait>Client`)
//! and a description of its methods. Either end of one socket serves traits and calls the
//! other end's traits: the browser calls the server, and the server calls the browser back,
//! on the same connection, in the middle of a call if it likes. On the wire it is plain
//! JSON-RPC 2.0 (see `PROTOCOL.md` in the repository).
//!
//! ## Contents
//!
//! 1. [Services](#services): a trait, its implementation, `into_service()`.
//! 2. [Calling back](#calling-back): the [`Context`] and the caller's [`Peer`].
//! 3. [The registry](#the-registry): every connected peer, from anywhere.
//! 4. [Clients](#clients): the Rust [`Client`] serves and calls too.
//! 5. [Documents and TypeScript](#documents-and-typescript): [`codegen`].
//! 6. [The browser](#the-browser): `volley.js`, `/docs`.
//! 7. [Limits](#limits): [`PeerConfig`] and the server's own.
//! 8. [Feature flags](#feature-flags).
//!
//! ## Services
//!
//! A trait marked `#[volley::rpc]` is a service. Implement it with plain `async fn`s, turn the
//! implementation into a [`Service`] with `into_service()`, and add it to a server (or a
//! client) with `add_service`. [`Server::serve`] runs the server until Ctrl-C;
//! [`Server::listen`] runs it in the background; [`Server::router`] mounts it in your axum app.
//!
//! ```no_run
//! /// What the server offers.
//! #[volley::rpc]
//! pub trait Calculator {
//!     /// Adds two numbers.
//!     async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;
//! }
//!
//! struct Calc;
//! impl Calculator for Calc {
//!     async fn add(&self, a: i64, b: i64) -> volley::Result<i64> { Ok(a + b) }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let server = volley::Server::builder().add_service(Calc.into_service()).build();
//! server.serve("127.0.0.1:8080").await // WebSocket at ws://127.0.0.1:8080/ws
//! # }
//! ```
//!
//! ## Calling back
//!
//! A handler that takes `cx: &volley::Context` first can call the peer that called it, through
//! the stub of a trait that peer serves, and await the answer before it answers itself. Every
//! call resolves: with a result, a [remote error](Error::Remote), or a local error that says
//! what happened ([`Error::Disconnected`], [`Error::Timeout`], ...).
//!
//! ```
//! /// What every connected client offers.
//! #[volley::rpc]
//! pub trait Browser {
//!     /// Asks the user a yes/no question.
//!     async fn confirm(&self, question: String) -> volley::Result<bool>;
//! }
//!
//! #[volley::rpc]
//! pub trait Asker {
//!     /// Asks the calling client and reports its answer.
//!     async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
//! }
//!
//! struct Server;
//! impl Asker for Server {
//!     async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
//!         BrowserClient::new(cx.peer()).confirm(question).await
//!     }
//! }
//! ```
//!
//! ## The registry, groups and fan-out
//!
//! [`Server::peers`] (and [`Context::peers`] in a handler) is the server's [`Peers`]: the
//! connected peers, the groups they joined and the users they belong to, with
//! [`PeerEvent`]s as they come and go. Sends go to an [`Audience`], through the typed
//! `<Trait>Fanout` stub every trait gets: a notification is encoded once for all, a call
//! gives one outcome per recipient ([`Outcomes`]), each under its own deadline:
//!
//! ```no_run
//! # #[volley::rpc] pub trait Browser {
//! #     async fn confirm(&self, q: String) -> volley::Result<bool>;
//! #     #[rpc(notification)] async fn tick(&self, n: u64);
//! # }
//! # async fn run(server: volley::Server) -> volley::Result<()> {
//! let peers = server.peers();
//! BrowserFanout::new(peers.group("lobby")).tick(1)?;          // queued for each, no waiting
//! let outcomes = BrowserFanout::new(peers.all()).confirm("still there?".into())?.await;
//! for (id, yes) in outcomes.succeeded() {
//!     println!("{id}: {yes}");
//! }
//! # Ok(()) }
//! ```
//!
//! ## Streams
//!
//! A method marked `#[rpc(stream)]` returns an [`ItemStream`]; its stub returns a
//! [`Subscription`], a `Stream` that cancels the producer when dropped. The wire is
//! jsonrpsee's subscription convention ([`stream`]), so jsonrpsee's client consumes it too.
//!
//! ## Clients
//!
//! [`Client`] dials a server, serves traits to it and calls its traits over the same socket:
//!
//! ```no_run
//! # #[volley::rpc] pub trait Calculator { async fn add(&self, a: i64, b: i64) -> volley::Result<i64>; }
//! # #[volley::rpc] pub trait Browser { async fn confirm(&self, q: String) -> volley::Result<bool>; }
//! # struct Me; impl Browser for Me { async fn confirm(&self, _: String) -> volley::Result<bool> { Ok(true) } }
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = volley::Client::builder()
//!     .add_service(Me.into_service())
//!     .connect("ws://127.0.0.1:8080/ws")
//!     .await?;
//! let sum = CalculatorClient::new(client.peer()).add(1, 2).await?;
//! # Ok(()) }
//! ```
//!
//! ## Documents and TypeScript
//!
//! The traits one end serves and the traits the other end serves (its *remote services*,
//! declared with `add_remote_service::<Stub>()`) make an [`codegen::Api`]. From it
//! [`codegen`] renders, one function each, an AsyncAPI 3.0 document
//! ([`codegen::asyncapi`]), an OpenRPC 1.3.2 document ([`codegen::openrpc`], also the answer
//! to `rpc.discover`) and a typed TypeScript client ([`codegen::typescript()`]). A server
//! serves the documents at `/asyncapi.json` and `/openrpc.json`; its `Api` is
//! [`Server::api`]:
//!
//! ```
//! # #[volley::rpc] pub trait Calculator { async fn add(&self, a: i64, b: i64) -> volley::Result<i64>; }
//! # #[volley::rpc] pub trait Browser { async fn confirm(&self, q: String) -> volley::Result<bool>; }
//! # struct Calc; impl Calculator for Calc { async fn add(&self, a: i64, b: i64) -> volley::Result<i64> { Ok(a + b) } }
//! let server = volley::Server::builder()
//!     .add_service(Calc.into_service())
//!     .add_remote_service::<BrowserClient>()
//!     .build();
//! let openrpc = volley::codegen::openrpc(server.api(), Some("ws://localhost:8080/ws"));
//! let ts = volley::codegen::typescript(server.api(), &volley::codegen::TypeScriptOptions::new());
//! assert_eq!(openrpc["methods"][0]["name"], "add");
//! assert!(ts.contains("confirm"));
//! ```
//!
//! Derive [`JsonSchema`] on parameter and result types (with `use volley::schemars;`) so the
//! documents describe them; types without it still work and get an empty schema.
//!
//! ## The browser
//!
//! Every server serves `volley.js` (a zero-dependency ES module) at `/volley.js`, its type
//! declarations at `/volley.d.ts`, and `/docs`, a page listing every method both ways with a
//! console that calls the server and answers its calls by hand:
//!
//! ```html
//! <script type="module">
//!   import { connect } from "/volley.js";
//!   const peer = await connect("/ws", {
//!     handlers: { confirm: ({ question }) => window.confirm(question) },
//!   });
//!   console.log(await peer.call("add", { a: 1, b: 2 }));
//! </script>
//! ```
//!
//! ## Limits
//!
//! Per connection ([`PeerConfig`], on both ends): a call deadline (30 s), 128 running and 128
//! waiting incoming requests, then backpressure; 1024 queued outgoing frames; batches of at
//! most 1024; a keepalive ping every 30 s. On the server ([`ServerBuilder`]): 16 MiB messages,
//! 4 KiB read buffers, an optional connection cap, and an origin allowlist. `PROTOCOL.md`
//! lists every limit and what a peer sees at it.
//!
//! ```
//! use std::time::Duration;
//! let server = volley::Server::builder()
//!     .peer_config(
//!         volley::PeerConfig::default()
//!             .request_timeout(Duration::from_secs(5))
//!             .max_concurrent_requests(16),
//!     )
//!     .max_message_size(1 << 20)
//!     .max_connections(10_000)
//!     .allowed_origins(["https://app.example.com"])
//!     .build();
//! # let _ = server;
//! ```
//!
//! ## Feature flags
//!
//! | feature | default | what |
//! | --- | --- | --- |
//! | `server` | yes | [`Server`] (axum), re-exported [`axum`] |
//! | `client` | yes | [`Client`] (tokio-tungstenite) |
//! | `macros` | yes | `#[volley::rpc]` |
//! | `metrics` | no | counters and histograms through the `metrics` crate facade (see the README) |

/// Fan-out: the registry, audiences, replies, and the backplane seam that joins the nodes of
/// a cluster ([`fanout::Backplane`]).
pub use volley_core::fanout;
pub use volley_core::{
    Audience, Batch, CallError, CallOptions, Claims, CloseReason, Context, Delivery,
    DuplicateMethodError, Error, ErrorDescription, ErrorObject, LinkState, NodeId, Outcomes,
    Overflow, Peer, PeerConfig, PeerEvent, PeerId, Peers, RemoteFanout, RemoteService, Replies,
    Reply, Result, Resumption, RpcError, Service, Unhandled, describe, error::codes,
};
pub use volley_core::{ItemSender, ItemStream, Subscription, stream};

/// Two connected peers in one process, without sockets: unit tests of services, callbacks
/// included, in a plain `#[tokio::test]` (see [`testing::pair`]).
pub use volley_core::testing;

/// The session-resumption extension's wire pieces (PROTOCOL.md, "Session resumption"): its
/// query parameters, the `rpc.session` hello and the acknowledgement cadence.
pub use volley_core::resume;

/// Generators: AsyncAPI 3.0 and OpenRPC 1.3.2 documents and a TypeScript client, each
/// rendered from an [`Api`](codegen::Api) by one function.
pub mod codegen {
    pub use volley_codegen::{
        ASYNCAPI_VERSION, Api, Info, OPENRPC_VERSION, Side, TypeScriptOptions, asyncapi,
        example_value, openrpc, typescript,
    };
}

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

#[cfg(feature = "macros")]
pub use volley_macros::{RpcError, rpc};

#[cfg(feature = "server")]
pub use volley_server::{
    Handshake, Refusal, RunningServer, Server, ServerBuilder, Tls, VOLLEY_D_TS, VOLLEY_JS, axum,
};

/// rustls, at the version volley's TLS options take (`Tls::from_config`,
/// `ClientBuilder::tls_config`).
#[cfg(feature = "client")]
pub use volley_client::rustls;

#[cfg(feature = "client")]
pub use volley_client::{
    Client, ClientBuilder, ConnectError, ConnectionState, Reconnect, Reconnected,
};

#[doc(hidden)]
pub mod __private {
    pub use volley_core::describe::{SchemaGenerator, ServiceDescription};
    pub use volley_core::private::*;
    pub use volley_core::{Context, Error, ErrorObject, Peer, RemoteService, Result, Service};
}
