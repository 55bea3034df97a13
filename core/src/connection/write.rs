//! The writer: drains the outgoing queue, writes every ready frame, flushes once; pings for
//! keepalive; on close, writes what was queued and the close frame within a grace period.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::observe;
use crate::peer::{CloseReason, Queued, Shared};
use crate::transport::{BoxError, Transport};

/// How long the writer keeps trying once the connection is closing (a peer that stopped
/// reading must not hold a connection open).
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Runs a transport operation; once the connection is closing it gets [`CLOSE_GRACE`] more.
async fn guarded(
    closed: &CancellationToken,
    op: impl Future<Output = Result<(), BoxError>>,
) -> Result<(), BoxError> {
    tokio::pin!(op);
    tokio::select! {
        biased;
        r = &mut op => r,
        _ = closed.cancelled() => match tokio::time::timeout(CLOSE_GRACE, op).await {
            Ok(r) => r,
            Err(_) => Err("the peer stopped reading".into()),
        },
    }
}

/// A timer that first fires one `every` from now, or none when keepalive is off.
pub(super) fn keepalive_timer(every: Option<Duration>) -> Option<tokio::time::Interval> {
    every.map(|every| {
        let mut timer = tokio::time::interval_at(Instant::now() + every, every);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        timer
    })
}

/// The next keepalive tick, or never when keepalive is off.
pub(super) async fn tick(timer: &mut Option<tokio::time::Interval>) {
    match timer {
        Some(timer) => {
            timer.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Ends the connection after the socket refused a write (1006: nothing more can be sent).
fn write_failed(shared: &Shared, what: &str, e: &BoxError) {
    tracing::debug!(peer = %shared.id, error = %e, "{what} failed; closing");
    shared.shutdown(CloseReason {
        code: 1006,
        reason: format!("write failed: {e}"),
    });
}

/// Marks the writer finished however it ends.
struct Finished(CancellationToken);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

pub(super) async fn write_loop(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Queued>,
    mut transport: impl Transport,
) {
    let _finished = Finished(shared.finished.clone());
    let closed = shared.closed.clone();
    let mut healthy = true;
    let mut keepalive = keepalive_timer(shared.config.ping_interval);
    loop {
        let first = tokio::select! {
            biased;
            m = rx.recv() => m,
            _ = closed.cancelled() => None,
            _ = tick(&mut keepalive) => {
                if let Err(e) = guarded(&closed, transport.ping()).await {
                    write_failed(&shared, "ping", &e);
                    healthy = false;
                    break;
                }
                continue;
            }
        };
        let Some(first) = first else {
            break;
        };
        observe::sent(first.text.len());
        let mut result = guarded(&closed, transport.feed(first.text)).await;
        // Coalesce: take whatever is queued; then let the other ready tasks (handlers about to
        // answer) run once and take what they queued, so one flush carries many frames.
        let mut yielded = false;
        while result.is_ok() {
            match rx.try_recv() {
                Ok(q) => {
                    observe::sent(q.text.len());
                    result = guarded(&closed, transport.feed(q.text)).await;
                }
                Err(_) if !yielded => {
                    yielded = true;
                    tokio::task::yield_now().await;
                }
                Err(_) => break,
            }
        }
        if result.is_ok() {
            result = guarded(&closed, transport.flush()).await;
        }
        if let Err(e) = result {
            write_failed(&shared, "write", &e);
            healthy = false;
            break;
        }
    }
    // Closing: write what was already queued (answers, a last notification; not requests,
    // whose callers were told `Disconnected`), then the close frame, all within the grace.
    let finish = async {
        if healthy {
            while let Ok(q) = rx.try_recv() {
                if !q.is_call && transport.feed(q.text).await.is_err() {
                    return;
                }
            }
            let _ = transport.flush().await;
        }
        let reason = shared.close_reason().unwrap_or(CloseReason {
            code: 1000,
            reason: String::new(),
        });
        transport.close(reason).await;
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, finish).await;
}
