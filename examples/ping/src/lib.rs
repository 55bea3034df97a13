//! The classic WebSocket ping demo, done with volley: the server answers the JSON-RPC request
//! `ping` with `"pong"`, and the page at `/` pings it every five seconds.
//!
//! ```text
//! cargo run -p example-ping -- --addr 127.0.0.1:8080
//! ```
//!
//! Then open `http://127.0.0.1:8080/`. The page calls `ping` through `volley.js`, which every
//! volley server serves at `/volley.js`; any other JSON-RPC 2.0 client can call `ping` on
//! `ws://127.0.0.1:8080/ws` just the same.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

/// What the server offers.
#[volley::rpc]
pub trait Ping {
    /// Answers `"pong"`.
    async fn ping(&self) -> volley::Result<String>;
}

/// The server's implementation of [`Ping`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Pong;

impl Ping for Pong {
    async fn ping(&self) -> volley::Result<String> {
        Ok("pong".to_owned())
    }
}

/// The page served at `/`.
pub const INDEX_HTML: &str = include_str!("index.html");

/// The volley server: serves [`Ping`] on `/ws`.
pub fn server() -> volley::Server {
    volley::Server::builder()
        .add_service(Pong.into_service())
        .build()
}

/// The whole app: `server`'s WebSocket endpoint plus the page at `/`.
pub fn app(server: &volley::Server) -> Router {
    server.router().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}
