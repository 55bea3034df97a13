//! Reconnecting: the policy ([`Reconnect`]), what the client says about its connection
//! ([`ConnectionState`]), and the task that dials again after a socket is lost, resuming the
//! session when the server kept it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::watch;
use volley_core::connection::{Attach, Session, WsTransport};
use volley_core::resume::Hello;
use volley_core::{CloseReason, LinkState, Peer};

use crate::dial::{Ask, Dialer, Socket};
use crate::websocket::Tungstenite;

/// The client's session on tungstenite.
pub(crate) type WsSession = Session<WsTransport<Tungstenite, Socket>>;

/// How a client reconnects after its socket is lost: exponential backoff with full jitter
/// (each delay is uniform between zero and a ceiling that doubles from `initial_delay` up to
/// `max_delay`), for `max_attempts` attempts per outage or without end.
///
/// ```
/// use std::time::Duration;
/// let reconnect = volley_client::Reconnect::default()
///     .max_delay(Duration::from_secs(5))
///     .max_attempts(Some(20))
///     .wait_for_connection(Some(Duration::from_secs(2)));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Reconnect {
    pub(crate) initial_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) wait_for_connection: Option<Duration>,
    pub(crate) max_resends: u32,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_attempts: None,
            wait_for_connection: None,
            max_resends: 3,
        }
    }
}

impl Reconnect {
    /// The ceiling of the first delay (default 250 ms).
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The largest ceiling (default 10 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Attempts per outage before the client gives up and closes (default `None`: keep
    /// trying). Calls waiting then fail with `Disconnected`.
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// How long a call made while reconnecting (without a session to resume) waits for the
    /// connection (default `None`: it fails at once with `Error::NotConnected`). With a
    /// session to resume, calls are queued and sent on the resumed socket.
    pub fn wait_for_connection(mut self, bound: Option<Duration>) -> Self {
        self.wait_for_connection = bound;
        self
    }

    /// How many times an idempotent call (`#[rpc(idempotent)]`) in flight when the socket
    /// was lost is sent again on a new connection that did not resume (default 3).
    pub fn max_resends(mut self, n: u32) -> Self {
        self.max_resends = n;
        self
    }

    /// The delay before attempt `attempt` (from 1): uniform in `[0, ceiling)`.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let doubling = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        let ceiling = self
            .initial_delay
            .saturating_mul(doubling)
            .min(self.max_delay);
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            return ceiling / 2;
        }
        let unit = (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64;
        ceiling.mul_f64(unit)
    }
}

/// What a client's connection is doing ([`Client::state`](crate::Client::state)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Dialing for the first time.
    Connecting,
    /// A socket is up. `resumed`: it continues the session of the one before (nothing was
    /// lost); `reconnects` counts the sockets after the first.
    Connected {
        /// Whether the session was resumed.
        resumed: bool,
        /// Reconnects so far.
        reconnects: u32,
    },
    /// The socket was lost; attempt `attempt` starts after `delay`.
    Reconnecting {
        /// The attempt about to be made (from 1 in each outage).
        attempt: u32,
        /// The wait before it.
        delay: Duration,
        /// Why the socket was lost (or why the last attempt failed).
        reason: String,
    },
    /// The connection has ended for good.
    Closed(CloseReason),
}

/// What a reconnect hook is told.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Reconnected {
    /// Reconnects so far, this one included.
    pub reconnects: u32,
    /// Whether the server resumed the session: rooms joined, state and calls in flight are
    /// all still there. When false the server sees a new connection.
    pub resumed: bool,
}

/// A user hook run after each reconnect, before calls waiting for the connection go on.
pub(crate) type Hook = Arc<dyn Fn(Peer, Reconnected) -> BoxFuture<'static, ()> + Send + Sync>;

/// The reconnect task: watches the session's socket and dials again when it is lost.
pub(crate) struct Supervisor {
    pub(crate) session: WsSession,
    pub(crate) dialer: Dialer,
    pub(crate) policy: Reconnect,
    pub(crate) resumption: bool,
    /// The session the server keeps for us, when it agreed to one.
    pub(crate) hello: Option<Hello>,
    pub(crate) state: watch::Sender<ConnectionState>,
    pub(crate) hook: Option<Hook>,
}

impl Supervisor {
    pub(crate) async fn run(mut self) {
        let peer = self.session.peer().clone();
        let mut link = peer.link_state();
        let mut reconnects = 0u32;
        loop {
            let lost = {
                let state = link
                    .wait_for(|s| !matches!(s, LinkState::Up))
                    .await
                    .map(|s| s.clone());
                match state {
                    Ok(LinkState::Down(reason)) => reason,
                    _ => break,
                }
            };
            tracing::info!(peer = %peer.id(), reason = %lost.reason, "connection lost; reconnecting");
            if !peer.is_resumable() {
                // Closed by the server on purpose: its session is gone, start a new one.
                self.hello = None;
            }
            let Some(resumed) = self.reconnect(&peer, lost.reason).await else {
                break;
            };
            reconnects += 1;
            self.state.send_replace(ConnectionState::Connected {
                resumed,
                reconnects,
            });
            if let Some(hook) = &self.hook {
                hook(
                    peer.clone(),
                    Reconnected {
                        reconnects,
                        resumed,
                    },
                )
                .await;
            }
            // Wait for the socket just attached to be up before watching for its loss: for
            // the first change since the loss was seen. Waiting for the state to be up would
            // miss a socket that came up and was lost before this task looked (the watch
            // keeps only the latest state), and then wait for ever.
            let _ = link.changed().await;
        }
        let reason = peer.closed().await;
        self.state.send_replace(ConnectionState::Closed(reason));
    }

    /// Dials until a socket is attached (`Some(resumed)`), the client is closed, or the
    /// attempts run out (`None`; the client is then closed).
    async fn reconnect(&mut self, peer: &Peer, mut reason: String) -> Option<bool> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if self.policy.max_attempts.is_some_and(|max| attempt > max) {
                tracing::info!(peer = %peer.id(), "giving up reconnecting after {} attempts", attempt - 1);
                peer.close_with(
                    1006,
                    &format!(
                        "gave up reconnecting after {} attempts: {reason}",
                        attempt - 1
                    ),
                );
                return None;
            }
            let delay = self.policy.delay(attempt);
            self.state.send_replace(ConnectionState::Reconnecting {
                attempt,
                delay,
                reason: reason.clone(),
            });
            tokio::select! {
                _ = peer.closed() => return None,
                _ = tokio::time::sleep(delay) => {}
            }
            let ask = match (&self.hello, self.resumption) {
                (Some(hello), true) => Ask::Resume {
                    hello: hello.clone(),
                    received: peer.frames_received(),
                },
                (None, true) => Ask::New,
                (_, false) => Ask::Plain,
            };
            let dialed = tokio::select! {
                _ = peer.closed() => return None,
                d = self.dialer.dial(&ask) => d,
            };
            let dialed = match dialed {
                Ok(d) => d,
                Err(e) => {
                    tracing::debug!(peer = %peer.id(), attempt, error = %e, "reconnect attempt failed");
                    reason = e.to_string();
                    continue;
                }
            };
            let asked_resume = matches!(ask, Ask::Resume { .. });
            let (attach, resumed) = match &dialed.hello {
                Some(hello) if asked_resume && hello.resumed => (
                    Attach::Resume {
                        peer_received: hello.received,
                        hello: None,
                    },
                    true,
                ),
                hello => (
                    Attach::Fresh {
                        numbered: hello.is_some(),
                        hello: None,
                        expired: asked_resume,
                    },
                    false,
                ),
            };
            self.hello = dialed.hello;
            let link =
                volley_core::connection::websocket_link::<Tungstenite, _>(dialed.socket, attach);
            if self.session.attach(link).await.is_err() {
                return None;
            }
            tracing::info!(peer = %peer.id(), resumed, attempt, "reconnected");
            return Some(resumed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_jittered_under_a_doubling_ceiling() {
        let policy = Reconnect::default()
            .initial_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(1000));
        for attempt in 1..=12 {
            let ceiling = Duration::from_millis((100u64 << (attempt - 1)).min(1000));
            let delays: Vec<Duration> = (0..50).map(|_| policy.delay(attempt)).collect();
            assert!(delays.iter().all(|d| *d < ceiling), "attempt {attempt}");
            assert!(
                delays.iter().any(|d| *d != delays[0]),
                "attempt {attempt}: jittered"
            );
        }
    }
}
