//! A live dashboard, done with volley: the server streams samples of its own process (CPU,
//! memory, connections) to every page that subscribes, and the page at `/` plots them as
//! they arrive.
//!
//! ```text
//! cargo run -p example-dashboard -- --addr 127.0.0.1:8080
//! ```
//!
//! Then open `http://127.0.0.1:8080/` (in several tabs: each has its own stream, at its own
//! pace, and each tab counts as a connection).
//!
//! The stream is one trait method, [`Dashboard::subscribe_load`], marked `#[rpc(stream)]`:
//! it returns a [`volley::ItemStream`], and volley sends each item as a `load` notification
//! until the page cancels (`unsubscribe_load`) or goes away. On the wire that is the
//! subscription convention jsonrpsee uses, so jsonrpsee's own client consumes it unchanged;
//! in the page, `volley.js` turns it into an async iterable (`for await`).

mod probe;

use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use futures_util::stream;
use serde::{Deserialize, Serialize};
use volley::schemars;

pub use probe::Probe;

/// The shortest interval between samples a page may ask for, in milliseconds.
pub const MIN_INTERVAL_MS: u64 = 100;
/// The longest interval between samples, in milliseconds.
pub const MAX_INTERVAL_MS: u64 = 60_000;
/// The JSON-RPC error code for an interval out of range; `data` is `{"min": .., "max": ..}`.
pub const INVALID_INTERVAL: i32 = 4001;

/// What the server offers.
#[volley::rpc]
pub trait Dashboard {
    /// Samples of the server's process, one every `interval_ms` milliseconds (100 to
    /// 60,000), the first one `interval_ms` after subscribing, until you unsubscribe
    /// (`unsubscribe_load`). Each comes as a `load` notification.
    #[rpc(stream)]
    async fn subscribe_load(
        &self,
        cx: &volley::Context,
        interval_ms: u64,
    ) -> Result<volley::ItemStream<Sample>, volley::ErrorObject>;
}

/// One sample of the server's process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sample {
    /// When it was taken, in milliseconds since the Unix epoch.
    pub t: u64,
    /// CPU used by the whole process since the previous sample, in percent of one core
    /// (above 100 when several cores were busy).
    pub cpu: f64,
    /// Resident memory, in KiB.
    pub rss_kib: u64,
    /// WebSocket connections open now.
    pub connections: usize,
}

/// The server's implementation of [`Dashboard`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Load;

impl Dashboard for Load {
    async fn subscribe_load(
        &self,
        cx: &volley::Context,
        interval_ms: u64,
    ) -> Result<volley::ItemStream<Sample>, volley::ErrorObject> {
        if !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&interval_ms) {
            return Err(volley::ErrorObject::owned(
                INVALID_INTERVAL,
                format!(
                    "interval_ms must be {MIN_INTERVAL_MS} to {MAX_INTERVAL_MS}, not {interval_ms}"
                ),
                Some(serde_json::json!({ "min": MIN_INTERVAL_MS, "max": MAX_INTERVAL_MS })),
            ));
        }
        let every = Duration::from_millis(interval_ms);
        let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let state = (timer, Probe::start(), cx.peers());
        let samples = stream::unfold(state, |(mut timer, mut probe, peers)| async move {
            timer.tick().await;
            let sample = probe.sample(peers.len());
            Some((sample, (timer, probe, peers)))
        });
        Ok(volley::ItemStream::new(samples))
    }
}

/// The page served at `/`.
pub const INDEX_HTML: &str = include_str!("index.html");

/// The volley server: serves [`Dashboard`] on `/ws`.
pub fn server() -> volley::Server {
    volley::Server::builder()
        .add_service(Load.into_service())
        .build()
}

/// The whole app: `server`'s routes (the WebSocket endpoint, `/volley.js`, `/docs`) plus the
/// page at `/`.
pub fn app(server: &volley::Server) -> Router {
    server.router().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}
