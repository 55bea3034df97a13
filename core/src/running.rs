//! The incoming requests of one connection that are running or waiting to run, by id, so
//! `rpc.cancel` and the connection's close can reach them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex, OnceLock};

use tokio_util::sync::CancellationToken;

/// One tracked request: its sequence number (ids may repeat) and cancellation.
pub(crate) type Tracked = (u64, CallCancel);

/// One incoming call's cancellation: by `rpc.cancel`, its deadline, or the connection's close
/// (its parent, the connection's `closed` token, handed to the methods that need it rather
/// than kept: cloning a token takes a lock). Its [`CancellationToken`] is made only when
/// something asks for it (a handler that watches, a call that waits), so a call answered at
/// once costs no token. Cheap to clone; clones share it.
#[derive(Clone, Default)]
pub(crate) struct CallCancel(Arc<CallCancelInner>);

#[derive(Default)]
struct CallCancelInner {
    token: OnceLock<CancellationToken>,
    cancelled: AtomicBool,
}

impl CallCancel {
    /// A call not cancelled yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The call's token, a child of `parent` (the connection's close), made on first use.
    pub(crate) fn token(&self, parent: &CancellationToken) -> &CancellationToken {
        let inner = &*self.0;
        let token = inner.token.get_or_init(|| parent.child_token());
        // Pairs with the fence in `cancel`: either it sees this token, or this sees its flag.
        fence(Ordering::SeqCst);
        if inner.cancelled.load(Ordering::Relaxed) {
            token.cancel();
        }
        token
    }

    /// Cancels the call (and its token, if made).
    pub(crate) fn cancel(&self) {
        let inner = &*self.0;
        inner.cancelled.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if let Some(token) = inner.token.get() {
            token.cancel();
        }
    }

    /// Whether the call itself was cancelled (`rpc.cancel`, its deadline, its own token),
    /// not counting its connection's close.
    pub(crate) fn was_cancelled(&self) -> bool {
        let inner = &*self.0;
        inner.cancelled.load(Ordering::Acquire)
            || inner
                .token
                .get()
                .is_some_and(CancellationToken::is_cancelled)
    }
}

/// Requests in flight by raw id text. A peer may reuse an id while an earlier request with it
/// still runs: `rpc.cancel` then cancels all of them.
#[derive(Default)]
pub(crate) struct Running {
    by_id: Mutex<HashMap<Box<str>, Vec<Tracked>>>,
    seq: AtomicU64,
}

impl Running {
    /// Starts tracking a request.
    pub(crate) fn track(&self, id: &str) -> Tracked {
        let cancel = CallCancel::new();
        let seq = self.track_token(id, cancel.clone());
        (seq, cancel)
    }

    /// Starts tracking a request under the cancellation it already has; returns its sequence
    /// number.
    pub(crate) fn track_token(&self, id: &str, token: CallCancel) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        by_id.entry(id.into()).or_default().push((seq, token));
        seq
    }

    /// Stops tracking the request `seq` with this id.
    pub(crate) fn untrack(&self, id: &str, seq: u64) {
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tokens) = by_id.get_mut(id) {
            tokens.retain(|(s, _)| *s != seq);
            if tokens.is_empty() {
                by_id.remove(id);
            }
        }
    }

    /// Cancels every running request.
    pub(crate) fn cancel_all(&self) {
        let by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        for (_, token) in by_id.values().flatten() {
            token.cancel();
        }
    }

    /// Cancels every running request with this id.
    pub(crate) fn cancel(&self, id: &str) {
        let by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        for (_, token) in by_id.get(id).into_iter().flatten() {
            token.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CallCancel;
    use tokio_util::sync::CancellationToken;

    #[test]
    fn a_call_is_cancelled_whether_its_token_is_made_before_or_after() {
        let parent = CancellationToken::new();
        let early = CallCancel::new();
        let token = early.token(&parent).clone();
        assert!(!(early.was_cancelled() || parent.is_cancelled() || token.is_cancelled()));
        early.cancel();
        assert!((early.was_cancelled() || parent.is_cancelled()) && token.is_cancelled());

        let late = CallCancel::new();
        late.cancel();
        assert!((late.was_cancelled() || parent.is_cancelled()));
        assert!(late.token(&parent).is_cancelled(), "made after the cancel");
        assert!(!parent.is_cancelled(), "a call's cancel stays its own");
    }

    #[test]
    fn the_connection_closing_cancels_every_call() {
        let parent = CancellationToken::new();
        let unmade = CallCancel::new();
        let made = CallCancel::new();
        let token = made.token(&parent).clone();
        parent.cancel();
        assert!(
            !unmade.was_cancelled(),
            "the connection's close is not the call's own"
        );
        assert!(
            (unmade.was_cancelled() || parent.is_cancelled())
                && unmade.token(&parent).is_cancelled()
        );
        assert!((made.was_cancelled() || parent.is_cancelled()) && token.is_cancelled());
    }
}
