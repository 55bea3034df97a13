//! [`Batch`]: several calls and notifications in one frame.

use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;

use super::shared::{CallGuard, Kind, Shared};
use super::{Peer, Returned};
use crate::error::{Error, Result};
use crate::message;
use crate::params::encode_params;

/// Several calls and notifications sent as one JSON-RPC batch. Build with [`Peer::batch`].
pub struct Batch<'p> {
    peer: &'p Peer,
    entries: Vec<(String, Option<Box<RawValue>>, bool)>,
    timeout: Option<Duration>,
}

impl<'p> Batch<'p> {
    pub(super) fn new(peer: &'p Peer) -> Self {
        Self {
            peer,
            entries: Vec::new(),
            timeout: None,
        }
    }

    /// Adds a call; its answer is at the same position among the calls in [`Batch::send`]'s
    /// result.
    pub fn call<P: Serialize + ?Sized>(mut self, method: &str, params: &P) -> Result<Self> {
        self.entries
            .push((method.to_owned(), encode_params(params)?, true));
        Ok(self)
    }

    /// Adds a notification (no answer).
    pub fn notify<P: Serialize + ?Sized>(mut self, method: &str, params: &P) -> Result<Self> {
        self.entries
            .push((method.to_owned(), encode_params(params)?, false));
        Ok(self)
    }

    /// Deadline for the whole batch (defaults to the connection's).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the batch and waits for every call's answer, in the order the calls were added.
    pub async fn send(self) -> Result<Vec<Result<Box<RawValue>>>> {
        let shared = &*self.peer.shared;
        if self.entries.is_empty() {
            return Ok(Vec::new());
        }
        let timeout = self.timeout.unwrap_or(shared.config.request_timeout);
        let mut guard = CallGuard {
            shared,
            ids: Vec::new(),
            armed: true,
        };
        let mut receivers = Vec::new();
        let mut frame = String::from("[");
        for (i, (method, params, is_call)) in self.entries.iter().enumerate() {
            if i > 0 {
                frame.push(',');
            }
            let id = if *is_call {
                let id = self.peer.shared.register(None, None, None, None)?;
                guard.ids.push(id);
                receivers.push(id);
                Some(id)
            } else {
                None
            };
            frame.push_str(&message::request(
                id,
                method,
                params.as_deref().map(RawValue::get),
            ));
        }
        frame.push(']');
        if receivers.is_empty() && !self.peer.is_connected() {
            return Err(Error::Disconnected);
        }
        let _tracked = guard.ids.first().map(|&first| {
            shared.track_batch(self.entries.len(), guard.ids.clone());
            TrackedBatch { shared, first }
        });
        let kind = if receivers.is_empty() {
            Kind::Notification
        } else {
            Kind::Batch
        };
        let exchange = async {
            shared.send(frame, kind).await?;
            let mut out = Vec::with_capacity(receivers.len());
            for id in receivers {
                let answer = shared.answer(id, false).await;
                out.push(answer.and_then(Returned::into_raw));
            }
            Ok(out)
        };
        let res = match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => return Err(Error::Timeout(timeout)),
        };
        // Every answer taken; otherwise the guard forgets the calls' entries (answered by the
        // close that failed the send, or still waiting).
        guard.armed = res.is_err();
        res
    }
}

/// Forgets a tracked batch however its call ends.
struct TrackedBatch<'a> {
    shared: &'a Shared,
    first: u64,
}

impl Drop for TrackedBatch<'_> {
    fn drop(&mut self) {
        self.shared.untrack_batch(self.first);
    }
}
