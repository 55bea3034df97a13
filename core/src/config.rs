//! [`PeerConfig`]: per-connection settings shared by the server and the client.

use std::time::Duration;

/// Limits and defaults for one connection. Both ends use the same settings type; hand it to
/// `ServerBuilder::peer_config` or `ClientBuilder::peer_config`:
///
/// ```
/// use std::time::Duration;
/// let config = volley_core::PeerConfig::default()
///     .request_timeout(Duration::from_secs(5))
///     .max_concurrent_requests(16);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PeerConfig {
    pub(crate) request_timeout: Duration,
    pub(crate) max_concurrent_requests: usize,
    pub(crate) max_waiting_requests: usize,
    pub(crate) outbound_queue: usize,
    pub(crate) max_batch_len: usize,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) max_pending_calls: usize,
    pub(crate) write_stall_timeout: Duration,
    pub(crate) overflow: Overflow,
    pub(crate) max_streams: usize,
    pub(crate) stream_buffer: usize,
    pub(crate) stream_buffer_bytes: usize,
}

/// What a fan-out send (to a group, a user, everyone) does for a recipient whose outgoing
/// queue is full, that is `outbound_queue` frames behind: the send never waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Overflow {
    /// Close that connection with 1008 (`too slow`): it learns it missed something, and its
    /// client can reconnect and catch up. The default. This also ends a resumable session
    /// that is waiting for its socket when that many frames pile up for it meanwhile.
    #[default]
    Close,
    /// Leave that recipient out of this message and keep the connection: for data where
    /// only the latest value matters (samples, positions).
    Skip,
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
            max_pending_calls: 256,
            write_stall_timeout: Duration::from_secs(30),
            overflow: Overflow::Close,
            max_streams: 1024,
            stream_buffer: 1024,
            stream_buffer_bytes: 1024 * 1024,
        }
    }
}

impl PeerConfig {
    /// Deadline for an outgoing call when the call gives none (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Incoming requests and notifications running at once on one connection (default 128;
    /// 0 counts as 1). A handler answered at its first poll runs in the reader, and only
    /// while a slot is free; it takes the slot if it has to wait.
    pub fn max_concurrent_requests(mut self, n: usize) -> Self {
        self.max_concurrent_requests = n;
        self
    }

    /// Incoming requests read and waiting for a running slot (default 128). When these are
    /// full too, the connection stops reading until a request finishes: backpressure, never a
    /// drop. While requests only wait, the connection keeps reading, so answers to the
    /// running handlers' own calls back to this peer still arrive.
    pub fn max_waiting_requests(mut self, n: usize) -> Self {
        self.max_waiting_requests = n;
        self
    }

    /// Outgoing frames waiting for the writer (default 1024; 0 counts as 1). When full,
    /// callers and handlers wait for room, and `try_` notifications fail with `Error::Busy`.
    pub fn outbound_queue(mut self, frames: usize) -> Self {
        self.outbound_queue = frames;
        self
    }

    /// Most elements accepted in one incoming batch (default 1024); a bigger batch is answered
    /// with one error (-32010) without being parsed further.
    pub fn max_batch_len(mut self, n: usize) -> Self {
        self.max_batch_len = n;
        self
    }

    /// Calls to the peer waiting for an answer at once (default 256, as jsonrpsee's client);
    /// one more fails at once with `Error::TooManyPendingCalls` without being sent. Batch
    /// calls count one each.
    pub fn max_pending_calls(mut self, n: usize) -> Self {
        self.max_pending_calls = n;
        self
    }

    /// How long an answer may wait for room in the outgoing queue (default 30 s). A peer that
    /// keeps sending requests but never reads the answers fills the queue; past this it is
    /// closed with 1008, instead of holding its running slots for ever.
    pub fn write_stall_timeout(mut self, timeout: Duration) -> Self {
        self.write_stall_timeout = timeout;
        self
    }

    /// What a fan-out send does for this connection when its outgoing queue is full
    /// (default [`Overflow::Close`]). One connection's send ([`Peer::notify`]) waits for room
    /// instead; its `try_` form fails with `Error::Busy`.
    ///
    /// [`Peer::notify`]: crate::Peer::notify
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Streams this connection serves at once (default 1024, as jsonrpsee); one more is
    /// refused with -32015 (`Too many streams`).
    pub fn max_streams(mut self, n: usize) -> Self {
        self.max_streams = n;
        self
    }

    /// Items of one consumed stream held until the code reading it takes them (default
    /// 1024; 0 counts as 1). A consumer that falls further behind gets `Error::Lagged`
    /// and the stream is cancelled, instead of stopping the socket for every other call.
    pub fn stream_buffer(mut self, items: usize) -> Self {
        self.stream_buffer = items;
        self
    }

    /// Bytes of items of one consumed stream held until the code reading it takes them
    /// (default 1 MiB; an empty buffer takes one item of any size). Past it the stream ends
    /// with `Error::Lagged`, as past [`PeerConfig::stream_buffer`] items.
    pub fn stream_buffer_bytes(mut self, bytes: usize) -> Self {
        self.stream_buffer_bytes = bytes;
        self
    }

    /// Keepalive (default 30 s): a WebSocket ping goes out this often, and a connection from
    /// which nothing at all (no frame, no pong) has arrived for twice this long is closed as
    /// dead, failing its pending calls with `Disconnected`. `None` turns it off.
    pub fn ping_interval(mut self, every: Option<Duration>) -> Self {
        self.ping_interval = every;
        self
    }
}

/// Session resumption (PROTOCOL.md, "Session resumption"): a connection whose socket drops
/// keeps its calls, answers and notifications, and carries on when the client comes back
/// with the session's id and token. Both builders take it; the client ignores `grace_period`
/// (the server's is the one that counts).
///
/// ```
/// use std::time::Duration;
/// let resumption = volley_core::Resumption::default()
///     .grace_period(Duration::from_secs(60))
///     .max_replay_bytes(512 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Resumption {
    pub(crate) grace_period: Duration,
    pub(crate) max_replay_bytes: usize,
}

impl Default for Resumption {
    fn default() -> Self {
        Self {
            grace_period: Duration::from_secs(30),
            max_replay_bytes: 256 * 1024,
        }
    }
}

impl Resumption {
    /// How long the server keeps a session whose socket was lost (default 30 s). Its
    /// handlers keep running and their answers wait; after it, the session ends and every
    /// call still waiting on either side fails.
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace_period = grace;
        self
    }

    /// Bytes of sent frames kept until the other end acknowledges them (default 256 KiB, per
    /// connection). When full, nothing more is written until an acknowledgement comes; the
    /// other end acknowledges every 32 frames and within 100 ms.
    pub fn max_replay_bytes(mut self, bytes: usize) -> Self {
        self.max_replay_bytes = bytes;
        self
    }

    /// The grace period.
    pub fn grace(&self) -> Duration {
        self.grace_period
    }

    /// The replay buffer's size.
    pub fn replay_bytes(&self) -> usize {
        self.max_replay_bytes
    }
}
