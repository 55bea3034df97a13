//! The incoming requests of one connection that are running or waiting to run, by id, so
//! `rpc.cancel` and the connection's close can reach them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

/// One tracked request: its sequence number (ids may repeat) and cancellation token.
pub(crate) type Tracked = (u64, CancellationToken);

/// Requests in flight by raw id text. A peer may reuse an id while an earlier request with it
/// still runs: `rpc.cancel` then cancels all of them.
#[derive(Default)]
pub(crate) struct Running {
    by_id: Mutex<HashMap<Box<str>, Vec<Tracked>>>,
    seq: AtomicU64,
}

impl Running {
    /// Starts tracking a request; its token is a child of `parent` (the connection's).
    pub(crate) fn track(&self, id: &RawValue, parent: &CancellationToken) -> Tracked {
        let token = parent.child_token();
        let seq = self.track_token(id, token.clone());
        (seq, token)
    }

    /// Starts tracking a request under a token it already has; returns its sequence number.
    pub(crate) fn track_token(&self, id: &RawValue, token: CancellationToken) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        by_id.entry(id.get().into()).or_default().push((seq, token));
        seq
    }

    /// Stops tracking the request `seq` with this id.
    pub(crate) fn untrack(&self, id: &RawValue, seq: u64) {
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tokens) = by_id.get_mut(id.get()) {
            tokens.retain(|(s, _)| *s != seq);
            if tokens.is_empty() {
                by_id.remove(id.get());
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
    pub(crate) fn cancel(&self, id: &RawValue) {
        let by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        for (_, token) in by_id.get(id.get()).into_iter().flatten() {
            token.cancel();
        }
    }
}
