//! Calls in both directions over one socket, with volley.
//!
//! ```text
//! cargo run -p example-callbacks -- --addr 127.0.0.1:8080
//! cargo run -p example-callbacks --bin client -- --url ws://127.0.0.1:8080/ws
//! # with a token and TLS:
//! cargo run -p example-callbacks -- --token SECRET --tls-cert cert.pem --tls-key key.pem
//! cargo run -p example-callbacks --bin client -- --url wss://localhost:8080/ws --token SECRET --ca cert.pem
//! ```
//!
//! The server serves [`Calculator`]: `add(a, b)` and `ask(question)`. Every client serves
//! [`Browser`]: `confirm(question)` and the notification `tick(n)`. `ask` calls `confirm` on
//! the client that called it, in the middle of the call, and returns that client's answer;
//! a background task sends every connected client `tick(n)` once a second.
//!
//! The wire names are plain (`add`, `ask`, `confirm`, `tick`), so any JSON-RPC 2.0 client
//! that speaks WebSocket can take part: `clients/python_client.py` does, with nothing but
//! Python's standard library. The server takes `add` and `ask` params by name or by
//! position; it sends `confirm` and `tick` params by position (`Browser` declares
//! `params = "positional"`), so a client that takes no named params can answer it.
//!
//! - [`server`] builds the server ([`server_with`] with a token and TLS), [`with_metrics`]
//!   adds `/metrics`, and [`spawn_ticker`] starts the ticks (module `server`).
//! - [`run_client`] is what the `client` binary does (module `client`); [`run_repeat`] is its
//!   `--repeat` mode (module `repeat`).

mod client;
mod repeat;
mod server;

pub use client::{BoxError, ClientOptions, Console, Summary, run_client};
pub use repeat::{RepeatOptions, RepeatSummary, run_repeat};
pub use server::{
    Authorized, Calc, ServerOptions, server, server_with, spawn_ticker, with_metrics,
};

/// What the server offers.
#[volley::rpc]
pub trait Calculator {
    /// Adds two numbers.
    ///
    /// Safe to run twice: a client that reconnects sends it again if the answer was lost.
    #[rpc(idempotent)]
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64>;

    /// Asks the calling client to `confirm` the question, and returns its answer.
    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool>;
}

/// What every connected client offers the server. Its params travel by position
/// (`confirm(["Proceed?"])`, `tick([7])`), so the server can call back JSON-RPC peers that do
/// not take params by name.
#[volley::rpc(params = "positional")]
pub trait Browser {
    /// Answers a yes/no question.
    async fn confirm(&self, question: String) -> volley::Result<bool>;

    /// The server's clock: `n` counts up, once a second.
    #[rpc(notification)]
    async fn tick(&self, n: u64);
}
