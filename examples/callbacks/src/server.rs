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
    volley::Server::builder()
        .add_service(Calc.into_service())
        .add_remote_service::<BrowserClient>()
        .build()
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
