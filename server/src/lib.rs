//! volley-server: serve volley connections over axum.
//!
//! [`Server::builder`] takes the [`Service`]s each connection serves and returns a [`Server`]
//! you can [`listen`](Server::listen) with on an address, or mount into an existing
//! `axum::Router` with [`Server::router`]. [`Server::peers`] is the registry of connected
//! peers, usable from anywhere in the program.
//!
//! Most users depend on the `volley` facade, which re-exports this crate's types.

mod assets;
mod builder;
mod docs_page;
mod documents;
mod peers;
mod transport;
mod typescript;

pub use assets::VOLLEY_JS;
pub use builder::{RunningServer, Server, ServerBuilder};
pub use peers::{PeerEvent, Peers};
pub use volley_core::Service;
pub use volley_core::docs::DocInfo;
