//! The server side: [`Calc`], [`server`] and [`spawn_ticker`].

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::{BrowserClient, Calculator};

/// The server's implementation of [`Calculator`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Calc;

impl Calculator for Calc {
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64> {
        Ok(a + b)
    }

    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
        BrowserClient::new(cx.peer()).confirm(question).await
    }
}

/// The volley server: serves [`Calculator`] on `/ws` and calls [`Browser`](crate::Browser) on its clients.
pub fn server() -> volley::Server {
    server_with(ServerOptions::default())
}

/// How the server is run: open or with a token, plain or over TLS.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// When set, a WebSocket upgrade must carry `Authorization: Bearer <token>` or
    /// `?token=<token>`: without one it gets 401, with another 403.
    pub token: Option<String>,
    /// When set, the server speaks `https://` and `wss://` itself.
    pub tls: Option<volley::Tls>,
}

/// Who passed the token check (the claims of every authenticated connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorized;

/// [`server`] with a token check and TLS as `options` say.
pub fn server_with(options: ServerOptions) -> volley::Server {
    let mut builder = volley::Server::builder()
        .add_service(Calc.into_service())
        .add_remote_service::<BrowserClient>();
    if let Some(secret) = options.token {
        builder = builder.authenticate(move |handshake: volley::Handshake| {
            let secret = secret.clone();
            async move {
                let token = handshake
                    .bearer_token()
                    .map(str::to_owned)
                    .or_else(|| handshake.query("token"))
                    .ok_or_else(|| volley::Refusal::unauthorized("a token is needed"))?;
                if same(token.as_bytes(), secret.as_bytes()) {
                    Ok(Authorized)
                } else {
                    Err(volley::Refusal::forbidden("wrong token"))
                }
            }
        });
    }
    if let Some(tls) = options.tls {
        builder = builder.tls(tls);
    }
    builder.build()
}

/// Compares two secrets in time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Sends every peer connected to `peers` the notification `tick(n)` every `every`, with `n`
/// counting up from 1, until the returned task is aborted.
///
/// Ticks are queued without waiting (`try_tick`): a peer whose outgoing queue is full (it
/// stopped reading) misses that tick, so one such client never holds up the others.
pub fn spawn_ticker(peers: volley::Peers, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut clock = tokio::time::interval_at(Instant::now() + every, every);
        clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
        for n in 1.. {
            clock.tick().await;
            for peer in peers.list() {
                if let Err(e) = BrowserClient::new(&peer).try_tick(n) {
                    tracing::debug!(peer = %peer.id(), error = %e, "tick not sent");
                }
            }
        }
    })
}

/// `app` with a `/metrics` route in the Prometheus text format, fed by volley's counters and
/// histograms (the `metrics` feature). Installs the process's `metrics` recorder, so call it
/// once; it fails when another recorder is installed already.
pub fn with_metrics(
    app: volley::axum::Router,
) -> Result<volley::axum::Router, metrics_exporter_prometheus::BuildError> {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    // Histograms are compacted by the upkeep, which an exporter without its own HTTP
    // listener leaves to its user.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let metrics = volley::axum::routing::get(move || std::future::ready(handle.render()));
    Ok(app.route("/metrics", metrics))
}
