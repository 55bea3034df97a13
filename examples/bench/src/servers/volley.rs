//! volley's benchmark server: the `Bench` trait, served with the builder's defaults (as it
//! ships: resumption offered, limits on, documents and /docs served).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::BoxError;
use crate::api::{AnswerClient, Bench, Broadcast, Driven, ListenerClient, ListenerFanout};
use crate::system;

/// The group the broadcast's listeners join.
pub(crate) const LISTENERS: &str = "listeners";

/// `note` notifications handled since the process started.
static NOTIFIED: AtomicU64 = AtomicU64::new(0);

struct Server;

impl Bench for Server {
    async fn add(&self, a: i64, b: i64) -> volley::Result<i64> {
        Ok(a + b)
    }
    async fn ask(&self, cx: &volley::Context, question: String) -> volley::Result<bool> {
        AnswerClient::new(cx.peer()).confirm(question).await
    }
    async fn note(&self, _seq: u64) {
        NOTIFIED.fetch_add(1, Ordering::Relaxed);
    }
    async fn notified(&self) -> volley::Result<u64> {
        Ok(NOTIFIED.load(Ordering::Relaxed))
    }
    async fn drive(
        &self,
        cx: &volley::Context,
        window: u32,
        millis: u64,
    ) -> volley::Result<Driven> {
        let start = Instant::now();
        // The callers look at a flag, not the clock, between calls: the clock is the load's
        // cost, not the calls'.
        let stop = Arc::new(AtomicBool::new(false));
        // In a set of its own, dropped (and so ended) with the call however the call ends.
        let mut timer = tokio::task::JoinSet::new();
        let flag = stop.clone();
        timer.spawn(async move {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            flag.store(true, Ordering::Relaxed);
        });
        let mut callers = tokio::task::JoinSet::new();
        for w in 0..i64::from(window) {
            let stub = AnswerClient::new(cx.peer());
            let stop = stop.clone();
            callers.spawn(async move {
                let mut calls = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let a = calls as i64;
                    let sum = stub.add(a, w).await?;
                    if sum != a + w {
                        return Err(wrong(format!("add({a}, {w}) answered {sum}")));
                    }
                    calls += 1;
                }
                Ok(calls)
            });
        }
        let mut calls = 0;
        while let Some(done) = callers.join_next().await {
            calls += done.map_err(|e| wrong(format!("a caller failed: {e}")))??;
        }
        Ok(Driven {
            calls,
            nanos: nanos(start.elapsed()),
        })
    }
    async fn blast(&self, cx: &volley::Context, millis: u64) -> volley::Result<u64> {
        let stop = Instant::now() + Duration::from_millis(millis);
        let stub = ListenerClient::new(cx.peer());
        let mut sent = 0;
        while Instant::now() < stop {
            stub.tick(sent).await?;
            sent += 1;
        }
        Ok(sent)
    }
    async fn listen(&self, cx: &volley::Context) -> volley::Result<bool> {
        Ok(cx.join(LISTENERS))
    }
    async fn broadcast(&self, cx: &volley::Context, seq: u64) -> volley::Result<Broadcast> {
        let start = Instant::now();
        let delivery = ListenerFanout::new(cx.peers().group(LISTENERS)).tick(seq)?;
        Ok(Broadcast {
            queued: delivery.queued,
            overflowed: delivery.overflowed.len(),
            gone: delivery.gone.len(),
            nanos: nanos(start.elapsed()),
        })
    }
    async fn open_files(&self) -> volley::Result<u64> {
        Ok(system::raise_nofile().soft)
    }
}

/// A wrong answer from the client, as the error `drive` fails with.
fn wrong(detail: String) -> volley::Error {
    volley::Error::Remote(volley::ErrorObject::owned(
        -32000,
        "wrong answer",
        Some(detail),
    ))
}

/// `d` in nanoseconds.
pub(super) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Serves until stdin closes.
pub(crate) async fn serve() -> Result<(), BoxError> {
    let server = volley::Server::builder()
        .add_service(Server.into_service())
        .add_remote_service::<AnswerClient>()
        .add_remote_service::<ListenerClient>()
        .build();
    let running = server.listen("127.0.0.1:0").await?;
    println!("{}", running.ws_url());
    super::parent_gone().await;
    running.shutdown().await;
    Ok(())
}
