//! What a deployment watches: one place that records connections, calls, bytes and stall
//! closes. With the `metrics` feature they go to the `metrics` crate facade (so any
//! exporter, Prometheus among them, reads them); without it every function here is empty.
//!
//! | name | kind | labels |
//! | --- | --- | --- |
//! | `volley_connections_opened_total` | counter | |
//! | `volley_connections_closed_total` | counter | `code` (the close code) |
//! | `volley_connections_open` | gauge | |
//! | `volley_calls_total` | counter | `direction` (`incoming`, `outgoing`), `method`, `outcome` |
//! | `volley_call_duration_seconds` | histogram | `direction`, `method` |
//! | `volley_bytes_received_total` / `volley_bytes_sent_total` | counter | |
//! | `volley_stall_closes_total` | counter | (peers closed with 1008 for not reading) |
//!
//! Outcomes: `ok`, `error` (an error object was answered), `cancelled`, and for outgoing
//! calls `timeout`, `disconnected`, `refused` (not sent: a local limit).

use std::time::Duration;

/// Which way a call went, seen from this end.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Direction {
    /// The peer called this end.
    Incoming,
    /// This end called the peer.
    Outgoing,
}

impl Direction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        }
    }
}

/// When something started, for its duration; nothing at all without the `metrics` feature
/// (no clock read per call).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Started(#[cfg(feature = "metrics")] std::time::Instant);

impl Started {
    pub(crate) fn now() -> Self {
        Self(
            #[cfg(feature = "metrics")]
            std::time::Instant::now(),
        )
    }

    pub(crate) fn elapsed(self) -> Duration {
        #[cfg(feature = "metrics")]
        return self.0.elapsed();
        #[cfg(not(feature = "metrics"))]
        Duration::ZERO
    }
}

/// A connection opened.
pub(crate) fn connection_opened() {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!("volley_connections_opened_total").increment(1);
        metrics::gauge!("volley_connections_open").increment(1.0);
    }
}

/// A connection closed with `code`.
pub(crate) fn connection_closed(code: u16) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!("volley_connections_closed_total", "code" => code.to_string())
            .increment(1);
        metrics::gauge!("volley_connections_open").decrement(1.0);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = code;
}

/// A call ended: a debug event in its span, and the metrics.
pub(crate) fn finished(
    direction: Direction,
    method: &str,
    outcome: &'static str,
    started: Started,
) {
    let took = started.elapsed();
    tracing::debug!(
        direction = direction.as_str(),
        outcome,
        ?took,
        "call finished"
    );
    call(direction, method, outcome, took);
}

/// A call ended.
fn call(direction: Direction, method: &str, outcome: &'static str, took: Duration) {
    #[cfg(feature = "metrics")]
    {
        let method = method.to_owned();
        metrics::counter!(
            "volley_calls_total",
            "direction" => direction.as_str(),
            "method" => method.clone(),
            "outcome" => outcome,
        )
        .increment(1);
        metrics::histogram!(
            "volley_call_duration_seconds",
            "direction" => direction.as_str(),
            "method" => method,
        )
        .record(took);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (direction, method, outcome, took);
}

/// `n` bytes of frames arrived.
pub(crate) fn received(n: usize) {
    #[cfg(feature = "metrics")]
    metrics::counter!("volley_bytes_received_total").increment(n as u64);
    #[cfg(not(feature = "metrics"))]
    let _ = n;
}

/// `n` bytes of frames were written.
pub(crate) fn sent(n: usize) {
    #[cfg(feature = "metrics")]
    metrics::counter!("volley_bytes_sent_total").increment(n as u64);
    #[cfg(not(feature = "metrics"))]
    let _ = n;
}

/// A peer that did not read its answers was closed.
pub(crate) fn stall_close() {
    #[cfg(feature = "metrics")]
    metrics::counter!("volley_stall_closes_total").increment(1);
}

/// The replay buffers of resumable sessions grew (or shrank, negative) by `delta` bytes.
pub(crate) fn replay_bytes(delta: i64) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("volley_replay_buffer_bytes").increment(delta as f64);
    #[cfg(not(feature = "metrics"))]
    let _ = delta;
}

/// A session lost its socket and waits for another (`true`), or stopped waiting.
pub(crate) fn session_waiting(waiting: bool) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("volley_sessions_waiting").increment(if waiting { 1.0 } else { -1.0 });
    #[cfg(not(feature = "metrics"))]
    let _ = waiting;
}
