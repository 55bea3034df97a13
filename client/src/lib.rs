//! volley-client: dial a volley (or any JSON-RPC 2.0 WebSocket) server, serve traits to it,
//! and call its traits over the same socket.
//!
//! Most users depend on the `volley` facade, which re-exports [`Client`].

mod builder;
mod client;
mod dial;
mod error;
mod reconnect;
mod tls;
mod websocket;

pub use builder::ClientBuilder;
pub use client::Client;
pub use error::ConnectError;
pub use reconnect::{ConnectionState, Reconnect, Reconnected};
pub use volley_core::Resumption;

/// rustls, at the version [`ClientBuilder::tls_config`] takes.
pub use rustls;
