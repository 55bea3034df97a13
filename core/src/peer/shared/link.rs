//! A connection's link to its socket: whether one is attached, whether the session would
//! survive losing it, its generations, the link-state watch, and the hook run at the close.

use std::sync::atomic::Ordering;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{OnClose, Shared, lock};
use crate::peer::{CloseReason, LinkState};

impl Shared {
    /// Voids the current socket generation: its answers are no longer written and the
    /// streams served on it stop.
    pub(crate) fn void_generation(&self) {
        let mut epoch = lock(&self.epoch);
        let next = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        if let Some(token) = epoch.1.take() {
            token.cancel();
        }
        epoch.0 = next;
    }

    /// The token of socket generation `generation`, cancelled when it is voided; `None` when
    /// it is voided already.
    pub(crate) fn generation_token(&self, generation: u64) -> Option<CancellationToken> {
        let mut epoch = lock(&self.epoch);
        let (current, token) = &mut *epoch;
        (*current == generation).then(|| token.get_or_insert_with(CancellationToken::new).clone())
    }

    /// Whether a socket is attached.
    pub(crate) fn is_link_up(&self) -> bool {
        self.link_up.load(Ordering::Acquire)
    }

    /// Whether the session survives losing its socket with calls intact.
    pub(crate) fn is_resumable(&self) -> bool {
        self.resumable.load(Ordering::Acquire)
    }

    pub(crate) fn set_resumable(&self, on: bool) {
        self.resumable.store(on, Ordering::Release);
    }

    /// Whether the connection is closing or closed ([`Shared::closed`] is, or is about to be,
    /// cancelled), without taking the token's lock.
    pub(crate) fn is_closed(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Whether calls can be made now: a socket is attached, or the session will resume.
    pub(crate) fn takes_calls(&self) -> bool {
        self.is_link_up() || self.is_resumable()
    }

    pub(crate) fn link_state(&self) -> watch::Receiver<LinkState> {
        let mut link = lock(&self.link);
        let (state, watch) = &mut *link;
        watch
            .get_or_insert_with(|| watch::channel(state.clone()).0)
            .subscribe()
    }

    pub(super) fn update_link(&self, state: LinkState) {
        let mut link = lock(&self.link);
        if let Some(watch) = &link.1 {
            watch.send_replace(state.clone());
        }
        link.0 = state;
    }

    /// Runs `hook` with the close reason once the connection closes (at once, if it has).
    pub(crate) fn on_close(&self, hook: OnClose) {
        let mut slot = lock(&self.on_close);
        if self.closing.load(Ordering::Acquire) {
            drop(slot);
            self.run_on_close(hook);
        } else {
            *slot = Some(hook);
        }
    }

    /// In a task of its own: the close may come from code holding a lock the hook takes.
    pub(super) fn run_on_close(&self, hook: OnClose) {
        let reason = self.close_reason().unwrap_or(CloseReason {
            code: 1006,
            reason: String::new(),
        });
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move { hook(reason) })),
            Err(_) => hook(reason),
        }
    }

    /// Notes that a socket is attached (`true`) or lost (`false`, with the reason).
    pub(crate) fn set_link(&self, state: LinkState) {
        if self.closed.is_cancelled() {
            return;
        }
        self.link_up
            .store(matches!(state, LinkState::Up), Ordering::Release);
        self.update_link(state);
    }
}
