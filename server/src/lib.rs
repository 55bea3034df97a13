//! volley-server: serve volley connections over axum.
//!
//! [`Server::builder`] takes the [`Service`]s each connection serves and returns a [`Server`]
//! you can [`serve`](Server::serve) on an address until Ctrl-C, [`listen`](Server::listen)
//! with in the background, or mount into an existing `axum::Router` with
//! [`Server::router`]. [`Server::peers`] is the registry of connected peers, usable from
//! anywhere in the program; [`Server::api`] is the contract its documents are rendered from.
//!
//! Most users depend on the `volley` facade, which re-exports this crate's types.

mod accept;
mod auth;
mod builder;
mod http;
mod listen;
mod origin;
mod peers;
mod server;
mod sessions;
mod settings;
mod tls;
mod upgrade;
mod ws;

pub use auth::{Handshake, Refusal};
pub use builder::ServerBuilder;
pub use http::assets::{VOLLEY_D_TS, VOLLEY_JS};
pub use listen::RunningServer;
pub use peers::{PeerEvent, Peers};
pub use server::Server;
pub use tls::Tls;

/// rustls, at the version [`Tls::from_config`] takes.
pub use rustls;
pub use volley_core::Service;

/// axum, at the version [`Server::router`] returns a `Router` of.
pub use axum;
