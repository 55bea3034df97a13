//! Per-connection settings shared by the server and the client.

use std::time::Duration;

/// Limits and defaults for one connection. Both ends use the same settings type.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Deadline for an outgoing call when the call gives none (default 30 s).
    pub request_timeout: Duration,
    /// Incoming requests and notifications running at once on one connection (default 128).
    pub max_concurrent_requests: usize,
    /// Incoming requests read and waiting for a running slot (default 128). When these are
    /// full too, the connection stops reading until a request finishes: backpressure, never a
    /// drop. While requests only wait, the connection keeps reading, so answers to the
    /// running handlers' own calls back to this peer still arrive.
    pub max_waiting_requests: usize,
    /// Outgoing frames waiting for the writer (default 1024). When full, callers and handlers
    /// wait for room.
    pub outbound_queue: usize,
    /// Most elements accepted in one incoming batch (default 1024).
    pub max_batch_len: usize,
    /// Keepalive (default 30 s): a WebSocket ping goes out this often, and a connection from
    /// which nothing at all (no frame, no pong) has arrived for twice this long is closed as
    /// dead, failing its pending calls with `Disconnected`. `None` turns it off.
    pub ping_interval: Option<Duration>,
}

impl Default for PeerConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 128,
            max_waiting_requests: 128,
            outbound_queue: 1024,
            max_batch_len: 1024,
            ping_interval: Some(Duration::from_secs(30)),
        }
    }
}
